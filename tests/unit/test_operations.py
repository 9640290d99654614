"""What operators read without a server: the check latency histogram that /metrics grows by what
ended since the last scrape, the storage measurement kept in a blob, and the admin figures'
access rule and window."""
from __future__ import annotations

import time

import pytest

from registry.errors import InvalidInput, PermissionDenied, Unauthenticated
from registry.meta import Status, Template
from registry.services import admin_stats, operations
from tests.unit.usecases import World

SHA, SHA2 = "a" * 40, "b" * 40


@pytest.fixture
def world(tmp_path) -> World:
    return World.make(tmp_path)


def _template(w: World) -> Template:
    return w.c.meta.templates.add(Template("t-ops", "alice", "ops", "public", "", None, 1.0, 1.0))


def test_the_latency_histogram_counts_each_check_once_cumulatively(world):
    c = world.c
    t = _template(world)
    c.meta.checks.add_pending_statuses(t.id, SHA, ("validate", "index"))
    c.meta.checks.set_status(Status(t.id, SHA, "validate", "success", "ok"))
    hist = operations.LatencyHistogram(bounds=(1.0, 60.0))
    counts, total, n = hist.read(c)["validate"]
    assert n == 1 and counts == [1, 1] and 0 <= total < 1
    assert hist.read(c)["validate"][2] == 1  # read again: the overlap counts nothing twice
    c.meta.checks.set_status(Status(t.id, SHA, "index", "failure", "no"))
    c.meta.checks.add_pending_statuses(t.id, SHA2, ("validate",))
    c.meta.checks.set_status(Status(t.id, SHA2, "validate", "error", "boom"))
    got = hist.read(c)
    assert got["validate"][2] == 2 and got["index"][2] == 1  # cumulative, as a Prometheus histogram
    assert "sandbox" not in got  # never ended


def test_storage_is_measured_when_stale_and_kept_for_every_node(world):
    c = world.c
    assert operations.stored_bytes(c) is None
    c.blobs.put("repos/x/packs/p.pack", b"x" * 100)
    first = operations.measure_storage(c)
    assert first is not None and (first.blobs, first.bytes) == (1, 100)
    c.blobs.put("repos/x/packs/q.pack", b"y" * 50)
    assert operations.measure_storage(c) == first  # fresh enough: not listed again
    again = operations.measure_storage(c, max_age=0)
    assert (again.blobs, again.bytes) == (2, 150) and operations.stored_bytes(c) == again
    assert operations.metadata_bytes(c) > 0 and operations.disk(c)[1] > 0


def test_the_site_figures_are_for_admins_within_a_bounded_window(world):
    with pytest.raises(Unauthenticated):
        admin_stats.site_stats(world.c, world.anon)
    with pytest.raises(PermissionDenied):
        admin_stats.site_stats(world.c, world.alice)
    with pytest.raises(InvalidInput):
        admin_stats.site_stats(world.c, world.admin, days=admin_stats.MAX_DAYS + 1)
    _template(world)
    limited = [admin_stats.LimitedClient("ip:192.0.2.1", 3, time.time()),
               admin_stats.LimitedClient("user:bob", 9, time.time())]
    s = admin_stats.site_stats(world.c, world.admin, days=3, rate_limited=limited)
    assert [d.day for d in s.per_day] == sorted(d.day for d in s.per_day) and len(s.per_day) == 3
    assert s.users.total == 4 and s.users.admins == 1 and s.templates.total == 1
    assert [r.client for r in s.rate_limited] == ["user:bob", "ip:192.0.2.1"]


def test_latency_percentiles():
    outcomes = [admin_stats.CheckOutcome("a/b", SHA, "validate", "success", "", float(s), 0.0) for s in range(1, 101)]
    (lat,) = admin_stats.latency(outcomes)
    assert (lat.count, lat.p50_seconds, lat.p95_seconds, lat.max_seconds) == (100, 50.5, 95.05, 100.0)
    (one,) = admin_stats.latency(outcomes[:1])
    assert one.p50_seconds == one.p95_seconds == one.max_seconds == 1.0
