"""Compare (issue 15): two refs or versions of a template, or a template and its fork, through
the API and the pages; a fork's page shows where it stands against its parent."""
from __future__ import annotations

import json

import httpx

from tests.gitcli import authed, commit_file, git
from tests.unit.usecases import MINIMAL


def test_compare_versions_and_a_fork(env, tmp_path):
    info = env.create("comparable")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    commit_file(work, "template.json", json.dumps(MINIMAL))
    git("tag", "1.0.0", cwd=work)
    commit_file(work, "template.json", json.dumps({**MINIMAL, "title": "Better"}))
    commit_file(work, "README.md", "# Comparable\n")
    git("tag", "1.1.0", cwd=work)
    git("push", "-q", "--tags", "origin", "HEAD:main", cwd=work)
    with env.api() as alice:
        got = alice.get("/templates/alice/comparable/compare/1.0.0...1.1.0").json()
        assert (got["ahead_by"], got["behind_by"]) == (2, 0)
        manifest = next(f for f in got["files"] if f["path"] == "template.json")
        assert manifest["manifest_changes"] == [{"path": "$.title", "kind": "changed",
                                                 "old": "Quarterly risk report writer", "new": "Better"}]
        assert alice.get("/templates/alice/comparable/compare/1.1.0...1.0.0").json()["behind_by"] == 2
        assert alice.get("/templates/alice/comparable/compare/nothing").status_code == 400
    with env.api("bob") as bob:
        fork = bob.post("/templates/alice/comparable/forks", json={})
        assert fork.status_code == 201, fork.text
    fork_work = tmp_path / "fork"
    git("clone", "-q", authed(fork.json()["clone_url"], "bob", env.tokens["bob"]), str(fork_work))
    commit_file(fork_work, "README.md", "# Bob's take\n")
    git("push", "-q", "origin", "HEAD:main", cwd=fork_work)
    commit_file(work, "NOTES.md", "upstream moves on\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api("bob") as bob:
        got = bob.get("/templates/alice/comparable/compare/main...bob:main").json()
        assert (got["ahead_by"], got["behind_by"]) == (1, 1)
        assert [f["path"] for f in got["files"]] == ["README.md"]
        assert bob.get("/templates/alice/comparable/compare/main...carol:main").status_code == 404
    page = httpx.get(f"{env.url}/bob/comparable", timeout=30)
    assert page.status_code == 200 and "1 ahead, 1 behind" in page.text
    compare_page = httpx.get(f"{env.url}/alice/comparable/compare/1.0.0...1.1.0", timeout=30)
    assert compare_page.status_code == 200 and "$.title" in compare_page.text
    versions_page = httpx.get(f"{env.url}/alice/comparable/versions", timeout=30)
    assert versions_page.status_code == 200 and "1.1.0" in versions_page.text and "compare with 1.0.0" in versions_page.text
