"""Pull requests: opened from a branch of the same template or of a fork, their head kept at
refs/pull/N/head in the base repo (the fork's packs are named there, not copied), edited,
listed, and the files and commits they change."""
from __future__ import annotations

from typing import Any

from dulwich.graph import find_merge_base
from dulwich.objects import ObjectID
from dulwich.walk import Walker

from ..access import Actor, Level
from ..container import Container
from ..errors import Conflict, InvalidInput, RefNotFound
from ..events import recording
from ..events.payloads import pull_payload
from ..git.browse import commit_info
from ..git.diff import file_changes
from ..git.policy import RefUpdate
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..meta import Pull, Template
from . import evaluations, guard

STATES = ("open", "closed", "merged", "all")


def fork_of(c: Container, base: Template, owner: str) -> Template | None:
    """`owner`'s fork of `base` that `owner:branch` names: a direct fork before a fork of a
    fork, the oldest first (one answer, whoever asks)."""
    forks = sorted((t for t in c.meta.templates.forks_of(base.id) if t.owner == owner),
                   key=lambda t: (t.parent_id != base.id, t.created_at, t.id))
    return forks[0] if forks else None


def _head_template(c: Container, base: Template, head: str) -> tuple[Template, str]:
    owner, sep, branch = head.rpartition(":")
    if not sep or owner == base.owner:
        return base, branch
    fork = fork_of(c, base, owner)
    if fork is None:
        raise InvalidInput(f"{owner} has no fork of {base.full_name}")
    return fork, branch


def _tip(c: Container, template: Template, branch: str) -> str:
    with c.open_repo(template) as repo:
        sha = repo.doc.refs.get(f"refs/heads/{branch}")
    if sha is None:
        raise RefNotFound(f"{template.full_name} has no branch {branch!r}")
    return sha


def open_pull(c: Container, actor: Actor, owner: str, name: str, title: str, body: str, head: str,
              base: str) -> Pull:
    guard.writer(actor, "open pull requests")
    base_t = guard.template(c, actor, owner, name, Level.READ)
    if not title.strip():
        raise InvalidInput("title must not be empty")
    head_t, head_branch = _head_template(c, base_t, head)
    guard.template(c, actor, head_t.owner, head_t.name, Level.WRITE)
    head_sha, base_sha = _tip(c, head_t, head_branch), _tip(c, base_t, base)
    if head_sha == base_sha:
        raise InvalidInput(f"no changes: {head} and {base} point at the same commit")
    return opened(c, actor.name or "", base_t, head_t, title.strip(), body, head_branch, base, head_sha)


def opened(c: Container, author: str, base: Template, head: Template, title: str, body: str, head_branch: str,
           base_branch: str, head_sha: str) -> Pull:
    """Record a pull request whose access and branches were checked (`open_pull`, or the
    registry's own update pull requests), its event, and its refs/pull/N/head."""
    with recording(c) as r:
        pull = c.meta.pulls.add(base.id, title, body, author, head.id, head_branch, base_branch, head_sha)
        r.add(author, "pull_request.opened", base, pull_payload(pull))
    _set_pull_ref(c, base, head, pull.number, head_sha)
    evaluations.owe(c, base, head_sha)
    return pull


def _set_pull_ref(c: Container, base: Template, head: Template, number: int, sha: str) -> None:
    with c.open_repo(base) as repo:
        adopt: tuple[str, ...] = ()
        if head.id != base.id:
            with c.open_repo(head) as head_repo:
                adopt = tuple(p for p in head_repo.doc.packs if p not in repo.doc.packs)
        ref = f"refs/pull/{number}/head"
        # Adopted packs may hold more than the PR's commits: the clone fast path steps aside
        # (rewrite) until gc repacks the base to exactly what its refs reach.
        repo.commit_updates({ref: sha}, {ref: repo.ref_value(ref)}, rewrite=bool(adopt), adopt=adopt)


def follow_push(c: Container, template: Template, updates: list[RefUpdate]) -> None:
    """Pushes to a PR's head branch move its refs/pull/N/head (and head sha)."""
    for update in updates:
        if not update.ref.startswith("refs/heads/") or update.is_delete:
            continue
        for pull in c.meta.pulls.open_from(template.id, update.ref.removeprefix("refs/heads/")):
            base = c.meta.templates.get_by_id(pull.template_id)
            _set_pull_ref(c, base, template, pull.number, update.new)
            c.meta.pulls.update(pull.template_id, pull.number, head_sha=update.new)
            evaluations.owe(c, base, update.new)


def get_pull(c: Container, actor: Actor, owner: str, name: str, number: int) -> tuple[Template, Pull]:
    base = guard.template(c, actor, owner, name, Level.READ)
    return base, c.meta.pulls.get(base.id, number)


def list_pulls(c: Container, actor: Actor, owner: str, name: str, state: str, page: int,
               per_page: int) -> tuple[list[Pull], int]:
    base = guard.template(c, actor, owner, name, Level.READ)
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}")
    return c.meta.pulls.page(base.id, state, (page - 1) * per_page, per_page)


def update_pull(c: Container, actor: Actor, owner: str, name: str, number: int, title: str | None,
                body: str | None, state: str | None) -> Pull:
    guard.writer(actor, "edit pull requests")
    base, pull = get_pull(c, actor, owner, name, number)
    if actor.name != pull.author:
        guard.template(c, actor, owner, name, Level.MAINTAIN)
    if state is not None and state not in ("open", "closed"):
        raise InvalidInput("state can be set to open or closed (merging is POST .../merge)")
    if pull.state == "merged" and state is not None:
        raise Conflict("a merged pull request cannot be reopened or closed")
    if title is not None and not title.strip():
        raise InvalidInput("title must not be empty")
    action = {"closed": "closed", "open": "reopened"}.get(state or "") if state != pull.state else None
    with recording(c) as r:
        changed = c.meta.pulls.update(base.id, number, title=title, body=body, state=state)
        if title is not None or body is not None:
            r.add(actor.name, "pull_request.edited", base, pull_payload(changed, changes=sorted(
                k for k, v in (("title", title), ("body", body)) if v is not None)))
        if action:
            r.add(actor.name, f"pull_request.{action}", base, pull_payload(changed))
    if action == "reopened":
        evaluations.owe(c, base, changed.head_sha)
    return changed


def _base_and_head(c: Container, base: Template, pull: Pull) -> tuple[TemplateRepo, ObjectID]:
    repo = c.open_repo(base)
    return repo, ObjectID(repo.doc.refs.get(f"refs/heads/{pull.base_branch}", ZERO_SHA).encode())


def files(c: Container, actor: Actor, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    base, pull = get_pull(c, actor, owner, name, number)
    repo, base_sha = _base_and_head(c, base, pull)
    with repo:
        if base_sha == ZERO_SHA.encode():
            return file_changes(repo, b"", pull.head_sha.encode())
        merge_base = find_merge_base(repo, [base_sha, ObjectID(pull.head_sha.encode())])
        return file_changes(repo, merge_base[0] if merge_base else b"", pull.head_sha.encode())


def commits(c: Container, actor: Actor, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    base, pull = get_pull(c, actor, owner, name, number)
    repo, base_sha = _base_and_head(c, base, pull)
    with repo:
        exclude = [base_sha] if base_sha != ZERO_SHA.encode() else []
        return [commit_info(e.commit) for e in Walker(repo.object_store, [ObjectID(pull.head_sha.encode())],
                                                       exclude=exclude, max_entries=250)]
