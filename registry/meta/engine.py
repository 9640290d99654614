"""The SQLAlchemy engine for a metadata URL, and the two statements both dialects spell alike.

SQLite (the embedded default): WAL, foreign keys on, and every transaction BEGIN IMMEDIATE, so
a read-then-write never upgrades its lock halfway. PostgreSQL: psycopg 3, a small pool with
pre-ping. Both engines are made fork-safe (a child process never reuses a parent connection).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from .. import telemetry
from ..errors import Unavailable

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, record: ConnectionPoolEntry) -> None:
            dbapi.isolation_level = None  # transactions are ours (BEGIN IMMEDIATE below)
            cursor = dbapi.cursor()
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        # pre_ping: a connection that died with a restarted server is replaced before use, so a
        # database that is back is used at once, with no restart of ours.
        # Bounded waits: a server out of reach (network cut, paused) fails a request in seconds
        # instead of holding its thread for the kernel's TCP timeout.
        # The URL's own settings (?connect_timeout=2) win over these.
        bounded = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3,
                   "keepalives_count": 3}
        given = make_url(url).query
        engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, pool_timeout=10,
                               connect_args={k: v for k, v in bounded.items() if k not in given})
    event.listen(engine, "handle_error", _unavailable)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    telemetry.trace_engine(engine)  # a span per statement while traces are on
    return engine


# SQLSTATEs that mean "not now": connection exceptions (class 08), the server shutting down or
# starting up (57P01-57P03), too many connections, and a transaction to simply run again.
_TRANSIENT_STATES = ("57P01", "57P02", "57P03", "53300", "40001", "40P01")


def _unavailable(ctx: ExceptionContext) -> None:
    """Every database error that says "not now" becomes the domain's Unavailable (a 503 with
    Retry-After, a git refusal with a reason) instead of reaching the caller as an internal error.
    What it says is fixed: the driver's words name hosts and users, and go to the log only."""
    if ctx.is_pre_ping:
        return  # the pool replaces the connection itself
    original = ctx.original_exception
    if ctx.dialect is not None and ctx.dialect.name == "sqlite":
        transient = "locked" in str(original) or "busy" in str(original)
    else:
        state = getattr(original, "sqlstate", None)
        # An OperationalError without SQLSTATE: the connection itself failed (refused, reset, or
        # timed out: psycopg's ConnectionTimeout, a subclass, when the server is out of reach)
        connection_failed = state is None and isinstance(ctx.sqlalchemy_exception, OperationalError)
        transient = ctx.is_disconnect or connection_failed or (
            state is not None and (state.startswith("08") or state in _TRANSIENT_STATES))
    if transient:
        log.warning("database unavailable: %s", str(original).strip()[:300])
        raise Unavailable("the database is unavailable; try again shortly") from original


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str],
           update: Sequence[str]) -> None:
    """INSERT, or on a conflict of `keys` UPDATE the `update` columns: one statement, no race."""
    stmt = _insert(conn, table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                            set_={c: stmt.excluded[c] for c in update}))


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT unless the row exists; whether it was inserted."""
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
    stmt = _insert(conn, table).values(**values).on_conflict_do_nothing()
    return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None


def upsert_add(conn: Connection, table: Table, keys: dict[str, Any], counts: dict[str, int]) -> None:
    """INSERT the row with `counts`, or add them to the existing row's: one statement, no lost update."""
    if not counts:
        return
    stmt = _insert(conn, table).values(**keys, **counts)
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                            set_={c: table.c[c] + stmt.excluded[c] for c in counts}))
