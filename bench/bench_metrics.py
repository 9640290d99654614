"""What a /metrics scrape and the admin figures cost at 200,000 templates (issue 36; `python -m
bench.bench_metrics`, about 2 minutes): PostgreSQL
filled with 200,000 templates, four final statuses each (800,000 rows, a tenth of them in the last
day), 200,000 webhook deliveries, 400,000 push events and 30 days of usage for 20,000 of them;
then each aggregate timed (median of 5). The statuses ended 10 minutes ago and more: a later
scrape reads what ended since the last one (nothing, here) and the overlap before it."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from registry.container import Container
from registry.services import admin_stats, operations
from registry.settings import Settings
from tests.pg import pg_database

TEMPLATES = 200_000


def _fill(engine) -> None:
    now = time.time()
    with engine.begin() as c:
        c.execute(text("INSERT INTO templates (id, owner, name, visibility, description, created_at, updated_at) "
                       "SELECT 't' || g, 'owner' || (g % 1000), 'name' || g, 'public', '', :now, :now "
                       "FROM generate_series(1, :n) g"), {"n": TEMPLATES, "now": now})
        c.execute(text("INSERT INTO statuses (template_id, sha, context, state, description, problems, enqueued, "
                       "created_at, updated_at) SELECT 't' || g, md5(g::text) || 'abcdefgh', ctx, "
                       "CASE WHEN g % 10 = 0 THEN 'failure' ELSE 'success' END, '', '[]', 1, "
                       ":now - 600 - (g % 30) * 86400 - 5, :now - 600 - (g % 30) * 86400 "
                       "FROM generate_series(1, :n) g, unnest(ARRAY['validate','index','sandbox','semver']) ctx"),
                  {"n": TEMPLATES, "now": now})
        c.execute(text("INSERT INTO hooks (template_id, url, events, secret, active, created_at, updated_at) "
                       "SELECT 't' || g, 'https://example.com/h', '[\"*\"]', 's', true, :now, :now "
                       "FROM generate_series(1, :n) g"), {"n": TEMPLATES, "now": now})
        c.execute(text("INSERT INTO deliveries (id, hook_id, event, body, status, attempts, next_attempt_at, "
                       "created_at, updated_at) SELECT 'd' || g, g, 'push', '{}', CASE WHEN g % 50 = 0 THEN 'failed' "
                       "ELSE 'delivered' END, 1, :now, :now - (g % 30) * 86400, :now - (g % 30) * 86400 "
                       "FROM generate_series(1, :n) g"), {"n": TEMPLATES, "now": now})
        c.execute(text("INSERT INTO events (time, actor, action, template_id, template, payload) "
                       "SELECT :now - (g % 60) * 86400, 'owner', CASE WHEN g % 2 = 0 THEN 'push' ELSE 'star.created' END, "
                       "'t' || (g % :n + 1), 'o/n', '{}' FROM generate_series(1, :e) g"),
                  {"n": TEMPLATES, "e": 2 * TEMPLATES, "now": now})
        c.execute(text("INSERT INTO usage (template_id, day, views, clones) SELECT 't' || g, "
                       "to_char(now() - (d || ' days')::interval, 'YYYY-MM-DD'), g % 7, g % 3 "
                       "FROM generate_series(1, 20000) g, generate_series(0, 29) d"))
        c.execute(text("ANALYZE"))


def _timed(fn, runs: int = 5) -> float:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


def main() -> None:
    with pg_database(migrated=True) as url:
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=url, search="postgres")
        c = Container.build(settings, migrate=False)
        started = time.perf_counter()
        _fill(c.meta.engine)
        print(f"filled {TEMPLATES:,} templates in {time.perf_counter() - started:.0f} s")
        admin = c.meta.users.add("root", None, True)
        from registry.access import Actor

        actor = Actor(admin, "admin")
        full = lambda: c.meta.checks.latencies(operations.LATENCY_BOUNDS)  # noqa: E731
        hist = operations.LatencyHistogram()
        started = time.perf_counter()
        hist.read(c)
        print(f"/metrics check latency, first read (the last hour: 26,668 checks here): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        for name, fn in (("/metrics check latency, each later scrape", lambda: hist.read(c)),
                         ("(before: the whole statuses table per scrape)", full),
                         ("/metrics deliveries by status (once a minute)", lambda: operations.delivery_counts(c)),
                         ("admin figures, 30 days", lambda: admin_stats.site_stats(c, actor, 30)),
                         ("admin figures, 7 days", lambda: admin_stats.site_stats(c, actor, 7))):
            print(f"{name}: {_timed(fn):.0f} ms")
        c.close()


if __name__ == "__main__":
    main()
