"""The checks a push owes each new tip: validate, index, sandbox — run, and recorded as statuses.

Queue-free: the workers adapter decides where and when `run` is called. `record_push` writes
the pending statuses first, so they are the durable list of owed work even if the queue is down.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .errors import NotFound, RefNotFound, StorageError, TemplateNotFound
from .git import browse
from .git.policy import RefUpdate
from .git.refsdoc import ZERO_SHA
from .manifest import Checked, FileSource, check
from .meta import Status, Template

log = logging.getLogger(__name__)
CONTEXTS = ("validate", "index", "sandbox")


class NotReady(RuntimeError):
    """A check waits for another (sandbox waits for validate): retry later."""


TRANSIENT: tuple[type[BaseException], ...] = (StorageError, OSError, TimeoutError, NotReady)


def record_push(meta, template: Template, updates: list[RefUpdate]) -> dict[str, list[str]]:
    """Pending statuses for each new branch or tag tip; returns {sha: contexts newly owed}."""
    owed: dict[str, list[str]] = {}
    for update in updates:
        if update.is_delete or update.new in owed:
            continue
        created = meta.add_pending_statuses(template.id, update.new, CONTEXTS)
        if created:
            owed[update.new] = created
    return owed


def record_tips(registry, template: Template) -> dict[str, list[str]]:
    """Like record_push for every current tip without statuses (catching up lost pushes)."""
    repo = registry.open_repo(template)
    try:
        tips = {sha for ref, sha in repo.doc.refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}
    finally:
        repo.close()
    fake = [RefUpdate("refs/heads/_", ZERO_SHA, sha) for sha in sorted(tips)
            if not registry.meta.has_statuses(template.id, sha)]
    return record_push(registry.meta, template, fake)


def run(registry, context: str, template_id: str, sha: str) -> Status | None:
    """Run one check and record its outcome. Raises a TRANSIENT error for the caller to retry."""
    meta = registry.meta
    try:
        template = meta.get_template_by_id(template_id)
    except TemplateNotFound:
        return None  # deleted since the push: nothing to report to
    meta.set_status(Status(template_id, sha, context, "pending", "running"))
    status = RUNNERS[context](registry, template, sha)
    meta.set_status(status)
    return status


def give_up(registry, context: str, template_id: str, sha: str, error: BaseException) -> None:
    """Record `error` once retries are exhausted (or the error is not worth retrying)."""
    try:
        registry.meta.get_template_by_id(template_id)
    except TemplateNotFound:
        return
    if context == "sandbox":
        from .sandbox import runs

        run = registry.meta.find_run(template_id, sha, "push")
        if run is not None:
            runs.abandon(registry, run, error)
    registry.meta.set_status(Status(template_id, sha, context, "error", f"{type(error).__name__}: {error}"[:500]))


@contextmanager
def manifest_at(registry, template: Template, ref: str) -> Iterator[Checked]:
    """The checked manifest of `template` at `ref` (extends resolved). Each repo involved is
    opened once for all the files read, and closed when the block ends."""
    opened: dict[str, Any] = {}

    def files_at(t: Template, at: str) -> FileSource:
        repo = opened.get(t.id) or opened.setdefault(t.id, registry.open_repo(t))
        commit_id = browse.resolve_commit(repo, at).id.decode()

        def read(path: str) -> bytes | None:
            try:
                return browse.raw(repo, commit_id, path)
            except NotFound:
                return None

        return read

    def parents(full_name: str, at: str) -> FileSource:
        owner, _, name = full_name.partition("/")
        parent = registry.meta.get_template(owner, name)
        if parent.visibility != "public" and parent.owner != template.owner:
            raise TemplateNotFound(f"template {full_name} not found")
        return files_at(parent, at)

    try:
        files = files_at(template, ref)
        result = check(files, parents)
        result.files = files
        yield result
    finally:
        for repo in opened.values():
            repo.close()


def _validate(registry, template: Template, sha: str) -> Status:
    try:
        with manifest_at(registry, template, sha) as result:
            pass
    except RefNotFound:
        return Status(template.id, sha, "validate", "error", f"commit {sha} not found")
    if result.ok:
        return Status(template.id, sha, "validate", "success", "manifest is valid")
    first = result.problems[0]
    more = f" (+{len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
    return Status(template.id, sha, "validate", "failure", f"{first.path}: {first.message}{more}"[:500],
                  [p.as_dict() for p in result.problems])


def _index(registry, template: Template, sha: str) -> Status:
    """Only the default branch is in the gallery: other tips pass without touching the index."""
    from . import gallery

    repo = registry.open_repo(template)
    try:
        head = repo.doc.refs.get(repo.default_branch)
    finally:
        repo.close()
    if head != sha:
        return Status(template.id, sha, "index", "success", "not the default branch head: not indexed")
    gallery.refresh(registry, registry.meta.get_template_by_id(template.id))
    return Status(template.id, sha, "index", "success", "indexed for search")


def _sandbox(registry, template: Template, sha: str) -> Status:
    from .sandbox import runs

    validate = {s.context: s for s in registry.meta.get_statuses(template.id, sha)}.get("validate")
    if validate is not None and validate.state == "pending":
        raise NotReady("validate has not finished")
    if validate is not None and validate.state in ("failure", "error"):
        return Status(template.id, sha, "sandbox", "failure", "skipped: the manifest did not validate")
    return runs.execute(registry, runs.for_push(registry, template, sha).id)


RUNNERS: dict[str, Callable[..., Status]] = {"validate": _validate, "index": _index, "sandbox": _sandbox}


def waiting(meta, older_than: float) -> dict[tuple[str, str], list[str]]:
    """Owed checks not yet handed to a queue, or handed over long ago and still pending."""
    work: dict[tuple[str, str], list[str]] = {}
    for status in meta.waiting_statuses(older_than):
        work.setdefault((status.template_id, status.sha), []).append(status.context)
    return work

