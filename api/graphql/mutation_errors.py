"""Typed errors in mutation payloads: what a person can act on (a field refused, something not
found, not allowed, a conflict, a stale head, a blocked merge) comes back as data, under the
payload's `errors`, each with REST's code. Not signed in, the database down, or a bug stay
GraphQL errors (with `extensions.code`): no payload can be made of those."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from registry import errors as e

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@strawberry.interface(description="Why a mutation did nothing; `code` is REST's error code.")
class MutationError:
    code: str
    message: str


@strawberry.type(description="An argument was refused: which one (a dotted path into the input) and why.")
class InputError(MutationError):
    field: str | None


@strawberry.type
class NotFoundError(MutationError):
    pass


@strawberry.type(description="Signed in, but not allowed (role, token scope or branch protection).")
class ForbiddenError(MutationError):
    pass


@strawberry.type(description="The state changed under the request: conflicting paths, or the current blob.")
class ConflictError(MutationError):
    paths: list[str]
    current_sha: str | None


@strawberry.type(description="A head or parent moved since the caller looked: `currentSha` is where it is now.")
class StaleError(MutationError):
    current_sha: str | None


@strawberry.type(description="Branch protection refuses the merge now.")
class MergeBlockedError(MutationError):
    blocked_by: list[str]


@strawberry.type
class TooLargeError(MutationError):
    pass


ERROR_TYPES = (InputError, NotFoundError, ForbiddenError, ConflictError, StaleError, MergeBlockedError, TooLargeError)


def typed(exc: e.RegistryError) -> MutationError:
    d: dict[str, Any] = exc.details
    code, message = exc.code, exc.message
    if isinstance(exc, e.InvalidInput):
        field = d.get("field") or d.get("path")
        return InputError(code=code, message=message, field=str(field) if field else None)
    if isinstance(exc, e.NotFound):
        return NotFoundError(code=code, message=message)
    if isinstance(exc, e.PermissionDenied):
        return ForbiddenError(code=code, message=message)
    if isinstance(exc, e.MergeBlocked):
        return MergeBlockedError(code=code, message=message, blocked_by=[str(x) for x in d.get("blocked_by", [])])
    if isinstance(exc, (e.StaleHead, e.StaleParent, e.PreconditionFailed)):
        current = d.get("head_sha") or d.get("tip") or d.get("sha")
        return StaleError(code=code, message=message, current_sha=str(current) if current else None)
    if isinstance(exc, (e.Conflict, e.AlreadyExists)):
        paths = d.get("conflicts") or ([d["path"]] if "path" in d else [])
        return ConflictError(code=code, message=message, paths=[str(p) for p in paths],
                             current_sha=str(d["sha"]) if d.get("sha") else None)
    if isinstance(exc, e.TooLarge):
        return TooLargeError(code=code, message=message)
    raise exc  # Unauthenticated, StorageError and the rest: GraphQL errors


def parsed(model: type[M], values: dict[str, Any], where: str = "input") -> M:
    """The input checked by REST's own request model (the same bounds); refused as InputError."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([where, *(str(p) for p in first.get("loc", ()))])
        raise e.InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field) from None


def attempt(fn: Callable[[], T]) -> tuple[T | None, list[MutationError]]:
    """Run a use case; a refusal a person can act on becomes a typed error."""
    try:
        return fn(), []
    except (e.Unauthenticated, e.StorageError):
        raise
    except e.RegistryError as exc:
        return None, [typed(exc)]
