"""meta.experiments: an experiment's units handed out within a bound, each started and finished
once by compare-and-swap, a cancel that takes every unit not yet running, and the lost ones found."""
from __future__ import annotations

import time

import pytest

from registry.errors import ExperimentNotFound

from .support import SHA, add_template

VARIANTS = [("main", SHA), ("v2", "b" * 40), ("v3", "c" * 40)]


class TestExperimentRepository:
    def test_an_experiment_and_its_units(self, meta):
        t = add_template(meta)
        e = meta.experiments.add(t.id, "alice", VARIANTS, ["greeting", "refusal"], 2, "test-model")
        assert (e.state, e.units, e.done, e.variants, e.cases, e.repetitions) == \
            ("queued", 6, 0, tuple(VARIANTS), ("greeting", "refusal"), 2)
        assert meta.experiments.get(e.id) == e and e.part(0) == ("greeting", "refusal")
        units = meta.experiments.units(e.id)
        assert [(u.seq, u.variant, u.repetition, u.part, u.state) for u in units] == \
            [(0, 0, 0, 0, "pending"), (1, 1, 0, 0, "pending"), (2, 2, 0, 0, "pending"),
             (3, 0, 1, 0, "pending"), (4, 1, 1, 0, "pending"), (5, 2, 1, 0, "pending")]
        parted = meta.experiments.add(t.id, None, VARIANTS[:2], ["a", "b", "c"], 1, None, part_size=2)
        assert parted.units == 4 and parted.provider is None and meta.experiments.get(parted.id).part_size == 2
        assert parted.part(0) == ("a", "b") and parted.part(1) == ("c",)
        assert [(u.variant, u.part) for u in meta.experiments.units(parted.id)] == [(0, 0), (1, 0), (0, 1), (1, 1)]
        page, total = meta.experiments.page(t.id, 0, 1)
        assert total == 2 and [x.id for x in page] == [parted.id]
        with pytest.raises(ExperimentNotFound):
            meta.experiments.get("nope")

    def test_units_are_handed_out_within_the_bound_and_run_once(self, meta):
        t = add_template(meta)
        e = meta.experiments.add(t.id, "alice", VARIANTS, ["a"], 2, None)
        assert meta.experiments.hand_out(e.id, 2) == [0, 1]
        assert meta.experiments.hand_out(e.id, 2) == []  # two in flight already
        now = time.time()
        unit = meta.experiments.start_unit(e.id, 0, 3, now - 60)
        assert unit is not None and unit.state == "running" and unit.attempts == 1
        assert meta.experiments.start_unit(e.id, 0, 3, now - 60) is None  # running elsewhere, not lost
        assert meta.experiments.start_unit(e.id, 5, 3, now - 60) is None  # pending: not handed out
        trials = [{"case": "a", "passed": True, "latency_ms": 1.5, "cost": 0.0}]
        assert meta.experiments.finish_unit(e.id, 0, "done", trials)
        assert not meta.experiments.finish_unit(e.id, 0, "done", [])  # once
        assert meta.experiments.get(e.id).done == 1
        assert meta.experiments.units(e.id)[0].trials == trials
        assert meta.experiments.hand_out(e.id, 2) == [2]
        assert meta.experiments.update(e.id, state="running", started_at=now, expect=("queued",))
        assert not meta.experiments.update(e.id, state="running", expect=("queued",))
        assert meta.experiments.get(e.id).state == "running"

    def test_a_unit_whose_worker_died_is_taken_again_until_its_attempts_run_out(self, meta):
        t = add_template(meta)
        e = meta.experiments.add(t.id, "alice", VARIANTS[:2], ["a"], 1, None)
        meta.experiments.hand_out(e.id, 4)
        assert meta.experiments.start_unit(e.id, 1, 2, time.time() - 60) is not None
        assert meta.experiments.stalled_units(time.time() - 60) == []
        later = time.time() + 1
        assert (e.id, 1) in meta.experiments.stalled_units(later) and (e.id, 0) in meta.experiments.stalled_units(later)
        again = meta.experiments.start_unit(e.id, 1, 2, later)  # lease over: the worker is taken for dead
        assert again is not None and again.attempts == 2
        assert meta.experiments.start_unit(e.id, 1, 2, time.time() + 1) is None  # out of attempts

    def test_cancel_takes_every_unit_not_yet_running(self, meta):
        t = add_template(meta)
        e = meta.experiments.add(t.id, "alice", VARIANTS, ["a"], 1, None)
        meta.experiments.hand_out(e.id, 2)
        meta.experiments.start_unit(e.id, 0, 3, time.time())
        assert meta.experiments.cancel(e.id)
        assert not meta.experiments.cancel(e.id)
        states = [u.state for u in meta.experiments.units(e.id)]
        assert states == ["running", "cancelled", "cancelled"]
        assert meta.experiments.start_unit(e.id, 1, 3, time.time()) is None
        got = meta.experiments.get(e.id)
        assert got.state == "cancelled" and got.final and got.finished_at is not None
        assert meta.experiments.hand_out(e.id, 4) == []

    def test_what_units_spent_counts_toward_the_owners_budget(self, meta):
        t = add_template(meta)
        before = time.time() - 1
        e = meta.experiments.add(t.id, "alice", VARIANTS[:2], ["a"], 1, None)
        meta.experiments.hand_out(e.id, 2)
        meta.experiments.start_unit(e.id, 0, 3, time.time())
        assert meta.experiments.finish_unit(e.id, 0, "done", [], spent_usd=0.125)
        assert meta.evals.spent_since("alice", before) == 0.125
        assert meta.evals.spent_since("alice", time.time() + 1) == 0.0 and meta.evals.spent_since("bob", before) == 0.0

    def test_experiments_go_with_their_template(self, meta):
        t = add_template(meta)
        e = meta.experiments.add(t.id, "alice", VARIANTS[:2], ["a"], 1, None)
        meta.templates.delete(t.id)
        with pytest.raises(ExperimentNotFound):
            meta.experiments.get(e.id)
        assert meta.experiments.units(e.id) == []
