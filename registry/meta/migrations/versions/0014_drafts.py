"""Shared drafts (live co-editing): the drafts, their files' documents (a compacted snapshot and
the updates appended since, numbered per file), who edited each, and the files a rebase left in
conflict with every side's text.

Frozen: the tables are spelled out here, not read from drafts_schema.py.

Revision ID: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("base", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("last_commit", sa.Text),
        sa.Column("pull_number", sa.Integer),
        sa.Column("rebased", sa.Text),
        sa.Index("drafts_by_branch", "template_id", "branch"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "draft_files",
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("snapshot", sa.LargeBinary, nullable=False),
        sa.Column("snapshot_seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "path"),
    )
    op.create_table(
        "draft_updates",
        sa.Column("draft_id", sa.Integer, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "path", "seq"),
        sa.ForeignKeyConstraint(["draft_id", "path"], ["draft_files.draft_id", "draft_files.path"],
                                ondelete="CASCADE"),
    )
    op.create_table(
        "draft_editors",
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("first_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "user_id"),
    )
    op.create_table(
        "draft_conflicts",
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("base_sha", sa.Text, nullable=False),
        sa.Column("theirs_sha", sa.Text, nullable=False),
        sa.Column("base", sa.LargeBinary),
        sa.Column("theirs", sa.LargeBinary),
        sa.Column("ours", sa.LargeBinary, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "path"),
    )


def downgrade() -> None:
    for name in ("draft_conflicts", "draft_editors", "draft_updates", "draft_files", "drafts"):
        op.drop_table(name)
