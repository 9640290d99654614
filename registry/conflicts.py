"""The conflicts of a three-way merge as people resolve them, for any three commits (a pull
request's head and base, a draft and the branch that moved under it): per conflicted file its
base, ours and theirs text and the hunks to decide, each with the three sides:

- `lines`: a text file's diff3 conflict regions (`linemerge`);
- `json`: template.json's conflicts by JSON path (`jsonmerge`; the value at each side);
- `cases`: a test file's (`tests/*.json`) conflicting test cases, named by `name` (`casemerge`);
- `file`: the file as a whole, where it was deleted on one side and changed on the other, is
  not text (binary, or larger than MAX_VIEW_BYTES), or has more hunks than the view takes.

A side is None where it has nothing: the file, the key or the case is absent there. What the
merge settled by itself is not shown; `registry.resolution` applies the choices."""
from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from typing import Any, Literal

from dulwich.object_store import BaseObjectStore
from dulwich.objects import S_ISGITLINK, Blob, Commit

from . import jsonsafe, linemerge
from .casemerge import is_test_file, merge_cases
from .git.diff import MANIFEST
from .jsonmerge import MISSING, merge3
from .treemerge import TreeMerge, entry_at, merge_detail

SIDES = ("base", "ours", "theirs")
MAX_VIEW_BYTES = 512 * 1024  # a side larger than this is chosen whole, not shown by hunks
MAX_FILES = 100  # files one resolution takes; more are resolved with git
MAX_HUNKS = 400  # hunks shown in all; past it a file is chosen whole (the form stays bounded)
PICKS: dict[str, tuple[str, ...]] = {"lines": ("ours", "theirs", "both", "base", "edit"),
                                     "json": ("ours", "theirs", "base", "edit"),
                                     "cases": ("ours", "theirs", "base", "edit"),
                                     "file": ("ours", "theirs", "base", "edit")}
Kind = Literal["lines", "json", "cases", "file"]


@dataclass(frozen=True)
class Hunk:
    """One decision: where it is (`lines 3–5` of ours, a JSON path, a test case, the whole
    file) and each side's text there (JSON for `json` and `cases`), None where absent."""

    index: int
    where: str
    base: str | None
    ours: str | None
    theirs: str | None


@dataclass(frozen=True)
class FileConflict:
    path: str
    kind: Kind
    base: str | None  # the whole file as text; None where absent or not shown as text
    ours: str | None
    theirs: str | None
    absent: tuple[str, ...]  # the sides without the file
    binary: bool  # not shown as text: binary, or too large to show
    hunks: tuple[Hunk, ...]
    picks: tuple[str, ...]  # what each hunk may take: ours, theirs, both (lines), base, edit
    why_not: str | None = None  # set when this conflict cannot be resolved here, only with git
    raw: tuple[bytes | None, bytes | None, bytes | None] = field(default=(None, None, None), repr=False,
                                                                 compare=False)


@dataclass(frozen=True)
class Conflicts:
    """What merging `theirs` into `ours` from their merge base leaves to decide."""

    merge: TreeMerge
    files: tuple[FileConflict, ...]
    truncated: bool  # more than MAX_FILES files conflict: only the first are listed


def find(store: BaseObjectStore, base: Commit | None, ours: Commit, theirs: Commit) -> Conflicts:
    """The conflicts of merging `theirs` into `ours` from `base` (None: no common ancestor);
    nothing is written to `store`, which must hold the three commits."""
    merged = merge_detail(store, base, ours, theirs)
    budget = [MAX_HUNKS]
    files = tuple(_file(store, (base, ours, theirs), path, budget) for path in merged.files[:MAX_FILES])
    return Conflicts(merged, files, len(merged.files) > MAX_FILES)


