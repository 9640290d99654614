"""What both search backends show the same way: highlighted fragments and ordered facets."""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache

from whoosh.lang.porter import stem

from .spelling import american

WORD = re.compile(r"\w+", re.UNICODE)


def mark(text: str, terms: set[str], width: int = 200) -> str | None:
    """`text` HTML-escaped with words whose stem is a query term in <mark>; a window of about
    `width` characters around the first match. None when nothing matches."""
    if terms.isdisjoint(map(_shown, WORD.findall(text))):  # most fields: no match objects to make
        return None
    spans = [(m.start(), m.end()) for m in WORD.finditer(text) if _shown(m.group()) in terms]
    start = max(0, spans[0][0] - width // 3) if len(text) > width else 0
    end = min(len(text), start + width)
    out, pos = ["…" if start else ""], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out += [html.escape(text[pos:a]), '<mark class="hl">', html.escape(text[a:b]), "</mark>"]
        pos = b
    out += [html.escape(text[pos:end]), "…" if end < len(text) else ""]
    return "".join(out)


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    """A display word's stem in American spelling (a page of hits repeats its words)."""
    stemmed: str = stem(american(word))
    return stemmed


@lru_cache(maxsize=65_536)
def _shown(word: str) -> str:
    """The stem of a word as a field shows it (any case)."""
    return _stem(word.lower())


def ordered(counts: Mapping[str, int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def query_terms(q: str) -> set[str]:
    """The stems of a query's words (what `mark` highlights)."""
    return {_stem(word.lower()) for word in WORD.findall(q) if word.upper() not in ("AND", "OR", "NOT")}
