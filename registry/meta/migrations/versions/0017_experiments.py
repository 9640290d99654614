"""A/B experiments (issue 34): an experiment over a template's variants and its units, the
pieces the worker pool carries out (one part of one variant's cases, once), with their trials as JSON.

Frozen: the tables are spelled out here, not read from experiments_schema.py.

Revision ID: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("requested_by", sa.Text),
        sa.Column("variants", sa.Text, nullable=False),
        sa.Column("cases", sa.Text, nullable=False),
        sa.Column("part_size", sa.Integer, nullable=False),
        sa.Column("repetitions", sa.Integer, nullable=False),
        sa.Column("provider", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Index("experiments_by_template", "template_id", "created_at"),
    )
    op.create_table(
        "experiment_units",
        sa.Column("experiment_id", sa.Text, sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("variant", sa.Integer, nullable=False),
        sa.Column("repetition", sa.Integer, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("trials", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("spent_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("queued_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.PrimaryKeyConstraint("experiment_id", "seq"),
        sa.Index("experiment_units_by_state", "state", "queued_at"),
        sa.Index("experiment_units_by_time", "finished_at"),
    )


def downgrade() -> None:
    op.drop_table("experiment_units")
    op.drop_table("experiments")
