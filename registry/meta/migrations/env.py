"""Alembic's entry point: migrates the connection registry.meta.db.upgrade hands in."""
from __future__ import annotations

from alembic import context

from registry.meta.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
