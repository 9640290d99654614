"""SearchIndex on whoosh (whoosh-reloaded): BM25F over weighted fields (name and title, then
tags, description and use case, then README and prompt), the query semantics of `query.py`
(optional words, those holding more of them first, required phrases, typo neighbours, exact name
and title matches first), prefix type-ahead, exact filters, facets, highlights. One writer at a time
(whoosh's lock, waited for); readers check for a newer generation on every query, so a commit is
visible at once."""
from __future__ import annotations

import fcntl
import heapq
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.query import And, AndMaybe, AndNot, NullQuery, Phrase, Query, Term
from whoosh.query.compound import DefaultOr as Or  # lazy unions: top-N search can skip blocks
from whoosh.writing import CLEAR

from . import query as meaning
from . import rules
from .base import SearchDoc, SearchHit, SearchQuery, SearchResults
from .whoosh_schema import SHORT_FIELDS, STEM, TEXT_FIELDS, WORD_FIELDS, fields, schema, stems

MAX_COMPLETIONS = 20
EXACT_BOOST = 25.0  # an exact name or title match outranks any mix of words
FIELD_WEIGHTS = (4, 1, 2)  # a word in SHORT_FIELDS: name or title, description or use case, tags


class WhooshIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".create.lock", "w") as lock:  # two processes may start at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.ix = index.open_dir(str(self.path)) if index.exists_in(str(self.path)) \
                else index.create_in(str(self.path), schema())
            # An index from before a schema change (lacking a field of today's schema) is made
            # anew, empty: `needs_rebuild` tells the caller to reindex (registry serve does at start).
            # Owed is a file beside the index, not a flag of this process: a process that opens the
            # index after it was made anew (a server process of `--workers N` whose supervisor could
            # not migrate, the database being down) owes the rebuild too, until one is done.
            if not set(schema().names()) <= set(self.ix.schema.names()):
                self.ix = index.create_in(str(self.path), schema())
                self._owed.touch()
        self._local = threading.local()

    @property
    def _owed(self) -> Path:
        return self.path / ".rebuild-owed"

    @property
    def needs_rebuild(self) -> bool:
        return self._owed.exists()

    # -- writing ------------------------------------------------------------------------
    def upsert(self, doc: SearchDoc) -> None:
        self.upsert_many([doc])

    def upsert_many(self, docs: list[SearchDoc], replace_all: bool = False) -> None:
        writer = self.ix.writer(timeout=60.0)
        try:
            for doc in docs:
                writer.update_document(**fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR) if replace_all else writer.commit()
        if replace_all:
            self._owed.unlink(missing_ok=True)  # it holds every template again

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
        parsed, excluded = rules.understood(query.q)
        leave_out = view.word_docs(list(excluded)) if excluded else set()
        plan = self._plan(query.q, parsed, view) if parsed is not None else None
        candidates = view.visible(query.reader, query.see_all) - leave_out
        shared, own = query.listings()
        listed = set().union(*(view.term_docs("listing", name) for name in shared))
        if own:
            mine = set().union(*(view.term_docs("listing", name) for name in own))
            listed |= mine if query.see_all else mine & (view.term_docs("writers", query.reader) if query.reader else set())
        candidates = candidates & listed
        for field, value in (*rules.exact_filters(query), *(("tags", t) for t in rules.tag_keys(query.tags))):
            candidates = candidates & view.term_docs(field, value)
        need = query.page * query.per_page
        ranked: list[int] = []
        if plan is not None:
            candidates = candidates & plan.matches
            if query.sort == "relevance" and candidates:
                ranked = self._rank(plan, view, candidates, need)
        if candidates and not ranked and query.sort == "trending":
            boost, updated = view.by_docnum(query.trending), view.columns["updated_at"]
            ranked = heapq.nlargest(need, candidates, key=lambda d: (boost.get(d, 0.0), updated[d], -d))
        elif candidates and not ranked:
            column = view.columns[rules.sort_column(query.sort)]
            ranked = heapq.nlargest(need, candidates, key=lambda d: (column[d], -d))
        page = ranked[(query.page - 1) * query.per_page:]
        terms = view.highlight_terms(plan.query) if plan is not None else set()
        hits = [view.hit(docnum, terms) for docnum in page]
        hint = rules.suggestion(query.q, parsed, len(candidates), view.near)
        return SearchResults(len(candidates), hits, view.facets(candidates), hint)

    @staticmethod
    def _rank(plan: _Plan, view: _View, candidates: set[int], need: int) -> list[int]:
        """Matches in the short fields (name, title, tags, description, use case) first, as
        PostgreSQL's rank vector ranks them: an exact name or title, then those holding more of
        the words, then by where they hold them (title over description), newest first. These
        are set lookups in cached postings, no scoring. Then matches in README and prompt text
        only, by BM25F, for what the page still needs."""
        short = candidates & plan.short_matches
        updated = view.columns["updated_at"]

        def key(d: int) -> tuple[bool, int, int, int]:
            covered = weight = 0
            for sets in plan.short_sets:
                held = [w for w, docs in zip(FIELD_WEIGHTS, sets, strict=True) if d in docs]
                covered, weight = covered + bool(held), weight + sum(held)
            return d in plan.exact, covered, weight, updated[d] if updated else 0

        ranked = heapq.nlargest(need, short, key=key)
        rest = candidates - short
        if len(ranked) < need and rest:
            ranked += [hit.docnum for hit in view.searcher.search(plan.query, limit=need - len(ranked), filter=rest)]
        return ranked

    def _plan(self, q: str, parsed: meaning.Parsed, view: _View) -> _Plan:
        """The scoring query and, from cached postings rather than a matcher walk, the set of
        documents that match and each word's set."""
        parsed = meaning.with_typos(parsed, view.known, view.near)
        groups = [[w, *parsed.alternatives.get(w, ())] for w in parsed.words]
        short_sets = [tuple(view.word_docs(group, (field,)) for field in SHORT_FIELDS) for group in groups]
        matches: set[int] = set().union(*(view.word_docs(group) for group in groups))
        optional: list[Query] = [self._word(group) for group in groups]
        exact = view.term_docs("exact", parsed.exact) if parsed.exact else set()
        if exact:
            optional.append(Term("exact", parsed.exact, boost=EXACT_BOOST))
        completions = self._type_ahead(q, view)
        if completions:  # the last word's completions count as that word in the title
            optional.append(Or([Term("title", term) for term in completions]))
            short_sets.append((set().union(*(view.term_docs("title", term) for term in completions)), set(), set()))
        short_matches: set[int] = exact.union(*(docs for sets in short_sets for docs in sets))
        matches |= short_matches
        if parsed.phrases:
            phrases = [Or([Phrase(f, [t for w in phrase for t in stems(w)]) for f in TEXT_FIELDS])
                       for phrase in parsed.phrases]
            found: Query = And(phrases)
            matches = set.intersection(*(set(view.searcher.docs_for_query(p)) for p in phrases))
            if optional:
                found = AndMaybe(found, Or(optional))
        elif optional:
            found = Or(optional)
        else:
            found, matches = NullQuery, set()
        if parsed.excluded and matches:
            found = AndNot(found, self._word(parsed.excluded))
            matches = matches - view.word_docs(list(parsed.excluded))
        if parsed.phrases:  # phrases decide what matches: rank those on the whole query
            short_matches = set()
        return _Plan(found, matches, short_matches & matches, short_sets, exact)

    @staticmethod
    def _word(words: list[str] | tuple[str, ...], fields: tuple[str, ...] = WORD_FIELDS) -> Query:
        """One query word (with its spelling alternatives) in any of `fields`."""
        return Or([Term(f, t) for f in fields for w in words for t in stems(w)])

    @staticmethod
    def _type_ahead(q: str, view: _View) -> list[str]:
        """A last word still being typed (rules.typed_prefix) that is no indexed word yet may be
        the start of one in a title: its most frequent completions count (a prefix can expand to
        hundreds)."""
        prefix = rules.typed_prefix(q)
        return [] if prefix is None or view.is_word(prefix) else view.completions(prefix)


