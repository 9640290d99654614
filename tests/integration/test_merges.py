"""Reviews and merges with the real git CLI: fork -> push -> PR -> review -> merge -> pull."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)
BASE = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


def _setup(env, tmp: Path, name: str):
    info = env.create(name)
    work = tmp / name
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "template.json", json.dumps(BASE, indent=2) + "\n")
    commit_file(work, "prompts/system.md", PROMPT)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return info, work


def _branch(work: Path, branch: str, edits: dict[str, str]) -> str:
    git("fetch", "-q", "origin", cwd=work)
    git("checkout", "-q", "-B", branch, "origin/main", cwd=work)
    for path, content in edits.items():
        sha = commit_file(work, path, content)
    git("push", "-q", "-f", "origin", branch, cwd=work)
    git("checkout", "-q", "main", cwd=work)
    return sha


def _pr(c, name: str, head: str) -> int:
    resp = c.post(f"/templates/alice/{name}/pulls", json={"title": head, "head": head, "base": "main"})
    assert resp.status_code == 201, resp.text
    return resp.json()["number"]


def _manifest(**changes) -> str:
    return json.dumps({**BASE, **changes}, indent=2) + "\n"


def test_fork_pr_review_merge_and_pull(local_env, tmp_path):
    env = local_env
    info, work = _setup(env, tmp_path, "flow-merge")
    with env.api("bob") as c:
        fork = c.post("/templates/alice/flow-merge/forks", json={}).json()
    mine = tmp_path / "mine"
    env.clone(fork["clone_url"], "bob", mine)
    head = commit_file(mine, "prompts/system.md", PROMPT.replace("Be brief.", "Be very brief."))
    git("push", "-q", "origin", "HEAD:tune", cwd=mine)
    with env.api("bob") as c:
        number = c.post("/templates/alice/flow-merge/pulls",
                        json={"title": "Tune", "head": "bob:tune", "base": "main"}).json()["number"]
        line = c.post(f"/templates/alice/flow-merge/pulls/{number}/comments",
                      json={"body": "why?", "path": "prompts/system.md", "line": 2, "side": "RIGHT"})
        assert line.status_code == 201 and line.json()["line"] == 2
        own = c.post(f"/templates/alice/flow-merge/pulls/{number}/reviews", json={"event": "APPROVE"})
        assert own.status_code == 400  # no approving one's own pull request
        assert c.post(f"/templates/alice/flow-merge/pulls/{number}/merge", json={}).status_code == 403
    with env.api("alice") as c:
        assert c.post(f"/templates/alice/flow-merge/pulls/{number}/reviews",
                      json={"event": "APPROVE", "body": "ok", "comments": [{"body": "nice", "path": "prompts/system.md",
                                                                            "line": 2, "side": "RIGHT"}]}).status_code == 201
        assert len(c.get(f"/templates/alice/flow-merge/pulls/{number}/comments").json()) == 2
        assert c.get(f"/templates/alice/flow-merge/pulls/{number}/mergeability").json() == {
            "mergeable": True, "conflicts": [], "blocked_by": []}
        stale = c.post(f"/templates/alice/flow-merge/pulls/{number}/merge", json={"expected_head_sha": "0" * 40})
        assert stale.status_code == 412 and stale.json()["error"]["head_sha"] == head
        merged = c.post(f"/templates/alice/flow-merge/pulls/{number}/merge",
                        json={"method": "merge", "expected_head_sha": head})
        assert merged.status_code == 200, merged.text
        assert c.get(f"/templates/alice/flow-merge/pulls/{number}").json()["state"] == "merged"
    git("pull", "-q", "--ff-only", "origin", "main", cwd=work)
    assert "Be very brief." in (work / "prompts" / "system.md").read_text()
    parents = git("log", "-1", "--format=%P", cwd=work).stdout.split()
    assert len(parents) == 2 and parents[1] == head  # a merge commit
    git("fsck", "--strict", cwd=work)


def test_merge_methods_shape_history(local_env, tmp_path):
    env = local_env
    info, work = _setup(env, tmp_path, "shapes")
    with env.api("alice") as c:
        ff_head = _branch(work, "ff", {"a.txt": "a\n"})
        sha = c.post(f"/templates/alice/shapes/pulls/{_pr(c, 'shapes', 'ff')}/merge",
                     json={"method": "fast-forward"}).json()["sha"]
        assert sha == ff_head
        _branch(work, "sq", {"b.txt": "b\n", "c.txt": "c\n"})
        number = _pr(c, "shapes", "sq")
        squash = c.post(f"/templates/alice/shapes/pulls/{number}/merge", json={"method": "squash"}).json()["sha"]
        git("fetch", "-q", "origin", cwd=work)
        assert git("log", "-1", "--format=%P", squash, cwd=work).stdout.split() == [ff_head]
        assert git("show", f"{squash}:c.txt", cwd=work).stdout == "c\n"
        _branch(work, "late", {"d.txt": "d\n"})
        number = _pr(c, "shapes", "late")
        _branch(work, "ahead", {"e.txt": "e\n"})
        c.post(f"/templates/alice/shapes/pulls/{_pr(c, 'shapes', 'ahead')}/merge", json={"method": "squash"})
        refused = c.post(f"/templates/alice/shapes/pulls/{number}/merge", json={"method": "fast-forward"})
        assert refused.status_code == 409


def test_manifest_edits_merge_by_json_path(local_env, tmp_path):
    env = local_env
    info, work = _setup(env, tmp_path, "jsonmerge")
    with env.api("alice") as c:
        _branch(work, "title", {"template.json": _manifest(title="New title")})
        _branch(work, "tags", {"template.json": _manifest(tags=["risk", "credit", "reporting", "quarterly"])})
        _branch(work, "title2", {"template.json": _manifest(title="Other title")})
        a, b, d = _pr(c, "jsonmerge", "title"), _pr(c, "jsonmerge", "tags"), _pr(c, "jsonmerge", "title2")
        assert c.post(f"/templates/alice/jsonmerge/pulls/{a}/merge", json={}).status_code == 200
        assert c.get(f"/templates/alice/jsonmerge/pulls/{b}/mergeability").json()["mergeable"] is True
        assert c.post(f"/templates/alice/jsonmerge/pulls/{b}/merge", json={}).status_code == 200
        conflict = c.post(f"/templates/alice/jsonmerge/pulls/{d}/merge", json={})
        assert conflict.status_code == 409 and conflict.json()["error"]["conflicts"] == ["template.json:$.title"]
        _branch(work, "line1", {"prompts/system.md": PROMPT.replace("Be brief.", "Be short.")})
        _branch(work, "line2", {"prompts/system.md": PROMPT.replace("Be brief.", "Be terse.")})
        e, f = _pr(c, "jsonmerge", "line1"), _pr(c, "jsonmerge", "line2")
        assert c.post(f"/templates/alice/jsonmerge/pulls/{e}/merge", json={}).status_code == 200
        clash = c.post(f"/templates/alice/jsonmerge/pulls/{f}/merge", json={})
        assert clash.status_code == 409 and clash.json()["error"]["conflicts"] == ["prompts/system.md"]
    git("pull", "-q", "--ff-only", "origin", "main", cwd=work)
    merged = json.loads((work / "template.json").read_text())
    assert merged["title"] == "New title" and merged["tags"][-1] == "quarterly"


def test_protection_blocks_until_approved_and_checks_pass(local_env, tmp_path):
    env = local_env
    info, work = _setup(env, tmp_path, "guarded-merge")
    with env.api("alice") as c:
        assert c.put("/templates/alice/guarded-merge/collaborators/carol", json={"role": "writer"}).status_code == 204
        assert c.put("/templates/alice/guarded-merge/protection/main",
                     json={"required_approvals": 1, "required_checks": ["validate"]}).status_code == 200
    first = _branch(work, "feat", {"template.json": _manifest(industry="space")})  # fails validation
    with env.api("carol") as c:
        number = _pr(c, "guarded-merge", "feat")
    with env.api("alice") as c:
        blocked = c.post(f"/templates/alice/guarded-merge/pulls/{number}/merge", json={})
        assert blocked.status_code == 405
        reasons = blocked.json()["error"]["blocked_by"]
        assert any("approval" in r for r in reasons) and any("'validate'" in r for r in reasons)
        c.post(f"/templates/alice/guarded-merge/pulls/{number}/reviews", json={"event": "APPROVE"})
    second = _branch(work, "feat", {"template.json": _manifest(industry="retail")})  # fixes it
    assert second != first
    with env.api("alice") as c:
        url = f"/templates/alice/guarded-merge/pulls/{number}"
        import time

        deadline = time.time() + 20
        while "validate" in str(c.get(url + "/mergeability").json()["blocked_by"]) and time.time() < deadline:
            time.sleep(0.2)
        state = c.get(url + "/mergeability").json()
        assert state["blocked_by"] == ["needs 1 approval(s) of the current head, has 0"]  # stale approval dismissed
        c.post(url + "/reviews", json={"event": "APPROVE"})
        assert c.post(url + "/merge", json={"expected_head_sha": second}).status_code == 200


def test_roles_maintainer_merges_and_protected_branch_is_not_deleted(local_env, tmp_path):
    env = local_env
    info, work = _setup(env, tmp_path, "roles")
    _branch(work, "keep", {"k.txt": "k\n"})
    with env.api("alice") as c:
        assert c.put("/templates/alice/roles/protection/keep", json={}).status_code == 200
        number = _pr(c, "roles", "keep")
    with env.api("bob") as c:  # a reader (public template) may comment but not merge or protect
        assert c.post(f"/templates/alice/roles/pulls/{number}/comments", json={"body": "+1"}).status_code == 201
        assert c.post(f"/templates/alice/roles/pulls/{number}/merge", json={}).status_code == 403
        assert c.put("/templates/alice/roles/protection/main", json={}).status_code == 403
    with env.api("alice") as c:
        assert c.put("/templates/alice/roles/collaborators/bob", json={"role": "maintainer"}).status_code == 204
    with env.api("bob") as c:
        assert c.delete("/templates/alice/roles/collaborators/carol").status_code == 403  # owners only
        assert c.post(f"/templates/alice/roles/pulls/{number}/merge", json={"method": "squash"}).status_code == 200
    res = git("push", "origin", "--delete", "keep", cwd=work, check=False)
    assert res.returncode != 0 and "protected branch: deletion is not allowed" in res.stderr
