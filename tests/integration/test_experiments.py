"""Experiments end to end below the API: a template's variants planted with known pass rates, run
through real sandbox children against the tests' model server over HTTP, units carried out as the
worker pool does (each one hands out the next, at most `experiment_concurrency` in flight)."""
from __future__ import annotations

import time

import pytest

from registry import views_experiments as views
from registry.errors import InvalidField, InvalidInput, OverBudget, PermissionDenied
from registry.services import budget, experiment_promotion, experiments, templates
from tests.experiment_world import plant
from tests.unit.usecases import World


@pytest.fixture
def w(tmp_path, model_server) -> World:
    world = World.make(tmp_path)
    settings = world.c.settings.model_copy(update={
        "sandbox_provider_url": model_server.url, "sandbox_provider_model": "test-model",
        "sandbox_provider_backoff_s": 0.01, "experiment_concurrency": 2, "experiment_unit_cases": 4})
    return World(type(world.c)(settings, world.c.meta, world.c.blobs, world.c.repos), world.alice, world.bob,
                 world.carol, world.carol_ro, world.admin)


def drive(w: World, experiment_id: str) -> int:
    """Carry out the experiment's units as the queue would (in order); the most ever in flight."""
    queued = [u.seq for u in w.c.meta.experiments.units(experiment_id) if u.state == "queued"]
    most = 0
    while queued:
        in_flight = [u for u in w.c.meta.experiments.units(experiment_id) if u.state in ("queued", "running")]
        most = max(most, len(in_flight))
        queued += experiments.run_unit(w.c, experiment_id, queued.pop(0))
    return most


def test_three_variants_find_the_planted_winner(w, model_server):
    t = templates.create(w.c, w.alice, "coins")
    plant(w.commit, t, {"main": 0.95, "half": 0.5, "also-half": 0.5}, cases=10)
    e = experiments.start(w.c, w.alice, "alice", "coins", ["main", "half", "also-half"], None, 3, None)
    assert drive(w, e.id) <= 2  # experiment_concurrency
    view = views.experiment(w.c, w.alice, "alice", "coins", e.id)
    assert view.experiment.state == "finished" and view.experiment.done == 27  # 3 variants x 3 repetitions x 3 parts
    assert view.verdict.winner == "main" and view.verdict.p_value is not None and view.verdict.p_value < 0.05
    main, half, _ = view.verdict.variants
    assert main.trials == 30 and main.pass_rate is not None and main.pass_rate > 0.8
    assert main.interval is not None and main.interval[0] < main.pass_rate < main.interval[1]
    assert half.pass_rate is not None and 0.2 < half.pass_rate < 0.8
    assert main.latency_ms is not None and main.latency_ms > 0
    assert view.experiment.summary.startswith("winner main (p = ")
    assert len(model_server.model_calls()) == 90


def test_a_planted_tie_is_called_a_tie(w):
    t = templates.create(w.c, w.alice, "tie")
    plant(w.commit, t, {"main": 0.9, "twin": 0.9, "low": 0.3}, cases=10)
    e = experiments.start(w.c, w.alice, "alice", "tie", ["main", "twin", "low"], None, 3, None)
    drive(w, e.id)
    view = views.experiment(w.c, w.alice, "alice", "tie", e.id)
    assert view.experiment.state == "finished"
    assert view.verdict.winner is None and view.verdict.p_value is not None and view.verdict.p_value >= 0.05
    assert view.experiment.summary.startswith("no significant difference")
    low = view.verdict.variants[2]
    assert low.pass_rate is not None and low.pass_rate < 0.6


def test_provider_429s_are_retried_and_failures_left_out_of_the_pass_rate(w, model_server):
    t = templates.create(w.c, w.alice, "busy")
    plant(w.commit, t, {"main": 1.0, "b": 0.0}, cases=3)
    model_server.fail(429, times=2, retry_after=0.01)
    e = experiments.start(w.c, w.alice, "alice", "busy", ["main", "b"], None, 1, None)
    drive(w, e.id)
    view = views.experiment(w.c, w.alice, "alice", "busy", e.id)
    assert [v.pass_rate for v in view.verdict.variants] == [1.0, 0.0]  # the 429s were retried, not failures
    assert sum(1 for r in model_server.requests if r["status"] == 429) == 2
    model_server.fail(500, times=100)  # past every retry: the trials are errors, not failures
    again = experiments.start(w.c, w.alice, "alice", "busy", ["main", "b"], ["case-00"], 1, None)
    drive(w, again.id)
    view = views.experiment(w.c, w.alice, "alice", "busy", again.id)
    assert view.progress["uncounted"] == 2 and [v.trials for v in view.verdict.variants] == [0, 0]


