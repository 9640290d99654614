"""SearchIndex on PostgreSQL full-text search (REGISTRY_SEARCH=postgres): the same behaviour as
the whoosh index, checked by the same contract suite, with nothing kept on a node.

One row per template in `search_docs` (migration 0002): a weighted tsvector (title and name A,
tags and description B, README and prompt C) under a GIN index, arrays of tags and readers
under GIN indexes. Queries: every word must match (websearch syntax: "phrases", or, -not),
stemmed in English; the last word also counts as a prefix of a title word (type-ahead), as
whoosh does. Privacy by readers in the WHERE clause, so counts and facets are exact.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, text

from .base import SearchDoc, SearchHit, SearchQuery, SearchResults
from .highlight import mark, ordered, query_terms

SORT_SQL = {"stars": "stars DESC", "updated": "updated_at DESC", "rating": "rating DESC"}
LAST_WORD = re.compile(r"(\w+)$")

UPSERT = text("""
INSERT INTO search_docs (id, owner, name, title, name_words, description, readme, prompt, industry, use_case,
                         tags, display_tags, stars, rating, updated_at, readers)
VALUES (:id, :owner, :name, :title, :name_words, :description, :readme, :prompt, :industry, :use_case,
        :tags, :display_tags, :stars, :rating, :updated_at, :readers)
ON CONFLICT (id) DO UPDATE SET owner=excluded.owner, name=excluded.name, title=excluded.title,
  name_words=excluded.name_words, description=excluded.description, readme=excluded.readme,
  prompt=excluded.prompt, industry=excluded.industry, use_case=excluded.use_case, tags=excluded.tags,
  display_tags=excluded.display_tags, stars=excluded.stars, rating=excluded.rating,
  updated_at=excluded.updated_at, readers=excluded.readers
""")


class PostgresIndex:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ------------------------------------------------------------------------
    def upsert(self, doc: SearchDoc) -> None:
        self.upsert_many([doc])

    def upsert_many(self, docs: list[SearchDoc], replace_all: bool = False) -> None:
        """All in one transaction: readers see the old documents or the new, never half."""
        with self.engine.begin() as conn:
            if replace_all:
                conn.execute(text("DELETE FROM search_docs"))
            if docs:
                conn.execute(UPSERT, [_row(doc) for doc in docs])

    def remove(self, template_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_docs WHERE id = :id"), {"id": template_id})

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_docs")).scalar_one())

    # -- reading ------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResults:
        where, params = ["TRUE"], dict[str, Any]()
        if not query.see_all:
            where.append("readers && :readers")
            params["readers"] = ["*", query.reader] if query.reader else ["*"]
        for column, value in (("industry", query.industry), ("use_case", query.use_case), ("owner", query.owner)):
            if value:
                where.append(f"{column} = :{column}")
                params[column] = value
        if query.tags:
            where.append("tags @> :tags")
            params["tags"] = [t.lower() for t in query.tags]
        rank = "0"
        q = query.q.strip()
        if q:
            where.append(f"document @@ ({_tsquery(q, params)})")
            rank = f"ts_rank_cd(document, ({_tsquery(q, params)}), 1)"
        order = f"{rank} DESC, updated_at DESC" if q and query.sort == "relevance" else \
            f"{SORT_SQL.get(query.sort, 'updated_at DESC')}, id"
        clause = " AND ".join(where)
        params |= {"limit": query.per_page, "offset": (query.page - 1) * query.per_page}
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT owner, name, title, description, industry, use_case, display_tags, stars, rating, "
                f"updated_at FROM search_docs WHERE {clause} ORDER BY {order} LIMIT :limit OFFSET :offset"),
                params).all()
            total = int(conn.execute(text(f"SELECT count(*) FROM search_docs WHERE {clause}"), params).scalar_one())
            industries = conn.execute(text(
                f"SELECT industry, count(*) FROM search_docs WHERE {clause} AND industry <> '' GROUP BY industry"),
                params).all()
            tags = conn.execute(text(
                f"SELECT tag, count(*) FROM search_docs, unnest(tags) AS tag WHERE {clause} GROUP BY tag"),
                params).all()
        terms = query_terms(q) if q else set()
        hits = [_hit(row, terms) for row in rows]
        return SearchResults(total, hits, {"industry": ordered({r[0]: r[1] for r in industries}),
                                           "tags": ordered({r[0]: r[1] for r in tags})})


def _tsquery(q: str, params: dict[str, Any]) -> str:
    """Every word (websearch syntax), or: all but the last, and the last as a title prefix."""
    params["q"] = q
    words = q.split()
    last = LAST_WORD.search(words[-1]) if words and not q.endswith('"') else None
    if last is None or len(last.group(1)) < 2:
        return "websearch_to_tsquery('english', :q)"
    params["q_head"] = " ".join(words[:-1])
    params["prefix"] = last.group(1).lower() + ":*A"
    return ("websearch_to_tsquery('english', :q) || "
            "(websearch_to_tsquery('english', :q_head) && to_tsquery('simple', :prefix))")


def _row(doc: SearchDoc) -> dict[str, Any]:
    return {"id": doc.id, "owner": doc.owner, "name": doc.name, "title": doc.title or doc.name,
            "name_words": doc.name.replace("-", " ").replace("_", " ").replace(".", " "),
            "description": doc.description, "readme": doc.readme[:20_000], "prompt": doc.prompt[:50_000],
            "industry": doc.industry or "", "use_case": doc.use_case or "", "tags": [t.lower() for t in doc.tags],
            "display_tags": list(doc.tags), "stars": int(doc.stars), "rating": float(doc.rating),
            "updated_at": float(doc.updated_at), "readers": list(doc.readers)}


def _hit(row: Any, terms: set[str]) -> SearchHit:
    highlights = {}
    for name, value in (("title", row.title), ("description", row.description)) if terms else ():
        fragment = mark(value or "", terms)
        if fragment:
            highlights[name] = fragment
    return SearchHit(row.owner, row.name, row.title, row.description, row.industry, row.use_case,
                     list(row.display_tags or []), row.stars, row.rating, row.updated_at, highlights)

