"""Pre-push feedback (issue 15): POST /api/v1/validate and `registry validate DIR` report exactly
the problems the push-time `validate` check reports, by the same code."""
from __future__ import annotations

import json
import subprocess
import sys

import httpx

from tests.gitcli import commit_file, git
from tests.unit.usecases import MINIMAL

BAD = {**MINIMAL, "title": 5, "tags": "not-a-list"}


def test_the_api_reports_what_the_push_check_reports(local_env, tmp_path):
    env = local_env
    with env.api() as alice:
        good = alice.post("/validate", json={"files": {"template.json": json.dumps(MINIMAL)}})
        assert good.status_code == 200 and good.json() == {"valid": True, "problems": []}
        bad = alice.post("/validate", json={"files": {"template.json": json.dumps(BAD)}}).json()
    assert not bad["valid"] and {p["path"] for p in bad["problems"]} >= {"$.title", "$.tags"}
    info = env.create("prevalidated")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    sha = commit_file(work, "template.json", json.dumps(BAD))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert env.check("prevalidated", sha)["problems"] == bad["problems"]  # exactly the same problems
    assert httpx.post(f"{env.url}/api/v1/validate", json={"files": {}}, timeout=30).json()["problems"][0]["message"] \
        == "template.json is missing at the repository root"


def test_the_cli_validates_a_working_tree(local_env, tmp_path):
    tree = tmp_path / "tree"
    (tree / "prompts").mkdir(parents=True)
    (tree / "template.json").write_text(json.dumps(BAD))
    res = subprocess.run([sys.executable, "-m", "api.cli", "validate", str(tree)], env=local_env.server.env,
                         capture_output=True, text=True)
    assert res.returncode == 1 and "$.title: " in res.stdout and "Traceback" not in res.stderr, res
    (tree / "template.json").write_text(json.dumps(MINIMAL))
    res = subprocess.run([sys.executable, "-m", "api.cli", "validate", str(tree)], env=local_env.server.env,
                         capture_output=True, text=True)
    assert res.returncode == 0 and "valid" in res.stdout, res
