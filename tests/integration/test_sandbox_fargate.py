"""Sandbox runs on Fargate, against a moto server over HTTP (ECS, CloudWatch Logs, S3): the
registry starts one task per run, records its ARN before waiting, adopts it after a worker
dies, and stops it when it outlives its timeout."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from registry.meta import Run
from registry.sandbox.fargate import FargateBackend
from registry.settings import Settings
from tests.fake_fargate import FakeFargate, all_tasks, provision
from tests.gitcli import authed, commit_file, git
from tests.services import aws_env, make_bucket, moto_server, redis_server, registry_server, start_worker, stop_group

pytestmark = pytest.mark.timeout(300)
MINIMAL = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())
CASE = {"name": "mentions the quarter", "parameters": {"portfolio": "SME loans", "quarter": "Q3"},
        "assert": [{"type": "contains", "value": "Q3"}]}
FAST = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "1", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "1",
        "REGISTRY_RECONCILE_SECONDS": "0.5", "REGISTRY_REQUEUE_AFTER_SECONDS": "3"}


@pytest.fixture(scope="module")
def aws():
    with moto_server() as endpoint:
        saved = dict(os.environ)
        os.environ.update(aws_env(endpoint))
        try:
            make_bucket(endpoint, "sandbox-it")
            yield endpoint, provision(endpoint)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _settings(fargate: dict[str, str], **more) -> Settings:
    return Settings(**{k[len("REGISTRY_"):].lower(): v for k, v in fargate.items()}, **more)


def test_a_run_that_outlives_its_timeout_has_its_task_stopped(aws):
    _, fargate = aws
    settings = _settings(fargate, sandbox_timeout_seconds=1.5)
    recorded: list[str] = []
    run = Run("timeout-run", "t", "0" * 40, None, "push", None, "running", "fargate", started_at=time.time())
    before = {t["taskArn"] for t in all_tasks()}
    outcome = FargateBackend(settings, lambda r, p: {"SANDBOX_INPUT_B64": "e30="}).execute(run, {}, recorded.append)
    assert outcome.error == "killed: still running after 1.5 s (task stopped)" and outcome.report is None
    [task] = [t for t in all_tasks() if t["taskArn"] not in before]
    assert recorded == [task["taskArn"]]  # recorded before the wait
    assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED"
    assert task["stoppedReason"] == "sandbox timeout after 1.5 s"
    assert 1.5 <= outcome.duration_s < 5
    # The network and overrides the task was started with come from settings.
    assert task["overrides"]["containerOverrides"][0]["name"] == "sandbox"


def test_worker_killed_while_its_task_runs_the_rerun_adopts_it(aws, tmp_path):
    endpoint, fargate = aws
    env = {**aws_env(endpoint), **fargate, **FAST, "REGISTRY_STORAGE": "s3", "REGISTRY_S3_BUCKET": "sandbox-it",
           "REGISTRY_S3_PREFIX": "adopt", "REGISTRY_SANDBOX_TIMEOUT_SECONDS": "120"}
    with redis_server() as redis_url, registry_server(tmp_path / "data", {**env, "REGISTRY_REDIS_URL": redis_url}) as server, \
            FakeFargate() as aws_side:
        token = server.user("alice")
        api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        log = tmp_path / "worker.log"
        first = start_worker(server.env, log)
        clone_url = api.post("/templates", json={"name": "cloudy"}).json()["clone_url"]
        work = tmp_path / "cloudy"
        git("clone", "-q", authed(clone_url, "alice", token), str(work))
        commit_file(work, "template.json", json.dumps(MINIMAL))
        sha = commit_file(work, "tests/q.json", json.dumps(CASE))
        aws_side.hold.set()  # the container "runs" until released
        before = {t["taskArn"] for t in all_tasks()}
        git("push", "-q", "origin", "HEAD:main", cwd=work)

        run = _wait(lambda: next((r for r in api.get("/templates/alice/cloudy/runs").json() if r["task"]), None), 60)
        assert run["state"] == "running" and run["attempts"] == 1 and run["backend"] == "fargate"
        os.killpg(first.pid, signal.SIGKILL)  # the worker and anything it started
        first.wait(10)
        second = start_worker(server.env, log)
        try:
            adopted = _wait(lambda: (r := api.get(f"/runs/{run['id']}").json())["attempts"] == 2 and r, 90)
            assert adopted["task"] == run["task"]
            aws_side.hold.clear()
            done = _wait(lambda: (r := api.get(f"/runs/{run['id']}").json())["state"] not in ("queued", "running") and r, 60)
            assert done["state"] == "success", done
            new = [t for t in all_tasks() if t["taskArn"] not in before]
            assert [t["taskArn"] for t in new] == [run["task"]]  # one task, never a second
            assert done["metrics"]["cpu_s"] > 0 and done["metrics"]["peak_memory_mb"] > 0
            assert done["cost"]["total_usd"] > 0 and "passed" in done["logs"]
            statuses = {s["context"]: s for s in api.get(f"/templates/alice/cloudy/commits/{sha}/statuses").json()}
            assert statuses["sandbox"]["state"] == "success"
            assert statuses["sandbox"]["description"].startswith("1 cases passed")

            # A failing case on Fargate names the case; its input went through S3, presigned.
            failing = {**CASE, "name": "mentions Q4", "assert": [{"type": "contains", "value": "Q4"}]}
            sha2 = commit_file(work, "tests/q4.json", json.dumps(failing))
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            final = _wait(lambda: (s := {x["context"]: x for x in api.get(
                f"/templates/alice/cloudy/commits/{sha2}/statuses").json()}).get("sandbox", {}).get("state")
                not in (None, "pending") and s, 60)
            assert final["sandbox"]["state"] == "failure"
            assert final["sandbox"]["description"] == "case 'mentions Q4' (tests/q4.json) failed: contains 'Q4': not found"
        finally:
            stop_group(second)


def _wait(probe, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def test_a_task_started_but_never_recorded_is_found_by_its_run(aws):
    """The worker died between run_task and recording the ARN: the re-run finds the task by
    `startedBy` instead of starting a second one."""
    _, fargate = aws
    backend = FargateBackend(_settings(fargate, sandbox_timeout_seconds=1), lambda r, p: {"SANDBOX_INPUT_B64": "e30="})
    run = Run("lost-arn-run", "t", "0" * 40, None, "push", None, "running", "fargate", started_at=time.time())
    orphan = backend._run_task(run, {"SANDBOX_INPUT_B64": "e30="})
    before = {t["taskArn"] for t in all_tasks()}
    recorded: list[str] = []
    outcome = backend.execute(run, {}, recorded.append)
    assert recorded == [orphan] and {t["taskArn"] for t in all_tasks()} == before
    assert outcome.error.startswith("killed: still running after 1 s")
