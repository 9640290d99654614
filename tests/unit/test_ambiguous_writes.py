"""A conditional write whose answer is lost must not be taken for a lost race (issue 17).

`Flaky` performs the write and then fails the way a lost response does under botocore: a
connection error (StorageError), or a 412 from the retry of a write that had landed.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from registry.errors import Conflict, StorageError
from registry.git import RepoStore, refsdoc
from registry.git.refsdoc import RefsDocument
from registry.storage import LocalBlobStore, PreconditionFailed
from tests.unit.test_repo_store import _commit


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(refsdoc, "BACKOFF_S", 0.0)


class Flaky(LocalBlobStore):
    """Fails chosen conditional writes: 'lost' (landed, answer lost), 'after412' (landed, the retry
    saw 412), 'down' (never landed, storage unreachable), 'overtaken' (landed, then another writer
    wrote on top before the lost answer was noticed), per call in order of `plan`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.plan: list[str] = []
        self.reads_down = 0

    def _fault(self, key, write) -> str:
        action = self.plan.pop(0) if self.plan else "ok"
        if action == "down":
            raise StorageError("S3 unreachable: connection reset")
        version = write()
        if action == "overtaken":
            ours = refsdoc.load(self, key.split("/")[1])
            super().put_if_match(key, replace(ours, refs={**ours.refs, "refs/heads/other": "f" * 40},
                                              write_id="theirs", recent=(*ours.recent, "theirs")).to_bytes(),
                                 ours.version)
            raise StorageError("S3 unreachable: read timeout")
        if action == "lost":
            raise StorageError("S3 unreachable: read timeout")
        if action == "after412":
            raise PreconditionFailed("precondition failed (412)")
        return version

    def put_if_match(self, key, data, version):
        return self._fault(key, lambda: super(Flaky, self).put_if_match(key, data, version))

    def put_if_absent(self, key, data):
        return self._fault(key, lambda: super(Flaky, self).put_if_absent(key, data))

    def get(self, key):
        if self.reads_down:
            self.reads_down -= 1
            raise StorageError("S3 unreachable while reading back")
        return super().get(key)


@pytest.fixture
def flaky(tmp_path) -> Flaky:
    return Flaky(tmp_path / "blobs")


@pytest.mark.parametrize("fault", ["lost", "after412"])
def test_a_push_whose_answer_was_lost_is_reported_landed_and_stays_readable(flaky, tmp_path, fault):
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = [fault]
    doc = repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    assert doc.refs == {"refs/heads/main": c1.id.decode()}
    fresh = RepoStore(flaky, tmp_path / "cache-fresh").open("r1")  # an empty cache: reads blobs only
    assert fresh.doc.refs == doc.refs and fresh.doc.version == doc.version
    assert fresh.object_store[c1.id].tree == c1.tree
    for pack in fresh.doc.packs:
        assert flaky.exists(pack + ".pack") and flaky.exists(pack + ".idx")


def test_a_push_whose_answer_was_lost_while_another_landed_on_top_is_reported_landed(flaky, tmp_path):
    """Issue 27's soak: a push to main answered `changed concurrently` (and its journal forgotten)
    while its commit was in the refs: a push to another branch had written on top of it before
    the read-back, so the stored document was not its own, though it named its write."""
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = ["overtaken"]
    doc = repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40}, write_id="push-1")
    stored = refsdoc.load(flaky, "r1")
    assert stored.wrote("push-1") and stored.write_id == "theirs"
    assert doc.refs == stored.refs == {"refs/heads/main": c1.id.decode(), "refs/heads/other": "f" * 40}
    assert doc.version == stored.version  # the repo goes on from what is stored


def test_a_write_that_never_landed_is_tried_again(flaky, tmp_path):
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = ["down", "down"]
    repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    assert repos.open("r1").doc.refs == {"refs/heads/main": c1.id.decode()}


def test_storage_down_throughout_is_an_error_not_a_conflict_and_deletes_nothing(flaky, tmp_path):
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = ["down"] * refsdoc.ATTEMPTS
    with pytest.raises(StorageError):
        repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    assert repos.open("r1").doc.refs == {}
    assert len(list(flaky.list("repos/r1/packs/"))) == 3  # .pack, .graph, .idx: kept for gc, not deleted inline


def test_unknown_outcome_read_back_retried_until_storage_answers(flaky, tmp_path):
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = ["lost"]
    flaky.reads_down = 2  # the read-back itself fails twice before storage answers
    repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40})
    assert repos.open("r1").doc.refs == {"refs/heads/main": c1.id.decode()}


def test_a_real_lost_race_is_still_a_conflict(flaky, tmp_path):
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    stale = repos.open("r1").doc
    refsdoc.swap(flaky, "r1", stale, stale.with_changes({"refs/heads/a": "a" * 40}, []))
    flaky.plan = ["after412"]  # irrelevant: the If-Match fails on its own first
    with pytest.raises(Conflict) as err:
        refsdoc.swap(flaky, "r1", stale, stale.with_changes({"refs/heads/b": "b" * 40}, []))
    assert "concurrently" in err.value.message
    assert refsdoc.load(flaky, "r1").refs == {"refs/heads/a": "a" * 40}


@pytest.mark.parametrize("fault", ["lost", "after412"])
def test_create_whose_answer_was_lost_succeeds_once(flaky, fault):
    flaky.plan = [fault]
    doc = refsdoc.create(flaky, "r1", RefsDocument())
    assert refsdoc.load(flaky, "r1").write_id == doc.write_id
    with pytest.raises(Conflict) as err:  # a second create is a real conflict, without internal ids
        refsdoc.create(flaky, "r1", RefsDocument())
    assert "r1" not in err.value.message


def test_identical_documents_get_distinct_versions(tmp_path):
    """Without a write id two equal documents had equal versions on disk (md5): an ABA hazard."""
    store = LocalBlobStore(tmp_path)
    doc = refsdoc.create(store, "r1", RefsDocument())
    again = refsdoc.swap(store, "r1", doc, doc)
    assert again.version != doc.version
    with pytest.raises(Conflict):
        refsdoc.swap(store, "r1", doc, doc)


def test_a_write_named_by_its_writer_is_known_landed_later_even_if_its_answer_was_lost(flaky, tmp_path, monkeypatch):
    """A journalled write (services/landing.py) is looked up by its id after the writer is gone: the
    document remembers the ids of its last RECENT writes, the lost-answer one included."""
    monkeypatch.setattr(refsdoc, "RECENT", 3)
    repos = RepoStore(flaky, tmp_path / "cache")
    repos.create("r1")
    repo = repos.open("r1")
    c1 = _commit(repo, b"{}")
    flaky.plan = ["lost"]
    repo.commit_updates({"refs/heads/main": c1.id.decode()}, {"refs/heads/main": "0" * 40}, write_id="push-1")
    stored = refsdoc.load(flaky, "r1")
    assert stored.write_id == "push-1" and stored.wrote("push-1") and not stored.wrote("push-2")
    for n in range(2, 5):
        stored = refsdoc.swap(flaky, "r1", stored, stored.with_changes({f"refs/heads/b{n}": c1.id.decode()}, []),
                              f"push-{n}")
    assert refsdoc.load(flaky, "r1").recent == ("push-2", "push-3", "push-4")  # the oldest forgotten
