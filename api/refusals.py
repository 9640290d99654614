"""Who the rate limits refused: per UTC day, each client (`ip:ADDRESS` or `user:NAME`) with how
many of its requests were refused and when last, for the admin dashboard. Kept where every
process and node adds to one record, as the limits' own counters are: in Redis with
REGISTRY_REDIS_URL, in a file of the data dir beside `serve --workers N` (its own, so recording
a refusal never holds the counters' lock), else in this process's memory. Eight days are kept;
a lost record costs a dashboard line, never a request.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from typing import Protocol

from registry.services.admin_stats import LimitedClient
from registry.settings import Settings

log = logging.getLogger(__name__)
KEEP_DAYS = 8
MEMORY_CLIENTS = 10_000  # the in-memory record forgets everything past this many clients a day


def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


def _window(days: int, now: float) -> list[str]:
    return [_day(now - i * 86400) for i in range(min(days, KEEP_DAYS))]


class Refusals(Protocol):
    def record(self, client: str) -> None: ...
    def top(self, days: int, limit: int) -> list[LimitedClient]: ...


def _merge(found: dict[str, tuple[int, float]], client: str, n: int, last: float) -> None:
    was = found.get(client, (0, 0.0))
    found[client] = (was[0] + n, max(was[1], last))


def _ranked(found: dict[str, tuple[int, float]], limit: int) -> list[LimitedClient]:
    ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [LimitedClient(client, n, last) for client, (n, last) in ranked]


class MemoryRefusals:
    def __init__(self) -> None:
        self._days: dict[str, dict[str, tuple[int, float]]] = {}
        self._lock = threading.Lock()

    def record(self, client: str) -> None:
        now = time.time()
        with self._lock:
            today = self._days.setdefault(_day(now), {})
            if client in today or len(today) < MEMORY_CLIENTS:
                _merge(today, client, 1, now)
            keep = set(_window(KEEP_DAYS, now))
            for day in [d for d in self._days if d not in keep]:
                del self._days[day]

    def top(self, days: int, limit: int) -> list[LimitedClient]:
        found: dict[str, tuple[int, float]] = {}
        with self._lock:
            for day in _window(days, time.time()):
                for client, (n, last) in self._days.get(day, {}).items():
                    _merge(found, client, n, last)
        return _ranked(found, limit)


class SQLiteRefusals:
    """In a file of the data dir that `serve --workers N`'s processes share, beside the limits' own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS refusals (day TEXT NOT NULL, client TEXT NOT NULL, "
                       "n INTEGER NOT NULL, last REAL NOT NULL, PRIMARY KEY (day, client))")
            self._local.db = db
        return db

    def record(self, client: str) -> None:
        now = time.time()
        db = self._db()
        db.execute("INSERT INTO refusals (day, client, n, last) VALUES (?, ?, 1, ?) ON CONFLICT (day, client) "
                   "DO UPDATE SET n = n + 1, last = excluded.last", (_day(now), client, now))
        db.execute("DELETE FROM refusals WHERE day < ?", (_day(now - KEEP_DAYS * 86400),))

    def top(self, days: int, limit: int) -> list[LimitedClient]:
        window = _window(days, time.time())
        rows = self._db().execute("SELECT client, SUM(n), MAX(last) FROM refusals WHERE day >= ? GROUP BY client "
                                  "ORDER BY SUM(n) DESC, client LIMIT ?", (window[-1], limit)).fetchall()
        return [LimitedClient(r[0], int(r[1]), float(r[2])) for r in rows]


class RedisRefusals:
    """A sorted set of counts and a hash of last times per day, expiring after KEEP_DAYS."""

    def __init__(self, url: str) -> None:
        from redis import Redis

        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def record(self, client: str) -> None:
        now = time.time()
        day = _day(now)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zincrby(f"registry:refused:{day}", 1, client)
        pipe.hset(f"registry:refused-last:{day}", client, str(now))
        pipe.expire(f"registry:refused:{day}", KEEP_DAYS * 86400)
        pipe.expire(f"registry:refused-last:{day}", KEEP_DAYS * 86400)
        pipe.execute()

    def top(self, days: int, limit: int) -> list[LimitedClient]:
        found: dict[str, tuple[int, float]] = {}
        for day in _window(days, time.time()):
            lasts = {k.decode(): float(v) for k, v in self.redis.hgetall(f"registry:refused-last:{day}").items()}
            for member, score in self.redis.zrevrange(f"registry:refused:{day}", 0, 999, withscores=True):
                client = member.decode()
                _merge(found, client, int(score), lasts.get(client, 0.0))
        return _ranked(found, limit)


def open_refusals(settings: Settings, processes: int) -> Refusals:
    if settings.redis_url:
        return RedisRefusals(settings.redis_url)
    if processes > 1:
        return SQLiteRefusals(str(settings.data_dir / "refusals.sqlite"))  # its own file: never in the counters' way
    return MemoryRefusals()


def safely(refusals: Refusals, client: str) -> None:
    """Record, never failing the request that was refused (its store may be down)."""
    try:
        refusals.record(client)
    except Exception as exc:
        log.warning("could not record a rate-limit refusal: %s", exc)
