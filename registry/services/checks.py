"""The checks a push owes each new tip: validate, index, sandbox — run, and recorded as statuses.

Queue-free: the workers adapter decides where and when `run` is called. `record_push` writes
the pending statuses first, so they are the durable list of owed work even if the queue is down.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import indexing, versions
from ..container import Container
from ..errors import NotFound, RefNotFound, StorageError, TemplateNotFound
from ..events import recording
from ..git import browse
from ..git.policy import RefUpdate
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..graphs import semver
from ..manifests import default_head, manifest_at
from ..meta import FINAL, MetaStore, Status, Template
from . import evaluation_view, guard, runs, updates

log = logging.getLogger(__name__)
CONTEXTS = ("validate", "index", "sandbox")  # every branch and tag tip
SEMVER = "semver"  # tags that look like versions, besides
EVAL = "eval"  # the head of an open pull request, besides (services/evaluations.py)
ORDER = ("validate", "index", SEMVER, "sandbox", EVAL)  # the order one commit's checks run in


class NotReady(RuntimeError):
    """A check waits for another (sandbox waits for validate): retry later."""


TRANSIENT: tuple[type[BaseException], ...] = (StorageError, OSError, TimeoutError, NotReady)


def contexts_for(ref: str) -> tuple[str, ...]:
    """The checks a new tip of `ref` owes: a version tag (1.2.0, v1.2.0) also gets `semver`."""
    tag = ref.removeprefix("refs/tags/")
    return CONTEXTS + (SEMVER,) if tag != ref and versions.parse(tag) is not None else CONTEXTS


def record_push(meta: MetaStore, template: Template, updates: list[RefUpdate],
                peel: Callable[[str], str] | None = None) -> dict[str, list[str]]:
    """Pending statuses for each new branch or tag tip; returns {sha: contexts newly owed}. A
    version tag's `semver` status goes on the commit it names (`peel` turns an annotated tag's
    object id into that commit), where GitHub would show it."""
    owed: dict[str, list[str]] = {}
    for update in updates:
        if update.is_delete:
            continue
        wanted = contexts_for(update.ref)
        created = meta.checks.add_pending_statuses(template.id, update.new, CONTEXTS)
        if created:
            owed.setdefault(update.new, []).extend(created)
        if SEMVER in wanted:
            commit = peel(update.new) if peel is not None else update.new
            if meta.checks.add_pending_statuses(template.id, commit, (SEMVER,)):
                owed.setdefault(commit, []).append(SEMVER)
    return owed


def peeler(c: Container, template: Template) -> Callable[[str], str]:
    """The commit an object id (an annotated tag, or a commit itself) names in `template`."""
    def peel(sha: str) -> str:
        with c.open_repo(template) as repo:
            return _commit_of(repo, sha)
    return peel


def _commit_of(repo: TemplateRepo, sha: str) -> str:
    try:
        return browse.resolve_commit(repo, sha).id.decode()
    except NotFound:  # a tag of a tree or blob: its checks stay on it
        return sha


def record_tips(c: Container, template: Template) -> dict[str, list[str]]:
    """Like record_push for every current tip without statuses (catching up lost pushes)."""
    with c.open_repo(template) as repo:
        tips = sorted((ref, sha) for ref, sha in repo.doc.refs.items() if ref.startswith(("refs/heads/", "refs/tags/")))
        commits = {sha: _commit_of(repo, sha) for ref, sha in tips if SEMVER in contexts_for(ref)}
    fake = [RefUpdate(ref, ZERO_SHA, sha) for ref, sha in tips
            if not c.meta.checks.has_statuses(template.id, sha) or sha in commits]
    return record_push(c.meta, template, fake, lambda sha: commits.get(sha, sha))


def run(c: Container, context: str, template_id: str, sha: str) -> Status | None:
    """Run one check and record its outcome. Raises a TRANSIENT error for the caller to retry.
    A check already final for this commit is not run again: a queue can hand out one job twice
    (two registry cleanups requeueing the job of a killed worker), and a commit never changes."""
    try:
        template = c.meta.templates.get_by_id(template_id)
    except TemplateNotFound:
        return None  # deleted since the push: nothing to report to
    done = next((s for s in c.meta.checks.get_statuses(template_id, sha) if s.context == context and s.state in FINAL), None)
    if done is not None:
        return done
    c.meta.checks.set_status(Status(template_id, sha, context, "pending", "running"))
    status = RUNNERS[context](c, template, sha)
    settle(c, template, status)
    return status


def settle(c: Container, template: Template, status: Status) -> None:
    """Record a check's final state, and the event announcing it (GitHub's status event)."""
    with recording(c) as r:
        c.meta.checks.set_status(status)
        r.add(None, "status.changed", template, {
            "sha": status.sha, "context": status.context, "state": status.state,
            "description": status.description, "target_url": status.target_url})


def give_up(c: Container, context: str, template_id: str, sha: str, error: BaseException) -> None:
    """Record `error` once retries are exhausted (or the error is not worth retrying)."""
    try:
        template = c.meta.templates.get_by_id(template_id)
    except TemplateNotFound:
        return
    if context == "sandbox":
        found = c.meta.checks.find_run(template_id, sha, "push")
        if found is not None:
            runs.abandon(c, found, error)
    settle(c, template, Status(template_id, sha, context, "error", f"{type(error).__name__}: {error}"[:500]))


def _validate(c: Container, template: Template, sha: str) -> Status:
    try:
        with manifest_at(c, template, sha) as result:
            pass
    except RefNotFound:
        return Status(template.id, sha, "validate", "error", f"commit {sha} not found")
    if result.ok:
        chose = "; ".join(f"extends {k} -> {v}" for k, v in result.resolved.items())
        return Status(template.id, sha, "validate", "success", "manifest is valid" + (f" ({chose})" if chose else ""))
    first = result.problems[0]
    summary = guard.with_more(f"{first.path}: {first.message}", len(result.problems))
    return Status(template.id, sha, "validate", "failure", summary[:500], [p.as_dict() for p in result.problems])


def _index(c: Container, template: Template, sha: str) -> Status:
    """Only the default branch is in the gallery: other tips pass without touching the index."""
    if default_head(c, template)[1] != sha:
        return Status(template.id, sha, "index", "success", "not the default branch head: not indexed")
    indexing.refresh(c, c.meta.templates.get_by_id(template.id))
    return Status(template.id, sha, "index", "success", "indexed for search")


def _sandbox(c: Container, template: Template, sha: str) -> Status:
    validate = {s.context: s for s in c.meta.checks.get_statuses(template.id, sha)}.get("validate")
    if validate is not None and validate.state == "pending":
        raise NotReady("validate has not finished")
    if validate is not None and validate.state in ("failure", "error"):
        return Status(template.id, sha, "sandbox", "failure", "skipped: the manifest did not validate")
    return runs.execute(c, runs.for_push(c, template, sha).id)


def _semver(c: Container, template: Template, sha: str) -> Status:
    """The version tag at `sha` against the release before it (registry/graphs/semver.py); then
    the templates that extend this one hear of the version (update pull requests)."""
    found = semver_verdict(c, template, sha)
    if found is None:
        return Status(template.id, sha, SEMVER, "success", "no version tag names this commit now")
    status, published = found
    if published is not None:
        try:
            updates.publish(c, published)
        except TRANSIENT:
            raise  # retried: publishing is idempotent
        except Exception:  # the verdict stands; an update that cannot be proposed is logged
            log.exception("update pull requests for %s %s", template.full_name, published.tag)
    return status


def semver_verdict(c: Container, template: Template, sha: str) -> tuple[Status, updates.Published | None] | None:
    with c.open_repo(template) as repo:
        tags = [(v, name) for ref, value in repo.doc.refs.items() if ref.startswith("refs/tags/")
                and (v := versions.parse(name := ref.removeprefix("refs/tags/"))) is not None
                and (value == sha or _commit_of(repo, value) == sha)]
        if not tags:
            return None
        tag = max(tags)[1]
        previous = versions.previous(repo, tag)
    new = _tag_manifest(c, template, tag)
    if previous is None:
        return (Status(template.id, sha, SEMVER, "success", f"{tag}: the first version"),
                updates.Published(template, tag, None, semver.Verdict("none"), True))
    verdict = semver.compare(_tag_manifest(c, template, previous), new)
    old_v, new_v = str(versions.parse(previous)), str(versions.parse(tag))
    bump = semver.bump(old_v, new_v)
    ok = semver.allowed(verdict, old_v, new_v)
    published = updates.Published(template, tag, previous, verdict, ok)
    if ok:
        return Status(template.id, sha, SEMVER, "success",
                      f"{tag}: {verdict.kind} change from {previous} ({bump} bump)"), published
    first = verdict.breaking[0]
    summary = guard.with_more(f"{first.path}: {first.message}", len(verdict.breaking))
    return Status(template.id, sha, SEMVER, "failure",
                  f"{tag}: breaking change under a {bump} bump from {previous}, needs "
                  f"{semver.needed('major', old_v)}: {summary}"[:500],
                  [{"path": ch.path, "message": ch.message} for ch in verdict.breaking]), published


def _tag_manifest(c: Container, template: Template, tag: str) -> Any:
    """The manifest a version stands for: resolved (extends merged), or as stored if it is not valid."""
    try:
        with manifest_at(c, template, f"refs/tags/{tag}") as checked:
            return checked.manifest or {}
    except NotFound:
        return {}


RUNNERS: dict[str, Callable[[Container, Template, str], Status]] = {
    "validate": _validate, "index": _index, "sandbox": _sandbox, SEMVER: _semver, EVAL: evaluation_view.check}


def waiting(meta: MetaStore, older_than: float) -> dict[tuple[str, str], list[str]]:
    """Owed checks not yet handed to a queue, or handed over long ago and still pending."""
    work: dict[tuple[str, str], list[str]] = {}
    for status in meta.checks.waiting_statuses(older_than):
        work.setdefault((status.template_id, status.sha), []).append(status.context)
    return work
