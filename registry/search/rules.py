"""The rules both search backends follow (whoosh_index and pg_index), kept once so that they
cannot drift apart: how much of a document's long text is indexed and who sees its drafts; what a
query's text asks before either index reads it (nothing but exclusions, a last word still being
typed), its exact filters, and when it earns a "did you mean"; the sort columns; how a hit and the
facets are shown. (What the query's words mean is `query.py`'s.)"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from . import query as meaning
from .base import SearchDoc, SearchHit, SearchQuery
from .highlight import mark, ordered

# The README and prompt text a document is matched on (never shown): their starts.
# (SearchDoc.vocabulary_text, what typos are corrected to, takes less of both.)
README_LIMIT = 20_000
PROMPT_LIMIT = 50_000
# sort=stars|updated|rating: that column, largest first. Any other order falls back to the newest
# first: relevance without text to rank, and sort=trending past the templates with a score.
SORT_COLUMNS = {"stars": "stars", "updated": "updated_at", "rating": "rating"}
NEWEST = "updated_at"
TYPED = re.compile(r"([^\W_]+)$")  # the letters and digits ending the last word
MIN_TYPED = 2  # a single letter would complete to most of the titles
# The excerpt a gallery card shows: about this many characters of the prompt text.
EXCERPT_LIMIT = 200
_RUN = re.compile(rf"\S{{1,{EXCERPT_LIMIT + 1}}}")  # a word, or the start of a longer one
# Characters a card must not show: controls (PostgreSQL's text refuses NUL), lone surrogates (no
# encoding takes them), zero-width and direction marks and overrides (they reorder or hide the text).
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")


# -- what a document indexes ----------------------------------------------------------------
def long_text(doc: SearchDoc) -> tuple[str, str]:
    """The README and the prompt, as much of them as is indexed."""
    return doc.readme[:README_LIMIT], doc.prompt[:PROMPT_LIMIT]


def excerpt(prompt: str) -> str:
    """The start of a prompt as one line of plain text, for a gallery card: the prompt as written
    (Markdown, parameter uses and all; `format: text` alike), whitespace collapsed, characters
    that hide or reorder text dropped, cut at a word past EXCERPT_LIMIT characters with an
    ellipsis. Stops reading at the first word past the limit (a prompt may be megabytes long),
    and reads a word longer than the limit no further than that."""
    words: list[str] = []
    size = -1
    for run in _RUN.finditer(prompt):
        word = _HIDDEN.sub("", run.group())
        if word:
            words.append(word)
            size += len(word) + 1
            if size > EXCERPT_LIMIT:
                break
    text = " ".join(words)
    if len(text) <= EXCERPT_LIMIT:
        return text
    cut = text[:EXCERPT_LIMIT]
    space = cut.rfind(" ")  # at a word's end, unless that leaves too little
    return (cut[:space] if space > EXCERPT_LIMIT * 2 // 3 else cut).rstrip() + "…"


def shown_title(doc: SearchDoc) -> str:
    """The title a hit shows (and highlights): the template's name where it has none."""
    return doc.title or doc.name


def draft_writers(doc: SearchDoc) -> tuple[str, ...]:
    """Who sees the template where drafts are listed: its writers, at least its owner."""
    return doc.writers or (doc.owner,)


def tag_keys(tags: Iterable[str]) -> list[str]:
    """Tags as the exact tag filter compares them, in documents and queries: case does not count."""
    return [t.lower() for t in tags]


# -- what a query asks --------------------------------------------------------------------
def understood(q: str) -> tuple[meaning.Parsed | None, tuple[str, ...]]:
    """The query's text parsed, or None when it gives nothing to find; and then the words to leave
    out (a query of -exclusions only lists every template but those holding them)."""
    parsed = meaning.parse(q) if q.strip() else None
    if parsed is not None and parsed.empty:
        return None, parsed.excluded
    return parsed, ()


def typed_prefix(q: str) -> str | None:
    """The start of a word the query may still be typing, which also counts as the prefix of a
    title word (type-ahead): the letters and digits ending its last word ("short-dra" -> "dra"),
    two at least, lower case. None after a closing quote (a finished phrase) and for an -excluded
    word."""
    words = q.split()
    if not words or words[-1].endswith('"') or words[-1].startswith("-"):
        return None
    last = TYPED.search(words[-1])
    return last.group(1).lower() if last and len(last.group(1)) >= MIN_TYPED else None


def exact_filters(query: SearchQuery) -> list[tuple[str, str]]:
    """(field, value) of each single-valued filter the query sets: industry, use case, owner.
    Its tags (`tag_keys`) must all be on a template as well."""
    return [(name, value) for name, value in (("industry", query.industry), ("use_case", query.use_case),
                                              ("owner", query.owner)) if value]


def suggestion(q: str, parsed: meaning.Parsed | None, found: int,
               near: Callable[[str, int], list[str]]) -> str | None:
    """"Did you mean", offered only where a text query matched nothing (query.suggestion)."""
    return meaning.suggestion(q, parsed, near) if parsed is not None and not found else None


def sort_column(sort: str) -> str:
    """The column a sort orders by, largest first (sort=relevance with text ranks instead)."""
    return SORT_COLUMNS.get(sort, NEWEST)


# -- what a search shows ------------------------------------------------------------------
def facets(industries: Mapping[str, int], tags: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """The facets from the matches' counts, the largest first; no industry makes no facet."""
    return {"industry": ordered({name: n for name, n in industries.items() if name}), "tags": ordered(tags)}


def hit(*, owner: str, name: str, title: str, description: str, industry: str, use_case: str, tags: list[str],
        stars: int, rating: float, updated_at: float, listing: str, terms: set[str], excerpt: str = "") -> SearchHit:
    """A result from what an index keeps of a document: its listing (SearchDoc.listing) read back
    as status and validity, the title and description highlighted where they hold `terms`, the
    prompt's excerpt (`excerpt`, stored at indexing) as it is."""
    highlights = {}
    for field, text in (("title", title), ("description", description)) if terms else ():
        fragment = mark(text or "", terms)
        if fragment:
            highlights[field] = fragment
    status = listing if listing in ("draft", "archived") else "published"
    return SearchHit(owner, name, title, description, industry, use_case, tags, stars, rating, updated_at,
                     highlights, status, listing != "invalid", excerpt)
