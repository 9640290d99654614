"""A word diff of two texts, for showing what a change did to a rendered prompt or a model's
answer side by side: the old text as segments `(op, text)` with op `same` or `del`, the new one
with `same` or `ins`; each side's segments joined give that side back exactly. Words and runs of
punctuation are compared apart ("dogs." and "dogs politely." differ by an inserted "politely"),
whitespace goes with the token before it and does not count. Bounded: a text past MAX_TOKENS
tokens is compared as a whole (all deleted, all inserted), never in quadratic time."""
from __future__ import annotations

import re
from difflib import SequenceMatcher

MAX_TOKENS = 6000
_TOKENS = re.compile(r"\w+\s*|[^\w\s]+\s*|\s+")

Segment = tuple[str, str]


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    if old == new:
        return ([("same", old)], [("same", new)]) if old else ([], [])
    a, b = tokens(old), tokens(new)
    if len(a) > MAX_TOKENS or len(b) > MAX_TOKENS:
        return ([("del", old)] if old else []), ([("ins", new)] if new else [])
    matcher = SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b], autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(left, "same", "".join(a[i1:i2]))
            _add(right, "same", "".join(b[j1:j2]))
            continue
        _add(left, "del", "".join(a[i1:i2]))
        _add(right, "ins", "".join(b[j1:j2]))
    return left, right


def _add(out: list[Segment], op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == op:
        out[-1] = (op, out[-1][1] + text)
    else:
        out.append((op, text))
