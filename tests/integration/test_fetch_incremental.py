"""Incremental fetch (issue 14): what a fetch sends after several pushes, checked against C git.

The history has merges, a commit dated before its parent (clock skew), an annotated tag and a
force push; it reaches the registry in several pushes (one pack each). A clone taken before
the last pushes fetches the rest: refs, `git log -p` and a strict fsck must match a clone of
the working copy over file://. (A pack without thin-pack is checked in tests/unit/test_fetch_pack.py:
dulwich refuses clients that don't offer thin-pack.)
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.gitcli import authed, git

pytestmark = pytest.mark.timeout(600)


def _commit(work: Path, name: str, when: str, content: str | None = None) -> str:
    (work / name).write_text(content if content is not None else f"{name}\n" + "shared line of text\n" * 30)
    git("add", name, cwd=work)
    git("commit", "-q", "-m", name, cwd=work, env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def _day(n: int) -> str:
    return f"2024-02-{n:02d}T12:00:00+0000"


def _log(repo: Path, *refs: str) -> str:
    return git("log", "-p", "--format=%H %P %s", *refs, cwd=repo).stdout


@pytest.fixture(scope="module")
def pushed(local_env, tmp_path_factory):
    env = local_env
    info = env.create("incremental")
    tmp = tmp_path_factory.mktemp("incremental")
    work = env.clone(info["clone_url"], "alice", tmp / "work")
    git("checkout", "-q", "-b", "main", cwd=work)
    for i in range(1, 6):
        _commit(work, f"f{i % 3}.md", _day(i), f"version {i}\n" + "shared line of text\n" * 30)
    git("push", "-q", "origin", "main", cwd=work)
    early = env.clone(info["clone_url"], "alice", tmp / "early")  # the client, behind from here on

    git("checkout", "-q", "-b", "topic", cwd=work)
    _commit(work, "t.md", _day(7))
    _commit(work, "f1.md", _day(3), "edited on topic, dated before its parent\n" + "shared line of text\n" * 30)
    git("checkout", "-q", "main", cwd=work)
    _commit(work, "f2.md", _day(8), "main moves on\n" + "shared line of text\n" * 30)
    git("merge", "-q", "--no-ff", "-m", "merge topic", "topic", cwd=work,
        env={"GIT_COMMITTER_DATE": _day(9), "GIT_AUTHOR_DATE": _day(9)})
    git("tag", "-a", "v1", "-m", "v1", cwd=work)
    git("push", "-q", "origin", "main", "topic", "v1", cwd=work)

    git("checkout", "-q", "topic", cwd=work)
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    _commit(work, "f0.md", _day(10), "topic rewritten\n" + "shared line of text\n" * 30)
    git("push", "-q", "-f", "origin", "topic", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    for i in range(11, 14):
        _commit(work, f"f{i % 3}.md", _day(i), f"version {i}\n" + "shared line of text\n" * 31)
    git("push", "-q", "origin", "main", cwd=work)
    return env, info, work, early


def test_fetch_after_several_pushes_matches_c_git(pushed, tmp_path):
    env, info, work, early = pushed
    client = tmp_path / "client"
    subprocess.run(["cp", "-a", str(early), str(client)], check=True)
    git("fetch", "-q", "--tags", "origin", cwd=client)
    reference = tmp_path / "reference"
    git("clone", "-q", "--no-local", f"file://{work}", str(reference))
    for branch in ("main", "topic"):
        assert (git("rev-parse", f"origin/{branch}", cwd=client).stdout
                == git("rev-parse", branch, cwd=work).stdout)
    assert git("rev-parse", "v1", cwd=client).stdout == git("rev-parse", "v1", cwd=work).stdout
    assert _log(client, "origin/main", "origin/topic", "v1") == _log(reference, "origin/main", "origin/topic", "v1")
    git("fsck", "--strict", "--no-progress", cwd=client)
    git("pull", "-q", "--ff-only", "origin", "main", cwd=client)
    assert git("status", "--porcelain", cwd=client).stdout == ""


def test_clone_url_still_serves_everything(pushed, tmp_path):
    env, info, work, early = pushed
    clone = tmp_path / "clone"
    git("clone", "-q", "--mirror", authed(info["clone_url"], "alice", env.tokens["alice"]), str(clone))
    git("fsck", "--strict", "--no-progress", cwd=clone)
    assert git("rev-parse", "main", "topic", "v1", cwd=clone).stdout == git("rev-parse", "main", "topic", "v1",
                                                                             cwd=work).stdout
