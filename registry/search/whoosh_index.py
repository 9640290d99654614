"""SearchIndex on whoosh (whoosh-reloaded): stemmed free text, phrases, prefix type-ahead,
exact filters, facets, highlights. One writer at a time (whoosh's lock, waited for);
readers refresh their searcher on every query, so a commit is visible at once."""
from __future__ import annotations

import fcntl
import threading
from pathlib import Path

from whoosh import index, sorting
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser.plugins import FieldsPlugin, WildcardPlugin
from whoosh.query import And, Every, Or, Prefix, Query, Term
from whoosh.writing import CLEAR

from .base import SearchDoc, SearchHit, SearchQuery, SearchResults

TEXT_FIELDS = ("title", "name_text", "description", "readme", "prompt")
SORT_FIELDS = {"stars": "stars", "updated": "updated_at", "rating": "rating"}
FACETS = {"industry": sorting.FieldFacet("industry", maptype=sorting.Count),
          "tags": sorting.FieldFacet("tags", allow_overlap=True, maptype=sorting.Count)}


def _schema() -> Schema:
    stem = StemmingAnalyzer()
    return Schema(
        id=ID(unique=True, stored=True), owner=ID(stored=True), name=ID(stored=True),
        title=TEXT(analyzer=stem, stored=True, field_boost=4.0),
        name_text=TEXT(analyzer=stem, field_boost=2.0),
        description=TEXT(analyzer=stem, stored=True, field_boost=1.5),
        readme=TEXT(analyzer=stem, stored=True), prompt=TEXT(analyzer=stem),
        industry=ID(stored=True, sortable=True), use_case=ID(stored=True),
        tags=KEYWORD(stored=True, commas=True, scorable=True),
        stars=NUMERIC(int, bits=32, stored=True, sortable=True, default=0),
        # whoosh cannot sort float columns (struct error): both are kept as integers.
        rating=NUMERIC(int, bits=32, stored=True, sortable=True, default=0),  # rating x 100
        updated_at=NUMERIC(int, bits=64, stored=True, sortable=True, default=0),  # epoch ms
        readers=KEYWORD(commas=True), display_tags=STORED,
    )


class WhooshIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".create.lock", "w") as lock:  # two processes may start at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.ix = index.open_dir(str(self.path)) if index.exists_in(str(self.path)) \
                else index.create_in(str(self.path), _schema())
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
    def _searcher(self):
        """This thread's searcher, reopened when a commit happened since. (Not `refresh()`:
        it reuses segment readers and so misses deletions in a segment it already had.)"""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None or not searcher.up_to_date():
            if searcher is not None:
                searcher.close()
            searcher = self._local.searcher = self.ix.searcher()
        return searcher

    def count(self) -> int:
        return self._searcher().doc_count()

    def search(self, query: SearchQuery) -> SearchResults:
        searcher = self._searcher()
        text_query = self._text_query(query.q)
        sortedby = None if query.sort == "relevance" and query.q.strip() else \
            sorting.FieldFacet(SORT_FIELDS.get(query.sort, "updated_at"), reverse=True)
        results = searcher.search_page(text_query, query.page, pagelen=query.per_page, filter=self._filter(query),
                                       sortedby=sortedby, groupedby=FACETS, terms=bool(query.q.strip()))
        hits = [self._hit(hit, bool(query.q.strip())) for hit in results] if results.pagenum == query.page else []
        facets = {name: {str(k): v for k, v in sorted(results.results.groups(name).items(),
                                                      key=lambda kv: (-kv[1], str(kv[0])))}
                  for name in FACETS}
        return SearchResults(results.total, hits, facets)

    def _text_query(self, q: str) -> Query:
        q = q.strip()
        if not q:
            return Every()
        parsed = self.parser.parse(q)
        words = q.split()
        last = words[-1]
        if q.endswith('"') or not last.isalnum() or len(last) < 2:
            return parsed
        # Type-ahead: the last word may be the start of a longer one.
        rest = self.parser.parse(" ".join(words[:-1])) if len(words) > 1 else Every()
        prefix = Or([Prefix(field, last.lower()) for field in TEXT_FIELDS])
        return Or([parsed, And([rest, prefix])])

    @staticmethod
    def _filter(query: SearchQuery) -> Query:
        terms: list[Query] = []
        if query.industry:
            terms.append(Term("industry", query.industry))
        if query.use_case:
            terms.append(Term("use_case", query.use_case))
        if query.owner:
            terms.append(Term("owner", query.owner))
        terms += [Term("tags", tag.lower()) for tag in query.tags]
        if not query.see_all:
            readers = [Term("readers", "*")] + ([Term("readers", query.reader)] if query.reader else [])
            terms.append(Or(readers))
        return And(terms) if terms else Every()

    @staticmethod
    def _hit(hit, highlight: bool) -> SearchHit:
        highlights: dict[str, str] = {}
        if highlight:
            hit.results.formatter = HtmlFormatter(tagname="mark", classname="hl", termclass="t")
            hit.results.fragmenter = ContextFragmenter(maxchars=160, surround=40)
            for field in ("title", "description", "readme"):
                fragment = hit.highlights(field, top=1)
                if fragment:
                    highlights[field] = fragment
        return SearchHit(hit["owner"], hit["name"], hit["title"], hit.get("description", ""),
                         hit.get("industry", ""), hit.get("use_case", ""), list(hit.get("display_tags") or []),
                         hit.get("stars", 0), hit.get("rating", 0) / 100, hit.get("updated_at", 0) / 1000, highlights)


def _fields(doc: SearchDoc) -> dict:
    return {
        "id": doc.id, "owner": doc.owner, "name": doc.name, "title": doc.title or doc.name,
        "name_text": doc.name.replace("-", " ").replace("_", " ").replace(".", " "),
        "description": doc.description, "readme": doc.readme[:20_000], "prompt": doc.prompt[:50_000],
        "industry": doc.industry or "", "use_case": doc.use_case or "",
        "tags": ",".join(t.lower() for t in doc.tags), "display_tags": list(doc.tags),
        "stars": int(doc.stars), "rating": round(doc.rating * 100), "updated_at": int(doc.updated_at * 1000),
        "readers": ",".join(doc.readers),
    }
