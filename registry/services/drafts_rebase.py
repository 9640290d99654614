"""Git moves under a draft: when its branch moves (a push, a merge, a web commit), the draft is
merged onto the new tip three ways, as a merge of the two would be: template.json by JSON path
(treemerge), other files by lines. What came in is applied to each file's shared document as a
diff computed on the document as it was read, so text typed meanwhile is merged by Yjs, never
overwritten; a file whose changes conflict keeps the draft's text untouched, and every side's
text (base, theirs, the draft's) is kept with the conflict until someone settles it. Nothing is
dropped.

The rebase claims the draft by moving its base from the one it read (compare-and-swap) in the
same transaction as the updates it stores: of two processes rebasing at once, one applies.

`conflict_view` gives a recorded conflict to the resolution view built for pull requests
(per hunk, per JSON path, per test case; `drafts_resolving`); a file may also be settled whole
by keeping the draft's text, as edited, or by taking theirs.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from dulwich.object_store import MemoryObjectStore, OverlayObjectStore, tree_lookup_path
from dulwich.objects import Blob, ShaFile
from merge3 import Merge3

from ..conflicts import FileConflict, file_conflict
from ..container import Container
from ..drafts import ydoc
from ..drafts.bus import Note
from ..errors import Conflict, NotFound, RefNotFound, StorageError
from ..git import browse
from ..git.policy import RefUpdate
from ..git.refsdoc import ZERO_SHA
from ..git.repo import TemplateRepo
from ..git.write import edit_tree, make_commit
from ..meta import Draft, DraftConflict, Template, User
from ..treemerge import merge_commits

log = logging.getLogger(__name__)
MANIFEST = "template.json"

_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def locked(draft_id: int) -> Iterator[None]:
    """This process's lock on a draft: a commit from it and the rebase its own push triggers
    take turns (the rebase then finds the draft already standing on the commit)."""
    with _locks_guard:
        lock = _locks.setdefault(draft_id, threading.Lock())
    with lock:
        yield


@dataclass(frozen=True)
class Merged:
    files: dict[str, str | None]  # path -> its text after the merge (None: deleted)
    conflicts: dict[str, list[str]]  # path -> what conflicts (the path, or template.json:$.json.path)


def follow_push(c: Container, template: Template, updates: list[RefUpdate]) -> None:
    """Refs moved: every draft of a moved branch is merged onto its new tip."""
    for update in updates:
        if not update.ref.startswith("refs/heads/"):
            continue
        for draft in c.meta.drafts.of_template(template.id, update.ref.removeprefix("refs/heads/")):
            if update.is_delete:
                notice(c, draft.id, {"state": "branch-deleted", "branch": draft.branch})
                continue
            try:
                rebase(c, template, draft.id)
            except Exception:  # one draft's trouble is not the push's; the page's view retries
                log.exception("could not merge %s's branch %s into draft %s", template.full_name, draft.branch,
                              draft.id)


def rebase(c: Container, template: Template, draft_id: int, holding_lock: bool = False) -> Draft | None:
    """Merge the draft onto its branch's tip; the moved draft, or None when there was nothing to
    do (or another process did it)."""
    with nullcontext() if holding_lock else locked(draft_id):
        return _rebase(c, template, draft_id)


def _rebase(c: Container, template: Template, draft_id: int) -> Draft | None:
    try:
        draft = c.meta.drafts.get(draft_id)
    except NotFound:
        return None
    files = c.meta.drafts.files(draft.id)
    docs = {f.path: ydoc.load(c.meta.drafts.load(draft.id, f.path)) for f in files}
    ours = {path: str(text) for path, (_, text) in docs.items()}
    already = {k.path: k for k in c.meta.drafts.conflicts(draft.id)}
    with c.open_repo(template) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{draft.branch}")
        if tip is None or tip == draft.base:
            return None
        merged = merge(repo, draft.base, tip, ours)
        now, updates, came_in, records = time.time(), {}, [], []
        for path, (doc, text) in docs.items():
            theirs = _text(repo, tip, path)
            if path in merged.conflicts or path in already:
                old = already.get(path)
                records.append(DraftConflict(draft.id, path, old.base_sha if old else draft.base, tip,
                                             old.base if old else _bytes(_text(repo, draft.base, path)),
                                             _bytes(theirs), ours[path].encode(),
                                             merged.conflicts.get(path) or (old.details if old else [path]), now))
                continue
            new = merged.files.get(path) or ""
            if new != ours[path]:
                update = ydoc.replace_text(doc, text, new)
                if update is not None:
                    updates[path] = update
            if theirs != _text(repo, draft.base, path):
                came_in.append(path)
    info = {"from": draft.base, "to": tip, "at": now, "merged": sorted(came_in),
            "conflicts": sorted(r.path for r in records)}
    if not came_in and not records:
        info = {}  # the branch moved to the draft's own text (its own commit): nothing to show
    stored: dict[str, int] = {}
    with c.meta.atomic():
        moved = c.meta.drafts.move(draft.id, draft.base, tip, rebased=info or None)
        if moved is None:
            return None  # someone else merged it
        for path, update in updates.items():
            stored[path] = c.meta.drafts.append(draft.id, path, [update], None)[0]
        if records:
            c.meta.drafts.set_conflicts(draft.id, records)
    pin(c, template, draft.id, tip)
    for path, seq in stored.items():
        c.announce_draft(Note(draft.id, path, "stored", seq))
    notice(c, draft.id, {"state": "rebased", **info} if info else {"state": "moved", "to": tip})
    return moved


def merge(repo: TemplateRepo, base_sha: str, tip_sha: str, ours: dict[str, str]) -> Merged:
    """The draft's files (`ours`, a change of `base_sha`) merged with what `tip_sha` changed."""
    tip = browse.resolve_commit(repo, tip_sha)
    try:
        base = browse.resolve_commit(repo, base_sha)
    except RefNotFound:  # gone (gc after a force push): every file the draft changed conflicts
        return Merged({p: _text(repo, tip_sha, p) for p in ours},
                      {p: [p] for p, text in ours.items() if text != (_text(repo, tip_sha, p) or "")})
    edits: dict[str, bytes | None] = {p: text.encode() for p, text in ours.items()
                                      if text != (_text(repo, base_sha, p) or "")}
    if not edits:
        return Merged({p: _text(repo, tip_sha, p) for p in ours}, {})
    store = repo.object_store
    objects: list[ShaFile] = []
    tree = edit_tree(store, base.tree, edits, objects)
    scratch = MemoryObjectStore()
    for obj in objects:
        scratch.add_object(obj)
    draft_commit = make_commit(tree.id, [base_sha], "draft <draft@registry>", "draft\n")  # never stored
    overlay = OverlayObjectStore([scratch, store])
    merged_tree, new, conflicts = merge_commits(overlay, base, tip, draft_commit)
    for obj in new:
        scratch.add_object(obj)
    found: dict[str, list[str]] = {}
    for conflict in conflicts:
        found.setdefault(conflict.split(":", 1)[0], []).append(conflict)
    files: dict[str, str | None] = {}
    for path in ours:
        try:
            _, sha = tree_lookup_path(overlay.__getitem__, merged_tree, path.encode())
            blob = overlay[sha]
            files[path] = blob.data.decode("utf-8", "replace") if isinstance(blob, Blob) else None
        except KeyError:
            files[path] = None
    return Merged(files, found)


