"""A word diff of two texts, for showing what a change did to a rendered prompt or a model's
answer: segments `(op, text)` with op `same`, `del` or `ins`, whitespace kept with the word before
it (the new side's, where the two differ only in spacing). Bounded: texts past MAX_WORDS words are
compared as a whole (one `del`, one `ins`), so a huge answer never costs quadratic time."""
from __future__ import annotations

import re
from difflib import SequenceMatcher

MAX_WORDS = 4000
_WORDS = re.compile(r"\S+\s*|\s+")

Segment = tuple[str, str]


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def diff(old: str, new: str) -> list[Segment]:
    if old == new:
        return [("same", old)] if old else []
    a, b = words(old), words(new)
    if len(a) > MAX_WORDS or len(b) > MAX_WORDS:
        return [seg for seg in (("del", old), ("ins", new)) if seg[1]]
    # Compared without trailing whitespace: "word\n" and "word " are the same word.
    matcher = SequenceMatcher(None, [w.rstrip() for w in a], [w.rstrip() for w in b], autojunk=False)
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(out, "same", "".join(b[j1:j2]))
            continue
        if op in ("delete", "replace"):
            _add(out, "del", "".join(a[i1:i2]))
        if op in ("insert", "replace"):
            _add(out, "ins", "".join(b[j1:j2]))
    return out


def _add(out: list[Segment], op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == op:
        out[-1] = (op, out[-1][1] + text)
    else:
        out.append((op, text))


def side(segments: list[Segment], which: str) -> str:
    """One side back from a diff: `old` (same + del) or `new` (same + ins)."""
    keep = "del" if which == "old" else "ins"
    return "".join(text for op, text in segments if op in ("same", keep))
