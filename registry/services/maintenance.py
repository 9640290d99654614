"""Operators' use cases (the CLI; no route): garbage collection of packs, the metadata schema,
moving metadata to another database."""
from __future__ import annotations

from collections.abc import Callable

from ..container import Container
from ..git.gc import GcReport, run_gc
from ..meta import db
from ..settings import Settings


def gc(c: Container, grace_seconds: float, progress: Callable[[str], None] = lambda msg: None) -> GcReport:
    """Repack every repo to exactly its reachable objects, then drop packs no refs document
    names that are older than `grace_seconds` (a push may be about to name a younger one)."""
    return run_gc(c.repos, grace_seconds, progress)


def db_upgrade(settings: Settings) -> tuple[str, str]:
    """Migrate the metadata schema to the newest revision: (revision, dialect)."""
    store = db.open_store(settings, migrate=False)
    try:
        return db.upgrade(store.engine, settings), store.engine.dialect.name
    finally:
        store.engine.dispose()


def db_copy(settings: Settings, to_url: str) -> tuple[dict[str, int], str]:
    """Copy every row into the (empty) database at `to_url`: (rows per table, target shown safely)."""
    source = db.open_store(settings)
    target = db.open_store(settings.model_copy(update={"database_url": to_url}))
    try:
        return db.copy_all(source.engine, target.engine), target.engine.url.render_as_string(hide_password=True)
    finally:
        source.engine.dispose()
        target.engine.dispose()