@dataclass(frozen=True)
class _Plan:
    query: Query  # the whole query: what highlights, and scores matches in long text only
    matches: set[int]  # every document that matches
    short_matches: set[int]  # the matches holding a word in a short field
    short_sets: list[tuple[set[int], ...]]  # per optional word: documents holding it in each of SHORT_FIELDS
    exact: set[int]  # documents whose whole name or title is the query


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

    def word_docs(self, words: list[str], fields: tuple[str, ...] = WORD_FIELDS) -> set[int]:
        """Documents holding any of `words` (a word and its alternatives) in any of `fields`."""
        return set().union(*(self.term_docs(f, t) for f in fields for w in words for t in stems(w)))

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
        tags = {tag: n for tag, members in self.tags.items() if (n := len(members & docs))}
        return rules.facets(Counter(self.industry[d] for d in docs), tags)

    def highlight_terms(self, query: Query) -> set[str]:
        return {text.decode() if isinstance(text, bytes) else text
                for _, text in query.existing_terms(self.searcher.reader(), expand=True)}

    def by_docnum(self, scores: Mapping[str, float]) -> dict[int, float]:
        """Scores keyed by template id, keyed by this generation's document numbers instead."""
        out = {}
        for template_id, score in scores.items():
            docnum = self.searcher.document_number(id=template_id)
            if docnum is not None:
                out[docnum] = score
        return out

    def hit(self, docnum: int, terms: set[str]) -> SearchHit:
        fields = self.searcher.stored_fields(docnum)
        return rules.hit(owner=fields["owner"], name=fields["name"], title=fields["display_title"],
                         description=fields.get("description", ""), industry=fields.get("industry", ""),
                         use_case=fields.get("use_case", ""), tags=list(fields.get("display_tags") or []),
                         stars=fields.get("stars", 0), rating=fields.get("rating", 0) / 100,
                         updated_at=fields.get("updated_at", 0) / 1000, listing=fields.get("listing", "published"),
                         terms=terms, excerpt=fields.get("excerpt", ""))
