"""Shared drafts as use cases: open one on a branch, list and read them, join a file (which makes
its shared document from the file's text at the draft's base, once), change a file's text from a
form, commit the draft (or open a pull request from it), delete it.

A draft is a branch and the commit it stands on (`base`, kept from gc by the hidden ref
refs/drafts/N/base), and a Yjs document per file being edited (`registry.drafts`). Writers edit;
readers may watch. A commit is made only when someone asks, through the push path like any web
commit, guarded by the base, with every other editor in a `Co-authored-by:` trailer; afterwards
the draft stands on its own commit and goes on (nothing typed meanwhile is lost). When the branch
moves under a draft, `drafts_rebase` merges it in.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..access import Actor, Level, level
from ..container import Container
from ..drafts import ydoc
from ..drafts.bus import Note
from ..errors import DraftConflicted, DraftNotFound, InvalidInput, NotFound, PathNotFound, RefNotFound, StaleParent
from ..events import recording
from ..git import browse
from ..git.paths import normalise
from ..git.refsdoc import ZERO_SHA
from ..meta import Draft, DraftConflict, DraftFile, Template
from . import commits, drafts_rebase, guard
from .commits import Change, Committed, PullSpec

MAX_FILES = 50  # files one draft edits
MAX_TEXT_BYTES = 1024 * 1024  # a file a draft may hold (UTF-8)


@dataclass(frozen=True)
class DraftView:
    """A draft as its page and the API show it."""

    template: Template
    draft: Draft
    files: list[DraftFile]
    editors: list[str]
    conflicts: list[DraftConflict]
    tip: str | None  # the branch's tip now (None: the branch is gone)
    can_write: bool

    @property
    def behind(self) -> bool:
        return self.tip is not None and self.tip != self.draft.base


@dataclass(frozen=True)
class Access:
    """What one connection to a draft's file may do: who, and whether they may edit."""

    template: Template
    draft: Draft
    path: str
    user_id: int | None
    can_write: bool


def open_draft(c: Container, actor: Actor, owner: str, name: str, branch: str, path: str | None = None) -> Draft:
    """A new draft of `branch` as it is now (writers); with `path`, that file joined already."""
    guard.writer(actor, "open a draft")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    branch = commits.branch_name(branch)
    with c.open_repo(template) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{branch}")
    if tip is None:
        raise RefNotFound(f"no branch {branch!r}", branch=branch)
    with recording(c) as r:
        draft = c.meta.drafts.add(template.id, branch, tip, actor.name or "")
        r.add(actor.name, "draft.created", template, {"draft": draft.id, "branch": branch, "base": tip})
    drafts_rebase.pin(c, template, draft.id, tip)
    if path:
        add_file(c, template, draft, path)
    return draft


def list_drafts(c: Container, actor: Actor, owner: str, name: str, branch: str | None = None) -> list[Draft]:
    template = guard.template(c, actor, owner, name, Level.READ)
    return c.meta.drafts.of_template(template.id, branch)


def get_draft(c: Container, actor: Actor, owner: str, name: str, draft_id: int) -> DraftView:
    """The draft, after catching it up with its branch if that moved (a push whose rebase was
    lost with its process)."""
    template = guard.template(c, actor, owner, name, Level.READ)
    draft = _draft(c, template, draft_id)
    tip = _tip(c, template, draft.branch)
    if tip is not None and tip != draft.base:
        drafts_rebase.rebase(c, template, draft.id)
        draft = _draft(c, template, draft_id)
    return DraftView(template, draft, c.meta.drafts.files(draft.id), c.meta.drafts.editors(draft.id),
                     c.meta.drafts.conflicts(draft.id), tip, level(c.meta, actor, template) >= Level.WRITE)


def delete_draft(c: Container, actor: Actor, owner: str, name: str, draft_id: int) -> None:
    """Discard a draft (writers): its documents go, its connections are closed."""
    guard.writer(actor, "delete a draft")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    draft = _draft(c, template, draft_id)
    with recording(c) as r:
        c.meta.drafts.delete(draft.id)
        r.add(actor.name, "draft.deleted", template, {"draft": draft.id, "branch": draft.branch})
    drafts_rebase.pin(c, template, draft.id, ZERO_SHA)
    notice(c, draft.id, {"state": "deleted", "by": actor.name})


