"""One file at a time, as GitHub's contents API does it: create, replace or delete the file at a
path of a branch, given the blob the caller is replacing (`sha`), which must still be the
file's blob; a commit made by `commits.commit_changes` on the branch's tip, so through the push
path. A commit landing elsewhere in the branch meanwhile is no conflict: the tip is read again
and the file checked again."""
from __future__ import annotations

from ..access import Actor, Level
from ..container import Container
from ..errors import Conflict, InvalidInput, PathNotFound, RefNotFound, StaleParent
from ..git import browse
from ..git.paths import normalise
from ..git.repo import TemplateRepo
from . import guard
from .commits import Change, Committed, commit_changes

ATTEMPTS = 3  # tips read again when another commit lands between the read and the swap


def put_file(c: Container, actor: Actor, owner: str, name: str, path: str, content: bytes, message: str,
             sha: str | None = None, branch: str | None = None, new_branch: str | None = None) -> Committed:
    """Create `path` (`sha` None) or replace it (`sha`: its current blob id) on `branch` (default:
    the default branch), or on `new_branch` made from it. Conflict (409, with the current blob
    id as `sha`) when the file is not as the caller thinks."""
    return _change(c, actor, owner, name, path, content, message, sha, branch, new_branch)


def delete_file(c: Container, actor: Actor, owner: str, name: str, path: str, message: str, sha: str,
                branch: str | None = None) -> Committed:
    """Delete `path`, whose current blob id must be `sha`, from `branch` (default: the default branch)."""
    if not sha:
        raise InvalidInput("sha (the blob being deleted) is required")
    return _change(c, actor, owner, name, path, None, message, sha, branch, None)


def _change(c: Container, actor: Actor, owner: str, name: str, path: str, content: bytes | None, message: str,
            sha: str | None, branch: str | None, new_branch: str | None) -> Committed:
    guard.writer(actor, "change files")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    path = normalise(path)
    for _ in range(ATTEMPTS):
        with c.open_repo(template) as repo:
            on = branch or repo.default_branch.removeprefix("refs/heads/")
            tip = repo.doc.refs.get(f"refs/heads/{on}")
            if tip is None and any(ref.startswith("refs/heads/") for ref in repo.doc.refs):
                raise RefNotFound(f"no branch {on!r}", branch=on)
            current = _blob_at(repo, tip, path)
        if current != sha:
            if current is None:
                raise (PathNotFound if content is None else Conflict)(f"{path!r} does not exist on {on}", sha=None)
            if sha is None:
                raise Conflict(f"{path!r} exists on {on}: give its blob id as sha to replace it", sha=current)
            raise Conflict(f"{path!r} on {on} is blob {current}, not {sha}: it changed since", sha=current)
        try:
            return commit_changes(c, actor, owner, name, on, tip, message, [Change(path, content)], new_branch)
        except StaleParent:
            continue  # another commit landed on the branch: look at the file again
    raise Conflict("the branch is too busy to commit to; try again")


def _blob_at(repo: TemplateRepo, tip: str | None, path: str) -> str | None:
    """The blob id of the file at `path` in commit `tip`, None where there is none."""
    if tip is None:
        return None
    try:
        found = browse.tree(repo, tip, path)
    except PathNotFound:
        return None
    if found["type"] != "file":
        raise InvalidInput(f"{path!r} is a directory", path=path)
    sha: str = found["sha"]
    return sha
