"""Checks lost with Redis or a worker are found from the queue's own state, not by waiting
(issue 17), and `registry worker` rides out Redis outages instead of exiting. The requeue
delay is 300 s here: anything final sooner was recovered by looking, not by the timer."""
from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from tests.gitcli import commit_file, git
from tests.integration.test_pipeline import MINIMAL, Stack, kill_whole, push_to_a_slow_worker
from tests.services import HeldPort, redis_server, registry_server

pytestmark = pytest.mark.timeout(300)
PATIENT = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "1", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "60",
           "REGISTRY_RECONCILE_SECONDS": "0.5", "REGISTRY_REQUEUE_AFTER_SECONDS": "300"}


def test_checks_queued_before_a_redis_restart_are_final_soon_after(tmp_path):
    held = HeldPort()
    port = held.port
    url = f"redis://127.0.0.1:{port}/0"
    with registry_server(tmp_path / "data", {"REGISTRY_REDIS_URL": url, **PATIENT}) as server:
        stack = Stack(server, tmp_path)
        with _redis_on(held):
            work = stack.template("restart", tmp_path / "restart")
            sha = commit_file(work, "template.json", MINIMAL)
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            time.sleep(1.5)  # handed to Redis (no worker yet): queued there
        with _redis_on(held):  # a new Redis: everything it held is gone
            stack.worker()
            start = time.monotonic()
            final = stack.wait_final("restart", sha, timeout=30)
            assert {s["state"] for s in final.values()} == {"success"}
            print(f"final {time.monotonic() - start:.1f} s after Redis and a worker were back")
            stack.stop_workers()


def test_a_killed_workers_check_is_recovered_without_the_requeue_delay(tmp_path):
    with redis_server() as url, registry_server(tmp_path / "data", {"REGISTRY_REDIS_URL": url, **PATIENT}) as server:
        stack = Stack(server, tmp_path)
        first, marker, sha = push_to_a_slow_worker(stack, tmp_path, "30")
        kill_whole(first)
        stack.worker("tests.slow_worker", SLOW_VALIDATE="0.1", SLOW_MARKER=str(marker))
        final = stack.wait_final("killed", sha, timeout=30)
        assert {s["state"] for s in final.values()} == {"success"}
        stack.stop_workers()


@contextmanager
def _redis_on(held: HeldPort):
    held.release()
    try:
        with redis_server(held.port) as url:
            yield url
    finally:
        held.hold()


def test_the_worker_rides_out_a_redis_outage(tmp_path):
    held = HeldPort()
    port = held.port
    url = f"redis://127.0.0.1:{port}/0"
    with registry_server(tmp_path / "data", {"REGISTRY_REDIS_URL": url, **PATIENT}) as server:
        stack = Stack(server, tmp_path)
        worker = stack.worker()  # Redis is not up yet: it must wait, not exit
        time.sleep(2)
        assert worker.poll() is None
        with _redis_on(held):
            work = stack.template("outage", tmp_path / "outage")
            sha = commit_file(work, "template.json", MINIMAL)
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            stack.wait_final("outage", sha, timeout=30)
        time.sleep(2)  # Redis gone again, mid-wait
        assert worker.poll() is None
        with _redis_on(held):
            sha = commit_file(work, "README.md", "again\n")
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            final = stack.wait_final("outage", sha, timeout=30)
            assert {s["state"] for s in final.values()} == {"success"}
        assert worker.poll() is None
        log = (tmp_path / "worker-0.log").read_text()
        # at start our loop waits (one line per change of state); mid-run RQ reconnects itself
        assert log.count("Redis unreachable") == 1 and "connected to Redis" in log, log
        stack.stop_workers()
