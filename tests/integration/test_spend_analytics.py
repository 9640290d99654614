"""Model spend per day in a template's analytics and in the admin stats, against the tests' model
server (tests/modelserver.py, real HTTP) on a registry of this module's own (its site-wide figures
are all this test's): pushes' sandbox runs, a run by hand and a pull request's evaluation ask the
model, and the day's `cost_usd` is what every answered call costs at the price table's prices,
computed here from the calls the model server saw."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from tests.eval_scenario import BASE_PROMPT, CASES, HEAD_PROMPT, PRICES, eval_status, manifest, served, settled
from tests.gitcli import commit_file, git
from tests.modelserver import ModelServer, words

pytestmark = pytest.mark.timeout(300)


def priced(models: ModelServer) -> float:
    """What the calls the model server answered cost at PRICES (USD per 1M tokens in and out):
    its usage counts the words of every message in, and of the answer out."""
    per_in, per_out = PRICES["test-model"]
    total = 0.0
    for call in models.model_calls():
        texts = {"system": "", "user": ""}
        for message in call["body"]["messages"]:
            texts[message["role"]] += message["content"]
        answer = models.answer(texts["system"], texts["user"])
        total += (words(texts["system"]) + words(texts["user"])) * per_in / 1e6 + words(answer) * per_out / 1e6
    return round(total, 8)


def finished(env, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    with env.api() as c:
        while time.monotonic() < deadline:
            run = c.get(f"/runs/{run_id}").json()
            if run["state"] not in ("queued", "running"):
                return run
            time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['state']}")


def test_a_days_cost_is_what_the_runs_and_the_evaluation_asked_of_the_model(tmp_path):
    with served(tmp_path) as (env, models):
        today = dt.datetime.now(dt.UTC).date()
        root = env.server.accounts(("root",), {"root": ("root", "admin")}, admin=True)["root"]
        env.tokens["root"] = root
        with env.api() as c:
            before = c.get("/templates/alice/spent/analytics")
        assert before.status_code == 404

        info = env.create("spent")
        work = env.clone(info["clone_url"], "alice", tmp_path / "spent")
        commit_file(work, "template.json", json.dumps(manifest(BASE_PROMPT)))
        base_sha = commit_file(work, "tests/cases.json", json.dumps(CASES))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        settled(env, "alice", "spent", base_sha)
        with env.api() as c:
            asked = c.post("/templates/alice/spent/runs", json={"ref": "main"})
        assert asked.status_code in (201, 202), asked.text
        by_hand = finished(env, asked.json()["id"])
        assert by_hand["cost"]["model_usd"] > 0, by_hand
        git("checkout", "-q", "-b", "polite", cwd=work)
        head_sha = commit_file(work, "template.json", json.dumps(manifest(HEAD_PROMPT)))
        git("push", "-q", "origin", "polite", cwd=work)
        settled(env, "alice", "spent", head_sha)
        with env.api() as c:
            assert c.post("/templates/alice/spent/pulls", json={"title": "Politer", "head": "polite"}).status_code == 201
        assert eval_status(env, "alice", "spent", head_sha)["state"] in ("success", "failure")

        # three sandbox runs of 4 cases, the evaluation's 4 base cases and the 3 head cases changed
        assert len(models.model_calls()) == 3 * 4 + 4 + 3
        expected = priced(models)
        assert expected > 0
        with env.api() as c:
            body = c.get("/templates/alice/spent/analytics").json()
            past = c.get("/templates/alice/spent/analytics", params={"from": "2026-01-01", "to": "2026-01-31"}).json()
            asked_day = c.get("/templates/alice/spent/analytics",
                              params={"from": today.isoformat(), "to": today.isoformat()}).json()
            bad = c.get("/templates/alice/spent/analytics", params={"to": "9999-12-31"})
        assert len(body["days"]) == 30 and body["days"][-1]["date"] == today.isoformat()
        assert all(isinstance(d["cost_usd"], float) for d in body["days"])
        assert body["cost_usd"] == expected  # the price table's figure, to the 8 places kept
        assert round(sum(d["cost_usd"] for d in body["days"]), 8) == expected
        assert body["days"][-1]["cost_usd"] == expected or dt.datetime.now(dt.UTC).date() != today  # midnight passed
        assert body["days"][-1]["runs"] == 3  # the usage counts stay beside it
        assert asked_day["cost_usd"] == asked_day["days"][0]["cost_usd"] == body["days"][-1]["cost_usd"]
        assert past["cost_usd"] == 0.0 and {d["cost_usd"] for d in past["days"]} == {0.0} and len(past["days"]) == 31
        assert bad.status_code == 200 and bad.json()["cost_usd"] == 0.0  # 30 days far off: nothing spent

        query = '{ template(owner: "alice", name: "spent") { analytics { date costUsd runs } } }'
        with env.api() as c:
            graphed = c.post(env.url + "/graphql", json={"query": query}).json()["data"]["template"]["analytics"]
        assert [(d["date"], d["costUsd"], d["runs"]) for d in graphed] == \
            [(d["date"], d["cost_usd"], d["runs"]) for d in body["days"]]  # GraphQL's names, REST's figures

        with env.api("root") as c:
            stats = c.get("/admin/stats", params={"days": 2}).json()
        assert round(sum(d["cost_usd"] for d in stats["per_day"]), 8) == expected  # the site is this template

        with env.api() as c:
            page = c.get(env.url + "/alice/spent").text
        assert 'id="spend"' in page and f"${expected:.8f}".rstrip("0") + " in all" in page