def test_cancel_stops_what_has_not_started(w):
    t = templates.create(w.c, w.alice, "stop")
    plant(w.commit, t, {"main": 0.5, "b": 0.5}, cases=2)
    e = experiments.start(w.c, w.alice, "alice", "stop", ["main", "b"], None, 4, None)
    first = next(u.seq for u in w.c.meta.experiments.units(e.id) if u.state == "queued")
    experiments.run_unit(w.c, e.id, first)
    cancelled = experiments.cancel(w.c, w.alice, "alice", "stop", e.id)
    assert cancelled.state == "cancelled"
    assert drive(w, e.id) >= 0
    states = [u.state for u in w.c.meta.experiments.units(e.id)]
    assert states.count("done") == 1 and states.count("cancelled") == 7  # 2 cases: one part
    with pytest.raises(Exception) as denied:
        experiments.cancel(w.c, w.bob, "alice", "stop", e.id)
    assert type(denied.value).__name__ in ("PermissionDenied", "TemplateNotFound")


@pytest.mark.parametrize(("variants", "cases", "repetitions", "field"), [
    (["main"], None, 1, "variants"),
    (["main", "main"], None, 1, "variants"),
    (["main", "nope"], None, 1, "variants"),
    ([f"v{i}" for i in range(6)], None, 1, "variants"),
    (["main", "b"], None, 0, "repetitions"),
    (["main", "b"], None, 21, "repetitions"),
    (["main", "b"], [], 1, "cases"),
    (["main", "b"], ["no-such-case"], 1, "cases"),
    (["main", "b"], ["case-00", "case-00"], 1, "cases"),
])
def test_bounds(w, variants, cases, repetitions, field):
    t = templates.create(w.c, w.alice, "bounds")
    plant(w.commit, t, {"main": 0.5, "b": 0.5}, cases=2)
    with pytest.raises(InvalidField) as refused:
        experiments.start(w.c, w.alice, "alice", "bounds", variants, cases, repetitions, None)
    assert refused.value.field == field
    assert w.c.meta.experiments.page(t.id, 0, 10)[1] == 0


def test_too_many_trials_and_a_bad_model_name(w):
    t = templates.create(w.c, w.alice, "big")
    plant(w.commit, t, {"main": 0.5, "b": 0.5}, cases=2)
    small = w.c.settings.model_copy(update={"experiment_max_trials": 10})
    c = type(w.c)(small, w.c.meta, w.c.blobs, w.c.repos)
    with pytest.raises(InvalidField, match="12 trials, over the limit of 10"):
        experiments.start(c, w.alice, "alice", "big", ["main", "b"], None, 3, None)
    with pytest.raises(InvalidField, match="provider"):
        experiments.start(w.c, w.alice, "alice", "big", ["main", "b"], None, 1, "bad model;rm")


def test_model_cost_is_priced_counted_and_bounded_by_the_budget(w):
    priced = w.c.settings.model_copy(update={"model_prices": {"test-model": (1000.0, 2000.0)}, "run_budget_usd": 1.0})
    c = type(w.c)(priced, w.c.meta, w.c.blobs, w.c.repos)
    t = templates.create(c, w.alice, "priced")
    plant(w.commit, t, {"main": 0.5, "b": 0.6}, cases=2)
    e = experiments.start(c, w.alice, "alice", "priced", ["main", "b"], None, 1, None)
    drive(World(c, w.alice, w.bob, w.carol, w.carol_ro, w.admin), e.id)
    view = views.experiment(c, w.alice, "alice", "priced", e.id)
    assert all(v.cost is not None and v.cost > 0 for v in view.verdict.variants)  # tokens at the table's price
    spent = budget.spent(c, "alice")
    assert spent == pytest.approx(sum(t["cost"] for u in c.meta.experiments.units(e.id) for t in u.trials))
    per_day = c.meta.evals.spent_per_day(t.id, 0, time.time() + 86400)  # the template's analytics count it too
    assert sum(per_day.values()) == pytest.approx(spent) and len(per_day) == 1
    broke = c.settings.model_copy(update={"run_budget_usd": spent / 2})
    over = type(c)(broke, c.meta, c.blobs, c.repos)
    with pytest.raises(OverBudget, match="REGISTRY_RUN_BUDGET_USD"):
        experiments.start(over, w.alice, "alice", "priced", ["main", "b"], None, 1, None)


