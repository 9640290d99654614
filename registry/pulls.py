"""Pull requests: opened from a branch of the same template or of a fork, their head kept at
refs/pull/N/head in the base repo (the fork's packs are named there, not copied), the files
they change (unified and structured manifest diffs) and their commits."""
from __future__ import annotations

from typing import Any

from dulwich.graph import find_merge_base
from dulwich.walk import Walker

from .access import Actor, Level
from .errors import Conflict, InvalidInput, PermissionDenied, RefNotFound
from .git.diff import file_changes
from .git.policy import RefUpdate
from .git.refsdoc import ZERO_SHA
from .meta import Template
from .meta.sqlite_pulls import Pull

STATES = ("open", "closed", "merged", "all")


def _head_template(registry, actor: Actor, base: Template, head: str) -> tuple[Template, str]:
    owner, sep, branch = head.rpartition(":")
    if not sep or owner == base.owner:
        return base, branch
    forks = [t for t in registry.meta.forks_of(base.id) if t.owner == owner]
    if not forks:
        raise InvalidInput(f"{owner} has no fork of {base.full_name}")
    return forks[0], branch


def _tip(registry, template: Template, branch: str) -> str:
    repo = registry.open_repo(template)
    try:
        sha = repo.doc.refs.get(f"refs/heads/{branch}")
    finally:
        repo.close()
    if sha is None:
        raise RefNotFound(f"{template.full_name} has no branch {branch!r}")
    return sha


def open_pull(registry, actor: Actor, owner: str, name: str, title: str, body: str, head: str, base: str) -> Pull:
    if not title.strip():
        raise InvalidInput("title must not be empty")
    base_t = registry.get_template(actor, owner, name, Level.READ)
    head_t, head_branch = _head_template(registry, actor, base_t, head)
    registry.get_template(actor, head_t.owner, head_t.name, Level.WRITE)
    head_sha, base_sha = _tip(registry, head_t, head_branch), _tip(registry, base_t, base)
    if head_sha == base_sha:
        raise InvalidInput(f"no changes: {head} and {base} point at the same commit")
    pull = registry.meta.add_pull(base_t.id, title.strip(), body, actor.name, head_t.id, head_branch, base, head_sha)
    _set_pull_ref(registry, base_t, head_t, pull.number, head_sha)
    return pull


def _set_pull_ref(registry, base: Template, head: Template, number: int, sha: str) -> None:
    repo = registry.open_repo(base)
    try:
        adopt: tuple[str, ...] = ()
        if head.id != base.id:
            head_repo = registry.open_repo(head)
            adopt = tuple(p for p in head_repo.doc.packs if p not in repo.doc.packs)
            head_repo.close()
        ref = f"refs/pull/{number}/head"
        # Adopted packs may hold more than the PR's commits: the clone fast path steps aside
        # (rewrite) until gc repacks the base to exactly what its refs reach.
        repo.commit_updates({ref: sha}, {ref: repo.ref_value(ref)}, rewrite=bool(adopt), adopt=adopt)
    finally:
        repo.close()


def refresh_from_push(registry, template: Template, updates: list[RefUpdate]) -> None:
    """Pushes to a PR's head branch move its refs/pull/N/head (and head sha)."""
    for update in updates:
        if not update.ref.startswith("refs/heads/") or update.is_delete:
            continue
        for pull in registry.meta.open_pulls_from(template.id, update.ref.removeprefix("refs/heads/")):
            base = registry.meta.get_template_by_id(pull.template_id)
            _set_pull_ref(registry, base, template, pull.number, update.new)
            registry.meta.update_pull(pull.template_id, pull.number, head_sha=update.new)


def get_pull(registry, actor: Actor, owner: str, name: str, number: int) -> tuple[Template, Pull]:
    base = registry.get_template(actor, owner, name, Level.READ)
    return base, registry.meta.get_pull(base.id, number)


def list_pulls(registry, actor: Actor, owner: str, name: str, state: str, page: int, per_page: int):
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}")
    base = registry.get_template(actor, owner, name, Level.READ)
    return registry.meta.list_pulls(base.id, state, (page - 1) * per_page, per_page)


def update_pull(registry, actor: Actor, owner: str, name: str, number: int, title: str | None,
                body: str | None, state: str | None) -> Pull:
    base, pull = get_pull(registry, actor, owner, name, number)
    if actor.name != pull.author:
        registry.get_template(actor, owner, name, Level.MAINTAIN)
    elif actor.scope == "read":
        raise PermissionDenied("a read-scoped token cannot edit pull requests")
    if state is not None and state not in ("open", "closed"):
        raise InvalidInput("state can be set to open or closed (merging is POST .../merge)")
    if pull.state == "merged" and state is not None:
        raise Conflict("a merged pull request cannot be reopened or closed")
    if title is not None and not title.strip():
        raise InvalidInput("title must not be empty")
    return registry.meta.update_pull(base.id, number, title=title, body=body, state=state)


def _base_and_head(registry, base: Template, pull: Pull) -> tuple[Any, bytes, bytes]:
    repo = registry.open_repo(base)
    base_sha = repo.doc.refs.get(f"refs/heads/{pull.base_branch}", ZERO_SHA)
    head = (pull.merged_sha if pull.state == "merged" else None) or pull.head_sha
    return repo, base_sha.encode(), head.encode()


def files(registry, actor: Actor, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    base, pull = get_pull(registry, actor, owner, name, number)
    repo, base_sha, head_sha = _base_and_head(registry, base, pull)
    try:
        if base_sha == ZERO_SHA.encode():
            return file_changes(repo, b"", pull.head_sha.encode())
        merge_base = find_merge_base(repo, [base_sha, pull.head_sha.encode()])
        return file_changes(repo, merge_base[0] if merge_base else b"", pull.head_sha.encode())
    finally:
        repo.close()


def commits(registry, actor: Actor, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    from .git.browse import _commit_info

    base, pull = get_pull(registry, actor, owner, name, number)
    repo, base_sha, _ = _base_and_head(registry, base, pull)
    try:
        exclude = [base_sha] if base_sha != ZERO_SHA.encode() else []
        return [_commit_info(e.commit) for e in Walker(repo.object_store, [pull.head_sha.encode()],
                                                        exclude=exclude, max_entries=250)]
    finally:
        repo.close()
