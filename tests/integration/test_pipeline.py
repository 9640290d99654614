"""Push-triggered checks with a real redis-server and separate `registry worker` processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.services import free_port, redis_server, registry_server, start_worker, stop_group

pytestmark = pytest.mark.timeout(300)
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"
MINIMAL = (EXAMPLES / "minimal.template.json").read_text()
FAST = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "1", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "1",
        "REGISTRY_RECONCILE_SECONDS": "0.5", "REGISTRY_REQUEUE_AFTER_SECONDS": "3"}


class Stack:
    def __init__(self, server, tmp: Path) -> None:
        self.server, self.tmp, self.workers = server, tmp, []
        self.token = server.user("alice")

    def worker(self, module: str = "api.cli", **env) -> subprocess.Popen:
        proc = start_worker({**self.server.env, **env}, self.tmp / f"worker-{len(self.workers)}.log", module)
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                stop_group(proc)

    def template(self, name: str, work: Path) -> Path:
        resp = httpx.post(f"{self.server.url}/api/v1/templates", json={"name": name},
                          headers={"Authorization": f"Bearer {self.token}"})
        assert resp.status_code == 201, resp.text
        git("clone", "-q", authed(resp.json()["clone_url"], "alice", self.token), str(work))
        return work

    def statuses(self, name: str, sha: str) -> dict[str, dict]:
        resp = httpx.get(f"{self.server.url}/api/v1/templates/alice/{name}/commits/{sha}/statuses",
                         headers={"Authorization": f"Bearer {self.token}"})
        assert resp.status_code == 200, resp.text
        return {s["context"]: s for s in resp.json()}

    def wait_final(self, name: str, sha: str, timeout: float = 30.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.statuses(name, sha)
            if len(got) == 3 and all(s["state"] != "pending" for s in got.values()):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"checks not final after {timeout}s: {got}")
            time.sleep(0.2)


@pytest.fixture
def stack(tmp_path):
    with redis_server() as url, registry_server(tmp_path / "data", {"REGISTRY_REDIS_URL": url, **FAST}) as server:
        s = Stack(server, tmp_path)
        yield s
        s.stop_workers()


def test_push_turns_green_with_two_workers(stack, tmp_path):
    stack.worker()
    stack.worker()
    work = stack.template("green", tmp_path / "green")
    sha = commit_file(work, "template.json", MINIMAL)
    start = time.monotonic()
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    pending = stack.statuses("green", sha)
    assert set(pending) == {"validate", "index", "sandbox"}
    final = stack.wait_final("green", sha, timeout=15)
    assert {c: s["state"] for c, s in final.items()} == {"validate": "success", "index": "success", "sandbox": "success"}
    assert time.monotonic() - start < 15
    meta = httpx.get(f"{stack.server.url}/api/v1/templates/alice/green").json()
    assert meta["checks"]["validate"]["state"] == "success" and meta["manifest"]["title"]


def test_invalid_manifest_fails_with_json_path(stack, tmp_path):
    stack.worker()
    work = stack.template("broken", tmp_path / "broken")
    manifest = json.loads(MINIMAL)
    manifest["industry"] = "space"
    manifest["promptConfig"]["userPromptTemplate"] = "{{ portfolio }} in {{ region }}"
    sha = commit_file(work, "template.json", json.dumps(manifest))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    final = stack.wait_final("broken", sha)
    assert final["validate"]["state"] == "failure"
    paths = {p["path"]: p["message"] for p in final["validate"]["problems"]}
    assert "$.industry" in paths and "$.industry" in final["validate"]["description"]
    assert final["sandbox"]["state"] == "failure" and "did not validate" in final["sandbox"]["description"]
    manifest["industry"] = "other"
    sha2 = commit_file(work, "template.json", json.dumps(manifest))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    final = stack.wait_final("broken", sha2)
    assert final["validate"]["problems"] == [
        {"path": "$.promptConfig.userPromptTemplate", "message": "variable 'region' is not a declared parameter"}]


def test_secret_push_refused_and_nothing_queued(stack, tmp_path):
    work = stack.template("leaky", tmp_path / "leaky")
    sha = commit_file(work, "prompts/system.md", "token: ghp_" + "a1B2" * 9 + "\n")
    res = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert res.returncode != 0 and "secret detected (GitHub token) in prompts/system.md" in res.stderr
    assert git("ls-remote", "origin", cwd=work).stdout == ""
    assert stack.statuses("leaky", sha) == {}


def push_to_a_slow_worker(stack: Stack, tmp_path: Path, seconds: str) -> tuple[subprocess.Popen, Path, str]:
    """A worker whose validate sleeps `seconds`, and a push it has started validating:
    (the worker, the marker file its runs are written to, the pushed sha)."""
    marker = tmp_path / "runs.txt"
    worker = stack.worker("tests.slow_worker", SLOW_VALIDATE=seconds, SLOW_MARKER=str(marker))
    work = stack.template("killed", tmp_path / "killed")
    sha = commit_file(work, "template.json", MINIMAL)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    deadline = time.monotonic() + 20
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline, "validate never started"
        time.sleep(0.1)
    return worker, marker, sha


def kill_whole(worker: subprocess.Popen) -> None:
    """The whole worker dies: its work-horse (RQ gives it its own session) and itself."""
    for pid in [*_children(worker.pid), worker.pid]:
        os.kill(pid, signal.SIGKILL)
    worker.wait(10)


def test_worker_killed_mid_job_is_retried_once_without_duplicates(stack, tmp_path):
    first, marker, sha = push_to_a_slow_worker(stack, tmp_path, "4")
    assert stack.statuses("killed", sha)["validate"]["description"] == "running"
    kill_whole(first)
    stack.worker("tests.slow_worker", SLOW_VALIDATE="0.1", SLOW_MARKER=str(marker))
    final = stack.wait_final("killed", sha, timeout=60)
    assert {s["state"] for s in final.values()} == {"success"}
    runs = marker.read_text().split("\n")
    assert len([r for r in runs if r]) == 2  # killed once, then exactly one more run
    assert len(stack.statuses("killed", sha)) == 3  # one status per check, no duplicates


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def test_redis_down_at_push_time_loses_nothing(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with registry_server(tmp_path / "data", {"REGISTRY_REDIS_URL": url, **FAST}) as server:
        stack = Stack(server, tmp_path)
        work = stack.template("outage", tmp_path / "outage")
        sha = commit_file(work, "template.json", MINIMAL)
        start = time.monotonic()
        git("push", "-q", "origin", "HEAD:main", cwd=work)  # Redis is not running
        assert time.monotonic() - start < 5
        assert git("ls-remote", "origin", "main", cwd=work).stdout.startswith(sha)
        assert {s["state"] for s in stack.statuses("outage", sha).values()} == {"pending"}
        with redis_server(port):
            stack.worker()
            final = stack.wait_final("outage", sha, timeout=30)
            assert {s["state"] for s in final.values()} == {"success"}
            stack.stop_workers()


def test_embedded_queue_without_redis(tmp_path):
    with registry_server(tmp_path / "data") as server:
        stack = Stack(server, tmp_path)
        work = stack.template("embedded", tmp_path / "embedded")
        sha = commit_file(work, "template.json", MINIMAL)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        final = stack.wait_final("embedded", sha, timeout=15)
        assert {s["state"] for s in final.values()} == {"success"}
