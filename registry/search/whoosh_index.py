"""SearchIndex on whoosh (whoosh-reloaded): BM25F over weighted fields (name and title, then
tags, description and use case, then README and prompt), the query semantics of `query.py`
(optional words with a coordination bonus, required phrases, typo neighbours, exact name and title
matches first), prefix type-ahead, exact filters, facets, highlights. One writer at a time
(whoosh's lock, waited for); readers check for a newer generation on every query, so a commit is
visible at once."""
from __future__ import annotations

import fcntl
import heapq
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.query import And, AndMaybe, AndNot, NullQuery, Or, Phrase, Query, Term
from whoosh.writing import CLEAR

from . import query as meaning
from .base import SearchDoc, SearchHit, SearchQuery, SearchResults
from .highlight import mark, ordered
from .spelling import american

# Three text fields, not one per source: every query word costs a matcher per field, and
# whoosh's matchers are pure Python (5 fields measured 2.5x slower than 2).
TEXT_FIELDS = ("title", "meta", "body")  # phrases match within these
WORD_FIELDS = (*TEXT_FIELDS, "tagwords")  # words also match tags (no positions: no phrase spans two tags)
MAX_COMPLETIONS = 20
EXACT_BOOST = 25.0  # an exact name or title match outranks any mix of words
COORDINATION = 1.0  # how much matching more of the query's words adds
SORT_FIELDS = {"stars": "stars", "updated": "updated_at", "rating": "rating"}


class _American(Filter):  # type: ignore[misc]
    """British spellings become American ones before stemming (spelling.py)."""

    def __call__(self, tokens: Any) -> Any:
        for token in tokens:
            token.text = american(token.text)
            yield token


WORDS = RegexTokenizer() | LowercaseFilter() | _American()
STEM = WORDS | StopFilter() | StemFilter()


