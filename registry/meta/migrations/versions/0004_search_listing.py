"""Lifecycle in search: each document's listing (published | invalid | draft | archived), and who may
see its drafts, so the gallery shows published, valid templates by default. PostgreSQL only (like search_docs).

Revision ID: 0004
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A constant default: PostgreSQL records it in the catalogue, no row is rewritten.
    op.execute("ALTER TABLE search_docs ADD COLUMN listing text NOT NULL DEFAULT 'published'")
    op.execute("ALTER TABLE search_docs ADD COLUMN writers text[] NOT NULL DEFAULT '{}'")
    # Built without blocking writes, outside the transaction (a plain CREATE INDEX holds off every
    # upsert until it ends). Not transactional: an interrupted build leaves an invalid index, which
    # the next attempt drops first.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS search_docs_listing")
        op.execute("CREATE INDEX CONCURRENTLY search_docs_listing ON search_docs (listing)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_docs DROP COLUMN listing, DROP COLUMN writers")  # and its index
