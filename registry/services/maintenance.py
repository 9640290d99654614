"""Operators' use cases (the CLI; no route): garbage collection of packs, the metadata schema,
moving metadata to another database."""
from __future__ import annotations

from collections.abc import Callable

from ..container import Container
from ..git.gc import GcReport, repack, run_gc
from ..meta import db
from ..settings import Settings


def gc(c: Container, grace_seconds: float, progress: Callable[[str], None] = lambda msg: None) -> GcReport:
    """Repack every repo to exactly its reachable objects, then drop packs no refs document
    names that are older than `grace_seconds` (a push may be about to name a younger one)."""
    return run_gc(c.repos, grace_seconds, progress)


MAX_PACKS = 32  # a repo whose history arrived in more pushes than this is repacked too


def compact(c: Container, template_id: str) -> bool:
    """The background repack a push asks for (a worker job; idempotent): when branch deletions
    or force pushes left the repo's packs holding unreachable objects (clones then lose the
    fast path that sends stored packs as they are), or when it has many small packs, rewrite it
    as one exact pack. A push landing meanwhile wins; the next push asks again. Old packs stay
    for `registry gc` to drop (forks and pull requests may still name them)."""
    return repack(c.repos, template_id, MAX_PACKS)


def db_upgrade(settings: Settings) -> tuple[str, str]:
    """Migrate the metadata schema to the newest revision: (revision, dialect)."""
    store = db.open_store(settings, migrate=False)
    try:
        return db.upgrade(store.engine, settings), store.engine.dialect.name
    finally:
        store.engine.dispose()


def migrate(c: Container) -> None:
    """The container's own metadata to the newest schema (a server that started while its
    database was down does it once the database is back; Unavailable until then)."""
    db.migrate(c.meta, c.settings)


def db_copy(settings: Settings, to_url: str) -> tuple[dict[str, int], str]:
    """Copy every row into the (empty) database at `to_url`: (rows per table, target shown safely)."""
    source = db.open_store(settings)
    target = db.open_store(settings.model_copy(update={"database_url": to_url}))
    try:
        return db.copy_all(source.engine, target.engine), target.engine.url.render_as_string(hide_password=True)
    finally:
        source.engine.dispose()
        target.engine.dispose()
