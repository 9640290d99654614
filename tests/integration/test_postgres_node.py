"""`registry serve` on PostgreSQL (REGISTRY_DATABASE_URL), and moving an embedded install's
metadata there with `registry db copy`."""
from __future__ import annotations

import subprocess
import sys

import httpx

from registry.meta.db import HEAD
from tests.gitcli import authed, commit_file, git
from tests.pg import pg_database
from tests.services import registry_server

EXAMPLE = '{"title": "t"}\n'


def test_an_embedded_install_moves_to_postgres_and_keeps_everything(tmp_path):
    data = tmp_path / "data"
    with registry_server(data) as embedded:
        token = embedded.user("alice")
        auth = {"Authorization": f"Bearer {token}"}
        info = httpx.post(f"{embedded.url}/api/v1/templates", json={"name": "moved"}, headers=auth, timeout=30).json()
        work = tmp_path / "w"
        git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
        tip = commit_file(work, "template.json", EXAMPLE)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        httpx.put(f"{embedded.url}/api/v1/templates/alice/moved/star", headers=auth, timeout=30).raise_for_status()
        env = embedded.env
    with pg_database() as url:
        copied = subprocess.run([sys.executable, "-m", "api.cli", "db", "copy", "--to", url], env=env,
                                capture_output=True, text=True)
        assert copied.returncode == 0, copied.stderr
        assert "templates 1" in copied.stdout and "users 1" in copied.stdout
        with registry_server(data, {"REGISTRY_DATABASE_URL": url}) as node:
            got = httpx.get(f"{node.url}/api/v1/templates/alice/moved", headers=auth, timeout=30).json()
            assert got["head_sha"] == tip and got["stars"] == 1
            git("clone", "-q", authed(f"{node.url}/alice/moved.git", "alice", token), str(tmp_path / "again"))
            node.cli("user", "add", "bob")  # ids continue after the copied ones
            created = httpx.post(f"{node.url}/api/v1/templates", json={"name": "fresh"}, headers=auth, timeout=30)
            assert created.status_code == 201
            upgraded = node.cli("db", "upgrade")
            assert "postgresql" in upgraded.stdout


def test_nodes_starting_together_migrate_once(tmp_path):
    with pg_database() as url:
        env = {"REGISTRY_DATABASE_URL": url, "REGISTRY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        procs = [subprocess.Popen([sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        assert all(f"revision {HEAD} (postgresql)" in out for out, _ in outs), outs
