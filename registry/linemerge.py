"""Three-way merge of a text file by lines (merge3, the merge dulwich and bzr use): the regions
both sides agree on, and the conflict hunks diff3 would mark, each with the base, ours and
theirs lines. A merge made with choices per hunk gives back the file.

Lines are split as git and dulwich split them (bytes.splitlines, ends kept), so the hunks are
exactly the conflicts a merge of the same blobs reports."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from merge3 import Merge3


@dataclass(frozen=True)
class LineHunk:
    """One conflict: the lines of each side, and where ours' lines are (1-based, `end`
    inclusive; `end` = `start` - 1 when ours has none there)."""

    base: tuple[bytes, ...]
    ours: tuple[bytes, ...]
    theirs: tuple[bytes, ...]
    start: int
    end: int

    def where(self) -> str:
        if self.end < self.start:
            return f"before line {self.start}"
        return f"line {self.start}" if self.start == self.end else f"lines {self.start}–{self.end}"


Choose = Callable[[int, LineHunk], Sequence[bytes]]  # (hunk index, hunk) -> the lines to keep


def hunks(base: bytes, ours: bytes, theirs: bytes) -> list[LineHunk]:
    """The conflict hunks of merging `theirs` into `ours` from `base`."""
    found: list[LineHunk] = []

    def keep(index: int, hunk: LineHunk) -> Sequence[bytes]:
        found.append(hunk)
        return hunk.ours

    merge(base, ours, theirs, keep)
    return found


def merge(base: bytes, ours: bytes, theirs: bytes, choose: Choose) -> bytes:
    """The merged file, each conflict hunk replaced by what `choose` keeps of it."""
    b, o, t = base.splitlines(True), ours.splitlines(True), theirs.splitlines(True)
    out: list[bytes] = []
    index = 0
    for region in Merge3(b, o, t).merge_regions():
        if region[0] == "conflict":
            assert len(region) == 7
            _, zs, ze, os_, oe, ts, te = region
            out.extend(choose(index, LineHunk(tuple(b[zs:ze]), tuple(o[os_:oe]), tuple(t[ts:te]), os_ + 1, oe)))
            index += 1
        else:
            kind, i, j = region[0], region[1], region[2]
            out.extend((b if kind == "unchanged" else t if kind == "b" else o)[i:j])
    return b"".join(out)


def edited_lines(text: str, hunk: LineHunk) -> list[bytes]:
    """A person's text for a hunk as lines: a missing last newline is added back when the hunk's
    own lines ended with one (a textarea drops it), so the next line is not joined to it."""
    data = text.replace("\r\n", "\n").encode()
    sides = hunk.ours or hunk.theirs or hunk.base
    if data and not data.endswith(b"\n") and sides and sides[-1].endswith(b"\n"):
        data += b"\n"
    return data.splitlines(True)