def merge_text(base: str, ours: str, theirs: str) -> str | None:
    """Two texts changed from `base`, merged by lines; None when they change the same lines apart."""
    if ours == base or theirs == ours:
        return theirs
    if theirs == base:
        return ours
    b, o, t = base.splitlines(True), ours.splitlines(True), theirs.splitlines(True)
    out: list[str] = []
    for region in Merge3(b, o, t).merge_regions():
        kind = region[0]
        if kind == "unchanged":
            out += b[region[1]:region[2]]
        elif kind in ("same", "a"):
            out += o[region[1]:region[2]]
        elif kind == "b":
            out += t[region[1]:region[2]]
        else:
            return None
    return "".join(out)


def conflict_view(c: Container, draft: Draft, conflict: DraftConflict) -> FileConflict:
    """A recorded conflict as the resolution view shows it (`registry.conflicts`, the pull
    requests' hunks: by lines, template.json by JSON path, test files by case): base and theirs
    as the rebase kept them, ours the draft's text now (as typed since). `drafts_resolving`
    applies the choices."""
    _, text = ydoc.load(c.meta.drafts.load(draft.id, conflict.path))
    return file_conflict(conflict.path, (conflict.base, str(text).encode(), conflict.theirs))


def pin(c: Container, template: Template, draft_id: int, sha: str) -> None:
    """Point refs/drafts/N/base at `sha` (ZERO_SHA removes it), so gc keeps the draft's base. A
    failure only costs that protection, never the draft: it is logged."""
    ref = f"refs/drafts/{draft_id}/base"
    for _ in range(3):
        try:
            with c.open_repo(template) as repo:
                old = repo.ref_value(ref)
                if old == sha or (sha == ZERO_SHA and old == ZERO_SHA):
                    return
                tips = {s for r, s in repo.doc.refs.items() if r.startswith(("refs/heads/", "refs/tags/"))}
                repo.commit_updates({ref: sha}, {ref: old}, rewrite=sha == ZERO_SHA and old not in tips)
                return
        except Conflict:
            continue  # the ref moved meanwhile (another process pinned it): read it again
        except StorageError as exc:
            log.warning("could not pin draft %s of %s at %s: %s", draft_id, template.full_name, sha[:12], exc)
            return


def notice(c: Container, draft_id: int, body: dict[str, object]) -> None:
    c.announce_draft(Note(draft_id, "", "notice", 0, json.dumps(body, separators=(",", ":")).encode()))


def settle(c: Container, draft_id: int, path: str, text: str | None, by: User) -> None:
    """`path`'s conflict settled: its text made `text` (None: kept as it is), as a diff, so that
    typing meanwhile elsewhere in the file stays, and the conflict marked resolved, in one
    transaction; then every process's editors told. The caller holds `locked(draft_id)`."""
    seq = None
    with c.meta.atomic():
        if text is not None:
            doc, current = ydoc.load(c.meta.drafts.load(draft_id, path))
            update = ydoc.replace_text(doc, current, text)
            if update is not None:
                seq = c.meta.drafts.append(draft_id, path, [update], by.id)[0]
        c.meta.drafts.resolve(draft_id, path)
    if seq is not None:
        c.announce_draft(Note(draft_id, path, "stored", seq))
    notice(c, draft_id, {"state": "resolved", "path": path, "by": by.name})


def _text(repo: TemplateRepo, sha: str, path: str) -> str | None:
    try:
        return browse.raw(repo, sha, path).decode("utf-8", "replace")
    except NotFound:
        return None


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


__all__ = ["Merged", "conflict_view", "follow_push", "locked", "merge", "merge_text", "pin", "rebase", "settle"]