def connect(c: Container, actor: Actor, owner: str, name: str, draft_id: int, path: str) -> Access:
    """Whether `actor` may join `path` of the draft, and as what: writers edit (joining a file
    the draft has not opened yet makes its document), readers watch files it has. Asked again
    while the connection lasts, so a role taken away is felt."""
    guard.signed_in(actor, "join a draft")
    template = guard.template(c, actor, owner, name, Level.READ)
    draft = _draft(c, template, draft_id)
    can_write = level(c.meta, actor, template) >= Level.WRITE and actor.scope != "read"
    path = normalise(path)
    if path not in {f.path for f in c.meta.drafts.files(draft.id)}:
        if not can_write:
            raise DraftNotFound(f"draft {draft_id} has no file {path!r}", path=path)
        add_file(c, template, draft, path)
    assert actor.user is not None
    return Access(template, draft, path, actor.user.id, can_write)


def add_file(c: Container, template: Template, draft: Draft, path: str) -> DraftFile:
    """The file's shared document, made from its text at the draft's base (empty for a new
    file), unless the draft has it already."""
    path = normalise(path)
    have = c.meta.drafts.files(draft.id)
    if path in {f.path for f in have}:
        return next(f for f in have if f.path == path)
    if len(have) >= MAX_FILES:
        raise InvalidInput(f"a draft edits at most {MAX_FILES} files")
    text = text_at(c, template, draft.base, path)
    return c.meta.drafts.add_file(draft.id, path, ydoc.seed(text or ""))


def text(c: Container, actor: Actor, owner: str, name: str, draft_id: int, path: str) -> str:
    """A file's text in the draft now (readers)."""
    template = guard.template(c, actor, owner, name, Level.READ)
    draft = _draft(c, template, draft_id)
    return str(ydoc.load(c.meta.drafts.load(draft.id, normalise(path)))[1])


def texts(c: Container, draft: Draft) -> dict[str, str]:
    """Every file's text in the draft now."""
    return {f.path: str(ydoc.load(c.meta.drafts.load(draft.id, f.path))[1]) for f in c.meta.drafts.files(draft.id)}


def save_text(c: Container, actor: Actor, owner: str, name: str, draft_id: int, path: str, shown: str,
              new: str) -> str:
    """A form's edit of a file (a page without script): `shown` is the text the page showed,
    `new` what was sent back. What changed between them is merged three ways into the text as
    it is now, so what others typed meanwhile stays; StaleParent's sibling Conflict when both
    changed the same lines. The file's text after."""
    guard.writer(actor, "edit a draft")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    draft = _draft(c, template, draft_id)
    path = normalise(path)
    if len(new.encode("utf-8")) > MAX_TEXT_BYTES:
        raise InvalidInput(f"a file of a draft holds at most {MAX_TEXT_BYTES} bytes")
    add_file(c, template, draft, path)
    stored = c.meta.drafts.load(draft.id, path)
    doc, current = ydoc.load(stored)
    merged = drafts_rebase.merge_text(shown, str(current), new)
    if merged is None:
        raise DraftConflicted(f"{path}: others changed the same lines since the page was shown; your text is "
                              "kept below, the draft's above", path=path)
    update = ydoc.replace_text(doc, current, merged)
    if update is not None:
        assert actor.user is not None
        seq = c.meta.drafts.append(draft.id, path, [update], actor.user.id)[0]
        c.announce_draft(Note(draft.id, path, "stored", seq))
    return merged


