"""Dependency graph: which template each one extends (read from its default branch head by the
`index` check), so a template's dependents are one indexed query; and the per-template setting
that turns off update pull requests (on by default).

Frozen: the table and column are spelled out here, not read from schema.py.

Revision ID: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("update_pulls", sa.Boolean(), nullable=False, server_default="1"))
    op.create_table(
        "dependencies",
        sa.Column("template_id", sa.Text, sa.ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("parent", sa.Text, nullable=False),  # "owner/name" as written in extends.template
        sa.Column("ref", sa.Text, nullable=False),  # extends.ref: a tag, sha, branch or range
        sa.Column("sha", sa.Text, nullable=False),  # the head it was read from
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Index("dependencies_by_parent", "parent"),
    )


def downgrade() -> None:
    op.drop_table("dependencies")
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("update_pulls")
