"""The typo lookups' trigram index keeps at most 256 kB of entries not yet merged, as the search
indexes on search_docs have since 0007 (PostgreSQL only, like search_words).

0005 made search_words_trgm with GIN's default pending list of 4 MB. The vocabulary grows with the
documents that bring new words (pg_index.WORDS): the 28,000 words of 20,000 templates loaded at
once sat in that pending list whole, never merged (nothing had vacuumed the table). A pending list
is read in full by every scan of the index, so the planner priced the index above a full scan of
the primary key and took that: each typo lookup (pg_index._near) compared the query word with
every word of the vocabulary, 13-23 ms at 20,000 templates, against ~1 ms from the merged index.
The merge is done here too (gin_clean_pending_list), for databases loaded before.

Revision ID: 0009
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Outside the transaction: ALTER INDEX holds the index exclusively (every write to the table
    # waits) until it commits, so it commits at once, and the merge goes on with writes beside it.
    with op.get_context().autocommit_block():
        op.execute("ALTER INDEX search_words_trgm SET (gin_pending_list_limit = 256)")
        op.execute("SELECT gin_clean_pending_list('search_words_trgm')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX search_words_trgm RESET (gin_pending_list_limit)")
