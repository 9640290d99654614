"""SearchIndex on whoosh (whoosh-reloaded): stemmed free text, phrases, prefix type-ahead,
exact filters, facets, highlights. One writer at a time (whoosh's lock, waited for);
readers check for a newer generation on every query, so a commit is visible at once."""
from __future__ import annotations

import fcntl
import heapq
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser.plugins import FieldsPlugin, WildcardPlugin
from whoosh.query import And, NullQuery, Or, Query, Term
from whoosh.writing import CLEAR

from .base import SearchDoc, SearchHit, SearchQuery, SearchResults
from .highlight import mark, ordered

# Two text fields, not one per source: every query word costs a matcher per field, and
# whoosh's matchers are pure Python (5 fields measured 2.5x slower than these 2).
TEXT_FIELDS = ("title", "body")
MAX_COMPLETIONS = 20
STEM = StemmingAnalyzer()
SORT_FIELDS = {"stars": "stars", "updated": "updated_at", "rating": "rating"}
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


def _schema() -> Schema:
    stem = STEM
    return Schema(
        id=ID(unique=True, stored=True), owner=ID(stored=True), name=ID(stored=True),
        title=TEXT(analyzer=stem, field_boost=4.0),  # title and the name's words
        body=TEXT(analyzer=stem),  # description, README and prompt text
        display_title=STORED, description=STORED,
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


class WhooshIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".create.lock", "w") as lock:  # two processes may start at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.ix = index.open_dir(str(self.path)) if index.exists_in(str(self.path)) \
                else index.create_in(str(self.path), _schema())
            # An index from before a schema change is made anew, empty: `needs_rebuild` tells
            # the caller to reindex (registry serve does at start).
            self.needs_rebuild = not {"listing", "writers"} <= set(self.ix.schema.names())
            if self.needs_rebuild:
                self.ix = index.create_in(str(self.path), _schema())
        self._local = threading.local()
        parser = MultifieldParser(list(TEXT_FIELDS), self.ix.schema, group=AndGroup)
        parser.remove_plugin_class(FieldsPlugin)  # "a:b" is text, not a field query
        parser.remove_plugin_class(WildcardPlugin)  # no user wildcards: prefixes come from us
        self.parser = parser

    # -- writing ------------------------------------------------------------------------
    def upsert(self, doc: SearchDoc) -> None:
        self.upsert_many([doc])

    def upsert_many(self, docs: list[SearchDoc], replace_all: bool = False) -> None:
        writer = self.ix.writer(timeout=60.0)
        try:
            for doc in docs:
                writer.update_document(**_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR) if replace_all else writer.commit()

    def remove(self, template_id: str) -> None:
        writer = self.ix.writer(timeout=60.0)
        writer.delete_by_term("id", template_id)
        writer.commit()

    # -- reading ------------------------------------------------------------------------
    def _view(self) -> _View:
        """This thread's view of the index, rebuilt when a commit happened since. (Not
        `searcher.refresh()`: it reuses segment readers and misses their new deletions.)"""
        view = getattr(self._local, "view", None)
        if view is None or not view.searcher.up_to_date():
            if view is not None:
                view.searcher.close()
            view = self._local.view = _View(self.ix.searcher())
        return view

    def count(self) -> int:
        count: int = self._view().searcher.doc_count()
        return count

    def search(self, query: SearchQuery) -> SearchResults:
        view = self._view()
        has_text = bool(query.q.strip())
        text_query = self._text_query(query.q, view) if has_text else None
        candidates = view.visible(query.reader, query.see_all)
        shared, own = query.listings()
        listed = set().union(*(view.term_docs("listing", name) for name in shared))
        if own:
            mine = set().union(*(view.term_docs("listing", name) for name in own))
            listed |= mine if query.see_all else mine & (view.term_docs("writers", query.reader) if query.reader else set())
        candidates = candidates & listed
        for field, value in (("industry", query.industry), ("use_case", query.use_case), ("owner", query.owner),
                             *(("tags", t.lower()) for t in query.tags)):
            if value:
                candidates = candidates & view.term_docs(field, value)
        need = query.page * query.per_page
        by_relevance = text_query is not None and query.sort == "relevance"
        if not candidates:  # whoosh takes an empty filter for no filter: it would match everything
            return SearchResults(0, [], view.facets(candidates))
        if text_query is not None:
            # One scoring pass over the matches (limit=None): their set is the result set for
            # the total and the facets, and their order is relevance.
            scored = view.searcher.search(text_query, limit=None, filter=candidates)
            candidates = set(scored.docs())
            if by_relevance:
                ranked = [hit.docnum for hit in scored[:need]]
        if not by_relevance:
            column = view.columns[SORT_FIELDS.get(query.sort, "updated_at")]
            ranked = heapq.nlargest(need, candidates, key=lambda d: (column[d], -d))
        page = ranked[(query.page - 1) * query.per_page:]
        terms = view.highlight_terms(text_query) if text_query is not None else set()
        hits = [view.hit(docnum, terms) for docnum in page]
        return SearchResults(len(candidates), hits, view.facets(candidates))

    def _parse(self, q: str) -> Query:
        """The parsed query; operators whoosh's parser chokes on ("NOT NOT NOT") are read as
        plain words instead, and what still fails matches nothing: a query is never a 500."""
        try:
            parsed: Query = self.parser.parse(q)
        except Exception:
            plain = " ".join(word for word in q.split() if word.upper() not in OPERATORS)
            try:
                parsed = self.parser.parse(plain) if plain else NullQuery
            except Exception:
                parsed = NullQuery
        return parsed

    def _text_query(self, q: str, view: _View) -> Query:
        q = q.strip()
        parsed = self._parse(q)
        words = q.split()
        last = words[-1].lower()
        if q.endswith('"') or not last.isalnum() or len(last) < 2:
            return parsed
        # Type-ahead: a last word that is no indexed word yet may be the start of one in a
        # title. Only its most frequent completions count: a prefix can expand to hundreds.
        if view.is_word(last):
            return parsed
        completions = view.completions(last)
        if not completions:
            return parsed
        prefix = Or([Term("title", term) for term in completions])
        completed = And([self._parse(" ".join(words[:-1])), prefix]) if len(words) > 1 else prefix
        return Or([parsed, completed])


