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
    op.execute("ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS listing text NOT NULL DEFAULT 'published'")
    op.execute("ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS writers text[] NOT NULL DEFAULT '{}'")
    op.execute("CREATE INDEX IF NOT EXISTS search_docs_listing ON search_docs (listing)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_docs DROP COLUMN listing, DROP COLUMN writers")
