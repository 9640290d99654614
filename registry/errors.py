"""Domain errors. Each carries data; adapters map them to HTTP/git/CLI in one place each."""
from __future__ import annotations


class RegistryError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(RegistryError):
    code = "invalid_input"


class InvalidName(InvalidInput):
    code = "invalid_name"


class InvalidField(InvalidInput):
    """A form or request field refused: which field and why (a page shows it beside the field)."""

    code = "invalid_field"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field, reason=reason)
        self.field = field
        self.reason = reason


class InvalidLink(InvalidInput):
    """A one-time link (invite, password reset, address verification) that is unknown, used or
    expired: the same answer for each, so a guess learns nothing."""

    code = "invalid_link"


class NotFound(RegistryError):
    code = "not_found"


class TemplateNotFound(NotFound):
    code = "template_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class RefNotFound(NotFound):
    code = "ref_not_found"


class PathNotFound(NotFound):
    code = "path_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class PullNotFound(NotFound):
    code = "pull_not_found"


class RunNotFound(NotFound):
    code = "run_not_found"


class ExperimentNotFound(NotFound):
    code = "experiment_not_found"


class HookNotFound(NotFound):
    code = "hook_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class DraftNotFound(NotFound):
    code = "draft_not_found"


class AlreadyExists(RegistryError):
    code = "already_exists"


class Unauthenticated(RegistryError):
    code = "unauthenticated"


class PermissionDenied(RegistryError):
    code = "permission_denied"


class WrongCredentials(Unauthenticated):
    """Sign-in refused: the same error, in about the same time, for an unknown user, a wrong
    password and a wrong second factor."""

    code = "invalid_credentials"


class AccountDisabled(Unauthenticated):
    """The account is disabled: its password, tokens and sessions are credentials no more (every
    place that treats bad credentials as anonymous treats these so too)."""

    code = "account_disabled"


class SignupClosed(PermissionDenied):
    code = "signup_closed"


class TooManyAttempts(RegistryError):
    """Sign-in, reset or joining tried too often from one place or for one account: the caller
    waits `retry_after` seconds (a 429's Retry-After)."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Conflict(RegistryError):
    """A compare-and-swap lost, or state changed under the caller."""

    code = "conflict"


class DraftConflicted(Conflict):
    """A draft whose branch moved under it with changes that clash with the draft's: it is
    committed once every conflicted file is settled."""

    code = "draft_conflicted"


class MergeBlocked(RegistryError):
    """Branch protection or reviews stand in the way of a merge."""

    code = "merge_blocked"


class StaleHead(RegistryError):
    """The pull request's head moved since the caller looked at it."""

    code = "head_moved"


class StaleBase(RegistryError):
    """The branch a pull request goes into moved since the caller looked at its conflicts (the
    resolution was made against another merge). Carries the tip now (`base_sha`)."""

    code = "base_moved"


class StaleDraft(RegistryError):
    """A draft's text changed where it conflicts since the caller looked at the conflict (the
    choices were made on other hunks): nothing was applied."""

    code = "draft_moved"


class StaleParent(RegistryError):
    """A commit was made on top of a parent that is no longer the branch's tip: someone else
    committed or pushed meanwhile. Carries the tip now (`tip`, None when the branch is gone)."""

    code = "parent_moved"


class BranchProtected(PermissionDenied):
    """The branch's protection refuses this change made directly to it (open a pull request)."""

    code = "branch_protected"


class ChangeRefused(InvalidInput):
    """The push checks refused a change (a secret, a literal credential, a file over the size
    limit, git's fsck rules): nothing was stored."""

    code = "change_refused"


class MergeConflict(Conflict):
    code = "merge_conflict"


class OverBudget(RegistryError):
    """The owner's monthly model budget (REGISTRY_RUN_BUDGET_USD) is spent: runs are refused."""

    code = "over_budget"


class TooLarge(RegistryError):
    code = "too_large"


class PreconditionFailed(RegistryError):
    """A create-only or compare-and-swap write found the blob not as expected."""

    code = "precondition_failed"


class StorageError(RegistryError):
    code = "storage_error"
    retry_after = 5  # seconds a client is told to wait before trying again (a 503's Retry-After)


class Unavailable(StorageError):
    """A service the registry depends on (its database) cannot be reached now: nothing was
    changed by the request, and the same request may be tried again shortly."""

    code = "unavailable"
    retry_after = 2


class BackupError(RegistryError):
    """A backup or restore that cannot go on: no complete backup at the source, a file whose
    checksum is not the manifest's, a dump or restore tool that failed. Operators' commands only."""

    code = "backup_error"


class TargetNotEmpty(Conflict):
    """`registry restore` onto a data dir, database or bucket that already holds a registry
    (`--force` restores over it)."""

    code = "target_not_empty"
