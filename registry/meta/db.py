"""Opening the metadata database and migrating it (`registry db upgrade`; serve, worker and
every other command do it at start). N nodes starting together migrate once: PostgreSQL takes
an advisory lock for the migration, SQLite a file lock beside the database. A SQLite data
directory from before migrations existed (tables, no alembic_version) is stamped as the
baseline, then upgraded in place."""
from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

from ..errors import InvalidInput
from ..settings import Settings
from .engine import make_engine
from .schema import metadata
from .sql import SqlMetaStore

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
HEAD = "0017"  # the newest revision in migrations/versions (a test keeps the two in step)
LOCK_ID = 7_274_611  # pg_advisory_lock key for migrations
LOCK_POLL = 0.2  # seconds between attempts to take it


def url_for(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.metadata_db}"


def open_store(settings: Settings, migrate: bool = True) -> SqlMetaStore:
    engine = make_engine(url_for(settings))
    if migrate:
        upgrade(engine, settings)
    return SqlMetaStore(engine)


def migrate(store: object, settings: Settings) -> None:
    """Bring a store opened with `migrate=False` to the newest schema (a server that started while
    its database was down does it once the database is back)."""
    if isinstance(store, SqlMetaStore):
        upgrade(store.engine, settings)


def engine_of(store: object) -> Engine:
    """The engine behind a MetaStore (the PostgreSQL search index shares it)."""
    if not isinstance(store, SqlMetaStore):
        raise TypeError("REGISTRY_SEARCH=postgres needs the SQL metadata store")
    if store.engine.dialect.name != "postgresql":
        raise InvalidInput("REGISTRY_SEARCH=postgres needs REGISTRY_DATABASE_URL=postgresql://...")
    return store.engine


def dispose(store: object) -> None:
    """Close the pooled connections behind a MetaStore (opened again on next use)."""
    if isinstance(store, SqlMetaStore):
        store.engine.dispose()


def upgrade(engine: Engine, settings: Settings) -> str:
    """Bring the schema to the newest revision; returns it."""
    with _migration_lock(engine, settings), engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        # Alembic begins a transaction per revision (migrations/env.py), so each command starts
        # outside one: a stamp leaves its own open, and an autocommit block needs it closed.
        conn.commit()
        if "users" in tables and "alembic_version" not in tables:
            command.stamp(cfg, BASELINE)  # made by the store before migrations: it is the baseline
            conn.commit()
        for revision in _premade(conn):
            command.upgrade(cfg, PREMADE[revision][0])
            command.stamp(cfg, revision)
            conn.commit()
        command.upgrade(cfg, "head")
        conn.commit()
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


# Until revisions stated their own DDL, 0001 built every table of the schema.py of its day, so a
# database it made and left below 0003 or 0006 holds what those add already (a column, tables).
# Such a revision is stamped as done there, not run: revision -> (the one before it, what it adds).
PREMADE = {
    "0003": ("0002", ("tokens.last_used_at",)),
    "0006": ("0005", ("events", "hooks", "deliveries", "usage")),
}


def _premade(conn: Connection) -> list[str]:
    """The revisions in PREMADE this database is below and holds everything of."""
    schema = inspect(conn)
    tables = set(schema.get_table_names())
    current = None
    if "alembic_version" in tables:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    held = set(tables)
    if "tokens" in tables:
        held |= {f"tokens.{c['name']}" for c in schema.get_columns("tokens")}
    conn.commit()
    return [revision for revision, (_, adds) in PREMADE.items()
            if current is not None and current < revision and held.issuperset(adds)]


def copy_all(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row of every table from `source` into the (migrated, empty) `target`, parents
    before children, in one transaction; PostgreSQL's id sequences then continue after the copied
    ids. How an embedded install moves its metadata to PostgreSQL (`registry db copy`)."""
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(table.select())]
            if rows:
                dst.execute(table.insert(), rows)
            counts[table.name] = len(rows)
        if dst.dialect.name == "postgresql":
            for table in metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is True and counts[table.name]:
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"(SELECT MAX(id) FROM {table.name}))"))
    return counts


@contextmanager
def _migration_lock(engine: Engine, settings: Settings) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            _pg_lock(conn, True)
            try:
                yield
            finally:
                _pg_lock(conn, False)
        return
    lock_path = Path(settings.data_dir) / ".migrate.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pg_lock(conn: Connection, take: bool) -> None:
    """Take or release the migration lock. Taken by polling, not by waiting in pg_advisory_lock: a
    backend blocked there holds a snapshot, and CREATE INDEX CONCURRENTLY (0004, 0007, 0008) waits
    for every older snapshot in the database, so the node migrating would wait for the nodes
    waiting for it, for ever."""
    if not take:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_ID})
    while take and not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_ID}).scalar():
        conn.commit()
        time.sleep(LOCK_POLL)
    conn.commit()
