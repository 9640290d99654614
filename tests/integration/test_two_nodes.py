"""Two API nodes and two workers on one PostgreSQL, one Redis and one blob directory (issue 13):
nothing per node but caches. Pushes, pull requests and reviews through one node; search, merges
and pages through the other; racing pushes through both have exactly one winner each round."""
from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.integration.test_pipeline import MINIMAL
from tests.pg import pg_database
from tests.services import redis_server, registry_server, start_worker, stop_group

pytestmark = pytest.mark.timeout(300)
FAST = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "1", "REGISTRY_RECONCILE_SECONDS": "0.5"}


def _final(node: str, token: str, name: str, sha: str, timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        got = {s["context"]: s["state"] for s in httpx.get(
            f"{node}/api/v1/templates/alice/{name}/commits/{sha}/statuses", timeout=30,
            headers={"Authorization": f"Bearer {token}"}).json()}
        if len(got) == 3 and "pending" not in got.values():
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.3)


def test_two_nodes_share_everything_but_caches(tmp_path):
    with pg_database() as db, redis_server() as redis:
        shared = {"REGISTRY_DATABASE_URL": db, "REGISTRY_REDIS_URL": redis, "REGISTRY_BLOB_DIR": str(tmp_path / "blobs"),
                  "REGISTRY_SECRET_KEY": "shared-secret", **FAST}
        with registry_server(tmp_path / "a", shared) as a, registry_server(tmp_path / "b", shared) as b:
            workers = [start_worker(a.env, tmp_path / "w1.log"), start_worker(b.env, tmp_path / "w2.log")]
            try:
                token = a.user("alice")
                a.accounts(("bob",), {})
                bob = b.accounts((), {"bob": ("bob", "write")})["bob"]  # users are shared: node b knows bob
                auth = {"Authorization": f"Bearer {token}"}
                info = httpx.post(f"{a.url}/api/v1/templates", json={"name": "shared"}, headers=auth,
                                  timeout=30).json()
                work = tmp_path / "wa"
                git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
                sha = commit_file(work, "template.json", MINIMAL)
                git("push", "-q", "origin", "HEAD:main", cwd=work)
                assert set(_final(b.url, token, "shared", sha).values()) == {"success"}
                hits = httpx.get(f"{b.url}/api/v1/search", params={"q": "risk"}, timeout=30).json()
                assert [h["name"] for h in hits["results"]] == ["shared"]  # indexed by whichever worker

                # a pull request opened and reviewed through node a, merged through node b
                git("checkout", "-q", "-b", "feature", cwd=work)
                commit_file(work, "README.md", "# shared\n")
                git("push", "-q", "origin", "feature", cwd=work)
                pull = httpx.post(f"{a.url}/api/v1/templates/alice/shared/pulls", headers=auth, timeout=30,
                                  json={"title": "readme", "head": "feature", "base": "main"}).json()
                httpx.put(f"{a.url}/api/v1/templates/alice/shared/collaborators/bob", headers=auth, timeout=30,
                          json={"role": "reader"}).raise_for_status()
                review = httpx.post(f"{a.url}/api/v1/templates/alice/shared/pulls/{pull['number']}/reviews",
                                    headers={"Authorization": f"Bearer {bob}"}, timeout=30,
                                    json={"event": "APPROVE", "body": "ok"})
                assert review.status_code == 201, review.text
                merged = httpx.post(f"{b.url}/api/v1/templates/alice/shared/pulls/{pull['number']}/merge",
                                    headers=auth, timeout=30, json={"method": "merge"})
                assert merged.status_code == 200, merged.text
                assert set(_final(a.url, token, "shared", merged.json()["sha"]).values()) == {"success"}
                page = httpx.get(f"{b.url}/alice/shared", timeout=30)
                assert page.status_code == 200 and "shared" in page.text

                # racing pushes to one branch, one through each node: exactly one winner each round
                clones = []
                for node, label in ((a, "ra"), (b, "rb")):
                    dest = tmp_path / label
                    git("clone", "-q", authed(f"{node.url}/alice/shared.git", "alice", token), str(dest))
                    clones.append(dest)
                for round_no in range(5):
                    for dest in clones:
                        git("fetch", "-q", "origin", cwd=dest)
                        git("reset", "-q", "--hard", "origin/main", cwd=dest)
                        commit_file(dest, f"r{round_no}.txt", dest.name)
                    procs = [subprocess.Popen(["git", "push", "--porcelain", "origin", "HEAD:main"], cwd=dest,
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "HOME": str(dest)})
                             for dest in clones]
                    results = [(p.wait(120), *p.communicate()) for p in procs]
                    assert sorted(rc == 0 for rc, _, _ in results) == [False, True], results
                    loser = next(out + err for rc, out, err in results if rc)
                    assert "rejected" in loser, loser
                tip = git("ls-remote", "origin", "refs/heads/main", cwd=clones[0]).stdout.split()[0]
                assert set(_final(b.url, token, "shared", tip).values()) == {"success"}
            finally:
                for proc in workers:
                    stop_group(proc)
