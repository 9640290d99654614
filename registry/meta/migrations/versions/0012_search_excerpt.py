"""Gallery cards show the start of each template's prompt: `search_docs.excerpt` (PostgreSQL only,
like search_docs; registry/search/rules.excerpt says what it holds).

The prompt itself is not kept in search_docs (only its words, in `document`), so this cannot fill
the column: rows written before it hold '' (a card shows no excerpt) until their template is
indexed again, which a push to its default branch, a star, a rating or a change of its settings
does for that template, and `registry reindex` for all of them at once.

A constant default: PostgreSQL records it in the catalogue, no row is rewritten, and the ALTER
holds the table only for that.

Revision ID: 0012
"""
from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_docs ADD COLUMN excerpt text NOT NULL DEFAULT ''")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_docs DROP COLUMN excerpt")
