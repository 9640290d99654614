"""Changes proposed as pull requests: a writer's on a new branch of the template, a reader's from
their fork (made now, or the one they have), as GitHub's web editor does for those who may not
write; and POST .../commits, which proposes for such a caller when asked for a pull request."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dulwich.objects import ObjectID

from ..access import Actor, Level, level
from ..container import Container
from ..errors import AlreadyExists, TemplateNotFound
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from . import guard, pulls, templates
from .commits import (
    Change,
    Committed,
    PullSpec,
    branch_name,
    commit_changes,
    expect_tip,
    land,
    message_text,
    prepared,
    pull_base,
    tree_of,
)


def submit(c: Container, actor: Actor, owner: str, name: str, branch: str, parent: str | None, message: str,
           changes: Sequence[Change], new_branch: str | None = None, pull: PullSpec | None = None) -> Committed:
    """POST .../commits: `commit_changes` for a writer; for a caller who may read but not write
    and asks for a pull request, `propose_changes` (from their fork), as GitHub's web editor."""
    guard.writer(actor, "commit changes")
    template = guard.template(c, actor, owner, name, Level.READ)
    if pull is not None and level(c.meta, actor, template) < Level.WRITE:
        return propose_changes(c, actor, owner, name, branch, parent, message, changes, pull, new_branch)
    return commit_changes(c, actor, owner, name, branch, parent, message, changes, new_branch, pull)


def propose_changes(c: Container, actor: Actor, owner: str, name: str, branch: str, parent: str | None,
                    message: str, changes: Sequence[Change], pull: PullSpec,
                    new_branch: str | None = None) -> Committed:
    """Propose `changes` (made on `parent`, the tip of `branch`) as a pull request into `pull.base`
    (default `branch`), from `new_branch` (default `USER-patch-N`). A writer's branch is made
    in the template; a reader's in their fork of it (forked now, or the one they have), which
    then reads the template's packs so `parent` is there: nothing is copied."""
    guard.writer(actor, "propose changes")
    base = guard.template(c, actor, owner, name, Level.READ)
    pull = replace(pull, base=pull.base or branch)
    if level(c.meta, actor, base) >= Level.WRITE:
        with c.open_repo(base) as repo:
            head = branch_name(new_branch) if new_branch is not None else _free_branch(repo, actor)
        return commit_changes(c, actor, owner, name, branch, parent, message, changes, head, pull)
    edits, text, branch = prepared(c, changes), message_text(message), branch_name(branch)
    with c.open_repo(base) as repo:
        expect_tip(repo, branch, parent)
        into = pull_base(repo, pull, branch, "")
        packs = repo.doc.packs
        tree_of(repo, parent, edits, [])  # a change the tree cannot take is refused before any fork is made
    fork = pulls.fork_of(c, base, actor.name or "") or templates.fork(
        c, actor, owner, name, new_name=_free_name(c, actor.name or "", base.name))
    if parent is not None:
        with c.open_repo(fork) as fork_repo:
            if ObjectID(parent.encode()) not in fork_repo.object_store:  # a fork older than `parent`
                fork_repo.commit_updates({}, {}, rewrite=True,
                                         adopt=tuple(p for p in packs if p not in fork_repo.doc.packs))
    with c.open_repo(fork) as fork_repo:
        head = branch_name(new_branch) if new_branch is not None else _free_branch(fork_repo, actor)
        if f"refs/heads/{head}" in fork_repo.doc.refs:
            raise AlreadyExists(f"branch {head!r} exists already in {fork.full_name}", branch=head)
        committed = land(c, actor, fork, fork_repo, head, ZERO_SHA, parent, text, edits)
    opened = pulls.open_pull(c, actor, owner, name, pull.title, pull.body, f"{fork.owner}:{head}", into or branch)
    return replace(committed, pull=opened)


def _free_branch(repo: TemplateRepo, actor: Actor) -> str:
    """`USER-patch-N`, the first one the repo does not have (as GitHub names a web edit's branch)."""
    n = 1
    while f"refs/heads/{actor.name}-patch-{n}" in repo.doc.refs:
        n += 1
    return f"{actor.name}-patch-{n}"


def _free_name(c: Container, owner: str, name: str) -> str:
    """A name for `owner`'s fork of `name`: the same, or with `-N` when they have one already."""
    for n in range(100):
        suffix = f"-{n}" if n else ""
        candidate = name[:63 - len(suffix)] + suffix
        try:
            c.meta.templates.get(owner, candidate)
        except TemplateNotFound:
            return candidate
    raise AlreadyExists(f"{owner} has too many templates named like {name}")
