"""The stock git CLI against `registry serve`, on the local disk and on S3 (moto over HTTP)."""
from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from tests.gitcli import authed, commit_file, git

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def repo(env, tmp_path_factory):
    """A template with a little history, cloned into a working copy pushed to main."""
    info = env.create("flow")
    work = tmp_path_factory.mktemp("flow") / "work"
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "template.json", '{"title": "Flow"}\n', "add manifest")
    commit_file(work, "prompts/system.md", "You are helpful.\n", "add prompt")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return info, work


def test_clone_push_pull_roundtrip_byte_identical(env, repo, tmp_path):
    info, work = repo
    other = tmp_path / "other"
    env.clone(info["clone_url"], "alice", other)
    assert filecmp.cmpfiles(work, other, ["template.json", "prompts/system.md"], shallow=False)[0] == [
        "template.json", "prompts/system.md"]
    head = commit_file(other, "README.md", "# Flow\n")
    git("push", "-q", "origin", "main", cwd=other)
    git("pull", "-q", "--ff-only", "origin", "main", cwd=work)
    assert git("rev-parse", "HEAD", cwd=work).stdout.strip() == head
    assert (work / "README.md").read_text() == "# Flow\n"
    git("fsck", "--strict", "--no-dangling", cwd=other)
    with env.api() as c:
        commits = c.get("/templates/alice/flow/commits", params={"ref": "main"}).json()
        assert commits[0]["sha"] == head and len(commits) == 3
        assert c.get("/templates/alice/flow/raw/main/README.md").content == b"# Flow\n"
        tree = c.get("/templates/alice/flow/tree/main/prompts").json()
        assert [e["name"] for e in tree["entries"]] == ["system.md"]


def test_branches_tags_delete_ls_remote(env, repo):
    _, work = repo
    git("checkout", "-q", "-b", "feature/x", cwd=work)
    feature = commit_file(work, "notes.txt", "x\n")
    git("push", "-q", "origin", "feature/x", cwd=work)
    git("tag", "-a", "v1.0.0", "-m", "first release", cwd=work)
    git("tag", "light", cwd=work)
    git("push", "-q", "origin", "v1.0.0", "light", cwd=work)
    remote = git("ls-remote", "origin", cwd=work).stdout
    assert f"{feature}\trefs/heads/feature/x" in remote
    assert "refs/tags/v1.0.0^{}" in remote and "refs/tags/light" in remote
    with env.api() as c:
        assert {b["name"] for b in c.get("/templates/alice/flow/branches").json()} >= {"main", "feature/x"}
        tags = {t["name"]: t for t in c.get("/templates/alice/flow/tags").json()}
        assert tags["v1.0.0"]["commit"] == feature and tags["light"]["sha"] == feature
        assert c.get("/templates/alice/flow/raw/feature/x/notes.txt").content == b"x\n"
    git("push", "-q", "origin", "--delete", "feature/x", cwd=work)
    assert "feature/x" not in git("ls-remote", "--heads", "origin", cwd=work).stdout
    git("checkout", "-q", "main", cwd=work)


def test_atomic_push_all_or_nothing(env, tmp_path):
    info = env.create("atomic")
    work = tmp_path / "atomic"
    env.clone(info["clone_url"], "alice", work)
    base = commit_file(work, "a.txt", "0\n")
    side_tip = commit_file(work, "a.txt", "1\n")
    git("push", "-q", "origin", "HEAD:main", "HEAD:side", cwd=work)
    with env.api() as c:
        assert c.put("/templates/alice/atomic/protection/side", json={}).status_code == 200
    new_main = commit_file(work, "b.txt", "b\n")
    git("branch", "-f", "side", base, cwd=work)  # rewinding side is a forbidden force push
    atomic = git("push", "--atomic", "origin", "main", "+side:side", cwd=work, check=False)
    assert atomic.returncode != 0
    assert "(protected branch: force push is not allowed)" in atomic.stderr
    remote = git("ls-remote", "origin", cwd=work).stdout
    assert f"{side_tip}\trefs/heads/main" in remote and f"{side_tip}\trefs/heads/side" in remote
    # Without --atomic the good update lands and only the refused one is reported.
    plain = git("push", "origin", "main", "+side:side", cwd=work, check=False)
    assert plain.returncode != 0 and "protected branch" in plain.stderr
    remote = git("ls-remote", "origin", cwd=work).stdout
    assert f"{new_main}\trefs/heads/main" in remote and f"{side_tip}\trefs/heads/side" in remote


def test_shallow_clone_depth_1(env, repo, tmp_path):
    info, work = repo
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", info["clone_url"], str(shallow))
    assert git("rev-list", "--count", "HEAD", cwd=shallow).stdout.strip() == "1"
    assert (shallow / "template.json").exists()
    # a shallow clone can still push on top of what it has
    git("remote", "set-url", "origin", authed(info["clone_url"], "alice", env.tokens["alice"]), cwd=shallow)
    git("pull", "-q", "--ff-only", "origin", "main", cwd=shallow)
    head = commit_file(shallow, "from-shallow.txt", "s\n")
    git("push", "-q", "origin", "HEAD:main", cwd=shallow)
    assert head in git("ls-remote", "origin", "main", cwd=shallow).stdout


