"""Evaluation of a pull request against the tests' model server (tests/modelserver.py, real HTTP):
a change of the prompt shows the right cells changed, a regression fails the `eval` check (and a
branch protection requiring it blocks the merge), unchanged cases are not asked of the model again;
and the monthly budget refuses runs once spent."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.eval_scenario import BASE_PROMPT, CASES, eval_status, manifest, prompt_change, served, settled
from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served(tmp_path_factory.mktemp("evals")) as both:
        yield both


def test_a_prompt_change_shows_changed_cells_and_a_regression_fails_eval(server, tmp_path):
    env, models = server
    work, base_sha, head_sha = prompt_change(env, models, "evaluated", tmp_path, protect=True)
    status = eval_status(env, "alice", "evaluated", head_sha)
    assert status["state"] == "failure", status
    assert status["description"].startswith("regression: 'dogs stay plain' (tests/cases.json) passes on the base, "
                                            "fails on the head: not-contains 'POLITELY': found")
    assert status["problems"] == [{"path": "tests/cases.json", "message": "dogs stay plain: passes on the base, "
                                   "fails on the head: not-contains 'POLITELY': found"}]
    asked = [r["body"]["messages"][1]["content"] for r in models.model_calls()]
    # every base case once, and on the head only the three whose prompt changed: birds is reused
    assert sorted(asked) == sorted([f"Summarise {t}." for t in ("cats", "dogs", "owls", "birds")]
                                   + [f"Summarise {t} politely." for t in ("cats", "dogs", "owls")])

    with env.api() as c:
        body = c.get("/templates/alice/evaluated/pulls/1/evaluation").json()
        blocked = c.get("/templates/alice/evaluated/pulls/1/mergeability").json()
    assert "required check 'eval' is failure" in blocked["blocked_by"]
    changes = {k["name"]: k["change"] for k in body["cases"]}
    assert changes == {"cats": "changed", "dogs stay plain": "regression", "owls are polite": "fixed", "birds": "same"}
    cats = next(k for k in body["cases"] if k["name"] == "cats")
    assert cats["file"] == "tests/cases.json"
    assert (cats["base"]["prompt"], cats["head"]["prompt"]) == ("You answer.\n\nSummarise cats.",
                                                                "You answer.\n\nSummarise cats politely.")
    assert (cats["base"]["output"], cats["head"]["output"]) == ("SUMMARISE CATS.", "SUMMARISE CATS POLITELY.")
    assert cats["head"]["tokens"] == {"input": 5, "output": 3} and cats["head"]["latency_ms"] > 0
    assert cats["head"]["cost"] == pytest.approx(5 * 100e-6 + 3 * 200e-6)
    assert set(cats["head"]) == {"prompt", "output", "passed", "assertions", "tokens", "latency_ms", "cost"}
    assert cats["head"]["assertions"] == [{"type": "contains", "value": "CATS", "target": "output", "passed": True,
                                           "reason": "ok"}]
    birds = next(k for k in body["cases"] if k["name"] == "birds")
    assert [a["type"] for a in birds["head"]["assertions"] if a["passed"]] == ["starts-with", "latency-ms", "cost"]
    base, head = body["summary"]["base"], body["summary"]["head"]
    assert (base["sha"], head["sha"]) == (base_sha, head_sha)
    assert (base["pass_rate"], head["pass_rate"]) == (0.75, 0.75) and (base["state"], head["state"]) == ("done", "done")
    assert head["check"]["state"] == "failure" and head["cost"] > 0 and head["latency_ms"] > 0

    # The head moves (the regressed case's assertion changes): the check passes; the base is not
    # evaluated again, and on the head only the changed case is asked of the model.
    models.reset()
    fixed = {**CASES[1], "assert": [{"type": "contains", "value": "DOGS", "target": "output"}]}
    newer = commit_file(work, "tests/cases.json", json.dumps([CASES[0], fixed, *CASES[2:]]))
    git("push", "-q", "origin", "polite", cwd=work)
    status = eval_status(env, "alice", "evaluated", newer)
    assert status["state"] == "success" and status["description"].startswith("#1: pass rate 75% -> 100%"), status
    settled(env, "alice", "evaluated", newer)
    asked = [r["body"]["messages"][1]["content"] for r in models.model_calls()]
    sandbox = ["Summarise cats politely.", "Summarise dogs politely.", "Summarise owls politely.", "Summarise birds."]
    assert sorted(asked) == sorted([*sandbox, "Summarise dogs politely."])  # the push's sandbox check, and the eval
    with env.api() as c:
        assert c.get("/templates/alice/evaluated/pulls/1/mergeability").json()["mergeable"] is True


def test_429s_are_retried_and_a_dead_provider_errors_the_check(server, tmp_path):
    env, models = server
    info = env.create("flaky", user="bob")
    work = env.clone(info["clone_url"], "bob", tmp_path / "flaky")
    commit_file(work, "template.json", json.dumps(manifest(BASE_PROMPT)))
    commit_file(work, "tests/cases.json", json.dumps(CASES[:1]))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    base = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git("checkout", "-q", "-b", "change", cwd=work)
    head = commit_file(work, "template.json", json.dumps(manifest("Summarise {{ topic }} now.")))
    git("push", "-q", "origin", "change", cwd=work)
    settled(env, "bob", "flaky", base, head)
    models.reset()
    models.fail(429, times=2, retry_after=0)
    with env.api("bob") as c:
        assert c.post("/templates/bob/flaky/pulls", json={"title": "Now", "head": "change"}).status_code == 201
    assert eval_status(env, "bob", "flaky", head)["state"] == "success"
    assert [r["status"] for r in models.requests][:3] == [429, 429, 200]

    models.fail(503, times=100)
    head = commit_file(work, "template.json", json.dumps(manifest("Summarise {{ topic }} later.")))
    git("push", "-q", "origin", "change", cwd=work)
    status = eval_status(env, "bob", "flaky", head)
    models.reset()
    assert status["state"] == "error" and "model call failed" in status["description"], status
    assert "HTTP 503 after 4 attempts" in status["description"]


def test_runs_are_refused_once_the_monthly_budget_is_spent(server, tmp_path):
    env, models = server
    info = env.create("spender", user="carol")
    work = env.clone(info["clone_url"], "carol", tmp_path / "spender")
    commit_file(work, "template.json", json.dumps(manifest("{{ topic }} " * 4000)))  # 4,000 words each way
    commit_file(work, "tests/cases.json", json.dumps(CASES[:1]))
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    settled(env, "carol", "spender", sha)
    with env.api("carol") as c:
        run, = c.get("/templates/carol/spender/runs").json()
        assert run["cost"]["model_usd"] == pytest.approx(4002 * 100e-6 + 4000 * 200e-6, rel=1e-6)  # $1.2002
        assert run["cost"]["total_usd"] > run["cost"]["model_usd"]
    shown = httpx.get(f"{env.url}/carol/spender/runs/{run['id']}").text  # its page names tokens and cost per case
    assert "4002 tokens in, 4000 out" in shown and "model $1.200200" in shown and "$1.200200</div>" in shown
    with env.api("carol") as c:
        refused = c.post("/templates/carol/spender/runs", json={"ref": "main"})
    assert refused.status_code == 402, refused.text
    error = refused.json()["error"]
    assert error["code"] == "over_budget"
    assert error["message"].startswith("refused: carol's model spend this month is $1.2002, at or over the monthly "
                                       "budget of $1.0000 (REGISTRY_RUN_BUDGET_USD); runs resume on ")
    asked = len(models.requests)
    sha = commit_file(work, "README.md", "# more\n")  # a push's sandbox check is refused the same way
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    sandbox = env.check("spender", sha, "sandbox", user="carol", timeout=120)
    assert sandbox["state"] == "error" and sandbox["description"].startswith("refused: carol's model spend"), sandbox
    assert len(models.requests) == asked  # the model was not asked

    mine = env.create("unspent")  # another owner is not held back
    work = env.clone(mine["clone_url"], "alice", tmp_path / "unspent")
    commit_file(work, "template.json", json.dumps(manifest(BASE_PROMPT)))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api("alice") as c:
        assert c.post("/templates/alice/unspent/runs", json={"ref": "main"}).status_code == 202
