"""Resolving a pull request's conflicts as use cases on an in-process container: who may, against
which tips, the merge commit landed on the head branch through the push path, and the pull
request mergeable afterwards (from a branch of the template and from a reader's fork)."""
from __future__ import annotations

import json

import pytest
from dulwich.objects import Commit, ObjectID

from registry.errors import Conflict, InvalidInput, PermissionDenied, StaleBase, StaleHead, Unauthenticated
from registry.git.write import commit_files
from registry.meta import EventFilter
from registry.services import merging, pulls, resolving, templates
from registry.services.resolving import Choice, Resolution
from tests.unit.usecases import MINIMAL, World

PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


def files(title: str, line: str, **more: object) -> dict[str, bytes]:
    manifest = {**MINIMAL, "title": title, **more}
    return {"template.json": (json.dumps(manifest, indent=2) + "\n").encode(),
            "prompts/system.md": PROMPT.replace("Be brief.", line).encode()}


@pytest.fixture
def w(tmp_path) -> World:
    world = World.make(tmp_path)
    base = templates.create(world.c, world.alice, "risk")
    world.commit(base, files(MINIMAL["title"], "Be brief."))
    templates.set_collaborator(world.c, world.alice, "alice", "risk", "bob", "writer")
    return world


def branch_from_main(w: World, template, branch: str, content: dict[str, bytes]) -> str:
    main_template = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(main_template) as repo:
        main = repo.ref_value("refs/heads/main")
    with w.c.open_repo(template) as repo:
        repo.commit_updates({f"refs/heads/{branch}": main}, {f"refs/heads/{branch}": repo.ref_value(
            f"refs/heads/{branch}")})
    return w.commit(template, content, branch)


def conflicting_pull(w: World) -> int:
    base = w.c.meta.templates.get("alice", "risk")
    branch_from_main(w, base, "feature", files("Feature title", "Be very brief.", tags=["feature"]))
    w.commit(base, files("Main title", "Be short.", description="Main's description"))
    return pulls.open_pull(w.c, w.bob, "alice", "risk", "Feature", "", "feature", "main").number


def test_a_conflicted_pull_shows_its_files_and_who_may_resolve(w):
    number = conflicting_pull(w)
    assert merging.mergeability(w.c, w.anon, "alice", "risk", number)["conflicts"] == [
        "prompts/system.md", "template.json:$.title"]
    shown = resolving.pull_conflicts(w.c, w.bob, "alice", "risk", number)
    assert [(f.path, f.kind, [h.where for h in f.hunks]) for f in shown.files] == [
        ("prompts/system.md", "lines", ["line 2"]), ("template.json", "json", ["$.title"])]
    assert shown.why_not is None and shown.message == "Merge branch 'main' into feature"
    assert shown.files[1].hunks[0].ours == '"Feature title"' and shown.files[1].hunks[0].theirs == '"Main title"'
    assert "only those who may write to alice/risk" in resolving.pull_conflicts(w.c, w.carol, "alice", "risk",
                                                                                 number).why_not
    assert resolving.pull_conflicts(w.c, w.anon, "alice", "risk", number).why_not == "sign in to resolve conflicts"


CHOICES = Resolution(hunks={"prompts/system.md": {0: Choice("both")}, "template.json": {0: Choice("theirs")}})


@pytest.mark.parametrize("who, error", [("anon", Unauthenticated), ("carol", PermissionDenied),
                                        ("carol_ro", PermissionDenied)])
def test_only_writers_of_the_head_branch_resolve(w, who, error):
    number = conflicting_pull(w)
    with pytest.raises(error):
        resolving.resolve_pull(w.c, getattr(w, who), "alice", "risk", number, CHOICES)


def test_a_resolution_against_moved_tips_is_refused(w):
    number = conflicting_pull(w)
    shown = resolving.pull_conflicts(w.c, w.bob, "alice", "risk", number)
    with pytest.raises(StaleHead):
        resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, CHOICES, expected_head_sha="1" * 40)
    with pytest.raises(StaleBase) as moved:
        resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, CHOICES, expected_head_sha=shown.head_sha,
                               expected_base_sha="2" * 40)
    assert moved.value.details["base_sha"] == shown.base_sha
    with pytest.raises(InvalidInput, match="choose how to resolve line 2"):
        resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, Resolution(hunks={
            "template.json": {0: Choice("ours")}}))
    assert resolving.pull_conflicts(w.c, w.bob, "alice", "risk", number).head_sha == shown.head_sha  # nothing landed


