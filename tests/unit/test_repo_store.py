"""The git layer without HTTP: staging, publishing, the pack cache, deletion."""
from __future__ import annotations

from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit, Tree

from registry.errors import Conflict
from registry.git import RepoStore
from registry.storage import LocalBlobStore


class RemoteLike(LocalBlobStore):
    """A local store that pretends to be remote (no local paths) and counts downloads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.downloads: list[str] = []

    def local_path(self, key: str):
        return None

    def download(self, key: str, dest: Path) -> None:
        self.downloads.append(key)
        super().download(key, dest)


def _commit(repo, text: bytes, parents=()) -> Commit:
    blob = Blob.from_string(text)
    tree = Tree()
    tree.add(b"template.json", 0o100644, blob.id)
    commit = Commit()
    commit.tree, commit.parents = tree.id, list(parents)
    commit.author = commit.committer = b"T <t@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"m"
    repo.object_store.add_objects([(blob, None), (tree, None), (commit, None)])
    return commit


@pytest.fixture
def blobs(tmp_path):
    return RemoteLike(tmp_path / "blobs")


def _repo_with_main(blobs, tmp_path):
    """Repo r1 with one commit on main; returns (RepoStore, open repo, commit)."""
    repos = RepoStore(blobs, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    return repos, repo, c1


def test_published_packs_are_cached_and_not_downloaded_again(blobs, tmp_path):
    repos, repo, c1 = _repo_with_main(blobs, tmp_path)
    repo.close()
    assert blobs.downloads == []  # the pusher's own staged copy became the cache entry
    other_cache = RepoStore(blobs, tmp_path / "cache2")
    for _ in range(3):
        r = other_cache.open("r1")
        assert r.object_store[c1.id].tree == c1.tree
        r.close()
    assert sorted(blobs.downloads) == sorted(k for k in blobs.list("repos/r1/packs/"))  # once each


def test_lost_race_leaves_uploaded_packs_to_gc(blobs, tmp_path):
    from registry.git.gc import collect

    repos = RepoStore(blobs, tmp_path / "cache")
    repos.create("r1")
    first, second = repos.open("r1"), repos.open("r1")
    c1 = _commit(first, b"{\"a\": 1}")
    first.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    packs_after_first = sorted(blobs.list("repos/r1/packs/"))
    c2 = _commit(second, b"{\"b\": 2}")
    with pytest.raises(Conflict):
        second.commit_updates({"refs/heads/main": c2.id.decode()}, {"refs/heads/main": "0" * 40})
    # never deleted inline (the write might have landed); unnamed, it goes with gc's grace period
    assert len(list(blobs.list("repos/r1/packs/"))) == len(packs_after_first) + 3  # .pack, .graph, .idx
    assert collect(blobs, grace_seconds=3600) == 0
    assert collect(blobs, grace_seconds=0) == 1
    assert sorted(blobs.list("repos/r1/packs/")) == packs_after_first
    assert repos.open("r1").doc.refs == {"refs/heads/main": c1.id.decode()}
    # an unrelated ref moving meanwhile is not a conflict: the CAS is retried on the new document
    third, fourth = repos.open("r1"), repos.open("r1")
    c3 = _commit(third, b"3", [c1.id])
    third.commit_updates({"refs/heads/a": c3.id.decode()}, {"refs/heads/a": "0" * 40})
    c4 = _commit(fourth, b"4", [c1.id])
    fourth.commit_updates({"refs/heads/b": c4.id.decode()}, {"refs/heads/b": "0" * 40})
    assert set(repos.open("r1").doc.refs) == {"refs/heads/main", "refs/heads/a", "refs/heads/b"}


def test_delete_removes_document_and_packs(blobs, tmp_path):
    repos, _, _ = _repo_with_main(blobs, tmp_path)
    repos.delete("r1")
    assert list(blobs.list("repos/r1/")) == []


def test_gc_repacks_to_exact_and_drops_unnamed_packs(blobs, tmp_path):
    from registry.git.gc import run_gc

    repos, repo, c1 = _repo_with_main(blobs, tmp_path)
    c2 = _commit(repo, b"secret", [c1.id])
    repo.commit_updates({"refs/heads/oops": c2.id.decode()}, {"refs/heads/oops": "0" * 40})
    repo.commit_updates({"refs/heads/oops": "0" * 40}, {"refs/heads/oops": c2.id.decode()}, rewrite=True)
    assert not repos.open("r1").doc.exact and len(repos.open("r1").doc.packs) == 2
    report = run_gc(repos, grace_seconds=3600)
    doc = repos.open("r1").doc
    assert report.repacked == 1 and doc.exact and len(doc.packs) == 1
    assert report.packs_removed == 0  # the old packs are still within the grace period
    assert len(list(blobs.list("repos/r1/packs/"))) == 9  # .pack, .idx and .graph of each
    report = run_gc(repos, grace_seconds=0)
    assert report.repacked == 0 and report.packs_removed == 2
    assert sorted(blobs.list("repos/r1/packs/")) == sorted(f"{doc.packs[0]}{ext}" for ext in (".graph", ".idx", ".pack"))
    fresh = RepoStore(blobs, tmp_path / "cache3").open("r1")
    assert fresh.object_store[c1.id].id == c1.id
    [pack] = fresh.object_store.packs
    pack.check()  # every object's sha and CRC as its index says: the index built from the offsets is right
    assert len(pack) == 3
    with pytest.raises(KeyError):
        fresh.object_store[c2.id]  # the deleted branch's commit is gone for good


def test_fork_shares_packs_and_survives_parent_deletion_and_gc(blobs, tmp_path):
    from registry.git.gc import run_gc

    repos, repo, c1 = _repo_with_main(blobs, tmp_path)
    repos.fork("r1", "f1")
    assert repos.open("f1").doc.packs == repo.doc.packs  # the parent's pack keys, not copies
    assert list(blobs.list("repos/f1/packs/")) == []
    repos.delete("r1", keep=repos.packs_named(["f1"]))
    assert run_gc(repos, grace_seconds=0).packs_removed == 0  # still named by the fork
    fresh = RepoStore(blobs, tmp_path / "cache-f").open("f1")
    assert fresh.object_store[c1.id].id == c1.id
