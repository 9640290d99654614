"""A draft's conflicts resolved hunk by hunk, with the machinery of a pull request's
(`registry.conflicts`, `registry.resolution`): when its branch moved with changes that clash
with the draft's, each conflicted file is shown with the branch's text before (base), the
draft's text now (ours) and the branch's text now (theirs), by lines, by JSON path
(template.json) or by test case (tests/*.json); the person picks a side per hunk or edits the
result, and that becomes the file's text in the draft, on the new base, ready to commit.

The result goes into the shared document as a diff against the text the choices were made on,
so typing elsewhere in the file meanwhile stays; if someone typed inside a conflicted hunk since
the page was shown, nothing is applied (StaleDraft) and the hunks are shown again."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..access import Actor, Level, level
from ..conflicts import FileConflict
from ..container import Container
from ..errors import InvalidInput, NotFound, StaleDraft
from ..git.paths import normalise
from ..meta import Draft, DraftConflict, Template
from ..resolution import Resolution, content
from . import drafts, drafts_rebase, guard
from .resolving import bounded


@dataclass(frozen=True)
class DraftFileConflict:
    """One conflicted file of a draft, as its page shows it."""

    template: Template
    draft: Draft
    recorded: DraftConflict  # what the rebase kept: every side's text, the commits
    file: FileConflict  # base, the draft's text now, theirs: the hunks to decide
    shown: str  # the hunks' fingerprint: a resolution is applied only to these
    others: tuple[str, ...]  # the draft's other conflicted files
    why_not: str | None  # why the caller cannot resolve it here (None: they can)


def draft_conflict(c: Container, actor: Actor, owner: str, name: str, draft_id: int,
                   path: str) -> DraftFileConflict:
    """What is left to decide in `path` of the draft. Readers may look; NotFound when the file
    is not in conflict."""
    template = guard.template(c, actor, owner, name, Level.READ)
    draft = drafts.get_draft(c, actor, owner, name, draft_id).draft
    recorded, found = _conflict(c, draft, normalise(path))
    others = tuple(k.path for k in c.meta.drafts.conflicts(draft.id) if k.path != recorded.path)
    why_not = found.why_not
    if actor.user is None:
        why_not = "sign in to resolve conflicts"
    elif actor.scope == "read" or level(c.meta, actor, template) < Level.WRITE:
        why_not = f"only those who may write to {template.full_name} can resolve a draft's conflicts"
    return DraftFileConflict(template, draft, recorded, found, fingerprint(found), others, why_not)


def resolve_draft_conflict(c: Container, actor: Actor, owner: str, name: str, draft_id: int, path: str,
                           chosen: Resolution, shown: str | None = None) -> str:
    """Make `chosen` the text of `path` in the draft and settle its conflict; the text after.
    StaleDraft when the hunks are not those shown (`shown`, their fingerprint); InvalidInput for
    a choice missing or wrong (naming the file and hunk), or a result a draft cannot hold."""
    guard.writer(actor, "resolve a draft's conflicts")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    draft = drafts.get_draft(c, actor, owner, name, draft_id).draft
    bounded(c, chosen)
    path = normalise(path)
    with drafts_rebase.locked(draft.id):
        recorded, found = _conflict(c, draft, path)
        if shown and shown != fingerprint(found):
            raise StaleDraft(f"{path} changed where it conflicts since it was shown; look at it again", path=path)
        text = _text(c, template, draft, path, content(found, chosen))
        assert actor.user is not None
        drafts_rebase.settle(c, draft.id, path, text, actor.user)
    return text


def fingerprint(found: FileConflict) -> str:
    """The hunks as shown (their kind and every side's text), not where they stand: typing
    elsewhere in the file leaves it as it was."""
    digest = hashlib.sha256(found.kind.encode())
    for hunk in found.hunks:
        for side in (hunk.base, hunk.ours, hunk.theirs):
            digest.update(b"\x00-" if side is None else b"\x00+" + side.encode())
    return digest.hexdigest()[:32]


def _conflict(c: Container, draft: Draft, path: str) -> tuple[DraftConflict, FileConflict]:
    recorded = next((k for k in c.meta.drafts.conflicts(draft.id) if k.path == path), None)
    if recorded is None:
        raise NotFound(f"{path} is not in conflict in draft {draft.id}", path=path)
    now = drafts_rebase.conflict_view(c, draft, recorded)
    return recorded, now


def _text(c: Container, template: Template, draft: Draft, path: str, data: bytes | None) -> str:
    """The resolved content as the draft's text: UTF-8, bounded; a deletion only where the
    branch has no such file now (a draft holds files, it does not delete them)."""
    if data is None:
        if drafts.text_at(c, template, draft.base, path) is not None:
            raise InvalidInput(f"{path}: a draft cannot delete a file; take a side that keeps it, or edit it",
                               path=path)
        return ""
    return drafts.draft_text(path, data)
