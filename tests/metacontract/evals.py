"""meta.evals: evaluation results per (commit, case, parameters, provider, model), and an owner's
model spend (what the monthly budget adds up)."""
from __future__ import annotations

import datetime as dt
import time

from registry.meta import EvalResult, Event

from .support import SHA, add_template


def _result(t, sha=SHA, name="c", digest="d1", spent=0.5, model="m", when=None, **result):
    return EvalResult(t.id, sha, "tests/a.json", name, "p0", "openai", model, digest,
                      {"name": name, "outcome": "passed", **result}, spent, when or time.time())


class TestEvalRepository:
    def test_results_are_kept_per_commit_case_and_model_and_never_overwritten(self, meta):
        t = add_template(meta)
        first = _result(t, output="one")
        assert meta.evals.add([first, _result(t, name="b"), _result(t, model="other")]) == 3
        assert meta.evals.add([_result(t, output="two")]) == 0  # the first result of a key stays
        found = meta.evals.results(t.id, SHA, "openai", "m")
        assert [(r.name, r.result.get("output")) for r in found] == [("b", None), ("c", "one")]
        assert found[1].key == ("tests/a.json", "c", "p0") and found[1].spent_usd == 0.5
        assert meta.evals.results(t.id, "b" * 40, "openai", "m") == []

    def test_a_result_is_found_by_its_input_digest_from_any_commit(self, meta):
        t = add_template(meta)
        meta.evals.add([_result(t, digest="same"), _result(t, sha="b" * 40, name="d", digest="other")])
        found = meta.evals.by_digest(t.id, ["same", "other", "missing"], "openai", "m")
        assert sorted(found) == ["other", "same"] and found["same"].sha == SHA
        assert meta.evals.by_digest(t.id, ["same"], "openai", "another-model") == {}

    def test_spend_adds_evaluations_and_runs_of_the_owner_since_a_time(self, meta):
        mine, theirs = add_template(meta), add_template(meta, owner="bob")
        before = time.time() - 100
        meta.evals.add([_result(mine, spent=0.25), _result(mine, name="old", spent=9.0, when=before - 50),
                        _result(theirs, spent=7.0)])
        run = meta.checks.add_run(mine.id, SHA, None, "manual", "alice", "local")
        meta.checks.update_run(run.id, cost={"total_usd": 1.0, "model_usd": 0.5})
        meta.checks.add_run(mine.id, SHA, None, "push", None, "local")  # nothing spent yet
        assert meta.evals.spent_since("alice", before) == 0.75
        assert meta.evals.spent_since("bob", before) == 7.0 and meta.evals.spent_since("carol", before) == 0.0

    def test_spend_per_day_sums_a_templates_evaluations_and_runs_by_utc_day(self, meta):
        t, other = add_template(meta), add_template(meta, owner="bob")
        midnight = dt.datetime(2026, 11, 28, tzinfo=dt.UTC).timestamp()
        meta.evals.add([_result(t, name="a", spent=0.125, when=midnight - 1),  # the day before
                        _result(t, name="b", spent=0.25, when=midnight), _result(t, name="c", spent=0.5, when=midnight + 86399),
                        _result(t, name="reused", spent=0.0, when=midnight + 5), _result(other, spent=8.0, when=midnight)])
        day = midnight + 86400
        assert meta.evals.spent_per_day(t.id, midnight - 86400, day) == {"2026-11-27": 0.125, "2026-11-28": 0.75}
        assert meta.evals.spent_per_day(t.id, midnight, day) == {"2026-11-28": 0.75}  # from `since` on
        assert meta.evals.spent_per_day(t.id, midnight - 86400, midnight) == {"2026-11-27": 0.125}  # before `until`
        assert meta.evals.spent_per_day(other.id, midnight, day) == {"2026-11-28": 8.0}
        assert meta.evals.spent_per_day("nobody", midnight, day) == {}

        now = time.time()
        today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        for usd in (0.5, 0.25, 0.0):
            run = meta.checks.add_run(t.id, SHA, None, "manual", "alice", "local")
            meta.checks.update_run(run.id, cost={"compute_usd": 0.001, "calls_usd": 0.0, "total_usd": 1.0, "model_usd": usd})
        meta.checks.add_run(t.id, SHA, None, "push", None, "local")  # queued: nothing spent yet
        meta.evals.add([_result(t, name="now", spent=0.0625, when=now)])
        assert meta.evals.spent_per_day(t.id, now - 60, now + 60) == {today: 0.8125}

    def test_spend_per_day_of_the_site_reads_evaluations_and_finished_runs_events(self, meta):
        t, other = add_template(meta), add_template(meta, owner="bob")
        now = time.time()
        today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        meta.evals.add([_result(t, spent=0.25, when=now), _result(other, spent=0.5, when=now)])
        for template, usd in ((t, 1.0), (other, 0.125), (other, 0.0)):
            run = {"id": "r", "state": "success", "metrics": {"duration_s": 1.5},
                   "cost": {"compute_usd": 0.001, "calls_usd": 0.0, "total_usd": 9.0, "model_usd": usd}}
            meta.events.add(Event("run.finished", "alice", template.id, template.full_name, {"run": run}, time=now))
        meta.events.add(Event("push", "alice", t.id, t.full_name, {"model_usd": 5.0}, time=now))  # not a run
        assert meta.evals.spent_per_day(None, now - 60, now + 60) == {today: 1.875}
        assert meta.evals.spent_per_day(None, now + 60, now + 120) == {}

    def test_results_go_with_their_template(self, meta):
        t = add_template(meta)
        meta.evals.add([_result(t)])
        meta.templates.delete(t.id)
        assert meta.evals.results(t.id, SHA, "openai", "m") == []
