"""Commits made on the server for a signed-in user: several files at once on top of the commit
the author saw (the web editor, POST .../commits), optionally on a new branch with a pull
request, or, for a reader, proposed from their fork. `contents` builds GitHub's one-file API on
`commit_changes`.

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

from dulwich.objects import Blob, Commit, ObjectID, ShaFile

from ..access import Actor, Level, level
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
    TemplateNotFound,
    TooLarge,
)
from ..git import service
from ..git.paths import normalise
from ..git.policy import PROTECTED, RefUpdate, ref_name_problem
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..git.write import edit_tree, ident, make_commit, pack_of
from ..meta import Pull, Template
from . import guard, pulls, push, templates

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
    edits, text = prepared(c, changes), _message(message)
    branch = _branch(branch)
    head = branch if new_branch is None else _branch(new_branch)
    with c.open_repo(template) as repo:
        expect_tip(repo, branch, parent)
        if new_branch is not None and f"refs/heads/{head}" in repo.doc.refs:
            raise AlreadyExists(f"branch {head!r} exists already", branch=head)
        base = _pull_base(repo, pull, branch, head)
        committed = _land(c, actor, template, repo, head, ZERO_SHA if new_branch is not None else parent or ZERO_SHA,
                          parent, text, edits)
    if pull is None or base is None:
        return committed
    return replace(committed, pull=pulls.open_pull(c, actor, owner, name, pull.title, pull.body, head, base))


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
            head = _branch(new_branch) if new_branch is not None else _free_branch(repo, actor)
        return commit_changes(c, actor, owner, name, branch, parent, message, changes, head, pull)
    edits, text, branch = prepared(c, changes), _message(message), _branch(branch)
    with c.open_repo(base) as repo:
        expect_tip(repo, branch, parent)
        into = _pull_base(repo, pull, branch, "")
        packs = repo.doc.packs
    fork = pulls.fork_of(c, base, actor.name or "") or templates.fork(
        c, actor, owner, name, new_name=_free_name(c, actor.name or "", base.name))
    if parent is not None:
        with c.open_repo(fork) as fork_repo:
            if ObjectID(parent.encode()) not in fork_repo.object_store:  # a fork older than `parent`
                fork_repo.commit_updates({}, {}, rewrite=True,
                                         adopt=tuple(p for p in packs if p not in fork_repo.doc.packs))
    with c.open_repo(fork) as fork_repo:
        head = _branch(new_branch) if new_branch is not None else _free_branch(fork_repo, actor)
        if f"refs/heads/{head}" in fork_repo.doc.refs:
            raise AlreadyExists(f"branch {head!r} exists already in {fork.full_name}", branch=head)
        committed = _land(c, actor, fork, fork_repo, head, ZERO_SHA, parent, text, edits)
    opened = pulls.open_pull(c, actor, owner, name, pull.title, pull.body, f"{fork.owner}:{head}", into or branch)
    return replace(committed, pull=opened)


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


def _land(c: Container, actor: Actor, template: Template, repo: TemplateRepo, head: str, old: str,
          parent: str | None, message: str, edits: dict[str, bytes | None]) -> Committed:
    """The commit of `edits` on `parent`, landed at refs/heads/`head` (from `old`) as a push."""
    store = repo.object_store
    base_tree = None
    if parent is not None:
        parent_commit = store[ObjectID(parent.encode())]
        assert isinstance(parent_commit, Commit)  # a branch tip
        base_tree = parent_commit.tree
    objects: list[ShaFile] = []
    tree = edit_tree(store, base_tree, edits, objects)
    if tree.id == base_tree:
        raise InvalidInput("no changes: the files are as they are at the parent commit")
    commit = make_commit(tree.id, [parent] if parent else [], author(actor), message)
    objects.append(commit)
    update = RefUpdate(f"refs/heads/{head}", old, commit.id.decode())
    ctx = push.context(c, actor, template)
    got = service.receive(repo, ctx, [update], io.BytesIO(pack_of(store, objects)).read)
    if update not in got.accepted:
        raise _refusal(repo, update, got)
    ctx.accepted = got.accepted
    ctx.announce(repo.repo_id)
    files = {path: None if data is None else Blob.from_string(data).id.decode() for path, data in edits.items()}
    return Committed(template, update.new, head, parent, message, files)


def _refusal(repo: TemplateRepo, update: RefUpdate, got: service.Received) -> RegistryError:
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


def _pull_base(repo: TemplateRepo, pull: PullSpec | None, branch: str, head: str) -> str | None:
    """The branch `pull` goes into, checked before anything is committed."""
    if pull is None:
        return None
    for text, what in ((pull.title, "title"), (pull.body, "body")):
        _text(text, what)
    if not pull.title.strip() or len(pull.title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"a pull request needs a title of 1 to {MAX_TITLE_CHARS} characters")
    default = repo.default_branch.removeprefix("refs/heads/")
    base = _branch(pull.base) if pull.base else (default if head == branch else branch)
    if base == head:
        raise InvalidInput(f"a pull request from {head!r} into itself: commit to a new branch")
    if f"refs/heads/{base}" not in repo.doc.refs:
        raise RefNotFound(f"no branch {base!r} to open the pull request into", branch=base)
    return base


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
            c.meta.get_template(owner, candidate)
        except TemplateNotFound:
            return candidate
    raise AlreadyExists(f"{owner} has too many templates named like {name}")


def _branch(name: str) -> str:
    problem = ref_name_problem(f"refs/heads/{name}") if name else "empty"
    if problem:
        raise InvalidInput(f"invalid branch name {name!r}: {problem}", branch=name)
    return name


def _message(message: str) -> str:
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
