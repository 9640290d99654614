"""Alembic migrations of the metadata schema (run through registry.meta.db.upgrade)."""
