"""The baseline: every table as the embedded SQLite store had them before migrations existed
(tests/fixtures/legacy_sqlite_schema.sql; such a data directory is stamped here, not built).

Frozen: the tables are spelled out as they were at this revision, not read from schema.py, so
what a later revision adds (tokens.last_used_at in 0003, the events tables in 0006) is added
there. Databases the older form of this revision built from the schema of its day are handled
in registry/meta/db.py (PREMADE).

Revision ID: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _template_fk() -> sa.ForeignKey:
    return sa.ForeignKey("templates.id", ondelete="CASCADE")


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("email", sa.Text),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default="0"),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("visibility", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("owner", "name"),
    )
    op.create_table(
        "collaborators",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "user_id"),
    )
    op.create_table(
        "protections",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "branch"),
    )
    op.create_table(
        "statuses",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("sha", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("problems", sa.Text, nullable=False),
        sa.Column("target_url", sa.Text),
        sa.Column("enqueued", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "sha", "context"),
        sa.Index("statuses_waiting", "state", "enqueued", "updated_at"),
    )
    op.create_table(
        "stars",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "user_id"),
    )
    op.create_table(
        "ratings",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("review", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "user_id"),
    )
    op.create_table(
        "pulls",
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Text, nullable=False) for c in (
            "title", "body", "author", "head_template_id", "head_branch", "base_branch", "state", "head_sha")],
        sa.Column("merged_sha", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("template_id", "number"),
        sa.Index("pulls_by_head", "head_template_id", "head_branch", "state"),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Text, nullable=False) for c in ("author", "event", "body", "sha")],
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("line", sa.Integer),
        sa.Column("side", sa.Text),
        sa.Column("review_id", sa.Integer),
        sa.Column("sha", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("template_id", sa.Text, _template_fk(), nullable=False),
        sa.Column("sha", sa.Text, nullable=False),
        sa.Column("ref", sa.Text),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("backend", sa.Text, nullable=False),
        sa.Column("task_arn", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("logs", sa.Text, nullable=False),
        sa.Column("report", sa.Text),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("cost", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Index("runs_by_template", "template_id", "created_at"),
        sa.Index("runs_by_sha", "template_id", "sha", "trigger"),
    )


def downgrade() -> None:
    for name in ("runs", "comments", "reviews", "pulls", "ratings", "stars", "statuses", "protections",
                 "collaborators", "templates", "tokens", "users"):
        op.drop_table(name)
