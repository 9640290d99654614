"""meta.checks: the status bookkeeping the checks pipeline depends on, and sandbox runs."""
from __future__ import annotations

import time

import pytest

from registry.errors import RunNotFound
from registry.meta import Status

from .support import SHA, add_template


class TestCheckRepository:
    def test_pending_statuses_are_created_once_and_drive_the_pipeline(self, meta):
        add_template(meta)
        assert meta.checks.add_pending_statuses("alice-t", SHA, ("validate", "index")) == ["validate", "index"]
        assert meta.checks.add_pending_statuses("alice-t", SHA, ("validate", "index", "sandbox")) == ["sandbox"]
        assert meta.checks.has_statuses("alice-t", SHA) and not meta.checks.has_statuses("alice-t", "b" * 40)
        waiting = {(s.sha, s.context) for s in meta.checks.waiting_statuses(older_than=0)}
        assert waiting == {(SHA, "validate"), (SHA, "index"), (SHA, "sandbox")}  # never handed over
        meta.checks.mark_enqueued("alice-t", SHA, ("validate", "index", "sandbox"))
        assert meta.checks.waiting_statuses(older_than=0) == []  # handed over just now
        assert len(meta.checks.waiting_statuses(older_than=time.time() + 1)) == 3  # handed over long ago
        meta.checks.set_status(Status("alice-t", SHA, "validate", "failure", "bad", [{"path": "$.x", "message": "m"}], "u"))
        got = {s.context: s for s in meta.checks.get_statuses("alice-t", SHA)}
        assert got["validate"].state == "failure" and got["validate"].problems == [{"path": "$.x", "message": "m"}]
        assert got["validate"].target_url == "u" and got["index"].state == "pending"
        assert {s.context for s in meta.checks.waiting_statuses(older_than=time.time() + 1)} == {"index", "sandbox"}

    def test_runs_record_their_life_and_are_found_latest_first(self, meta):
        add_template(meta)
        first = meta.checks.add_run("alice-t", SHA, None, "push", None, "local")
        assert first.state == "queued" and not first.final and first.metrics == {} and first.cost == {}
        manual = meta.checks.add_run("alice-t", SHA, "main", "manual", "alice", "local")
        assert meta.checks.get_run(first.id) == first
        with pytest.raises(RunNotFound):
            meta.checks.get_run("nope")
        done = meta.checks.update_run(first.id, state="success", report={"passed": 1}, metrics={"duration_s": 1.5},
                               cost={"total_usd": 0.1}, finished_at=2.0)
        assert done.final and done.report == {"passed": 1} and done.metrics == {"duration_s": 1.5}
        assert meta.checks.find_run("alice-t", SHA, "push") == done
        assert meta.checks.find_run("alice-t", "b" * 40, "push") is None
        assert [r.id for r in meta.checks.queued_runs(older_than=time.time() + 1)] == [manual.id]
        items, total = meta.checks.list_runs("alice-t", 0, 1)
        assert total == 2 and len(items) == 1

    def test_latencies_count_final_statuses_per_context_by_seconds_taken(self, meta):
        add_template(meta)
        meta.checks.add_pending_statuses("alice-t", SHA, ("validate", "sandbox"))
        meta.checks.set_status(Status("alice-t", SHA, "validate", "success", "ok"))
        got = meta.checks.latencies((60.0, 3600.0))
        assert set(got) == {"validate"}  # a check still pending has taken no time yet
        counts, seconds, n = got["validate"]
        assert counts == [1, 1] and n == 1 and 0 <= seconds < 60
