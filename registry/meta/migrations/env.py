"""Alembic's entry point: migrates the connection registry.meta.db.upgrade hands in (not inside a
transaction: Alembic begins them). One transaction per revision: a revision that builds an index
CONCURRENTLY commits what came before it and runs that build outside any transaction
(autocommit_block), and every revision before it stays recorded as done."""
from __future__ import annotations

from alembic import context

from registry.meta.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