def _file(store: BaseObjectStore, commits: tuple[Commit | None, Commit, Commit], path: str,
          budget: list[int]) -> FileConflict:
    entries = [entry_at(store, commit, path) for commit in commits]
    absent = tuple(side for side, entry in zip(SIDES, entries, strict=True) if entry is None)
    if any(e is not None and (stat.S_ISDIR(e[0]) or S_ISGITLINK(e[0])) for e in entries):
        return FileConflict(path, "file", None, None, None, absent, True, (), (), why_not=(
            f"{path} is a directory or submodule on one side and a file on another: merge it with git"))
    raw: list[bytes | None] = []
    for entry in entries:
        obj = store[entry[1]] if entry is not None else None
        raw.append(obj.data if isinstance(obj, Blob) else None)
    return file_conflict(path, (raw[0], raw[1], raw[2]), budget)


def file_conflict(path: str, raw: tuple[bytes | None, bytes | None, bytes | None],
                  budget: list[int] | None = None) -> FileConflict:
    """What is left to decide in one file from its three sides' bytes (None: absent there), as
    `find` shows it: by JSON path, test case or lines, else whole. A draft's conflicts, whose
    sides are kept as texts and not as commits, are shown through this. `budget` holds the hunks
    still allowed (MAX_HUNKS when not given) and is lowered by those shown."""
    budget = [MAX_HUNKS] if budget is None else budget
    absent = tuple(side for side, data in zip(SIDES, raw, strict=True) if data is None)
    b, o, t = raw
    texts = [_text(side) for side in raw]
    binary = any(side is not None and text is None for side, text in zip(raw, texts, strict=True))
    hunks: list[Hunk] | None = None
    kind: Kind = "file"
    if not binary and o is not None and t is not None:
        if path == MANIFEST:
            kind, hunks = "json", _json_hunks(b, o, t)
        if hunks is None and is_test_file(path):
            kind, hunks = "cases", _case_hunks(b, o, t)
        if not hunks:
            kind, hunks = "lines", [Hunk(i, h.where(), _lines(h.base), _lines(h.ours), _lines(h.theirs))
                                    for i, h in enumerate(linemerge.hunks(b or b"", o, t))]
    if not hunks or len(hunks) > budget[0]:
        kind, hunks = "file", [Hunk(0, "the whole file", texts[0], texts[1], texts[2])]
    budget[0] -= len(hunks)
    picks = tuple(p for p in PICKS[kind] if not (binary and p == "edit"))
    return FileConflict(path, kind, texts[0], texts[1], texts[2], absent, binary, tuple(hunks), picks,
                        raw=raw)


def _text(data: bytes | None) -> str | None:
    if data is None or len(data) > MAX_VIEW_BYTES or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _lines(lines: tuple[bytes, ...]) -> str:
    return b"".join(lines).decode("utf-8")  # the file decoded whole, and lines split at ASCII bytes


def dump(value: Any) -> str | None:
    """A JSON side as shown: pretty JSON, None where absent."""
    return None if value is MISSING else json.dumps(value, indent=2, ensure_ascii=False)


def _json_hunks(b: bytes | None, o: bytes, t: bytes) -> list[Hunk] | None:
    """template.json's conflicts by JSON path, None when a side is not JSON."""
    try:
        docs = [MISSING if side is None else jsonsafe.loads(side) for side in (b, o, t)]
    except (ValueError, UnicodeDecodeError):
        return None
    found: list[Hunk] = []

    def note(path: str, base: Any, ours: Any, theirs: Any) -> Any:
        found.append(Hunk(len(found), path, dump(base), dump(ours), dump(theirs)))
        return ours

    merge3({} if docs[0] is MISSING else docs[0], docs[1], docs[2], resolve=note)
    return found


def _case_hunks(b: bytes | None, o: bytes, t: bytes) -> list[Hunk] | None:
    """A test file's conflicting cases, None when it is not a file of named cases."""
    found: list[Hunk] = []

    def note(name: str, base: Any, ours: Any, theirs: Any) -> Any:
        found.append(Hunk(len(found), f"test case {name!r}", dump(base), dump(ours), dump(theirs)))
        return ours

    return found if merge_cases(b, o, t, note) is not None else None