def test_the_resolution_lands_as_a_merge_commit_and_the_pull_request_merges(w):
    number = conflicting_pull(w)
    shown = resolving.pull_conflicts(w.c, w.bob, "alice", "risk", number)
    done = resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, CHOICES, "Resolve it",
                                  shown.head_sha, shown.base_sha)
    assert done.parents == (shown.head_sha, shown.base_sha) and done.branch == "feature"
    base = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(base) as repo:
        assert repo.ref_value("refs/heads/feature") == done.sha
        assert repo.ref_value(f"refs/pull/{number}/head") == done.sha  # the pull request follows its head
        commit = repo.object_store[ObjectID(done.sha.encode())]
        assert isinstance(commit, Commit) and commit.message == b"Resolve it\n"
        assert [p.decode() for p in commit.parents] == [shown.head_sha, shown.base_sha]
        assert commit.author.startswith(b"bob <")
    pushes = w.c.meta.events.page(EventFilter(template_id=base.id, action="push"), 0, 50)[0]
    assert any(e.payload.get("after") == done.sha for e in pushes)  # recorded as any push
    assert merging.mergeability(w.c, w.anon, "alice", "risk", number) == {
        "mergeable": True, "conflicts": [], "blocked_by": []}
    with pytest.raises(Conflict, match="nothing to resolve"):
        resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, CHOICES)
    merged = merging.merge(w.c, w.alice, "alice", "risk", number, "merge", done.sha)
    with w.c.open_repo(base) as repo:
        raw = {p: repo.object_store[repo.object_store[repo.object_store[ObjectID(merged.encode())].tree][p.encode()][1]]
               for p in ("template.json",)}
    manifest = json.loads(raw["template.json"].data)
    assert (manifest["title"], manifest["tags"], manifest["description"]) == ("Main title", ["feature"],
                                                                             "Main's description")


def test_a_readers_fork_pull_is_resolved_by_the_fork_owner_not_the_base_maintainer(w):
    fork = templates.fork(w.c, w.carol, "alice", "risk")
    branch_from_main(w, fork, "tune", files("Carol's title", "Be terse."))
    w.commit(w.c.meta.templates.get("alice", "risk"), files("Main title", "Be short."))
    number = pulls.open_pull(w.c, w.carol, "alice", "risk", "Tune", "", "carol:tune", "main").number
    with pytest.raises(PermissionDenied):  # maintainers of the base may not write carol's fork
        resolving.resolve_pull(w.c, w.alice, "alice", "risk", number, CHOICES)
    shown = resolving.pull_conflicts(w.c, w.carol, "alice", "risk", number)
    assert shown.head.full_name == "carol/risk" and shown.why_not is None
    assert shown.message == "Merge branch 'main' of alice/risk into tune"
    done = resolving.resolve_pull(w.c, w.carol, "alice", "risk", number, Resolution(
        hunks={"template.json": {0: Choice("edit", '"Both"')}}, files={"prompts/system.md": "Be kind.\n"}))
    with w.c.open_repo(fork) as repo:
        assert repo.ref_value("refs/heads/tune") == done.sha
    assert merging.mergeability(w.c, w.anon, "alice", "risk", number)["conflicts"] == []
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        tree = repo.object_store[repo.object_store[ObjectID(done.sha.encode())].tree]
        assert json.loads(repo.object_store[tree[b"template.json"][1]].data)["title"] == "Both"


def test_a_pull_that_merges_cleanly_has_nothing_to_resolve(w):
    base = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(base) as repo:
        main = repo.ref_value("refs/heads/main")
        repo.commit_updates({"refs/heads/clean": main}, {"refs/heads/clean": repo.ref_value("refs/heads/clean")})
        commit_files(repo, files("Clean", "Be brief."), "c\n", "B <b@x>", "clean")
    number = pulls.open_pull(w.c, w.bob, "alice", "risk", "Clean", "", "clean", "main").number
    shown = resolving.pull_conflicts(w.c, w.bob, "alice", "risk", number)
    assert shown.files == () and shown.why_not == "nothing conflicts"
    with pytest.raises(Conflict):
        resolving.resolve_pull(w.c, w.bob, "alice", "risk", number, CHOICES)
