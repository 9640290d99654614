"""Events: the append-only record of what happened (audit), webhooks and their deliveries, and
usage counted per template and day (analytics, trending).

Revision ID: 0006
"""
from __future__ import annotations

from alembic import op

from registry.meta import schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (schema.events, schema.hooks, schema.deliveries, schema.usage)


def upgrade() -> None:
    for table in TABLES:  # a database made at 0001 from today's schema has them already
        table.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for table in reversed(TABLES):
        table.drop(op.get_bind(), checkfirst=True)
