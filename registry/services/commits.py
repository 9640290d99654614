"""Commits made on the server for a signed-in user: several files at once on top of the commit
the author saw (the web editor, POST .../commits), optionally on a new branch with a pull
request. `proposals` builds a reader's proposal from their fork on it, `contents` GitHub's
one-file API.

Every such commit lands through the push path, not beside it: its objects go as a pack through
`git.service.receive` under the same `push.context` a `git push` gets (fsck rules, size limits,
secret scan, branch rules, one compare-and-swap of the refs), and what follows is what follows a
push (`PushContext.announce`: push events and webhooks, pull requests following their head,
checks queued).
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree

from ..access import Actor, Level
from ..container import Container
from ..errors import (
    AlreadyExists,
    BranchProtected,
    ChangeRefused,
    Conflict,
    InvalidInput,
    RefNotFound,
    RegistryError,
    StaleParent,
    StorageError,
    TooLarge,
)
from ..git import service
from ..git.context import Received
from ..git.paths import normalise
from ..git.policy import PROTECTED, RefUpdate, ref_name_problem
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..git.write import edit_tree, ident, make_commit, pack_of
from ..meta import Pull, Template
from . import guard, pulls, push

MAX_CHANGES = 1000  # files in one commit
MAX_MESSAGE_CHARS = 20_000
MAX_TITLE_CHARS = 500
SHA = re.compile(r"[0-9a-f]{40}\Z")


@dataclass(frozen=True)
class Change:
    """One file of a commit: its new content, or None to delete it (a rename is both)."""

    path: str
    content: bytes | None


@dataclass(frozen=True)
class PullSpec:
    """A pull request to open from the commit's branch into `base` (None: the branch the change
    was made on; the default branch when the commit moved that branch itself)."""

    title: str
    body: str = ""
    base: str | None = None


@dataclass(frozen=True)
class Committed:
    template: Template  # where the commit landed: the template itself, or the author's fork
    sha: str
    branch: str  # whose tip the commit is (without refs/heads/)
    parent: str | None
    message: str
    files: dict[str, str | None]  # path -> its new blob id, None where the file was deleted
    pull: Pull | None = None


def author(actor: Actor) -> str:
    """The author and committer of a commit a signed-in user makes on the server, written as
    merges write theirs."""
    assert actor.user is not None
    return ident(actor.user.name, f"{actor.user.name}@registry")


def prepared(c: Container, changes: Sequence[Change]) -> dict[str, bytes | None]:
    """`changes` by normalised path, bounded before any repository is read: InvalidInput for a
    bad or repeated path or too many changes; TooLarge when one file passes the largest a push
    may add (REGISTRY_MAX_FILE_BYTES) or all of them the largest request (REGISTRY_MAX_BODY_BYTES)."""
    if not changes:
        raise InvalidInput("no changes given")
    if len(changes) > MAX_CHANGES:
        raise InvalidInput(f"at most {MAX_CHANGES} files change in one commit")
    each, limit = c.settings.max_file_bytes, c.settings.max_body_bytes
    total = 0
    edits: dict[str, bytes | None] = {}
    for change in changes:
        path = normalise(change.path)
        if path in edits:
            raise InvalidInput(f"{path!r} is changed twice", path=path)
        if change.content is not None:
            size = len(change.content)
            if size > each:
                raise TooLarge(f"{path}: {size} bytes exceed the limit of {each} bytes per file", limit=each, path=path)
            total += size
            if total > limit:
                raise TooLarge(f"the changes hold more than {limit} bytes", limit=limit)
        edits[path] = change.content
    return edits


def commit_changes(c: Container, actor: Actor, owner: str, name: str, branch: str, parent: str | None,
                   message: str, changes: Sequence[Change], new_branch: str | None = None,
                   pull: PullSpec | None = None) -> Committed:
    """Commit `changes` on top of `parent`, which must be the tip of `branch` (None: the branch
    does not exist yet, as in an empty template), and move `branch` to it, or create
    `new_branch` there instead; then open `pull` from it. Writers only.

    StaleParent (412) when `branch` moved since `parent` (carrying the tip now: see
    `editing.rebase_changes`); BranchProtected when the branch's protection wants a pull
    request; ChangeRefused or TooLarge when the push checks refuse the content; InvalidInput for
    bad paths, names or a commit that changes nothing."""
    guard.writer(actor, "commit changes")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    edits, text = prepared(c, changes), message_text(message)
    branch = branch_name(branch)
    head = branch if new_branch is None else branch_name(new_branch)
    with c.open_repo(template) as repo:
        expect_tip(repo, branch, parent)
        if new_branch is not None and f"refs/heads/{head}" in repo.doc.refs:
            raise AlreadyExists(f"branch {head!r} exists already", branch=head)
        base = pull_base(repo, pull, branch, head)
        committed = land(c, actor, template, repo, head, ZERO_SHA if new_branch is not None else parent or ZERO_SHA,
                          parent, text, edits)
    if pull is None or base is None:
        return committed
    return replace(committed, pull=pulls.open_pull(c, actor, owner, name, pull.title, pull.body, head, base))


def expect_tip(repo: TemplateRepo, branch: str, parent: str | None) -> None:
    """That `parent` is the tip of `branch` (None: that the branch does not exist), or why not."""
    if parent is not None and not SHA.match(parent):
        raise InvalidInput("parent must be a full commit id (40 lower-case hex digits)")
    tip = repo.doc.refs.get(f"refs/heads/{branch}")
    if tip == parent:
        return
    if tip is None:
        raise RefNotFound(f"no branch {branch!r}", branch=branch)
    raise StaleParent(f"{branch} has moved on to {tip} since {parent or 'it was empty'}: someone committed meanwhile",
                      tip=tip)


def land(c: Container, actor: Actor, template: Template, repo: TemplateRepo, head: str, old: str,
          parent: str | None, message: str, edits: dict[str, bytes | None]) -> Committed:
    """The commit of `edits` on `parent`, landed at refs/heads/`head` (from `old`) as a push."""
    objects: list[ShaFile] = []
    tree = tree_of(repo, parent, edits, objects)
    commit = make_commit(tree.id, [parent] if parent else [], author(actor), message)
    objects.append(commit)
    update = RefUpdate(f"refs/heads/{head}", old, commit.id.decode())
    push_objects(c, actor, template, repo, update, objects)
    files = {path: None if data is None else Blob.from_string(data).id.decode() for path, data in edits.items()}
    return Committed(template, update.new, head, parent, message, files)


def push_objects(c: Container, actor: Actor, template: Template, repo: TemplateRepo, update: RefUpdate,
                 objects: list[ShaFile]) -> None:
    """Land `update` with `objects` (the commit and what it adds) as a push by `actor`: checked,
    stored, then announced as any push; the push path's refusal as a domain error."""
    ctx = push.context(c, actor, template)
    got = service.receive(repo, ctx, [update], io.BytesIO(pack_of(repo.object_store, objects)).read)
    if update not in got.accepted:
        raise _refusal(repo, update, got)
    ctx.announce(repo.repo_id)


