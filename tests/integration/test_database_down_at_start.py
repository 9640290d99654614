"""A node started while its PostgreSQL is down (a server of the test's own, `tests.pg.cluster`)
does not die of it, nor does its supervisor stop it: it answers 503 with Retry-After (git a reason
it prints) until the database starts, then migrates the schema and serves, with no restart; a
worker started then waits for it."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.gitcli import authed, commit_file, git
from tests.pg import cluster
from tests.services import redis_server, registry_server, start_worker, stop_group


def _wait_for_200(url: str, timeout: float = 90, headers: dict[str, str] | None = None) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(url, timeout=30, headers=headers)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        assert answer.status_code == 503 and answer.headers["Retry-After"], answer.text
        time.sleep(0.2)


@pytest.mark.parametrize("workers", ["1", "2"])  # one process; a supervisor and its forked processes
def test_a_node_started_with_its_database_down_answers_503_then_serves_once_it_is_up(tmp_path, workers):
    with cluster() as pg:
        pg.stop("fast")
        data = tmp_path / "data"
        with registry_server(data, {"REGISTRY_DATABASE_URL": pg.url}, ("--workers", workers)) as server:
            port = server.url.rsplit(":", 1)[1]
            log = data.parent / f"server-{port}.log"
            api = httpx.get(server.url + "/api/v1/templates", timeout=30)
            assert api.status_code == 503, api.text
            assert int(api.headers["Retry-After"]) > 0 and api.json()["error"]["code"] == "unavailable"
            page = httpx.get(server.url + "/", headers={"Accept": "text/html"}, timeout=30)
            assert page.status_code == 503 and "database is unavailable" in page.text and page.headers["Retry-After"]
            cloned = git("clone", "-q", f"{server.url}/alice/t.git", str(tmp_path / "early"), check=False)
            assert cloned.returncode != 0 and "database is unavailable" in cloned.stderr, cloned.stderr
            time.sleep(3)  # retries meanwhile, none of which may end a process
            assert server.proc.poll() is None, log.read_text()

            pg.start()
            listed = _wait_for_200(server.url + "/api/v1/templates")  # migrated by the node itself
            assert listed.status_code == 200 and listed.json() == [], listed.text
            token = server.user("alice")
            created = httpx.post(server.url + "/api/v1/templates", json={"name": "t"}, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
            assert created.status_code == 201, created.text
            work = tmp_path / "w"
            git("clone", "-q", authed(created.json()["clone_url"], "alice", token), str(work))
            head = commit_file(work, "README.md", "after the database started\n")
            git("push", "-q", "origin", "HEAD:main", cwd=work)
            git("clone", "-q", authed(created.json()["clone_url"], "alice", token), str(tmp_path / "again"))
            assert git("rev-parse", "HEAD", cwd=tmp_path / "again").stdout.strip() == head
            assert server.proc.poll() is None
            assert "ended" not in log.read_text(), log.read_text()  # no server process died and was replaced


def test_a_server_process_restarted_while_the_database_is_down_does_not_stop_the_node(tmp_path):
    """The supervisor starts a process that died again; one started during the outage keeps
    answering 503s (its first reconcile is retried), instead of dying until the supervisor gives up."""
    with cluster() as pg:
        data = tmp_path / "data"
        with registry_server(data, {"REGISTRY_DATABASE_URL": pg.url}, ("--workers", "2")) as server:
            port = server.url.rsplit(":", 1)[1]
            log = data.parent / f"server-{port}.log"
            token = server.user("alice")
            pg.stop("immediate")
            children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
            os.kill(int(children[0]), signal.SIGKILL)
            time.sleep(8)  # more than the supervisor's allowance of ends, were the replacement to die
            assert server.proc.poll() is None, log.read_text()
            assert log.read_text().count("ended") == 1, log.read_text()  # the one killed, and no other
            for _ in range(4):  # both processes answer the outage's 503
                answer = httpx.get(server.url + "/api/v1/templates", timeout=30)
                assert answer.status_code == 503 and answer.headers["Retry-After"], answer.text
            pg.start()
            answer = _wait_for_200(server.url + "/api/v1/user", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200 and answer.json()["username"] == "alice", answer.text


def test_a_worker_started_with_its_database_down_waits_for_it(tmp_path):
    with cluster() as pg, redis_server() as redis_url:
        pg.stop("fast")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "AWS_"))}
        env |= {"REGISTRY_DATA_DIR": str(tmp_path / "data"), "REGISTRY_DATABASE_URL": pg.url,
                "REGISTRY_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
        log = tmp_path / "worker.log"
        worker = start_worker(env, log)
        try:
            time.sleep(4)
            assert worker.poll() is None, log.read_text()
            assert "worker on" not in log.read_text()  # no job taken before its schema
            pg.start()
            deadline = time.monotonic() + 60
            while "worker on" not in log.read_text() and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
            assert worker.poll() is None and "worker on" in log.read_text(), log.read_text()
            with psycopg.connect(pg.url) as conn:  # migrated by the worker itself
                assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None
        finally:
            stop_group(worker)
