"""Evaluation results of pull requests (issue 34): one row per (commit, test case, parameters,
provider, model), so a case whose commit was evaluated is not asked of the model again; `digest`
(the rendered input: prompt configuration, case and price) finds a result of another commit whose
input is the same. `spent_usd` is what the row's model calls cost when they were made (0 for a row
copied from another commit): the monthly budget per owner adds it up.

Frozen: the table is spelled out here, not read from schema.py.

Revision ID: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_results",
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha", sa.Text, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),  # sha256 of the case's parameters, canonical JSON
        sa.Column("provider", sa.Text, nullable=False),  # kind, or "" without a provider
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),  # JSON: the runner's case result
        sa.Column("spent_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "sha", "file", "name", "params", "provider", "model"),
        sa.Index("eval_results_by_digest", "template_id", "digest", "provider", "model"),
        sa.Index("eval_results_by_time", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("eval_results")
