"""The incremental fetch's object selection and pack writer (issue 14), against C git's tools."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from registry.git import RepoStore
from registry.git.fetchpack import write_selection
from registry.git.fetchwalk import PackReader, newest_first, select
from registry.storage import LocalBlobStore
from tests.gitcli import git


def _pack(source: Path, revs: str, *options: str) -> bytes:
    return subprocess.run(["git", "pack-objects", "--revs", "--stdout", "-q", *options], cwd=source,
                          input=revs.encode(), capture_output=True, check=True).stdout


@pytest.fixture
def stored(tmp_path):
    """A 12-commit history pushed to a repo as two packs: the first 8 commits, then a thin pack."""
    source = tmp_path / "source"
    git("init", "-q", str(source))
    text = [f"line {i}: the same words again and again\n" for i in range(60)]
    for c in range(12):
        text[c * 3] = f"edited in commit {c}\n"
        (source / "prompt.md").write_text("".join(text))
        git("add", "prompt.md", cwd=source)
        git("commit", "-q", "-m", f"c{c}", cwd=source)
    repos = RepoStore(LocalBlobStore(tmp_path / "blobs"), tmp_path / "cache")
    repos.create("r")
    repo = repos.open("r")
    for revs, opts in (("main~4\n", ()), ("main\n^main~4\n", ("--thin",))):
        repo.object_store.add_thin_pack(io.BytesIO(_pack(source, revs, *opts)).read, None, budget=None)
        tip = git("rev-parse", revs.split()[0], cwd=source).stdout.strip()
        repo.commit_updates({"refs/heads/main": tip}, {"refs/heads/main": repo.ref_value("refs/heads/main")})
    yield source, repo
    repo.close()


def _rev(source: Path, spec: str) -> bytes:
    return git("rev-parse", spec, cwd=source).stdout.strip().encode()


def _index(repo_dir: Path, pack: bytes, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "index-pack", "--stdin", *options], cwd=repo_dir, input=pack,
                          capture_output=True)


def test_selection_is_what_rev_list_sends(stored):
    source, repo = stored
    selection = select(PackReader(newest_first(repo.object_store)), [_rev(source, "main")], [_rev(source, "main~4")])
    expected = {line.split()[0] for line in
                git("rev-list", "--objects", "main~4..main", cwd=source).stdout.splitlines()}
    assert {sha.decode() for sha, _ in selection.objects} == expected


@pytest.mark.parametrize("thin", [True, False])
def test_written_pack_resolves(stored, tmp_path, thin):
    source, repo = stored
    reader = PackReader(newest_first(repo.object_store))
    selection = select(reader, [_rev(source, "main")], [_rev(source, "main~4")])
    out = io.BytesIO()
    reused = write_selection(reader, selection, out.write, thin=thin, ofs=True)
    client = tmp_path / "client"
    git("init", "-q", "--bare", str(client))
    if thin:  # the client holds main~4's objects; the pack may lean on them
        assert _index(client, _pack(source, "main~4\n")).returncode == 0
        res = _index(client, out.getvalue(), "--fix-thin", "--strict")
        assert reused > 0
    else:  # nothing the pack doesn't hold: no thin delta (--strict would also want main~4's history)
        res = _index(client, out.getvalue())
    assert res.returncode == 0, res.stderr
    git("update-ref", "refs/heads/main", _rev(source, "main").decode(), cwd=client)
    if thin:
        git("fsck", "--strict", "--no-progress", cwd=client)


def test_a_want_the_client_has_sends_nothing(stored):
    source, repo = stored
    reader = PackReader(newest_first(repo.object_store))
    assert select(reader, [_rev(source, "main~5")], [_rev(source, "main")]).objects == []
