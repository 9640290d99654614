"""Pull requests from a fork and from a branch: refs/pull/N/head, files with structured manifest diff."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)
BASE = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())


def _with_fork(env, tmp_path: Path, name: str, files: dict[str, str]) -> tuple[dict, Path, Path]:
    """alice's template `name` with `files` pushed to main, her clone, and bob's clone of his fork."""
    info = env.create(name)
    work = env.clone(info["clone_url"], "alice", tmp_path / name)
    for path, content in files.items():
        commit_file(work, path, content)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api("bob") as c:
        fork = c.post(f"/templates/alice/{name}/forks", json={}).json()
    return info, work, env.clone(fork["clone_url"], "bob", tmp_path / f"{name}-fork")


def test_pull_from_fork_tracks_head_and_diffs_the_manifest(local_env, tmp_path):
    env = local_env
    _, work, mine = _with_fork(env, tmp_path, "upstream", {"template.json": json.dumps(BASE, indent=2),
                                                          "prompts/system.md": "You are careful.\nBe brief.\n"})
    git("checkout", "-q", "-b", "tune", cwd=mine)
    changed = {**BASE, "title": "Sharper risk writer"}
    changed["promptConfig"] = {**BASE["promptConfig"], "parameters": BASE["promptConfig"]["parameters"] + [
        {"name": "region", "type": "string", "required": False}]}
    commit_file(mine, "template.json", json.dumps(changed, indent=2))
    commit_file(mine, "prompts/system.md", "You are careful.\nBe very brief.\n")
    git("push", "-q", "origin", "tune", cwd=mine)
    with env.api("bob") as c:
        resp = c.post("/templates/alice/upstream/pulls", json={"title": "Tune", "head": "bob:tune", "base": "main"})
        assert resp.status_code == 201, resp.text
        pr = resp.json()
        assert pr["number"] == 1 and pr["state"] == "open" and pr["head"]["owner"] == "bob"
        files = {f["path"]: f for f in c.get("/templates/alice/upstream/pulls/1/files").json()}
        assert files["prompts/system.md"]["status"] == "modified"
        assert "-Be brief.\n+Be very brief.\n" in files["prompts/system.md"]["patch"]
        manifest = {ch["path"]: ch for ch in files["template.json"]["manifest_changes"]}
        assert manifest["$.title"] == {"path": "$.title", "kind": "changed", "old": BASE["title"],
                                       "new": "Sharper risk writer"}
        assert manifest["$.promptConfig.parameters[2]"]["kind"] == "added"
        assert len(c.get("/templates/alice/upstream/pulls/1/commits").json()) == 2
    # refs/pull/1/head is fetchable from the base, and follows pushes to the head branch
    git("fetch", "-q", "origin", "pull/1/head:pr1", cwd=work)
    assert git("rev-parse", "pr1", cwd=work).stdout.strip() == git("rev-parse", "HEAD", cwd=mine).stdout.strip()
    newer = commit_file(mine, "README.md", "# tuned\n")
    git("push", "-q", "origin", "tune", cwd=mine)
    assert git("ls-remote", "origin", "refs/pull/1/head", cwd=work).stdout.startswith(newer)
    with env.api("alice") as c:
        assert c.get("/templates/alice/upstream/pulls/1").json()["head"]["sha"] == newer
        assert [p["number"] for p in c.get("/templates/alice/upstream/pulls", params={"state": "open"}).json()] == [1]
        assert c.patch("/templates/alice/upstream/pulls/1", json={"state": "closed"}).json()["state"] == "closed"
        assert c.get("/templates/alice/upstream/pulls", params={"state": "open"}).json() == []
        assert c.patch("/templates/alice/upstream/pulls/1", json={"state": "merged"}).status_code == 422


def test_pull_errors(local_env, tmp_path):
    env = local_env
    info = env.create("solo")
    work = tmp_path / "solo"
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "a.txt", "a\n")
    git("push", "-q", "origin", "HEAD:main", "HEAD:same", cwd=work)
    with env.api("alice") as c:
        url = "/templates/alice/solo/pulls"
        assert c.post(url, json={"title": "x", "head": "nope", "base": "main"}).status_code == 404
        assert c.post(url, json={"title": "x", "head": "same", "base": "main"}).status_code == 400
        assert c.post(url, json={"title": "x", "head": "carol:main", "base": "main"}).status_code == 400
        assert c.get(url + "/99").status_code == 404
    with env.api("bob") as c:  # a reader of a public template may not open PRs from its branches
        assert c.post(url, json={"title": "x", "head": "same", "base": "main"}).status_code == 403


def test_deleting_a_fork_keeps_the_packs_its_pull_requests_lent_the_base(local_env, tmp_path):
    env = local_env
    info, _, mine = _with_fork(env, tmp_path, "lender", {"a.txt": "a\n"})
    head = commit_file(mine, "b.txt", "b\n")
    git("push", "-q", "origin", "HEAD:idea", cwd=mine)
    with env.api("bob") as c:
        assert c.post("/templates/alice/lender/pulls", json={"title": "i", "head": "bob:idea"}).status_code == 201
        assert c.delete("/templates/bob/lender").status_code == 204
    copy = tmp_path / "copy"
    git("clone", "-q", "--mirror", info["clone_url"], str(copy))
    assert git("rev-parse", "refs/pull/1/head", cwd=copy).stdout.strip() == head
    git("fsck", "--strict", cwd=copy)
