"""The whoosh index's schema: fields, analyzers (British spellings become American before
stemming), and what each template's search document puts in each field."""
from __future__ import annotations

from typing import Any

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from . import query as meaning
from .base import SearchDoc
from .rules import draft_writers, excerpt, long_text, shown_title, tag_keys
from .spelling import american

# Three text fields, not one per source: every query word costs a matcher per field, and
# whoosh's matchers are pure Python (5 fields measured 2.5x slower than 2).
TEXT_FIELDS = ("title", "meta", "body")  # phrases match within these
WORD_FIELDS = (*TEXT_FIELDS, "tagwords")  # words also match tags (no positions: no phrase spans two tags)
SHORT_FIELDS = ("title", "meta", "tagwords")  # what ranks first, as PostgreSQL's rank vector does
class _American(Filter):  # type: ignore[misc]
    """British spellings become American ones before stemming (spelling.py)."""

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            token.text = american(token.text)
            yield token


WORDS = RegexTokenizer() | LowercaseFilter() | _American()
STEM = WORDS | StopFilter() | StemFilter()


def schema() -> Schema:
    stem = STEM
    return Schema(
        id=ID(unique=True, stored=True), owner=ID(stored=True), name=ID(stored=True),
        title=TEXT(analyzer=stem, field_boost=4.0),  # title and the name's words
        meta=TEXT(analyzer=stem, field_boost=2.0),  # description, use case
        tagwords=TEXT(analyzer=stem, field_boost=2.0, phrase=False),
        body=TEXT(analyzer=stem),  # README and prompt text
        exact=KEYWORD(commas=True, lowercase=True),  # the title and the name, whole
        spell=TEXT(analyzer=WORDS, phrase=False),  # unstemmed words: the vocabulary for typos
        display_title=STORED, description=STORED, excerpt=STORED,  # excerpt: rules.excerpt of the prompt
        industry=ID(stored=True, sortable=True), use_case=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, scorable=True),
        stars=NUMERIC(int, bits=32, stored=True, sortable=True, default=0),
        # whoosh cannot sort float columns (struct error): both are kept as integers.
        rating=NUMERIC(int, bits=32, stored=True, sortable=True, default=0),  # rating x 100
        updated_at=NUMERIC(int, bits=64, stored=True, sortable=True, default=0),  # epoch ms
        readers=KEYWORD(commas=True), display_tags=STORED,
        listing=ID(stored=True),  # published | invalid | draft | archived (SearchDoc.listing)
        writers=KEYWORD(commas=True),  # who sees its drafts
    )


def stems(word: str) -> list[str]:
    return [token.text for token in STEM(word)] or [word]


def fields(doc: SearchDoc) -> dict[str, Any]:
    readme, prompt = long_text(doc)
    return {
        "id": doc.id, "owner": doc.owner, "name": doc.name,
        "title": f"{doc.title} {doc.name_words}",
        "meta": f"{doc.description}\n{doc.use_case.replace('-', ' ')}",
        "tagwords": " ".join(doc.tags),
        "body": f"{readme}\n{prompt}",
        "exact": ",".join(v for v in {" ".join(meaning.WORD.findall(doc.title.lower())), doc.name,
                                     doc.name_words} if v),
        "spell": doc.vocabulary_text,
        "display_title": shown_title(doc), "description": doc.description, "excerpt": excerpt(doc.prompt),
        "industry": doc.industry or "", "use_case": doc.use_case or "",
        "tags": ",".join(tag_keys(doc.tags)), "display_tags": list(doc.tags),
        "stars": int(doc.stars), "rating": round(doc.rating * 100), "updated_at": int(doc.updated_at * 1000),
        "readers": ",".join(doc.readers), "listing": doc.listing, "writers": ",".join(draft_writers(doc)),
    }

