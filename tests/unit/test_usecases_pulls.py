"""Pull request, review and merge use cases on an in-process container."""
from __future__ import annotations

import json

import pytest

from registry import views
from registry.errors import (
    Conflict,
    InvalidInput,
    MergeBlocked,
    MergeConflict,
    PermissionDenied,
    StaleHead,
    Unauthenticated,
)
from registry.git.write import commit_files
from registry.meta import Protection, Status
from registry.services import merging, pulls, templates
from tests.unit.usecases import World, manifest_files

ZERO = "0" * 40


@pytest.fixture
def w(tmp_path) -> World:
    world = World.make(tmp_path)
    base = templates.create(world.c, world.alice, "risk")
    world.commit(base, manifest_files())
    templates.set_collaborator(world.c, world.alice, "alice", "risk", "bob", "writer")
    return world


def _branch(w: World, **changes) -> str:
    """Branch `feature` from main's tip with one commit changing the manifest."""
    base = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(base) as repo:
        main = repo.ref_value("refs/heads/main")
        repo.commit_updates({"refs/heads/feature": main}, {"refs/heads/feature": repo.ref_value("refs/heads/feature")})
        return commit_files(repo, manifest_files(**changes), "feature\n", "B <b@x>", "feature")


def test_open_list_edit_and_read_a_pull(w):
    head = _branch(w, title="Better title")
    pull = pulls.open_pull(w.c, w.bob, "alice", "risk", " Better title ", "why", "feature", "main")
    assert pull.number == 1 and pull.title == "Better title" and pull.head_sha == head
    assert [p.number for p in pulls.list_pulls(w.c, w.anon, "alice", "risk", "open", 1, 30)[0]] == [1]
    files = pulls.files(w.c, w.anon, "alice", "risk", 1)
    assert files[0]["path"] == "template.json"
    assert files[0]["manifest_changes"] == [{"path": "$.title", "kind": "changed",
                                             "old": "Quarterly risk report writer", "new": "Better title"}]
    assert [c["sha"] for c in pulls.commits(w.c, w.anon, "alice", "risk", 1)] == [head]
    edited = pulls.update_pull(w.c, w.bob, "alice", "risk", 1, None, "new body", None)
    assert edited.body == "new body"
    with pytest.raises(PermissionDenied):  # neither the author nor a maintainer
        pulls.update_pull(w.c, w.carol, "alice", "risk", 1, "x", None, None)


@pytest.mark.parametrize("who, title, head, error", [
    ("anon", "t", "feature", Unauthenticated), ("carol", "t", "feature", PermissionDenied),
    ("bob", "  ", "feature", InvalidInput), ("bob", "t", "main", InvalidInput),
    ("bob", "t", "dave:feature", InvalidInput)])
def test_open_refusals(w, who, title, head, error):
    _branch(w, title="x")
    with pytest.raises(error):
        pulls.open_pull(w.c, getattr(w, who), "alice", "risk", title, "", head, "main")


def test_reviews_comments_and_merge_rules(w):
    _branch(w, title="Better title")
    pulls.open_pull(w.c, w.bob, "alice", "risk", "t", "", "feature", "main")
    base_id = w.c.meta.templates.get("alice", "risk").id
    templates.set_protection(w.c, w.alice, "alice", "risk", Protection("main", False, False, ("validate",), 1))
    with pytest.raises(InvalidInput):
        merging.review(w.c, w.bob, "alice", "risk", 1, "APPROVE", "", [])  # own pull request
    with pytest.raises(InvalidInput):
        merging.review(w.c, w.carol, "alice", "risk", 1, "LOVE", "", [])
    with pytest.raises(InvalidInput):
        merging.comment(w.c, w.carol, "alice", "risk", 1, "x", path="template.json", line=None)
    comment = merging.comment(w.c, w.carol, "alice", "risk", 1, "line note", "template.json", 2, "RIGHT")
    assert views.pull_comments(w.c, w.anon, "alice", "risk", 1) == [comment]
    with pytest.raises(PermissionDenied):
        merging.merge(w.c, w.bob, "alice", "risk", 1, "merge", None)  # writers don't merge
    with pytest.raises(MergeBlocked) as blocked:
        merging.merge(w.c, w.alice, "alice", "risk", 1, "merge", None)
    assert len(blocked.value.details["blocked_by"]) == 2  # no approval, no validate
    merging.review(w.c, w.carol, "alice", "risk", 1, "APPROVE", "ok", [])
    pull = w.c.meta.pulls.get(base_id, 1)
    w.c.meta.checks.set_status(Status(base_id, pull.head_sha, "validate", "success", "ok"))
    assert merging.mergeability(w.c, w.anon, "alice", "risk", 1)["mergeable"]
    with pytest.raises(StaleHead):
        merging.merge(w.c, w.alice, "alice", "risk", 1, "merge", "f" * 40)
    sha = merging.merge(w.c, w.alice, "alice", "risk", 1, "squash", pull.head_sha)
    assert views.template_detail(w.c, w.anon, "alice", "risk").head == sha
    assert w.c.meta.pulls.get(base_id, 1).state == "merged"
    with pytest.raises(Conflict):
        merging.review(w.c, w.carol, "alice", "risk", 1, "COMMENT", "late", [])


def test_manifest_edits_of_different_keys_merge_and_same_key_conflicts(w):
    base = w.c.meta.templates.get("alice", "risk")
    _branch(w, title="From feature")
    w.commit(base, manifest_files(description="From main"))  # main moves on: a true merge
    pulls.open_pull(w.c, w.bob, "alice", "risk", "t", "", "feature", "main")
    sha = merging.merge(w.c, w.alice, "alice", "risk", 1, "merge", None)
    merged = json.loads(views.raw(w.c, w.anon, "alice", "risk", f"{sha}/template.json"))
    assert merged["title"] == "From feature" and merged["description"] == "From main"

    _branch(w, title="Feature again")
    w.commit(base, manifest_files(title="Main again", description="From main"))
    pulls.open_pull(w.c, w.bob, "alice", "risk", "t2", "", "feature", "main")
    assert merging.mergeability(w.c, w.anon, "alice", "risk", 2)["conflicts"] == ["template.json:$.title"]
    with pytest.raises(MergeConflict):
        merging.merge(w.c, w.alice, "alice", "risk", 2, "merge", None)
    with pytest.raises(InvalidInput):
        merging.merge(w.c, w.alice, "alice", "risk", 2, "rebase", None)


@pytest.mark.parametrize("method", ["merge", "squash"])
def test_a_merge_of_different_files_stores_its_root_tree(w, method):
    """A true merge in which template.json did not change on both sides: dulwich hands back a
    root tree it never stored, and the merge commit must not point at a missing tree."""
    base = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(base) as repo:  # feature: main's tip and a file
        repo.commit_updates({"refs/heads/feature": repo.ref_value("refs/heads/main")}, {"refs/heads/feature": ZERO})
        commit_files(repo, {**manifest_files(), "a.md": b"from feature\n"}, "feature\n", "B <b@x>", "feature")
    w.commit(base, {**manifest_files(), "b.md": b"from main\n"})  # main moves on with another file
    pulls.open_pull(w.c, w.bob, "alice", "risk", "t", "", "feature", "main")
    sha = merging.merge(w.c, w.alice, "alice", "risk", 1, method, None)
    files = {e["path"] for e in views.tree(w.c, w.anon, "alice", "risk", sha)["entries"]}
    assert files == {"template.json", "a.md", "b.md"}
    assert views.raw(w.c, w.anon, "alice", "risk", f"{sha}/a.md") == b"from feature\n"

