"""The PostgreSQL search index's tables (REGISTRY_SEARCH=postgres) as SQLAlchemy Core tables, as
migrations 0002-0012 leave them: `search_docs`, one narrow row per template, and `search_words`,
the vocabulary under a trigram index. Apart from schema.metadata, which both dialects create:
these exist on PostgreSQL only. registry/search/pg_index.py and pg_sql.py write and read them in
SQL; this is what the migrations are checked against (tests compare a migrated database with it).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Computed, Float, Index, Integer, MetaData, Table, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

search_metadata = MetaData()

FILTERS = ("industry", "use_case", "owner", "tags")
PENDING: dict[str, Any] = {"postgresql_using": "gin", "postgresql_with": {"gin_pending_list_limit": 256}}



search_docs = Table(
    "search_docs", search_metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("name_words", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("industry", Text, nullable=False, server_default=""),
    Column("use_case", Text, nullable=False, server_default=""),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("display_tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("stars", Integer, nullable=False, server_default="0"),
    Column("rating", Float, nullable=False, server_default="0"),
    Column("updated_at", Float, nullable=False, server_default="0"),
    Column("readers", ARRAY(Text), nullable=False, server_default="{*}"),  # not indexed: nearly all '*'
    Column("listing", Text, nullable=False, server_default="published"),  # 0004
    Column("writers", ARRAY(Text), nullable=False, server_default="{}"),  # 0004
    Column("excerpt", Text, nullable=False, server_default=""),  # the prompt's start, shown on cards (0012)
    Column("document", TSVECTOR, nullable=False),  # what matches, set by each upsert
    Column("rank_vector", TSVECTOR, nullable=False, server_default=""),  # what ranks (0005)
    Column("title_words", TSVECTOR, Computed("to_tsvector('simple', title || ' ' || name_words)")),
    Index("search_docs_tags", "tags", **PENDING),
    *[Index(f"search_docs_{c}", c) for c in ("industry", "use_case", "owner", "stars", "rating", "updated_at")],
    Index("search_docs_listing", "listing"),  # 0004
    Index("search_docs_matching", "document", *FILTERS, **PENDING),  # 0007
    Index("search_docs_title_hits", text("ts_filter(rank_vector, '{a}'::\"char\"[])"), *FILTERS, **PENDING),
    Index("search_docs_title_words", "title_words", *FILTERS, **PENDING),  # type-ahead (0007)
    Index("search_docs_sample", "document", *FILTERS, postgresql_where=text("(hashtext(id) & 7) = 0"),
          **PENDING),  # 0008
)

search_words = Table(
    "search_words", search_metadata,
    Column("word", Text, primary_key=True),
    Index("search_words_trgm", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"},
          postgresql_with={"gin_pending_list_limit": 256}),  # 0005, 0009
)