def test_the_model_asked_for_is_the_one_asked_and_priced(w, model_server):
    """`provider` names the model: the runner asks it at the configured endpoint (on any backend:
    it travels in the runner's input) and its price is the one counted."""
    priced = w.c.settings.model_copy(update={"model_prices": {"test-model": (1000.0, 2000.0), "other-model": (0.0, 0.0)}})
    c = type(w.c)(priced, w.c.meta, w.c.blobs, w.c.repos)
    t = templates.create(c, w.alice, "chosen")
    plant(w.commit, t, {"main": 0.5, "b": 0.6}, cases=2)
    e = experiments.start(c, w.alice, "alice", "chosen", ["main", "b"], None, 1, "other-model")
    asked_before = len(model_server.model_calls())
    drive(World(c, w.alice, w.bob, w.carol, w.carol_ro, w.admin), e.id)
    asked = model_server.model_calls()[asked_before:]
    assert asked and {r["body"]["model"] for r in asked} == {"other-model"}
    assert all(v.cost == 0 for v in views.experiment(c, w.alice, "alice", "chosen", e.id).verdict.variants)


def test_promote_opens_a_pull_request_with_the_winner_as_tested(w):
    t = templates.create(w.c, w.alice, "promo")
    plant(w.commit, t, {"main": 0.3, "better": 0.95}, cases=10)
    with w.c.open_repo(t) as repo:
        tested = repo.doc.refs["refs/heads/better"]
    by_branch = experiments.start(w.c, w.alice, "alice", "promo", ["main", "better"], None, 3, None)
    by_sha = experiments.start(w.c, w.alice, "alice", "promo", ["main", tested], None, 3, None)
    with pytest.raises(InvalidInput, match="only a finished one"):
        experiment_promotion.promote(w.c, w.alice, "alice", "promo", by_branch.id)
    drive(w, by_branch.id)
    drive(w, by_sha.id)
    with pytest.raises(PermissionDenied):
        experiment_promotion.promote(w.c, w.carol_ro, "alice", "promo", by_branch.id)
    pull = experiment_promotion.promote(w.c, w.alice, "alice", "promo", by_branch.id)
    assert (pull.head_branch, pull.base_branch, pull.head_sha) == ("better", "main", tested)
    assert pull.title.startswith("Promote better") and "p = " in pull.body
    again = experiment_promotion.promote(w.c, w.alice, "alice", "promo", by_branch.id)
    assert again.number == pull.number  # promoted twice: the one pull request
    from_sha = experiment_promotion.promote(w.c, w.alice, "alice", "promo", by_sha.id)
    assert (from_sha.head_branch, from_sha.head_sha) == (f"experiment-{by_sha.id}", tested)


def test_promote_refuses_a_tie_and_the_default_branch(w):
    t = templates.create(w.c, w.alice, "no-promo")
    plant(w.commit, t, {"main": 0.95, "same": 0.9, "worse": 0.1}, cases=10)
    tie = experiments.start(w.c, w.alice, "alice", "no-promo", ["main", "same"], None, 2, None)
    top = experiments.start(w.c, w.alice, "alice", "no-promo", ["main", "worse"], None, 2, None)
    drive(w, tie.id)
    drive(w, top.id)
    with pytest.raises(InvalidInput, match="no winner to promote"):
        experiment_promotion.promote(w.c, w.alice, "alice", "no-promo", tie.id)
    with pytest.raises(InvalidInput, match="is the tip of main already"):
        experiment_promotion.promote(w.c, w.alice, "alice", "no-promo", top.id)
