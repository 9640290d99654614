"""The baseline: every table as the embedded SQLite store had them before migrations existed.

Revision ID: 0001
"""
from __future__ import annotations

from alembic import op

from registry.meta.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
