"""What every SQL repository stands on, in one place: the `Database` (the engine, and the one
transaction a use case holds, kept in a ContextVar so that every repository used inside `atomic()`
joins it), and `SqlRepository`, the base each repository subclasses to reach it through `_tx`,
`_read` and `_page`. No repository opens a connection of its own."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Table, func, select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..errors import Unavailable


class Database:
    """The engine and the transaction of the current `atomic()` block, shared by every repository
    built on it: one unit of work, however many repositories it touches."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._current: ContextVar[Connection | None] = ContextVar(f"meta-tx-{id(self)}", default=None)

    @contextmanager
    def _connection(self, begin: bool) -> Iterator[Connection]:
        """A pooled connection (in a transaction if `begin`); a pool with none free in time is
        the database being unavailable (an outage holds every connection), not an internal error."""
        try:
            conn = self.engine.connect()
        except PoolTimeout:
            raise Unavailable("the database is unavailable (no free connection); try again shortly") from None
        with conn:
            if begin:
                with conn.begin():
                    yield conn
            else:
                yield conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Every read and write of every repository inside this block is one transaction: all of
        them land, or none (a use case's change and the event recording it)."""
        if self._current.get() is not None:
            yield  # already inside one
            return
        with self._connection(begin=True) as conn:
            token = self._current.set(conn)
            try:
                yield
            finally:
                self._current.reset(token)

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction (BEGIN IMMEDIATE on SQLite); inside `atomic`, a savepoint of its."""
        outer = self._current.get()
        if outer is not None:
            with outer.begin_nested():
                yield outer
            return
        with self._connection(begin=True) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read on: the `atomic` block's when inside one, else a pooled one."""
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self._connection(begin=False) as conn:
            yield conn

    def page(self, table: Table, where: Sequence[ColumnElement[bool]], order_by: Sequence[ColumnElement[Any]],
             offset: int, limit: int) -> tuple[Sequence[Row[Any]], int]:
        """The rows of `table` matching every condition of `where`, `offset` on in that order, at
        most `limit` of them, and how many match in all (counted on the same connection)."""
        with self.read() as c:
            total = c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            rows = c.execute(select(table).where(*where).order_by(*order_by).limit(limit).offset(offset)).all()
        return rows, int(total)


class SqlRepository:
    """The base of every SQL repository: its queries run through the one `Database` it is given."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _tx(self) -> AbstractContextManager[Connection]:
        return self._db.tx()

    def _read(self) -> AbstractContextManager[Connection]:
        return self._db.read()

    def _page(self, table: Table, where: Sequence[ColumnElement[bool]], order_by: Sequence[ColumnElement[Any]],
              offset: int, limit: int) -> tuple[Sequence[Row[Any]], int]:
        return self._db.page(table, where, order_by, offset, limit)
