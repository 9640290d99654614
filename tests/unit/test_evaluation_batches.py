"""Evaluating a commit (registry/services/evaluations.py) with the local sandbox and the tests' model
server: the model is asked in batches, each kept as it ends, so a budget spent during the first
stops the second, and the next evaluation goes on where the last stopped; the budget's month."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from registry.errors import OverBudget
from registry.services import budget, templates
from registry.services import evaluations as ev
from tests.eval_scenario import case, manifest
from tests.unit.usecases import World

CASES = [case(f"t{i}", f"t{i}", {"type": "contains", "value": f"T{i}", "target": "output"}) for i in range(45)]


@pytest.fixture
def world(tmp_path, model_server):
    w = World.make(tmp_path)
    settings = w.c.settings.model_copy(update={
        "sandbox_provider_url": model_server.url, "sandbox_provider_model": "test-model",
        "model_prices": {"test-model": (1e6, 0.0)}, "run_budget_usd": 50.0})  # $1 a word in
    w.c = replace(w.c, settings=settings)
    return w


def test_a_budget_spent_in_a_batch_stops_the_next_and_a_later_evaluation_goes_on(world, model_server):
    template = templates.create(world.c, world.alice, "many")
    sha = world.commit(template, {"template.json": json.dumps(manifest("Summarise {{ topic }}.")).encode(),
                                  "tests/cases.json": json.dumps(CASES).encode()})
    loaded = ev.load(world.c, template, sha)
    assert len(loaded.cases) == 45 and ev.BATCH == 20
    with pytest.raises(OverBudget, match=r"^refused: alice's model spend this month is \$80\.0000"):
        ev.evaluate(world.c, template, loaded)  # 4 words in per case: $80 after the first batch of 20
    assert len(model_server.model_calls()) == 20 and len(ev.results(world.c, template, loaded)) == 20
    with pytest.raises(OverBudget):
        ev.evaluate(world.c, template, loaded)
    assert len(model_server.model_calls()) == 20  # refused before asking
    world.c = replace(world.c, settings=world.c.settings.model_copy(update={"run_budget_usd": None}))
    assert ev.evaluate(world.c, template, loaded) == []
    asked = [r["body"]["messages"][1]["content"] for r in model_server.model_calls()]
    assert len(asked) == 45 and len(set(asked)) == 45  # none asked twice
    found = ev.results(world.c, template, loaded)
    assert len(found) == 45 and all(r["outcome"] == "passed" for r in found.values())
    assert budget.spent(world.c, "alice") == 180.0


def test_the_budget_month_is_the_utc_calendar_month():
    first = 1796083200.0  # 2026-12-01 00:00 UTC
    december = first + 5 * 86400 + 3600
    assert budget.month_start(december) == first and budget.month_start(first - 1) < first
    assert budget.next_month(december) == "2027-01-01"
    assert budget.next_month(1771977600.0) == "2026-03-01"  # 2026-02-25: February has 28 days
