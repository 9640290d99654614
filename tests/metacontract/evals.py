"""meta.evals: evaluation results per (commit, case, parameters, provider, model), and an owner's
model spend (what the monthly budget adds up)."""
from __future__ import annotations

import time

from registry.meta import EvalResult

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

    def test_results_go_with_their_template(self, meta):
        t = add_template(meta)
        meta.evals.add([_result(t)])
        meta.templates.delete(t.id)
        assert meta.evals.results(t.id, SHA, "openai", "m") == []