def tree_of(repo: TemplateRepo, parent: str | None, edits: dict[str, bytes | None], objects: list[ShaFile]) -> Tree:
    """The tree of `parent` (None: empty) with `edits` applied, its new objects in `objects`;
    InvalidInput when it is the parent's own tree (a commit that changes nothing)."""
    base_tree = None
    if parent is not None:
        parent_commit = repo.object_store[ObjectID(parent.encode())]
        assert isinstance(parent_commit, Commit)  # a branch tip
        base_tree = parent_commit.tree
    tree = edit_tree(repo.object_store, base_tree, edits, objects)
    if tree.id == base_tree:
        raise InvalidInput("no changes: the files are as they are at the parent commit")
    return tree


def _refusal(repo: TemplateRepo, update: RefUpdate, got: Received) -> RegistryError:
    """The push path's refusal of a commit as the domain error an adapter maps."""
    reason = got.reasons.get(update.ref, "refused")
    if got.refused is not None:
        return got.refused if isinstance(got.refused, TooLarge) else ChangeRefused(reason)
    if got.write_error is not None:
        return got.write_error if isinstance(got.write_error, StorageError) else StorageError(reason)
    now = repo.stored_refs().get(update.ref)
    branch = update.ref.removeprefix("refs/heads/")
    if (now or ZERO_SHA) != update.old:  # lost the compare-and-swap to a push or commit
        if update.is_create:
            return AlreadyExists(f"branch {branch!r} was created meanwhile", branch=branch)
        return StaleParent(f"{branch} moved on to {now} meanwhile: someone committed at the same time", tip=now)
    if reason.startswith(PROTECTED):
        return BranchProtected(f"{branch}: {reason}; commit to a new branch and open a pull request",
                               branch=branch)
    return Conflict(reason)


def pull_base(repo: TemplateRepo, pull: PullSpec | None, branch: str, head: str) -> str | None:
    """The branch `pull` goes into, checked before anything is committed."""
    if pull is None:
        return None
    for text, what in ((pull.title, "title"), (pull.body, "body")):
        _text(text, what)
    if not pull.title.strip() or len(pull.title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"a pull request needs a title of 1 to {MAX_TITLE_CHARS} characters")
    default = repo.default_branch.removeprefix("refs/heads/")
    base = branch_name(pull.base) if pull.base else (default if head == branch else branch)
    if base == head:
        raise InvalidInput(f"a pull request from {head!r} into itself: commit to a new branch")
    if f"refs/heads/{base}" not in repo.doc.refs:
        raise RefNotFound(f"no branch {base!r} to open the pull request into", branch=base)
    return base


def branch_name(name: str) -> str:
    """`name`, if a branch may be called so (git's check-ref-format, at most 255 bytes)."""
    problem = ref_name_problem(f"refs/heads/{name}") if name else "empty"
    if problem:
        raise InvalidInput(f"invalid branch name {name!r}: {problem}", branch=name)
    return name


def message_text(message: str) -> str:
    """A commit message as git's default cleanup leaves it: trimmed, one final newline."""
    text = _text(message, "commit message").strip().replace("\r\n", "\n")
    if not text:
        raise InvalidInput("a commit message is needed")
    if len(text) > MAX_MESSAGE_CHARS or "\0" in text:
        raise InvalidInput(f"a commit message holds at most {MAX_MESSAGE_CHARS} characters and no NUL")
    return text + "\n"


def _text(text: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"the {what} is not valid UTF-8 text") from None
    return text