def test_push_over_5_mib_and_fsck(env, tmp_path):
    info = env.create("bigpush")
    work = tmp_path / "big"
    env.clone(info["clone_url"], "alice", work)
    data = os.urandom(6 * 1024 * 1024)  # incompressible: the pack really is > 5 MiB
    head = commit_file(work, "data.bin", data)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    copy = tmp_path / "copy"
    git("clone", "-q", info["clone_url"], str(copy))
    assert (copy / "data.bin").read_bytes() == data
    assert git("rev-parse", "HEAD", cwd=copy).stdout.strip() == head
    git("fsck", "--strict", cwd=copy)


def test_force_push_allowed_unless_protected(env, tmp_path):
    info = env.create("forceful")
    work = tmp_path / "force"
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "a.txt", "1\n")
    second = commit_file(work, "a.txt", "2\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    rewritten = commit_file(work, "a.txt", "rewritten\n")
    plain = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert plain.returncode != 0 and "rejected" in plain.stderr  # client-side non-fast-forward
    with env.api() as c:
        resp = c.put("/templates/alice/forceful/protection/main", json={"allow_force_push": False})
        assert resp.status_code == 200, resp.text
    forced = git("push", "--force", "origin", "HEAD:main", cwd=work, check=False)
    assert forced.returncode != 0
    assert "[remote rejected] HEAD -> main (protected branch: force push is not allowed)" in forced.stderr
    assert second in git("ls-remote", "origin", "main", cwd=work).stdout
    with env.api() as c:
        c.delete("/templates/alice/forceful/protection/main")
    git("push", "-q", "--force", "origin", "HEAD:main", cwd=work)
    assert rewritten in git("ls-remote", "origin", "main", cwd=work).stdout


def test_clone_after_many_pushes_passes_strict_fsck(env, tmp_path):
    """Several packs (thin packs completed with duplicate bases) stream as one valid pack."""
    info = env.create("layers")
    work = tmp_path / "layers"
    env.clone(info["clone_url"], "alice", work)
    body = "".join(f"line {i}\n" for i in range(200))
    for round_no in range(4):
        for i in range(3):
            body = body.replace(f"line {round_no * 10 + i}\n", f"edited {round_no}-{i}\n")
            commit_file(work, "prompts/long.md", body)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("tag", "-a", "v0.1.0", "-m", "tagged", cwd=work)
    git("push", "-q", "origin", "v0.1.0", cwd=work)
    copy = tmp_path / "copy"
    git("-c", "transfer.fsckObjects=true", "clone", "-q", info["clone_url"], str(copy))
    git("fsck", "--strict", "--no-dangling", cwd=copy)
    assert git("rev-parse", "HEAD", cwd=copy).stdout == git("rev-parse", "HEAD", cwd=work).stdout
    assert git("rev-list", "--count", "--all", cwd=copy).stdout.strip() == "12"
    assert git("rev-parse", "v0.1.0^{commit}", cwd=copy).stdout == git("rev-parse", "HEAD", cwd=work).stdout


def test_deleted_branch_objects_are_not_served_to_cloners(env, tmp_path):
    info = env.create("forgetful")
    work = tmp_path / "forgetful"
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "a.txt", "public\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", "oops", cwd=work)
    commit_file(work, "leak.txt", "a secret pushed by mistake\n")
    leaked = git("rev-parse", "HEAD:leak.txt", cwd=work).stdout.strip()
    git("push", "-q", "origin", "oops", cwd=work)
    git("push", "-q", "origin", "--delete", "oops", cwd=work)
    copy = tmp_path / "copy"
    git("clone", "-q", "--mirror", info["clone_url"], str(copy))
    assert git("cat-file", "-e", leaked, cwd=copy, check=False).returncode != 0
    git("fsck", "--strict", cwd=copy)
    # gc repacks to exactly the reachable objects; clones stay whole and the secret stays gone
    out = env.server.cli("gc", "--grace-seconds", "0").stdout
    assert "repacked" in out
    again = tmp_path / "again"
    git("-c", "transfer.fsckObjects=true", "clone", "-q", "--mirror", info["clone_url"], str(again))
    assert git("cat-file", "-e", leaked, cwd=again, check=False).returncode != 0
    assert git("rev-parse", "main", cwd=again).stdout == git("rev-parse", "main", cwd=copy).stdout


def test_mcp_config_export_endpoint(env, tmp_path):
    import json as _json

    info = env.create("mcp")
    work = tmp_path / "mcp"
    env.clone(info["clone_url"], "alice", work)
    manifest = _json.loads(Path(__file__).resolve().parents[3].joinpath(
        "shared/examples/rich.template.json").read_text())
    manifest.pop("extends")
    commit_file(work, "template.json", _json.dumps(manifest))
    commit_file(work, "prompts/system.md", "You plan dramas.\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api() as c:
        cfg = c.get("/templates/alice/mcp/mcp-config").json()
        assert cfg["mcpServers"]["firecrawl"]["url"] == "https://api.firecrawl.dev"
        commit_file(work, "template.json", "{}")
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        bad = c.get("/templates/alice/mcp/mcp-config")
        assert bad.status_code == 400 and "invalid" in bad.json()["error"]["message"]
