"""PATCH /api/v1/templates/{owner}/{name} (issue 15): description, visibility, default branch."""
from __future__ import annotations

import httpx

from tests.gitcli import commit_file, git


def test_patch_template_settings(env, tmp_path):
    info = env.create("settings")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    commit_file(work, "README.md", "main\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", "next", cwd=work)
    commit_file(work, "README.md", "next\n")
    git("push", "-q", "origin", "next", cwd=work)
    with env.api() as alice:
        changed = alice.patch("/templates/alice/settings", json={"description": "Better", "default_branch": "next"})
        assert changed.status_code == 200 and changed.json()["description"] == "Better", changed.text
        got = alice.get("/templates/alice/settings").json()
        assert got["default_branch"] == "next" and got["description"] == "Better"
        assert alice.patch("/templates/alice/settings", json={"default_branch": "gone"}).status_code == 404
        assert alice.patch("/templates/alice/settings", json={"visibility": "secret"}).status_code == 422
        assert alice.patch("/templates/alice/settings", json={"visibility": "private"}).status_code == 200
    assert httpx.get(f"{env.url}/api/v1/templates/alice/settings", timeout=30).status_code == 404
    with env.api("bob") as bob:
        assert bob.patch("/templates/alice/settings", json={"description": "mine"}).status_code == 404
    fresh = env.clone(info["clone_url"], "alice", tmp_path / "fresh")
    assert (fresh / "README.md").read_text() == "next\n"  # clones check out the new default branch
