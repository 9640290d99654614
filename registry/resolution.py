"""A resolution of `registry.conflicts`: a choice per hunk (ours, theirs, both of a line hunk,
base, or an edited text) or a whole edited file, applied to the merge: the content of each
conflicted file, then the merged tree with them. Every hunk of a file must be decided; a
choice naming a file or hunk not in conflict, a pick the hunk does not take, or edited JSON that
does not parse is refused naming the file and the hunk. Nothing is written to the store."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dulwich.object_store import BaseObjectStore, MemoryObjectStore, OverlayObjectStore
from dulwich.objects import ObjectID, ShaFile

from . import jsonsafe, linemerge
from .casemerge import merge_cases
from .conflicts import Conflicts, FileConflict, Hunk
from .errors import InvalidInput
from .git.write import edit_tree
from .jsonmerge import MISSING, merge3
from .treemerge import dump_manifest, entry_in, new_objects


@dataclass(frozen=True)
class Choice:
    pick: str  # ours | theirs | both (line hunks) | base | edit
    text: str | None = None  # the edited text (JSON for template.json paths and test cases)


@dataclass(frozen=True)
class Resolution:
    hunks: Mapping[str, Mapping[int, Choice]] = field(default_factory=dict)  # path -> hunk index -> choice
    files: Mapping[str, str] = field(default_factory=dict)  # path -> the whole file as edited


def contents(found: Conflicts, resolution: Resolution) -> dict[str, bytes | None]:
    """The content each conflicted file takes (None: deleted)."""
    if found.truncated:
        raise InvalidInput("too many files are in conflict to resolve here: merge with git")
    by_path = {f.path: f for f in found.files}
    for path in [*resolution.hunks, *resolution.files]:
        if path not in by_path:
            raise InvalidInput(f"{path} is not in conflict", path=path)
    return {f.path: content(f, resolution) for f in found.files}


def content(f: FileConflict, resolution: Resolution) -> bytes | None:
    """The content one conflicted file takes as `resolution` decides it (None: deleted)."""
    if f.why_not:
        raise InvalidInput(f.why_not, path=f.path)
    whole = resolution.files.get(f.path)
    return whole.replace("\r\n", "\n").encode() if whole is not None else \
        _apply(f, resolution.hunks.get(f.path, {}))


def tree(store: BaseObjectStore, found: Conflicts, resolution: Resolution) -> tuple[ObjectID, list[ShaFile]]:
    """(the resolved merge's tree, the new objects it needs) over `store`, which holds the
    merged commits."""
    files = contents(found, resolution)
    scratch = MemoryObjectStore()
    for obj in found.merge.objects:
        scratch.add_object(obj)
    overlay = OverlayObjectStore([scratch, store], add_store=scratch)
    root = overlay[found.merge.tree]
    present = {f.path for f in found.files if entry_in(overlay, root.id, f.path) is not None}
    edits = {path: data for path, data in files.items() if data is not None or path in present}
    made: list[ShaFile] = []
    tree_id = edit_tree(overlay, root.id, edits, made).id if edits else root.id
    for obj in made:
        scratch.add_object(obj)
    return tree_id, new_objects(scratch, tree_id)


def _apply(f: FileConflict, chosen: Mapping[int, Choice]) -> bytes | None:
    for index, choice in chosen.items():
        if not 0 <= index < len(f.hunks):
            raise InvalidInput(f"{f.path} has no hunk {index}", path=f.path, hunk=index)
        if choice.pick not in f.picks:
            raise InvalidInput(f"{f.path}, {f.hunks[index].where}: choose one of {', '.join(f.picks)}",
                               path=f.path, hunk=index)
        if choice.pick == "edit" and choice.text is None:
            raise InvalidInput(f"{f.path}, {f.hunks[index].where}: an edit needs its text", path=f.path, hunk=index)
    missing = [h for h in f.hunks if h.index not in chosen]
    if missing:
        raise InvalidInput(f"{f.path}: choose how to resolve {missing[0].where}", path=f.path, hunk=missing[0].index)
    b, o, t = f.raw
    if f.kind == "file":
        choice = chosen[0]
        if choice.pick == "edit":
            return (choice.text or "").replace("\r\n", "\n").encode()
        return {"base": b, "ours": o, "theirs": t}[choice.pick]
    assert o is not None and t is not None  # a file missing on a side is chosen whole
    if f.kind == "lines":
        return linemerge.merge(b or b"", o, t, lambda i, hunk: _line_choice(chosen[i], hunk))
    hunks = iter(f.hunks)
    if f.kind == "cases":
        cased = merge_cases(b, o, t, lambda name, *sides: _value(f, chosen, hunks, sides))
        assert cased is not None  # the same bytes parsed when the conflicts were found
        return cased[0]
    docs = [MISSING if side is None else jsonsafe.loads(side) for side in (b, o, t)]
    merged, _ = merge3({} if docs[0] is MISSING else docs[0], docs[1], docs[2],
                       resolve=lambda path, *sides: _value(f, chosen, hunks, sides))
    return None if merged is MISSING else dump_manifest(merged)


def _line_choice(choice: Choice, hunk: linemerge.LineHunk) -> Sequence[bytes]:
    if choice.pick == "edit":
        return linemerge.edited_lines(choice.text or "", hunk)
    return {"ours": hunk.ours, "theirs": hunk.theirs, "base": hunk.base, "both": hunk.ours + hunk.theirs}[choice.pick]


def _value(f: FileConflict, chosen: Mapping[int, Choice], hunks: Iterator[Hunk], sides: tuple[Any, ...]) -> Any:
    """The value a JSON path or test case takes: the chosen side (MISSING where it has none) or
    the edited JSON. Conflicts come in the order they were found, so hunk i is the i-th."""
    hunk = next(hunks)
    choice = chosen[hunk.index]
    if choice.pick != "edit":
        return sides[("base", "ours", "theirs").index(choice.pick)]
    try:
        return jsonsafe.loads(choice.text or "")
    except ValueError as exc:
        raise InvalidInput(f"{f.path}, {hunk.where}: the edited value is not JSON ({exc})", path=f.path,
                           hunk=hunk.index) from None
