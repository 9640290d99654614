"""The whole site at a glance, for admins: the admin dashboard (`/admin`) and `GET
/api/v1/admin/stats` read the same figures from here.

Counts of users and templates, storage used (blobs, as last measured; the metadata database;
the data dir's disk), pushes, usage and model spend per day, queue depth and check latency, failing checks,
webhook failures, rate-limited clients and the most used templates. Every figure reads a
bounded window (`days`, at most MAX_DAYS), so the dashboard costs the same at 200,000 templates
as at 20. Rate-limited clients are counted by the adapter that refuses them (no metadata of
theirs), and handed in.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import quantiles

from ..access import Actor
from ..container import Container
from ..errors import InvalidInput, PermissionDenied
from ..meta.records_stats import CheckOutcome, DeliveryFailure, TemplateCounts, TemplateUsage, UserCounts
from . import guard, operations
from .audit import TRENDING_WEIGHTS

MAX_DAYS = 90
OUTCOMES = 2000  # final checks read for latency: the newest this many in the window
FAILED = ("failure", "error")
RECENT = 10  # failing checks and webhook failures listed
TOP = 10


@dataclass(frozen=True)
class LimitedClient:
    """A client refused by a rate limit: `ip:ADDRESS` or `user:NAME`."""

    client: str
    refused: int
    last_at: float


@dataclass(frozen=True)
class Day:
    day: str  # YYYY-MM-DD (UTC)
    pushes: int
    counts: dict[str, int]  # usage kinds (views, clones, fetches, api_reads, runs, stars, forks)
    cost_usd: float = 0.0  # what models cost every template that day: evaluations, finished runs


@dataclass(frozen=True)
class Latency:
    context: str
    count: int
    p50_seconds: float
    p95_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class StorageUse:
    blob_count: int | None  # None until first measured
    blob_bytes: int | None
    measured_at: float | None
    metadata_bytes: int | None
    disk_free_bytes: int | None  # of the data dir's file system
    disk_total_bytes: int | None


@dataclass(frozen=True)
class SiteStats:
    generated_at: float
    days: int
    users: UserCounts
    templates: TemplateCounts
    storage: StorageUse
    per_day: list[Day]
    queue_depth: dict[str, int]
    check_latency: list[Latency]
    failing_checks: int  # checks that ended failure or error in the window
    failing: list[CheckOutcome]
    webhook_failures: dict[str, int]  # failed, refused: in the window
    webhook_failed: list[DeliveryFailure]
    rate_limited: list[LimitedClient] = field(default_factory=list)
    top_templates: list[TemplateUsage] = field(default_factory=list)


def site_stats(c: Container, actor: Actor, days: int = 30, rate_limited: Sequence[LimitedClient] = ()) -> SiteStats:
    """The figures of the last `days` days (UTC days, today included); admins only."""
    guard.signed_in(actor, "see the site's figures")
    if not actor.is_admin:
        raise PermissionDenied("only admins (with an admin-scoped token) may see the site's figures")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    now = time.time()
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()
    stats = c.meta.stats
    c.usage.flush(c.meta)  # this process's reads of the last seconds count too
    pushes = stats.events_per_day("push", since)
    usage = stats.usage_per_day(first.isoformat())
    spent = c.meta.evals.spent_per_day(None, since, since + days * 86400)
    per_day = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        number = (day - dt.date(1970, 1, 1)).days
        per_day.append(Day(day.isoformat(), pushes.get(number, 0), usage.get(day.isoformat(), {}),
                           spent.get(day.isoformat(), 0.0)))
    outcomes = stats.check_outcomes(since, OUTCOMES)
    failed_counts, failed = stats.delivery_failures(since, RECENT)
    return SiteStats(
        generated_at=now, days=days, users=stats.users(since), templates=stats.templates(since),
        storage=storage(c), per_day=per_day, queue_depth=operations.queue_depths(c),
        check_latency=latency(outcomes),
        failing_checks=stats.count_outcomes(since, FAILED),
        failing=stats.check_outcomes(since, RECENT, FAILED),
        webhook_failures={"failed": failed_counts.get("failed", 0), "refused": failed_counts.get("refused", 0)},
        webhook_failed=failed,
        rate_limited=sorted(rate_limited, key=lambda r: (-r.refused, r.client))[:TOP],
        top_templates=stats.top_templates(first.isoformat(), TRENDING_WEIGHTS, TOP))


def latency(outcomes: Sequence[CheckOutcome]) -> list[Latency]:
    """Push to final status, per check: median, 95th percentile and slowest."""
    by_context: dict[str, list[float]] = {}
    for outcome in outcomes:
        by_context.setdefault(outcome.context, []).append(outcome.seconds)
    out = []
    for context, took in sorted(by_context.items()):
        took.sort()
        if len(took) > 1:
            cuts = quantiles(took, n=100, method="inclusive")
            p50, p95 = cuts[49], cuts[94]
        else:
            p50 = p95 = took[0]
        out.append(Latency(context, len(took), round(p50, 3), round(p95, 3), round(took[-1], 3)))
    return out


def storage(c: Container) -> StorageUse:
    measured = operations.stored_bytes(c)
    disk = operations.disk(c)
    return StorageUse(measured.blobs if measured else None, measured.bytes if measured else None,
                      measured.at if measured else None, operations.metadata_bytes(c),
                      disk[0] if disk else None, disk[1] if disk else None)
