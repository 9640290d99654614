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

Every index is built and dropped CONCURRENTLY, outside the transaction: a plain CREATE INDEX
held off every write to search_docs for seconds at 200,000 templates. The type-ahead index is
built under a new name and swapped in, so type-ahead never goes without one. Not transactional:
an interrupted run leaves what it built (perhaps an invalid index), so each build drops a
leftover of its name first and each drop says IF EXISTS; the next attempt runs it all again.

Revision ID: 0007
"""
from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
FILTERS = "industry, use_case, owner, tags"
PENDING = "WITH (gin_pending_list_limit = 256)"


def _build(name: str, definition: str) -> None:
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(f"CREATE INDEX CONCURRENTLY {name} ON search_docs {definition}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")  # trusted: the database owner may
    with op.get_context().autocommit_block():
        _build("search_docs_matching", f"USING gin (document, {FILTERS}) {PENDING}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_document")
        _build("search_docs_title_hits", f"USING gin (ts_filter(rank_vector, '{{a}}'), {FILTERS}) {PENDING}")
        # type-ahead, with the filters now
        _build("search_docs_title_words_new", f"USING gin (title_words, {FILTERS}) {PENDING}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_title_words")
        op.execute("ALTER INDEX search_docs_title_words_new RENAME TO search_docs_title_words")
        # ALTER INDEX holds the index exclusively, so it commits before the merge (not beside it)
        op.execute("ALTER INDEX search_docs_tags SET (gin_pending_list_limit = 256)")
        op.execute("SELECT gin_clean_pending_list('search_docs_tags')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        _build("search_docs_document", "USING gin (document)")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_matching")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_title_hits")
        _build("search_docs_title_words_new", "USING gin (title_words)")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_title_words")
        op.execute("ALTER INDEX search_docs_title_words_new RENAME TO search_docs_title_words")
        op.execute("ALTER INDEX search_docs_tags RESET (gin_pending_list_limit)")
