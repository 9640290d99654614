"""Clones stay on the fast path after branch deletions and force pushes without anyone running
`registry gc`: such pushes queue a background repack (issue 14)."""
from __future__ import annotations

import time

import pytest

from registry.git import refsdoc
from registry.settings import Settings
from registry.storage import open_blob_store
from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)


def _doc(env, template_id: str) -> refsdoc.RefsDocument:
    settings = Settings(**{k[len("REGISTRY_"):].lower(): v for k, v in env.server.env.items()
                           if k.startswith("REGISTRY_")})
    return refsdoc.load(open_blob_store(settings), template_id)


def _wait_exact(env, template_id: str, timeout: float = 30.0) -> refsdoc.RefsDocument:
    deadline = time.monotonic() + timeout
    while not (doc := _doc(env, template_id)).exact:
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)
    return doc


@pytest.mark.parametrize("how", ["delete", "force"])
def test_a_deletion_or_force_push_is_repacked_in_the_background(local_env, tmp_path, how):
    env = local_env
    created = env.create(f"repacked-{how}")
    work = env.clone(created["clone_url"], "alice", tmp_path / "w")
    for i in range(3):
        commit_file(work, f"f{i}.md", f"{i}\n" * 100)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("checkout", "-q", "-b", "topic", cwd=work)
    topic = commit_file(work, "topic.md", "only on topic\n" * 50)
    git("push", "-q", "origin", "topic", cwd=work)
    if how == "delete":
        git("push", "-q", "origin", ":topic", cwd=work)
        dropped = topic
    else:
        git("checkout", "-q", "main", cwd=work)
        dropped = commit_file(work, "oops.md", "pushed by mistake\n" * 50)
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        git("reset", "-q", "--hard", "HEAD~1", cwd=work)
        git("push", "-q", "-f", "origin", "HEAD:main", cwd=work)
    doc = _wait_exact(env, created["id"])
    assert len(doc.packs) == 1
    clone = env.clone(created["clone_url"], "bob", tmp_path / "c")
    assert git("rev-parse", "HEAD", cwd=clone).stdout == git("rev-parse", "main", cwd=work).stdout
    git("fsck", "--strict", cwd=clone)
    assert git("cat-file", "-e", dropped, cwd=clone, check=False).returncode != 0  # what was dropped is not sent
