"""Usage counted per template and day: reads (page views, clones, fetches, API reads) are counted
in memory and added to the database in batches (a read never waits on a write); stars, forks
and runs are counted with the events that record them (registry.events).

`flush` is called by the reconciler's loop every few seconds (more often beside other server
processes, which an analytics read asks through `peers` to add theirs), before analytics
are read, and at shutdown; what a killed process had not flushed is lost (at most those seconds
of reads).
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Protocol

from .errors import NotFound
from .meta import MetaStore

READ_KINDS = ("views", "clones", "fetches", "api_reads")
NAMED = "@"  # a key holding owner/name instead of a template id


class Peers(Protocol):
    """The other processes of the same server (`serve --workers N`), which count reads too."""

    def flush_others(self) -> None:
        """Return once each has added what it counted before this call (or a bounded wait ended)."""


class UsageCounter:
    def __init__(self, peers: Peers | None = None) -> None:
        self.peers = peers  # a server of several processes: the others (workers.bootstrap)
        self._lock = threading.Lock()
        self._pending: Counter[tuple[str, str, str]] = Counter()

    def count_named(self, owner: str, name: str, kind: str) -> None:
        """As `count`, for a template known by name (resolved when flushed)."""
        self.count(f"{NAMED}{owner}/{name}", kind)

    def count(self, template_id: str, kind: str, at: float | None = None) -> None:
        if kind not in READ_KINDS:
            raise ValueError(f"not a read count: {kind}")
        day = day_of(at if at is not None else time.time())
        with self._lock:
            self._pending[(template_id, day, kind)] += 1

    def flush(self, store: MetaStore) -> int:
        """Add what was counted to the store; returns how many rows were written. What a failed
        write held is counted again on the next flush."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        rows: dict[tuple[str, str], dict[str, int]] = {}
        ids: dict[str, str | None] = {}
        try:
            for (key, day, kind), n in pending.items():
                template_id = ids[key] if key in ids else ids.setdefault(key, _resolve(store, key))
                if template_id is not None:
                    counts = rows.setdefault((template_id, day), {})
                    counts[kind] = counts.get(kind, 0) + n
        except Exception:  # the database is away: everything waits for the next flush
            self._restore([((key, day), {kind: n}) for (key, day, kind), n in pending.items()])
            raise
        written = 0
        items = list(rows.items())
        for i, ((template_id, day), counts) in enumerate(items):
            try:
                store.activity.add_usage(template_id, day, counts)
                written += 1
            except Exception as exc:
                if _gone(exc):
                    continue  # the template was deleted meanwhile
                self._restore(items[i:])
                raise
        return written

    def _restore(self, rows: list[tuple[tuple[str, str], dict[str, int]]]) -> None:
        with self._lock:
            for (template_id, day), counts in rows:
                for kind, n in counts.items():
                    self._pending[(template_id, day, kind)] += n


def day_of(at: float) -> str:
    """The UTC day of a time, as usage counts it: YYYY-MM-DD."""
    return time.strftime("%Y-%m-%d", time.gmtime(at))


def _resolve(store: MetaStore, key: str) -> str | None:
    if not key.startswith(NAMED):
        return key
    owner, _, name = key[len(NAMED):].partition("/")
    try:
        return store.templates.get(owner, name).id
    except NotFound:
        return None


def _gone(exc: Exception) -> bool:
    """A foreign key refused the row: its template no longer exists."""
    return "foreign key" in str(exc).lower()