class _View:
    """A searcher and, per index generation, what filtering, faceting and sorting need in
    memory: per-document columns and the document sets of filter terms. Filters become set
    intersections instead of whoosh matchers (the bulk of a faceted query's time otherwise)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.all = set(reader.all_doc_ids())
        # An index with no segment yet has a reader without columns (whoosh raises NotImplementedError).
        columns = reader.has_column("stars") if self.all else False
        self.columns = {name: list(reader.column_reader(name)) if columns else []
                        for name in ("stars", "rating", "updated_at")}
        self.industry = list(reader.column_reader("industry")) if columns else []
        self.tags = {tag.decode(): set(searcher.docs_for_query(Term("tags", tag))) for tag in reader.lexicon("tags")}
        self.public = set(searcher.docs_for_query(Term("readers", "*")))
        self._terms: dict[tuple[str, str], set[int]] = {}

    def is_word(self, word: str) -> bool:
        reader = self.searcher.reader()
        stems = [token.text for token in STEM(word)]
        return bool(stems) and all(any(reader.doc_frequency(f, s) for f in TEXT_FIELDS) for s in stems)

    def completions(self, prefix: str, limit: int = MAX_COMPLETIONS) -> list[str]:
        reader = self.searcher.reader()
        terms = [t.decode() for t in reader.expand_prefix("title", prefix)]
        if len(terms) > limit:
            terms = heapq.nlargest(limit, terms, key=lambda t: reader.doc_frequency("title", t))
        return terms

    def term_docs(self, field: str, value: str) -> set[int]:
        key = (field, value)
        if key not in self._terms:
            if len(self._terms) > 1024:
                self._terms.clear()
            self._terms[key] = set(self.searcher.docs_for_query(Term(field, value)))
        return self._terms[key]

    def visible(self, reader: str | None, see_all: bool) -> set[int]:
        if see_all:
            return self.all
        return self.public | self.term_docs("readers", reader) if reader else self.public

    def facets(self, docs: set[int]) -> dict[str, dict[str, int]]:
        industry = Counter(self.industry[d] for d in docs)
        industry.pop("", None)
        tags = {tag: n for tag, members in self.tags.items() if (n := len(members & docs))}
        return {"industry": ordered(industry), "tags": ordered(tags)}

    def highlight_terms(self, query: Query) -> set[str]:
        return {text.decode() if isinstance(text, bytes) else text
                for _, text in query.existing_terms(self.searcher.reader(), expand=True)}

    def hit(self, docnum: int, terms: set[str]) -> SearchHit:
        fields = self.searcher.stored_fields(docnum)
        highlights = {}
        for name, stored in (("title", "display_title"), ("description", "description")) if terms else ():
            fragment = mark(fields.get(stored) or "", terms)
            if fragment:
                highlights[name] = fragment
        listing = fields.get("listing", "published")
        return SearchHit(fields["owner"], fields["name"], fields["display_title"], fields.get("description", ""),
                         fields.get("industry", ""), fields.get("use_case", ""), list(fields.get("display_tags") or []),
                         fields.get("stars", 0), fields.get("rating", 0) / 100, fields.get("updated_at", 0) / 1000,
                         highlights, listing if listing in ("draft", "archived") else "published", listing != "invalid")


def _fields(doc: SearchDoc) -> dict[str, Any]:
    return {
        "id": doc.id, "owner": doc.owner, "name": doc.name,
        "title": f"{doc.title} {doc.name.replace('-', ' ').replace('_', ' ').replace('.', ' ')}",
        "display_title": doc.title or doc.name, "description": doc.description,
        "body": f"{doc.description}\n{doc.readme[:20_000]}\n{doc.prompt[:50_000]}",
        "industry": doc.industry or "", "use_case": doc.use_case or "",
        "tags": ",".join(t.lower() for t in doc.tags), "display_tags": list(doc.tags),
        "stars": int(doc.stars), "rating": round(doc.rating * 100), "updated_at": int(doc.updated_at * 1000),
        "readers": ",".join(doc.readers), "listing": doc.listing, "writers": ",".join(doc.writers or (doc.owner,)),
    }
