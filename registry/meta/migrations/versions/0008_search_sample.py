"""Search past the cap without reading every match of a common word (PostgreSQL only, like
search_docs; registry/search/pg_sql.py).

A GIN index hands over all its matches at once, as a bitmap: at 200,000 templates two common
words make a bitmap of 88,000 rows (14 ms) of which the search reads 2,001. This index holds the
same columns as search_docs_matching (0007) for an eighth of the templates, picked by a hash of
their id: where the planner expects many matches, the sample is read from it (an eighth of the
bitmap), and the total and facets are scaled up by eight.

Built CONCURRENTLY, outside the transaction, so writes to search_docs go on meanwhile; a build
an interruption left behind (perhaps invalid) is dropped first.

Revision ID: 0008
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_sample")
        # The predicate is pg_sql.SHARE's, word for word: the planner matches it so.
        op.execute("CREATE INDEX CONCURRENTLY search_docs_sample ON search_docs "
                   "USING gin (document, industry, use_case, owner, tags) "
                   "WITH (gin_pending_list_limit = 256) WHERE hashtext(id) & 7 = 0")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_sample")