def _schema() -> Schema:
    stem = STEM
    return Schema(
        id=ID(unique=True, stored=True), owner=ID(stored=True), name=ID(stored=True),
        title=TEXT(analyzer=stem, field_boost=4.0),  # title and the name's words
        meta=TEXT(analyzer=stem, field_boost=2.0),  # description, use case
        tagwords=TEXT(analyzer=stem, field_boost=2.0, phrase=False),
        body=TEXT(analyzer=stem),  # README and prompt text
        exact=KEYWORD(commas=True, lowercase=True),  # the title and the name, whole
        spell=TEXT(analyzer=WORDS, phrase=False),  # unstemmed words: the vocabulary for typos
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
            self.needs_rebuild = not {"listing", "writers", "meta", "tagwords", "spell"} <= set(self.ix.schema.names())
            if self.needs_rebuild:
                self.ix = index.create_in(str(self.path), _schema())
        self._local = threading.local()

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
        parsed = meaning.parse(query.q) if query.q.strip() else None
        if parsed is not None:
            parsed = meaning.with_typos(parsed, view.known, view.near)
        text_query = self._text_query(query.q, parsed, view) if parsed is not None else None
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
        ranked: list[int] = []
        if candidates and text_query is not None:
            # One scoring pass over the matches (limit=None): their set is the result set for
            # the total and the facets, and their order is relevance.
            scored = view.searcher.search(text_query, limit=None, filter=candidates)
            candidates = set(scored.docs())
            if by_relevance and parsed is not None:
                ranked = self._by_coverage(parsed, view, scored, need)
        if candidates and not by_relevance:
            column = view.columns[SORT_FIELDS.get(query.sort, "updated_at")]
            ranked = heapq.nlargest(need, candidates, key=lambda d: (column[d], -d))
        page = ranked[(query.page - 1) * query.per_page:]
        terms = view.highlight_terms(text_query) if text_query is not None else set()
        hits = [view.hit(docnum, terms) for docnum in page]
        hint = meaning.suggestion(query.q, parsed, view.near) if parsed is not None and not candidates else None
        return SearchResults(len(candidates), hits, view.facets(candidates), hint)

    def _by_coverage(self, parsed: meaning.Parsed, view: _View, scored: Any, need: int) -> list[int]:
        """The best `need` matches: those matching more of the query's words first, then by score
        (BM25F, with the exact-name bonus), as the PostgreSQL index ranks them."""
        scores = {hit.docnum: hit.score for hit in scored}
        cover: Counter[int] = Counter()
        if len(parsed.words) > 1:
            for word in parsed.words:
                matching = view.searcher.docs_for_query(self._word([word, *parsed.alternatives.get(word, ())]))
                cover.update(d for d in matching if d in scores)
        return heapq.nlargest(need, scores, key=lambda d: (cover[d], scores[d], -d))

    def _text_query(self, q: str, parsed: meaning.Parsed, view: _View) -> Query:
        optional: list[Query] = [self._word([w, *parsed.alternatives.get(w, ())]) for w in parsed.words]
        if parsed.exact:
            optional.append(Term("exact", parsed.exact, boost=EXACT_BOOST))
        prefix = self._type_ahead(q, parsed, view)
        if prefix is not None:
            optional.append(prefix)
        required = [Or([Phrase(f, [t for w in phrase for t in _stems(w)]) for f in TEXT_FIELDS])
                    for phrase in parsed.phrases]
        if required:
            found: Query = And(required)
            if parsed.words:
                found = AndMaybe(found, Or(optional, scale=COORDINATION))
        elif parsed.words:
            found = Or(optional, scale=COORDINATION)
        else:
            found = NullQuery
        if parsed.excluded and found is not NullQuery:
            found = AndNot(found, self._word(parsed.excluded))
        return found

    @staticmethod
    def _word(words: list[str] | tuple[str, ...]) -> Query:
        """One query word (with its spelling alternatives) in any text field."""
        return Or([Term(f, t) for f in WORD_FIELDS for w in words for t in _stems(w)])

    @staticmethod
    def _type_ahead(q: str, parsed: meaning.Parsed, view: _View) -> Query | None:
        """A last word that is no indexed word yet may be the start of one in a title: its most
        frequent completions count (a prefix can expand to hundreds)."""
        last = q.strip().split()[-1].lower() if q.strip() else ""
        if q.rstrip().endswith('"') or not last.isalnum() or len(last) < 2 or view.is_word(last):
            return None
        completions = view.completions(last)
        return Or([Term("title", term) for term in completions]) if completions else None


def _stems(word: str) -> list[str]:
    return [token.text for token in STEM(word)] or [word]


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

    def known(self, words: list[str]) -> set[str]:
        reader = self.searcher.reader()
        return {w for w in words if reader.doc_frequency("spell", w)}

    def near(self, word: str, maxdist: int) -> list[str]:
        """Vocabulary words within `maxdist` edits of `word` (same first letter), most frequent first."""
        reader = self.searcher.reader()
        if not self.all:
            return []
        # One more than asked: whoosh's automaton counts a swap of two letters as two edits
        # (query.py keeps only what is within `maxdist` by its own count, swaps as one).
        found = [t.decode() if isinstance(t, bytes) else t
                 for t in reader.terms_within("spell", word, maxdist + 1 if maxdist == 1 else maxdist, prefix=1)]
        return sorted(found, key=lambda t: -reader.doc_frequency("spell", t))[:20]

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
        "title": f"{doc.title} {_name_words(doc.name)}",
        "meta": f"{doc.description}\n{doc.use_case.replace('-', ' ')}",
        "tagwords": " ".join(doc.tags),
        "body": f"{doc.readme[:20_000]}\n{doc.prompt[:50_000]}",
        "exact": ",".join(v for v in {" ".join(meaning.WORD.findall(doc.title.lower())), doc.name,
                                     _name_words(doc.name)} if v),
        "spell": f"{doc.title} {_name_words(doc.name)} {' '.join(doc.tags)} {doc.description} "
                 f"{doc.readme[:5_000]} {doc.prompt[:5_000]}",
        "display_title": doc.title or doc.name, "description": doc.description,
        "industry": doc.industry or "", "use_case": doc.use_case or "",
        "tags": ",".join(t.lower() for t in doc.tags), "display_tags": list(doc.tags),
        "stars": int(doc.stars), "rating": round(doc.rating * 100), "updated_at": int(doc.updated_at * 1000),
        "readers": ",".join(doc.readers), "listing": doc.listing, "writers": ",".join(doc.writers or (doc.owner,)),
    }


def _name_words(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").replace(".", " ")
