"""Versions (issue 15): semver tags newest first (pre-releases by semver), their messages, taggers
and manifest changes, the resolved snapshot of one version, and `extends.ref` as a range."""
from __future__ import annotations

import json

from tests.gitcli import commit_file, git
from tests.unit.usecases import MINIMAL


def _tagged(work, version: str, title: str, annotated: bool = True) -> str:
    commit_file(work, "template.json", json.dumps({**MINIMAL, "title": title}))
    if annotated:
        git("tag", "-a", version, "-m", f"release {version}", cwd=work)
    else:
        git("tag", version, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_versions_in_semver_order_with_changes_and_snapshots(env, tmp_path):
    info = env.create("versioned")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    _tagged(work, "1.0.0", "One")
    _tagged(work, "v1.10.0-rc.1", "Ten candidate")
    ten = _tagged(work, "v1.10.0", "Ten")
    _tagged(work, "1.2.0", "Two", annotated=False)
    git("tag", "not-a-version", cwd=work)
    git("push", "-q", "--tags", "origin", "HEAD:main", cwd=work)
    with env.api() as alice:
        listed = alice.get("/templates/alice/versioned/versions").json()
        assert [v["version"] for v in listed] == ["v1.10.0", "v1.10.0-rc.1", "1.2.0", "1.0.0"]
        newest = listed[0]
        assert newest["sha"] == ten and newest["message"] == "release v1.10.0" and "Test" in newest["tagger"]
        assert newest["changes"] == [{"path": "$.title", "kind": "changed", "old": "Ten candidate", "new": "Ten"}]
        assert listed[-1]["changes"] and all(c["kind"] == "added" for c in listed[-1]["changes"])
        assert listed[2]["tagger"] is None  # lightweight: the commit's message and date
        one = alice.get("/templates/alice/versioned/versions/1.0.0").json()
        assert one["manifest"]["title"] == "One" and one["problems"] == []
        assert alice.get("/templates/alice/versioned/versions/9.9.9").status_code == 404


def test_extends_ref_may_be_a_semver_range(env, tmp_path):
    base = env.create("range-base")
    work = env.clone(base["clone_url"], "alice", tmp_path / "base")
    for version in ("1.0.0", "1.2.0", "1.3.1", "2.0.0"):
        _tagged(work, version, f"Base {version}")
    git("push", "-q", "--tags", "origin", "HEAD:main", cwd=work)
    child = env.create("range-child")
    cwork = env.clone(child["clone_url"], "alice", tmp_path / "child")
    sha = commit_file(cwork, "template.json", json.dumps({
        "extends": {"template": "alice/range-base", "ref": "^1.2"}, "description": "a child"}))
    git("push", "-q", "origin", "HEAD:main", cwd=cwork)
    validate = env.check("range-child", sha)
    assert validate["state"] == "success", validate
    assert "extends alice/range-base@^1.2 -> 1.3.1" in validate["description"]
    with env.api() as alice:
        got = alice.get("/templates/alice/range-child").json()
    assert got["checks"]["validate"]["state"] == "success"
