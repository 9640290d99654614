"""What operators' metrics and the admin dashboard read: queue depths, check latency from push,
webhook outcomes, and what the registry takes on disk.

Storage used is measured by listing the blob store (a request per thousand blobs on S3), so it
is not measured per scrape or per page: the reconciler's full pass measures it when the last
measurement is older than STORAGE_MAX_AGE, and keeps it in a small blob every node reads."""
from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..container import Container
from ..errors import NotFound, StorageError
from ..meta import db

log = logging.getLogger(__name__)
LATENCY_BOUNDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
STORAGE_KEY = "ops/storage.json"
STORAGE_MAX_AGE = 3600.0


def queue_depths(c: Container) -> dict[str, int]:
    """Jobs waiting per queue; empty when the queue cannot be asked (Redis down, no queue)."""
    if c.queue_depths is None:
        return {}
    try:
        return c.queue_depths()
    except Exception:  # Redis unreachable: the scrape goes on without these
        return {}


class LatencyHistogram:
    """Push-to-final-status seconds per check, as a Prometheus histogram wants them: cumulative
    counts per bound, their sum and count, growing from the first read (the last hour's checks)
    on. Each read adds only the checks that ended since the one before (index ranges of the
    statuses, `meta.stats.check_outcomes`), so a scrape costs the same at 200,000 templates as
    at 20; a check is counted once, though reads overlap by OVERLAP seconds to catch statuses
    whose commit came a little after the time they carry."""

    FIRST = 3600.0
    OVERLAP = 120.0
    MAX_ROWS = 100_000

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS) -> None:
        self.bounds = bounds
        self._per: dict[str, tuple[list[int], list[float]]] = {}  # context -> (counts per bound + total, [sum])
        self._since: float | None = None
        self._seen: dict[tuple[str, str, str, float], float] = {}
        self._lock = threading.Lock()

    def read(self, c: Container) -> dict[str, tuple[list[int], float, int]]:
        with self._lock:
            now = time.time()
            lo = now - self.FIRST if self._since is None else self._since - self.OVERLAP
            for o in c.meta.stats.check_outcomes(lo, self.MAX_ROWS):
                key = (o.template, o.sha, o.context, o.at)
                if key in self._seen:
                    continue
                self._seen[key] = o.at
                counts, total = self._per.setdefault(o.context, ([0] * (len(self.bounds) + 1), [0.0]))
                for i, bound in enumerate(self.bounds):
                    counts[i] += o.seconds <= bound
                counts[-1] += 1
                total[0] += o.seconds
            self._since = now
            self._seen = {k: at for k, at in self._seen.items() if at >= now - 2 * self.OVERLAP}
            return {ctx: (counts[:-1], total[0], counts[-1]) for ctx, (counts, total) in self._per.items()}


def delivery_counts(c: Container) -> dict[str, int]:
    return c.meta.events.delivery_counts()


@dataclass(frozen=True)
class Stored:
    blobs: int
    bytes: int
    at: float  # when measured


def stored_bytes(c: Container) -> Stored | None:
    """The last measurement of the blob store (repositories' packs and refs), None before the first."""
    try:
        return Stored(**json.loads(c.blobs.get(STORAGE_KEY).data))
    except (NotFound, StorageError, ValueError, TypeError):
        return None


def measure_storage(c: Container, max_age: float = STORAGE_MAX_AGE) -> Stored | None:
    """Measure the blob store again when the last measurement is older than `max_age`."""
    last = stored_bytes(c)
    if last is not None and time.time() - last.at < max_age:
        return last
    started = time.monotonic()
    blobs, size = c.blobs.usage("repos/")
    measured = Stored(blobs, size, time.time())
    c.blobs.put(STORAGE_KEY, json.dumps(asdict(measured)).encode())
    log.info("storage measured: %d blobs, %d bytes, in %.1f s", blobs, size, time.monotonic() - started)
    return measured


def disk(c: Container) -> tuple[int, int] | None:
    """(free, total) bytes of the file system holding the data dir."""
    try:
        usage = shutil.disk_usage(c.settings.data_dir)
    except OSError:
        return None
    return usage.free, usage.total


def metadata_bytes(c: Container) -> int | None:
    """The metadata database's size: its files (SQLite), or as PostgreSQL reports it."""
    found = c.meta.stats.database_bytes()
    if found is not None:
        return found
    path = db.url_for(c.settings).removeprefix("sqlite:///")
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += Path(path + suffix).stat().st_size
        except OSError:
            continue
    return total or None
