"""The metadata database in a backup: a consistent copy taken while the registry serves, and put
back. SQLite through its online backup API (one read transaction: a snapshot, writers go on);
PostgreSQL through `pg_dump`'s custom format, in a snapshot the backup also reads the template
ids from (`pg_export_snapshot`), so the repositories copied are exactly those the dump holds;
put back by `pg_restore`. Connection details reach the tools through libpq's environment, never
their command line (where `ps` would show a password)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, make_url, text

from ..errors import BackupError
from ..meta import db
from ..meta.engine import make_engine
from ..settings import Settings

TOOL_TIMEOUT = 3600.0  # seconds a dump or restore may take


@dataclass(frozen=True)
class Dump:
    kind: str  # sqlite | postgresql
    path: Path
    template_ids: list[str]
    revision: str

    @property
    def file_name(self) -> str:
        return "metadata.sqlite3" if self.kind == "sqlite" else "metadata.pgdump"


def kind_of(settings: Settings) -> str:
    url = db.url_for(settings)
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def sqlite_path(settings: Settings) -> Path:
    url = db.url_for(settings)
    return Path(url.removeprefix("sqlite:///"))


def dump(settings: Settings, into: Path) -> Dump:
    """A consistent copy of the metadata in the file `into`, with the template ids it holds."""
    if kind_of(settings) == "sqlite":
        return _dump_sqlite(sqlite_path(settings), into)
    return _dump_postgres(settings, into)


def _dump_sqlite(source: Path, into: Path) -> Dump:
    if not source.exists():
        raise BackupError(f"no metadata database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(into)
    try:
        src.backup(dst)  # pages copied in one read transaction: one moment's state
        ids = [row[0] for row in dst.execute("SELECT id FROM templates ORDER BY id")]
        revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        dst.close()
        src.close()
    return Dump("sqlite", into, ids, str(revision))


def _dump_postgres(settings: Settings, into: Path) -> Dump:
    url = db.url_for(settings)
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            ids = [row[0] for row in conn.execute(text("SELECT id FROM templates ORDER BY id"))]
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            # the snapshot lives as long as this transaction: pg_dump reads it while it is open
            _tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                   f"--file={into}"], url)
    finally:
        engine.dispose()
    return Dump("postgresql", into, ids, str(revision))


def is_empty(settings: Settings) -> bool:
    """Whether the target database holds no registry: absent, no tables, or no users and no templates."""
    if kind_of(settings) == "sqlite" and not sqlite_path(settings).exists():
        return True
    engine = make_engine(db.url_for(settings))
    try:
        return _no_rows(engine)
    finally:
        engine.dispose()


def _no_rows(engine: Engine) -> bool:
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        return not any(conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first()  # noqa: S608 (fixed names)
                       for table in ("users", "templates") if table in tables)


def restore(settings: Settings, kind: str, source: Path, force: bool) -> None:
    """Put a dump back: the SQLite file in place of the data dir's, or pg_restore into the database."""
    if kind != kind_of(settings):
        raise BackupError(f"the backup holds {kind} metadata and this registry uses {kind_of(settings)}: restore "
                          "onto the same kind, then `registry db copy` to move it")
    if kind == "sqlite":
        target = sqlite_path(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, tmp)
        for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            stale.unlink(missing_ok=True)  # of the database being replaced (--force)
        os.replace(tmp, target)
        return
    _tool(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
           *(("--clean", "--if-exists") if force else ()), f"--dbname={make_url(db.url_for(settings)).database}",
           str(source)], db.url_for(settings))


def _tool(args: list[str], url: str) -> None:
    parsed = make_url(url)
    env = dict(os.environ)
    for var, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                       ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value is not None:
            env[var] = str(value)
    for key, given in parsed.query.items():  # sslmode=require and the like
        env[f"PG{key.upper()}"] = given if isinstance(given, str) else given[0]
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL's client tools)")
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{args[0]} took longer than {TOOL_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")