def commit_draft(c: Container, actor: Actor, owner: str, name: str, draft_id: int, message: str,
                 pull: PullSpec | None = None, new_branch: str | None = None) -> Committed:
    """One commit of the draft's files on its base, through the push path (checks, protection,
    events, webhooks); with `pull`, on a new branch and a pull request from it, which the draft
    follows from then on. Every other editor is named in a Co-authored-by: trailer. The draft
    stays open, standing on the commit: what is typed meanwhile goes into the next one.

    DraftConflicted while a file is in conflict with its branch; InvalidInput when it changes
    nothing; the branch moving meanwhile is merged in first (and committed when clean)."""
    guard.writer(actor, "commit a draft")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    if pull is not None and new_branch is None:
        new_branch = f"{actor.name}-draft-{draft_id}"
    with drafts_rebase.locked(draft_id):
        for attempt in range(2):
            draft = _draft(c, template, draft_id)
            if c.meta.drafts.conflicts(draft.id):
                raise DraftConflicted("the branch moved under this draft with changes that conflict: settle them "
                                      "first", paths=[k.path for k in c.meta.drafts.conflicts(draft.id)])
            changes = _changes(c, template, draft)
            text = with_trailers(commits.message_text(message), actor.name or "", c.meta.drafts.editors(draft.id))
            try:
                done = commits.commit_changes(c, actor, owner, name, draft.branch, draft.base, text, changes,
                                              new_branch, pull)
                break
            except StaleParent:
                if attempt:
                    raise
                drafts_rebase.rebase(c, template, draft.id, holding_lock=True)
        moved = c.meta.drafts.move(draft.id, draft.base, done.sha, branch=done.branch, last_commit=done.sha,
                                   pull_number=done.pull.number if done.pull else draft.pull_number, rebased=None)
    if moved is not None:
        drafts_rebase.pin(c, template, draft.id, done.sha)
    notice(c, draft.id, {"state": "committed", "sha": done.sha, "branch": done.branch, "by": actor.name,
                         "pull": done.pull.number if done.pull else None})
    return done


def resolve_conflict(c: Container, actor: Actor, owner: str, name: str, draft_id: int, path: str,
                     take: str) -> None:
    """Settle a file the branch and the draft changed apart: keep the draft's text as it is now
    (someone folded theirs in by hand) or take theirs (the draft's text becomes the branch's, as
    a diff: typing meanwhile elsewhere in the file stays)."""
    guard.writer(actor, "settle a draft's conflict")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    draft = _draft(c, template, draft_id)
    path = normalise(path)
    conflict = next((k for k in c.meta.drafts.conflicts(draft.id) if k.path == path), None)
    if conflict is None:
        raise NotFound(f"{path} is not in conflict", path=path)
    if take not in ("ours", "theirs"):
        raise InvalidInput("take is ours (the draft's text) or theirs (the branch's)")
    assert actor.user is not None
    theirs = (conflict.theirs or b"").decode("utf-8", "replace") if take == "theirs" else None
    with drafts_rebase.locked(draft.id):
        drafts_rebase.settle(c, draft.id, path, theirs, actor.user)


def with_trailers(message: str, committer: str, editors: list[str]) -> str:
    """The message with a Co-authored-by: trailer for every editor but the committer (git's
    trailer block: a blank line, then one per line)."""
    others = [e for e in editors if e != committer]
    if not others:
        return message
    trailers = "\n".join(f"Co-authored-by: {e} <{e}@registry>" for e in others)
    return f"{message.rstrip()}\n\n{trailers}\n"


def notice(c: Container, draft_id: int, body: dict[str, object]) -> None:
    """Tell the draft's connections, in every process, what happened to it."""
    drafts_rebase.notice(c, draft_id, body)


def _changes(c: Container, template: Template, draft: Draft) -> list[Change]:
    """The draft's files whose text differs from the base's."""
    changes = []
    for path, now in texts(c, draft).items():
        before = text_at(c, template, draft.base, path)
        if now != before and not (before is None and now == ""):  # an empty new file is no file
            changes.append(Change(path, now.encode("utf-8")))
    if not changes:
        raise InvalidInput("the draft changes nothing: its files are as they are on the branch")
    return changes


def _draft(c: Container, template: Template, draft_id: int) -> Draft:
    draft = c.meta.drafts.get(draft_id)
    if draft.template_id != template.id:
        raise DraftNotFound(f"no draft {draft_id} in {template.full_name}")
    return draft


def _tip(c: Container, template: Template, branch: str) -> str | None:
    with c.open_repo(template) as repo:
        return repo.doc.refs.get(f"refs/heads/{branch}")


def text_at(c: Container, template: Template, sha: str, path: str) -> str | None:
    """The file's text at `sha` (None: no such file); InvalidInput when it is no UTF-8 text a
    draft may hold."""
    with c.open_repo(template) as repo:
        try:
            data = browse.raw(repo, sha, path)
        except (PathNotFound, NotFound):
            return None
    return draft_text(path, data)


def draft_text(path: str, data: bytes) -> str:
    """`data` as the text of a draft's file: InvalidInput when it is larger than a draft holds or
    not UTF-8."""
    if len(data) > MAX_TEXT_BYTES:
        raise InvalidInput(f"{path} is larger than a draft holds ({MAX_TEXT_BYTES} bytes)", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text: it cannot be edited in a draft", path=path) from None
