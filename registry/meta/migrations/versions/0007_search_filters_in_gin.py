"""Search past 2,000 matches (PostgreSQL only, like search_docs; registry/search/pg_sql.py).

The text match and the exact filters in one GIN index. A query with a word and a filter
(industry, use case, owner, tags) read every text match's row to test the filter: at 200,000
templates a common word matches 90,000 rows and `industry = x` keeps one in eight. Given the
filter as an index condition beside the text, the planner took the filter's btree alone and read
each candidate's out-of-line document instead (10x slower still). One multicolumn GIN index
(btree_gin for the text columns) intersects both in the index: only the rows that pass are read
(10 ms against 100 at 20,000 templates). It serves the text match alone too, so it replaces the
document's index.

The title and name words (weight A of the rank vector) under a GIN index, the filters beside
them: past the cap, the relevance candidates. The type-ahead title words' index takes the filters
too (a type-ahead query is an OR of two index scans: each takes them).

The search GIN indexes keep at most 256 kB of entries not yet merged (the default is 4 MB): a
query reads that pending list whole, which cost 7 ms a search after loading 200,000 templates.

Revision ID: 0007
"""
from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
FILTERS = "industry, use_case, owner, tags"
GIN = ("search_docs_matching", "search_docs_title_hits", "search_docs_title_words", "search_docs_tags")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")  # trusted: the database owner may
    op.execute(f"CREATE INDEX IF NOT EXISTS search_docs_matching ON search_docs USING gin (document, {FILTERS})")
    op.execute("DROP INDEX IF EXISTS search_docs_document")
    op.execute("CREATE INDEX IF NOT EXISTS search_docs_title_hits ON search_docs "
               f"USING gin (ts_filter(rank_vector, '{{a}}'), {FILTERS})")
    op.execute("DROP INDEX IF EXISTS search_docs_title_words")  # type-ahead, with the filters now
    op.execute(f"CREATE INDEX search_docs_title_words ON search_docs USING gin (title_words, {FILTERS})")
    for name in GIN:
        op.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = 256)")
        op.execute(f"SELECT gin_clean_pending_list('{name}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS search_docs_document ON search_docs USING gin (document)")
    op.execute("DROP INDEX IF EXISTS search_docs_matching")
    op.execute("DROP INDEX IF EXISTS search_docs_title_hits")
    op.execute("DROP INDEX IF EXISTS search_docs_title_words")
    op.execute("CREATE INDEX search_docs_title_words ON search_docs USING gin (title_words)")
    for name in GIN[2:]:
        op.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
