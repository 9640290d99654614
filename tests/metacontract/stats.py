"""meta.stats: the admin dashboard's site-wide figures, each within its window."""
from __future__ import annotations

import time

from registry.meta import Event, Outgoing, Status, Template

from .support import SHA, add_template

DAY = 86400


class TestStatsRepository:
    def test_counts_of_users_and_templates(self, meta):
        now = time.time()
        meta.users.add("root", None, True)
        meta.users.add("alice", None, False)
        add_template(meta, "alice", "a")
        add_template(meta, "alice", "b")
        meta.templates.add(Template("alice-c", "alice", "c", "private", "d", "alice-a", 1.0, 1.0))
        users = meta.stats.users(now - 60)
        assert (users.total, users.admins, users.disabled, users.joined) == (2, 1, 0, 2)
        assert meta.stats.users(now + 60).joined == 0
        t = meta.stats.templates(0.0)
        assert (t.total, t.private, t.forks, t.created) == (3, 1, 1, 3)

    def test_events_per_day_are_floored_to_utc_days(self, meta):
        t = add_template(meta)
        day = int(time.time() // DAY) - 3
        for at in (day * DAY + 1, day * DAY + DAY - 1, (day + 1) * DAY, (day + 1) * DAY + 0.6 * DAY):
            meta.events.add(Event("push", "alice", t.id, t.full_name, time=float(at)))
        meta.events.add(Event("star.created", "alice", t.id, t.full_name, time=float(day * DAY + 5)))
        assert meta.stats.events_per_day("push", day * DAY) == {day: 2, day + 1: 2}
        assert meta.stats.events_per_day("push", (day + 1) * DAY) == {day + 1: 2}

    def test_usage_per_day_and_the_most_used_templates(self, meta):
        a, b = add_template(meta, "alice", "a"), add_template(meta, "alice", "b")
        meta.activity.add_usage(a.id, "2026-01-01", {"clones": 2, "views": 1})
        meta.activity.add_usage(b.id, "2026-01-01", {"clones": 5})
        meta.activity.add_usage(a.id, "2026-01-02", {"stars": 1})
        meta.activity.add_usage(b.id, "2025-12-31", {"clones": 100})
        per_day = meta.stats.usage_per_day("2026-01-01")
        assert set(per_day) == {"2026-01-01", "2026-01-02"}
        assert per_day["2026-01-01"]["clones"] == 7 and per_day["2026-01-02"]["stars"] == 1
        top = meta.stats.top_templates("2026-01-01", {"clones": 4.0, "views": 1.0, "stars": 8.0}, 10)
        assert [u.template for u in top] == ["alice/b", "alice/a"]  # 20 against 8 + 1 + 8
        assert top[1].counts["stars"] == 1 and top[0].counts["clones"] == 5
        assert len(meta.stats.top_templates("2026-01-01", {"clones": 1.0}, 1)) == 1

    def test_check_outcomes_and_delivery_failures_in_the_window(self, meta):
        t = add_template(meta)
        meta.checks.add_pending_statuses(t.id, SHA, ("validate", "index", "sandbox"))
        meta.checks.set_status(Status(t.id, SHA, "validate", "failure", "bad manifest"))
        meta.checks.set_status(Status(t.id, SHA, "index", "success", "indexed"))
        found = {o.context: o for o in meta.stats.check_outcomes(time.time() - 60, 100)}
        assert set(found) == {"validate", "index"}  # sandbox is still pending
        assert found["validate"].state == "failure" and found["validate"].template == "alice/t"
        assert 0 <= found["validate"].seconds < 60
        assert meta.stats.check_outcomes(time.time() + 60, 100) == []
        assert len(meta.stats.check_outcomes(0.0, 1)) == 1
        assert [o.context for o in meta.stats.check_outcomes(0.0, 10, ("failure", "error"))] == ["validate"]
        assert meta.stats.count_outcomes(0.0, ("failure", "error")) == 1
        assert meta.stats.count_outcomes(0.0, ("success", "failure", "error")) == 2
        assert meta.stats.count_outcomes(time.time() + 60, ("failure",)) == 0
        hook = meta.events.add_hook(t.id, "http://example.com/h", ["push"], "s", True, "alice")
        ids = meta.events.add_deliveries(None, [Outgoing(hook.id, "push", "{}")] * 3)
        for did, status in zip(ids, ("failed", "refused", "delivered"), strict=True):
            claimed = meta.events.claim_delivery(did, time.time(), 30)
            assert meta.events.finish_delivery(did, claimed.attempts, status, 500 if status == "failed" else None,
                                               "no" if status != "delivered" else None, 5)
        counts, recent = meta.stats.delivery_failures(time.time() - 60, 10)
        assert counts == {"failed": 1, "refused": 1}
        assert {(d.status, d.template, d.url) for d in recent} == {("failed", "alice/t", "http://example.com/h"),
                                                                   ("refused", "alice/t", "http://example.com/h")}
        assert meta.stats.delivery_failures(time.time() + 60, 10) == ({}, [])
