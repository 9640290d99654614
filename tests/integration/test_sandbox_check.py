"""The sandbox check runs tests/*.json on every push (local runner, embedded queue)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)
MINIMAL = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())
CASE = {"name": "mentions the quarter", "parameters": {"portfolio": "SME loans", "quarter": "Q3"},
        "assert": [{"type": "contains", "value": "Q3"}, {"type": "max-tokens", "value": 800}]}


def _final(env, name, sha, timeout=30):
    deadline = time.monotonic() + timeout
    with env.api() as c:
        while time.monotonic() < deadline:
            got = {s["context"]: s for s in c.get(f"/templates/alice/{name}/commits/{sha}/statuses").json()}
            if len(got) == 3 and all(s["state"] != "pending" for s in got.values()):
                return got
            time.sleep(0.1)
    raise AssertionError(f"not final: {got}")


def _pushed(env, name: str, tmp_path, tests: dict) -> tuple[Path, str]:
    """A clone of a new template with MINIMAL and `tests` ({path: cases}) pushed to main; its sha."""
    info = env.create(name)
    work = tmp_path / name
    env.clone(info["clone_url"], "alice", work)
    sha = commit_file(work, "template.json", json.dumps(MINIMAL))
    for path, cases in tests.items():
        sha = commit_file(work, path, json.dumps(cases))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return work, sha


def test_sandbox_passes_fails_naming_the_case_and_survives_a_memory_hog(local_env, tmp_path):
    env = local_env
    work, sha = _pushed(env, "tested", tmp_path, {"tests/quarter.json": CASE})
    sandbox = _final(env, "tested", sha)["sandbox"]
    assert sandbox["state"] == "success" and sandbox["description"].startswith("1 cases passed")

    failing = {**CASE, "name": "mentions Q4", "assert": [{"type": "contains", "value": "Q4"}]}
    sha = commit_file(work, "tests/more.json", json.dumps([CASE, failing]))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    sandbox = _final(env, "tested", sha)["sandbox"]
    assert sandbox["state"] == "failure"
    assert sandbox["description"] == "case 'mentions Q4' (tests/more.json) failed: contains 'Q4': not found"

    hog = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "userPromptTemplate": "{{ 'x' * 4000000000 }}"}}
    commit_file(work, "tests/more.json", json.dumps([CASE]))
    sha = commit_file(work, "template.json", json.dumps(hog))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    statuses = _final(env, "tested", sha)
    assert statuses["sandbox"]["state"] == "error"
    assert statuses["sandbox"]["description"].startswith("killed: over its memory limit")

    sha = commit_file(work, "template.json", json.dumps(MINIMAL))  # the worker lives on
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert _final(env, "tested", sha)["sandbox"]["state"] == "success"


def test_bad_test_file_fails_with_its_path(local_env, tmp_path):
    env = local_env
    _, sha = _pushed(env, "badtests", tmp_path, {"tests/x.json": {"name": "no asserts"}})
    sandbox = _final(env, "badtests", sha)["sandbox"]
    assert sandbox["state"] == "failure" and sandbox["description"].startswith("tests/x.json $: bad test file:")
    assert sandbox["problems"][0]["path"] == "tests/x.json"


def test_runs_api_records_metrics_cost_and_budget(local_env, tmp_path):
    env = local_env
    work, sha = _pushed(env, "runs", tmp_path, {"tests/quarter.json": CASE})
    sandbox = _final(env, "runs", sha)["sandbox"]
    with env.api() as c:
        listed = c.get("/templates/alice/runs/runs").json()
        assert [r["sha"] for r in listed] == [sha] and listed[0]["trigger"] == "push"
        run = c.get(f"/runs/{listed[0]['id']}").json()
        assert sandbox["target_url"].endswith(f"/api/v1/runs/{run['id']}")
        assert run["state"] == "success" and run["backend"] == "local" and run["report"]["passed"] == 1
        assert run["metrics"]["duration_s"] > 0 and run["metrics"]["cpu_s"] > 0
        assert run["metrics"]["peak_memory_mb"] > 0 and run["cost"]["total_usd"] > 0
        assert run["metrics"]["estimated_cost_usd"] == run["cost"]["total_usd"]
        assert "case 'mentions the quarter' (tests/quarter.json): passed" in run["logs"]

        # By hand, at a ref; a zero budget makes the same run fail its check on cost.
        strict = {**MINIMAL, "budget": {"maxRunUsd": 0}}
        sha2 = commit_file(work, "template.json", json.dumps(strict))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        assert "over budget: estimated $" in _final(env, "runs", sha2)["sandbox"]["description"]
        asked = c.post("/templates/alice/runs/runs", json={"ref": "main"})
        assert asked.status_code == 202 and asked.json()["sha"] == sha2 and asked.json()["trigger"] == "manual"
        deadline = time.monotonic() + 30
        while (got := c.get(f"/runs/{asked.json()['id']}").json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, got
            time.sleep(0.1)
        assert got["state"] == "failure" and got["summary"].startswith("over budget") and got["requested_by"] == "alice"

        assert c.post("/templates/alice/runs/runs", json={"ref": "nope"}).status_code == 404
        assert c.get("/runs/0000000000000000").status_code == 404
    with env.api("carol-ro") as ro:  # a read-only token may look, not ask
        assert ro.get(f"/runs/{run['id']}").status_code == 200
        assert ro.post("/templates/alice/runs/runs", json={"ref": "main"}).status_code == 403
