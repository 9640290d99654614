"""meta.drafts: shared drafts, their files' documents (snapshot + numbered updates), editors,
conflicts, and what a draft's or a template's deletion takes with it."""
from __future__ import annotations

import threading

import pytest

from registry.errors import DraftNotFound, TemplateNotFound
from registry.meta import DraftConflict

from .support import SHA, add_template

OTHER = "b" * 40


class TestDraftRepository:
    def test_drafts_are_numbered_listed_by_branch_and_moved_only_from_the_base_expected(self, meta):
        add_template(meta)
        first = meta.drafts.add("alice-t", "main", SHA, "alice")
        second = meta.drafts.add("alice-t", "feature", SHA, "bob")
        assert second.id > first.id and first.ref == f"refs/drafts/{first.id}/base"
        assert meta.drafts.get(first.id) == first and first.rebased is None and first.last_commit is None
        assert [d.id for d in meta.drafts.of_template("alice-t")] == [first.id, second.id]
        assert [d.id for d in meta.drafts.of_template("alice-t", "feature")] == [second.id]
        assert meta.drafts.move(first.id, OTHER, "c" * 40) is None  # not where the caller thought
        moved = meta.drafts.move(first.id, SHA, OTHER, rebased={"from": SHA, "to": OTHER, "merged": ["a"]},
                                 last_commit=OTHER)
        assert moved is not None and moved.base == OTHER and moved.rebased == {"from": SHA, "to": OTHER,
                                                                               "merged": ["a"]}
        assert moved.last_commit == OTHER and moved.branch == "main"
        again = meta.drafts.move(first.id, OTHER, OTHER, branch="topic", pull_number=7)
        assert again is not None and (again.branch, again.pull_number, again.last_commit) == ("topic", 7, OTHER)
        meta.drafts.delete(first.id)
        with pytest.raises(DraftNotFound):
            meta.drafts.get(first.id)
        third = meta.drafts.add("alice-t", "main", SHA, "alice")
        assert third.id > second.id  # a number is never reused (refs/drafts/N names one draft)

    def test_a_file_is_seeded_once_and_its_updates_numbered_in_order(self, meta):
        add_template(meta)
        draft = meta.drafts.add("alice-t", "main", SHA, "alice")
        alice = meta.users.add("alice", None, False)
        bob = meta.users.add("bob", None, False)
        made = meta.drafts.add_file(draft.id, "a.md", b"seed")
        assert (made.path, made.seq, made.snapshot_seq) == ("a.md", 0, 0)
        assert meta.drafts.add_file(draft.id, "a.md", b"other seed").seq == 0  # kept as it was
        assert meta.drafts.load(draft.id, "a.md").snapshot == b"seed"
        assert meta.drafts.append(draft.id, "a.md", [b"u1", b"u2"], bob.id) == [1, 2]
        assert meta.drafts.append(draft.id, "a.md", [b"u3"], alice.id) == [3]
        assert meta.drafts.append(draft.id, "a.md", [b"u4"], None) == [4]  # the server's own (a rebase)
        assert meta.drafts.append(draft.id, "a.md", [], bob.id) == []
        stored = meta.drafts.load(draft.id, "a.md")
        assert stored.updates == [(1, b"u1"), (2, b"u2"), (3, b"u3"), (4, b"u4")] and stored.seq == 4
        tail = meta.drafts.load(draft.id, "a.md", after=2)
        assert (tail.snapshot, tail.updates, tail.seq) == (b"", [(3, b"u3"), (4, b"u4")], 4)
        assert meta.drafts.load(draft.id, "a.md", after=4).updates == []
        assert meta.drafts.editors(draft.id) == ["bob", "alice"]  # in the order they first edited
        assert [f.path for f in meta.drafts.files(draft.id)] == ["a.md"]
        with pytest.raises(DraftNotFound):
            meta.drafts.load(draft.id, "b.md")
        with pytest.raises(DraftNotFound):
            meta.drafts.append(draft.id, "b.md", [b"x"], None)
        with pytest.raises(DraftNotFound):
            meta.drafts.add_file(draft.id + 100, "a.md", b"seed")

    def test_compaction_takes_every_update_into_the_snapshot_and_numbering_goes_on(self, meta):
        add_template(meta)
        draft = meta.drafts.add("alice-t", "main", SHA, "alice")
        meta.drafts.add_file(draft.id, "a.md", b"s")
        meta.drafts.append(draft.id, "a.md", [b"1", b"22", b"333"], None)
        assert meta.drafts.stored_size(draft.id) == 1 + 1 + 2 + 3
        seen = []

        def merge(stored):
            seen.append((stored.snapshot, stored.snapshot_seq, stored.updates))
            return b"S" + b"".join(u for _, u in stored.updates)

        assert meta.drafts.compact(draft.id, "a.md", merge) == 7
        assert seen == [(b"s", 0, [(1, b"1"), (2, b"22"), (3, b"333")])]
        stored = meta.drafts.load(draft.id, "a.md")
        assert (stored.snapshot, stored.snapshot_seq, stored.updates) == (b"S122333", 3, [])
        assert meta.drafts.compact(draft.id, "a.md", merge) == 7 and len(seen) == 1  # nothing new: not called
        assert meta.drafts.append(draft.id, "a.md", [b"4"], None) == [4]
        assert meta.drafts.load(draft.id, "a.md").updates == [(4, b"4")]
        behind = meta.drafts.load(draft.id, "a.md", after=1)  # a reader the compaction overtook
        assert (behind.snapshot, behind.snapshot_seq, behind.updates) == (b"S122333", 3, [(4, b"4")])
        ahead = meta.drafts.load(draft.id, "a.md", after=3)
        assert (ahead.snapshot, ahead.updates) == (b"", [(4, b"4")])
        assert meta.drafts.stored_size(draft.id) == 8

    def test_appends_racing_from_threads_get_every_number_once(self, meta):
        add_template(meta)
        draft = meta.drafts.add("alice-t", "main", SHA, "alice")
        meta.drafts.add_file(draft.id, "a.md", b"")
        got: list[int] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            for i in range(10):
                seqs = meta.drafts.append(draft.id, "a.md", [f"{n}-{i}".encode()], None)
                with lock:
                    got.extend(seqs)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == list(range(1, 41))
        assert [seq for seq, _ in meta.drafts.load(draft.id, "a.md").updates] == list(range(1, 41))

    def test_conflicts_keep_every_side_until_resolved(self, meta):
        add_template(meta)
        draft = meta.drafts.add("alice-t", "main", SHA, "alice")
        conflict = DraftConflict(draft.id, "a.md", SHA, OTHER, b"base\n", None, b"ours\n", ["a.md"], 5.0)
        meta.drafts.set_conflicts(draft.id, [conflict])
        assert meta.drafts.conflicts(draft.id) == [conflict]
        newer = DraftConflict(draft.id, "a.md", SHA, "c" * 40, b"base\n", b"theirs\n", b"ours 2\n",
                              ["template.json:$.title"], 6.0)
        meta.drafts.set_conflicts(draft.id, [newer])
        assert meta.drafts.conflicts(draft.id) == [newer]
        assert meta.drafts.resolve(draft.id, "a.md") is True
        assert meta.drafts.resolve(draft.id, "a.md") is False and meta.drafts.conflicts(draft.id) == []

    def test_deleting_a_draft_or_its_template_takes_its_documents_and_records(self, meta):
        add_template(meta)
        user = meta.users.add("alice", None, False)
        drafts = [meta.drafts.add("alice-t", "main", SHA, "alice") for _ in range(2)]
        for draft in drafts:
            meta.drafts.add_file(draft.id, "a.md", b"s")
            meta.drafts.append(draft.id, "a.md", [b"u"], user.id)
            meta.drafts.set_conflicts(draft.id, [DraftConflict(draft.id, "a.md", SHA, OTHER, None, None, b"o", [],
                                                               1.0)])
        meta.drafts.delete(drafts[0].id)
        assert meta.drafts.files(drafts[0].id) == [] and meta.drafts.editors(drafts[0].id) == []
        assert meta.drafts.conflicts(drafts[0].id) == [] and meta.drafts.stored_size(drafts[0].id) == 0
        assert meta.drafts.stored_size(drafts[1].id) == 2
        meta.templates.delete("alice-t")
        assert meta.drafts.of_template("alice-t") == [] and meta.drafts.stored_size(drafts[1].id) == 0
        with pytest.raises(TemplateNotFound):
            meta.drafts.add("alice-t", "main", SHA, "alice")
