"""A node on a PostgreSQL server that is stopped, restarted and paused under it (a server of the
test's own, `tests.pg.cluster`): while it is down every request gets a 503 with Retry-After (git a
reason it prints), nothing is stored by a refused push, and once it is back the node uses it at
once, with no restart of its own."""
from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.pg import cluster
from tests.services import registry_server


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with cluster() as pg, registry_server(tmp_path_factory.mktemp("pgnode") / "data",
                                          {"REGISTRY_DATABASE_URL": pg.url}, ("--workers", "1")) as server:
        token = server.user("alice")
        yield pg, server, token


def _api(server, token) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _stored_main(server, token, name: str) -> str | None:
    return _api(server, token).get(f"/templates/alice/{name}").json().get("head_sha")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_stopped_database_is_a_503_with_retry_after_and_its_return_is_used_at_once(node, tmp_path, mode):
    pg, server, token = node
    name = f"restart-{mode}"
    info = _api(server, token).post("/templates", json={"name": name}).json()
    work = tmp_path / "w"
    git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
    first = commit_file(work, "README.md", "one\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    second = commit_file(work, "README.md", "two\n")

    pg.stop(mode)
    try:
        read = _api(server, token).get(f"/templates/alice/{name}")
        assert read.status_code == 503, read.text
        assert int(read.headers["Retry-After"]) > 0 and read.json()["error"]["code"] == "unavailable"
        anonymous = httpx.get(server.url + "/api/v1/templates", timeout=30)
        assert anonymous.status_code == 503 and "Retry-After" in anonymous.headers
        pushed = git("push", "origin", "HEAD:main", cwd=work, check=False)
        assert pushed.returncode != 0 and "database is unavailable" in pushed.stderr, pushed.stderr
        cloned = git("clone", "-q", authed(info["clone_url"], "alice", token), str(tmp_path / "c"), check=False)
        assert cloned.returncode != 0 and "database is unavailable" in cloned.stderr, cloned.stderr
        # An RPC whose discovery had gone through: an ERR line git prints as "remote error: ..."
        rpc = httpx.post(f"{server.url}/alice/{name}.git/git-upload-pack", content=b"0000", timeout=30,
                         headers={"Content-Type": "application/x-git-upload-pack-request"},
                         auth=("alice", token))
        assert rpc.status_code == 200 and rpc.content[4:].startswith(b"ERR the database is unavailable")
        assert rpc.headers["Retry-After"]
    finally:
        pg.start()

    # Back: the very next requests succeed, on the same node process.
    assert _stored_main(server, token, name) == first  # the refused push stored nothing
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    assert _stored_main(server, token, name) == second
    git("clone", "-q", authed(info["clone_url"], "alice", token), str(tmp_path / "again"))
    assert server.proc.poll() is None


def test_a_push_during_a_pause_lands_once_the_database_answers_and_says_so(node, tmp_path):
    pg, server, token = node
    info = _api(server, token).post("/templates", json={"name": "paused"}).json()
    work = tmp_path / "w"
    git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
    head = commit_file(work, "README.md", "during a pause\n")
    result: dict = {}
    pg.pause()
    try:
        pusher = threading.Thread(target=lambda: result.update(
            res=git("push", "origin", "HEAD:main", cwd=work, check=False)))
        pusher.start()
        time.sleep(3)
    finally:
        pg.resume()
    pusher.join(60)
    stored = _stored_main(server, token, "paused")
    # Whatever the pause did to it, the report and the refs agree.
    assert (result["res"].returncode == 0) == (stored == head), (result["res"].stderr, stored)
    assert stored == head or "unavailable" in result["res"].stderr
