"""meta.pulls: pull requests, numbered per template, their reviews and comments."""
from __future__ import annotations

import pytest

from registry.errors import PullNotFound

from .support import SHA, add_template


class TestPullRepository:
    def test_pulls_are_numbered_per_template_listed_by_state_and_updated(self, meta):
        add_template(meta, "alice", "t")
        add_template(meta, "bob", "t", parent="alice-t")
        first = meta.pulls.add("alice-t", "one", "", "bob", "bob-t", "feature", "main", SHA)
        second = meta.pulls.add("alice-t", "two", "", "alice", "alice-t", "fix", "main", SHA)
        other = meta.pulls.add("bob-t", "elsewhere", "", "bob", "bob-t", "x", "main", SHA)
        assert (first.number, second.number, other.number) == (1, 2, 1)
        assert meta.pulls.get("alice-t", 1) == first
        with pytest.raises(PullNotFound):
            meta.pulls.get("alice-t", 3)
        closed = meta.pulls.update("alice-t", 2, state="closed", title="two!")
        assert closed.state == "closed" and closed.title == "two!" and closed.body == ""
        assert [p.number for p in meta.pulls.page("alice-t", "open", 0, 10)[0]] == [1]
        items, total = meta.pulls.page("alice-t", "all", 0, 1)
        assert total == 2 and [p.number for p in items] == [2]  # newest first
        assert [p.number for p in meta.pulls.open_from("bob-t", "feature")] == [1]
        meta.pulls.update("alice-t", 1, head_sha="b" * 40)
        assert meta.pulls.get("alice-t", 1).head_sha == "b" * 40

    def test_reviews_and_comments_keep_order_and_the_head_they_saw(self, meta):
        add_template(meta)
        meta.pulls.add("alice-t", "one", "", "bob", "alice-t", "feature", "main", SHA)
        rid = meta.pulls.add_review("alice-t", 1, "carol", "APPROVE", "lgtm", SHA,
                              [{"body": "nit", "path": "a.txt", "line": 2, "side": "RIGHT"}])
        cm = meta.pulls.add_comment("alice-t", 1, "dave", "hello", None, None, None, SHA)
        reviews = meta.pulls.reviews("alice-t", 1)
        assert [(r["id"], r["author"], r["event"], r["sha"]) for r in reviews] == [(rid, "carol", "APPROVE", SHA)]
        comments = meta.pulls.comments("alice-t", 1)
        assert [(c["body"], c["review_id"], c["path"], c["line"]) for c in comments] == [
            ("nit", rid, "a.txt", 2), ("hello", None, None, None)]
        assert cm["id"] == comments[1]["id"] and cm["author"] == "dave"

    def test_reviews_and_comments_of_several_pulls_at_once(self, meta):
        add_template(meta)
        for title in ("one", "two", "three"):
            meta.pulls.add("alice-t", title, "", "bob", "alice-t", "feature", "main", SHA)
        meta.pulls.add_review("alice-t", 1, "carol", "APPROVE", "a", SHA, [])
        meta.pulls.add_review("alice-t", 3, "carol", "COMMENT", "b", SHA, [])
        meta.pulls.add_review("alice-t", 3, "dave", "REQUEST_CHANGES", "c", SHA, [])
        meta.pulls.add_comment("alice-t", 2, "dave", "hello", None, None, None, SHA)
        reviews = meta.pulls.reviews_of("alice-t", [1, 2, 3, 4])
        assert {n: [r["body"] for r in rs] for n, rs in reviews.items()} == {1: ["a"], 2: [], 3: ["b", "c"], 4: []}
        comments = meta.pulls.comments_of("alice-t", [2, 3])
        assert {n: [c["body"] for c in cs] for n, cs in comments.items()} == {2: ["hello"], 3: []}
        assert meta.pulls.reviews_of("alice-t", []) == {} and meta.pulls.comments_of("other-t", [1]) == {1: []}
