"""A pull request's conflicts, resolved in the browser or through the API as GitHub's conflict
editor does: the base branch is merged into the head branch, in a merge commit whose parents
are the head's tip and the base's tip, made from the person's choices (`registry.resolution`)
and landed on the head branch through the push path (checks, protection, events). The pull
request then follows its head, its checks run, and it merges cleanly.

"ours" is the head branch (where the commit lands), "theirs" the base branch, "base" their
merge base. Only someone who may write the head branch resolves (for a fork's branch, the
fork's writers), and only against the tips they saw: either moved, nothing is committed."""
from __future__ import annotations

from dataclasses import dataclass

from dulwich.graph import find_merge_base
from dulwich.objects import Commit, ObjectID

from .. import conflicts, resolution
from ..access import Actor, Level, level
from ..conflicts import MAX_FILES as MAX_FILES  # what one resolution takes, for the adapters' bounds
from ..conflicts import MAX_HUNKS as MAX_HUNKS
from ..conflicts import Conflicts
from ..conflicts import FileConflict as FileConflict  # the adapters show these
from ..container import Container
from ..errors import Conflict, RefNotFound, StaleBase, StaleHead, TooLarge
from ..git.policy import RefUpdate
from ..git.repo import TemplateRepo
from ..git.write import make_commit
from ..meta import Pull, Template
from ..resolution import Choice as Choice  # the adapters build resolutions from these
from ..resolution import Resolution as Resolution
from . import commits, guard, pulls


@dataclass(frozen=True)
class PullConflicts:
    template: Template  # the pull request's (its base branch's)
    pull: Pull
    head: Template  # where the head branch lives: the template, or a fork of it
    head_sha: str  # ours
    base_sha: str  # theirs: the base branch's tip
    merge_base: str | None
    files: tuple[FileConflict, ...]  # empty: nothing to resolve
    truncated: bool  # more files conflict than can be resolved here
    why_not: str | None  # why the caller cannot resolve them here (None: they can)
    message: str  # the merge commit's message unless one is given


@dataclass(frozen=True)
class Resolved:
    template: Template  # where the merge commit landed (the head's template)
    sha: str
    branch: str
    parents: tuple[str, str]  # the head's tip, then the base's


def pull_conflicts(c: Container, actor: Actor, owner: str, name: str, number: int) -> PullConflicts:
    """What merging the base branch into `number`'s head leaves to decide. Readers may look."""
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    head = c.meta.templates.get_by_id(pull.head_template_id)
    with c.open_repo(base) as repo:
        tip, merge_base, found = _conflicts(repo, pull)
    return PullConflicts(base, pull, head, pull.head_sha, tip, merge_base, found.files if found else (),
                         bool(found and found.truncated), _why_not(c, actor, pull, head, found),
                         default_message(base, head, pull))


def resolve_pull(c: Container, actor: Actor, owner: str, name: str, number: int, chosen: Resolution,
                 message: str | None = None, expected_head_sha: str | None = None,
                 expected_base_sha: str | None = None) -> Resolved:
    """Commit the merge of the base branch into `number`'s head branch as `chosen` resolves it.
    PermissionDenied (403) without write on the head branch; StaleHead or StaleBase (412) when a
    tip is not the one expected; Conflict (409) when nothing conflicts or the pull request is
    not open; InvalidInput for a choice missing or wrong (naming the file and hunk)."""
    guard.writer(actor, "resolve conflicts")
    base, pull = pulls.get_pull(c, actor, owner, name, number)
    head = guard.template_by_id(c, actor, pull.head_template_id, Level.WRITE)
    if pull.state != "open":
        raise Conflict(f"pull request #{number} is {pull.state}")
    text = commits.message_text(message if message and message.strip() else default_message(base, head, pull))
    bounded(c, chosen)
    if expected_head_sha and expected_head_sha != pull.head_sha:
        raise StaleHead(f"the head moved to {pull.head_sha} since the conflicts were shown; look at them again",
                        head_sha=pull.head_sha)
    with c.open_repo(base) as repo:
        tip, _, found = _conflicts(repo, pull)
        if expected_base_sha and expected_base_sha != tip:
            raise StaleBase(f"{pull.base_branch} moved to {tip} since the conflicts were shown; look at them again",
                            base_sha=tip)
        if found is None or not found.files:
            raise Conflict(f"nothing to resolve: pull request #{number} merges cleanly")
        tree, objects = resolution.tree(repo.object_store, found, chosen)
        packs = repo.doc.packs
    commit = make_commit(tree, [pull.head_sha, tip], commits.author(actor), text)
    if head.id != base.id:
        with c.open_repo(head) as head_repo:
            if ObjectID(tip.encode()) not in head_repo.object_store:  # the fork reads the base's packs
                head_repo.commit_updates({}, {}, rewrite=True,
                                         adopt=tuple(p for p in packs if p not in head_repo.doc.packs))
    update = RefUpdate(f"refs/heads/{pull.head_branch}", pull.head_sha, commit.id.decode())
    with c.open_repo(head) as head_repo:
        commits.push_objects(c, actor, head, head_repo, update, [*objects, commit])
    return Resolved(head, update.new, pull.head_branch, (pull.head_sha, tip))


def default_message(base: Template, head: Template, pull: Pull) -> str:
    """GitHub's message for the same merge."""
    where = f" of {base.full_name}" if head.id != base.id else ""
    return f"Merge branch '{pull.base_branch}'{where} into {pull.head_branch}"


def _conflicts(repo: TemplateRepo, pull: Pull) -> tuple[str, str | None, Conflicts | None]:
    """(the base branch's tip, the merge base, the conflicts; None when one side contains the
    other and nothing can conflict)."""
    tip = repo.doc.refs.get(f"refs/heads/{pull.base_branch}")
    if tip is None:
        raise RefNotFound(f"the base branch {pull.base_branch!r} is gone", branch=pull.base_branch)
    ours, theirs = ObjectID(pull.head_sha.encode()), ObjectID(tip.encode())
    bases = find_merge_base(repo, [ours, theirs])
    merge_base = bases[0].decode() if bases else None
    if bases and bases[0] in (ours, theirs):
        return tip, merge_base, None
    store = repo.object_store
    commits_ = [store[sha] if sha is not None else None for sha in (bases[0] if bases else None, ours, theirs)]
    base_c, ours_c, theirs_c = commits_
    assert isinstance(ours_c, Commit) and isinstance(theirs_c, Commit)
    assert base_c is None or isinstance(base_c, Commit)
    return tip, merge_base, conflicts.find(store, base_c, ours_c, theirs_c)


def _why_not(c: Container, actor: Actor, pull: Pull, head: Template, found: Conflicts | None) -> str | None:
    if pull.state != "open":
        return f"the pull request is {pull.state}"
    if found is None or not found.files:
        return "nothing conflicts"
    if actor.user is None:
        return "sign in to resolve conflicts"
    if actor.scope == "read" or level(c.meta, actor, head) < Level.WRITE:
        return f"only those who may write to {head.full_name} can resolve conflicts on {pull.head_branch}"
    if found.truncated:
        return "too many files are in conflict to resolve here: merge with git"
    return next((f.why_not for f in found.files if f.why_not), None)


def bounded(c: Container, chosen: Resolution) -> None:
    """The edited texts, bounded before any repository is read."""
    size = sum(len(t) for t in chosen.files.values()) + sum(
        len(choice.text or "") for hunks in chosen.hunks.values() for choice in hunks.values())
    if size > c.settings.max_body_bytes:
        raise TooLarge(f"the edited texts hold more than {c.settings.max_body_bytes} characters",
                       limit=c.settings.max_body_bytes)
