"""Sessions begun with an API token (the /login token form) name that token: such a session
acts with the token's scope, and ends when the token is revoked or expires.

Frozen: the column is spelled out here, not read from accounts_schema.py.

Revision ID: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("token_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("token_id")
