"""Forks share their parent's packs: cost independent of size, no pack bytes moved."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(600)


def _files(root: Path) -> dict[str, int]:
    """Stored blobs and their sizes (the local store's empty lock files are not blobs)."""
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] != ".locks"}


def test_fork_of_50_mb_repo_is_fast_and_copies_no_pack_bytes(local_env, tmp_path):
    env = local_env
    info = env.create("heavy")
    work = tmp_path / "heavy"
    env.clone(info["clone_url"], "alice", work)
    for i in range(8):  # 8 pushes of ~6.5 MB incompressible data: ~52 MB of packs
        commit_file(work, f"data/blob{i}.bin", os.urandom(6_500_000))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
    blobs = Path(env.server.env["REGISTRY_DATA_DIR"]) / "blobs"
    packs = sum(size for key, size in _files(blobs / "repos" / info["id"]).items() if key.endswith(".pack"))
    assert packs > 50_000_000
    env.create("light")  # the yardstick: a fork of an empty template, timed beside the heavy one
    before = _files(blobs)
    with env.api("bob") as c:
        start = time.perf_counter()
        light = c.post("/templates/alice/light/forks", json={"name": "light-fork"})
        light_elapsed = time.perf_counter() - start
        start = time.perf_counter()
        resp = c.post("/templates/alice/heavy/forks", json={"name": "heavy-fork"})
        elapsed = time.perf_counter() - start
    assert light.status_code == 201 and resp.status_code == 201, resp.text
    fork = resp.json()
    # cost independent of size: about what forking an empty template costs (an absolute bound alone
    # failed under a loaded CI machine: 0.234 s against 0.2), and well under copying 50 MB would
    assert elapsed < max(0.2, 3 * light_elapsed), f"fork took {elapsed:.3f}s, an empty one {light_elapsed:.3f}s"
    assert elapsed < 1.0, f"fork took {elapsed:.3f}s"
    assert fork["full_name"] == "bob/heavy-fork" and fork["fork_parent"]["full_name"] == "alice/heavy"
    after = _files(blobs)
    added = {k: v for k, v in after.items() if k not in before}
    assert sorted(added) == sorted([f"repos/{fork['id']}/refs.json", f"repos/{light.json()['id']}/refs.json"])  # only the refs document was written
    assert sum(added.values()) < 10_000

    # the fork clones whole, takes pushes of its own, and outlives its parent
    clone = tmp_path / "fork"
    env.clone(fork["clone_url"], "bob", clone)
    assert (clone / "data" / "blob7.bin").stat().st_size == 6_500_000
    commit_file(clone, "README.md", "# fork\n")
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    with env.api("alice") as c:
        assert c.delete("/templates/alice/heavy").status_code == 204
    again = tmp_path / "again"
    git("-c", "transfer.fsckObjects=true", "clone", "-q", fork["clone_url"], str(again))
    assert (again / "README.md").read_text() == "# fork\n" and (again / "data" / "blob0.bin").exists()
    git("fsck", "--strict", cwd=again)


def test_fork_needs_read_access_and_a_free_name(local_env):
    env = local_env
    env.create("hidden", visibility="private")
    with env.api("bob") as c:
        assert c.post("/templates/alice/hidden/forks", json={}).status_code == 404
    env.create("open")
    with env.api("alice") as c:
        assert c.post("/templates/alice/open/forks", json={}).status_code == 409  # alice/open exists
        resp = c.post("/templates/alice/open/forks", json={"name": "open-2"})
        assert resp.status_code == 201 and resp.json()["fork_parent"]["name"] == "open"
    with env.api(None) as c:
        assert c.post("/templates/alice/open/forks", json={}).status_code == 401
