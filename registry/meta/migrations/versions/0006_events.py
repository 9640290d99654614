"""Events: the append-only record of what happened (audit), webhooks and their deliveries, and
usage counted per template and day (analytics, trending).

Frozen: the tables are spelled out here, not read from schema.py.

Revision ID: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("actor", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("template_id", sa.Text),  # no foreign key: the record outlives a deleted template
        sa.Column("template", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.Column("client_ip", sa.Text),
        sa.Index("events_by_template", "template_id", "id"),
        sa.Index("events_by_time", "time"),
        sa.Index("events_by_actor", "actor", "id"),
        sa.Index("events_by_action", "action", "id"),
        sqlite_autoincrement=True,  # ids are never reused, as PostgreSQL's sequences
    )
    op.create_table(
        "hooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Index("hooks_by_template", "template_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("hook_id", sa.Integer, sa.ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.Integer),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("response_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Index("deliveries_by_hook", "hook_id", "created_at"),
        sa.Index("deliveries_due", "status", "next_attempt_at"),
    )
    op.create_table(
        "usage",
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False, server_default="0")
          for c in ("views", "clones", "fetches", "api_reads", "runs", "stars", "forks")],
        sa.PrimaryKeyConstraint("template_id", "day"),
        sa.Index("usage_by_day", "day"),
    )


def downgrade() -> None:
    for name in ("usage", "deliveries", "hooks", "events"):
        op.drop_table(name)
