"""Rate-limit counters in a SQLite file, for the N processes of `registry serve --workers N` on one
machine without Redis (issue 14): each process counting on its own would let a client through
N times the configured rate.

A `limits` storage (its scheme registers it with `storage_from_string`) for the sliding-window
counter strategy, with the same window arithmetic as the library's memory storage. Each hit is
one immediate transaction, so two processes never both take the last slot. The counters are
ephemeral: no fsync, and a lost file only resets them.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from math import floor

from limits.storage import Storage, storage_from_string
from limits.storage.base import SlidingWindowCounterSupport

from registry.settings import Settings

SCHEME = "registry+sqlite"


def storage_for(settings: Settings, processes: int = 1) -> Storage:
    """Where counters live: Redis when configured (every node counts together), else this file of
    the data dir when several processes serve, else memory."""
    uri = settings.redis_url or (f"{SCHEME}://{settings.data_dir / 'ratelimits.sqlite'}" if processes > 1 else "memory://")
    store = storage_from_string(uri)
    assert isinstance(store, Storage)  # a synchronous store (no async+ scheme is ever named)
    return store


class SQLiteStorage(Storage, SlidingWindowCounterSupport):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS counters "
                       "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)")
            self._local.db = db
        return db

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @staticmethod
    def _get(db: sqlite3.Connection, key: str, now: float) -> int:
        row = db.execute("SELECT value FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _add(db: sqlite3.Connection, key: str, amount: int, expiry: float, now: float) -> int:
        row = db.execute("SELECT value, expires FROM counters WHERE key = ?", (key,)).fetchone()
        value = int(row[0]) + amount if row and row[1] > now else amount
        expires = row[1] if row and row[1] > now else now + expiry
        db.execute("INSERT OR REPLACE INTO counters (key, value, expires) VALUES (?, ?, ?)", (key, value, expires))
        if value == amount:  # a new window: the expired ones go, now and then
            db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return value

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._immediate() as db:
            return self._add(db, key, amount, expiry, time.time())

    def get(self, key: str) -> int:
        return self._get(self._db(), key, time.time())

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._immediate() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._immediate() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))

    @staticmethod
    def _keys(key: str, expiry: int, now: float) -> tuple[str, str]:
        return f"{key}/{int((now - expiry) / expiry)}", f"{key}/{int(now / expiry)}"

    def _window(self, db: sqlite3.Connection, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self._keys(key, expiry, now)
        previous, current = self._get(db, previous_key, now), self._get(db, current_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._immediate() as db:
            previous, previous_ttl, current, _ = self._window(db, key, expiry, now)
            if floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            self._add(db, self._keys(key, expiry, now)[1], amount, 2 * expiry, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return self._window(self._db(), key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window_key in self._keys(key, expiry, time.time()):
            self.clear(window_key)
