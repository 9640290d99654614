"""Writes of refs journalled before they are made (services/landing.py): a push's or merge's
follow-up (its events, a pull request's state, its checks) is recorded once even when the
database or the node fails between the refs' compare-and-swap, in the blob store, and the
metadata that records it (issue 27). Rows live seconds; the table stays small.

Frozen: the table is spelled out here, not read from schema.py.

Revision ID: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ref_writes",
        sa.Column("id", sa.Text, primary_key=True),  # the write id in the refs document
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # push | merge
        sa.Column("actor", sa.Text),
        sa.Column("updates", sa.Text, nullable=False),  # JSON [[ref, old, new], ...]
        sa.Column("details", sa.Text, nullable=False),  # JSON
        sa.Column("state", sa.Text, nullable=False),  # pending | recorded
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Index("ref_writes_by_time", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("ref_writes")
