"""Commits made on the server, in process: the path rules, tree edits, JSON path lines, the
three-way helper behind "file changed while editing", live checks, and how the push path's
refusals reach the caller."""
from __future__ import annotations

import json
import stat
from dataclasses import replace

import pytest
from dulwich.object_store import MemoryObjectStore
from dulwich.objects import Blob, Tree

from registry.container import Listeners
from registry.errors import (
    BranchProtected,
    ChangeRefused,
    InvalidInput,
    PathNotFound,
    PermissionDenied,
    StaleParent,
    TooLarge,
)
from registry.git.paths import normalise, path_problem
from registry.git.policy import BranchRule, RefUpdate, direct_push_problem, update_problem
from registry.git.write import edit_tree
from registry.jsonlocate import line_of, parse_path
from registry.meta import EventFilter, Protection
from registry.services import commits, editing, proposals, templates
from registry.services.commits import Change, PullSpec
from tests.unit.usecases import MINIMAL, World

MANIFEST = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "systemPrompt": {"file": "prompts/system.md"}}}
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


def manifest(**changes) -> bytes:
    return (json.dumps({**MANIFEST, **changes}, indent=2) + "\n").encode()


@pytest.fixture
def w(tmp_path) -> World:
    world = World.make(tmp_path)
    templates.create(world.c, world.alice, "risk")
    return world


def first(w: World) -> str:
    return commits.commit_changes(w.c, w.alice, "alice", "risk", "main", None, "First", [
        Change("template.json", manifest()), Change("prompts/system.md", PROMPT.encode())]).sha


def tip(w: World, branch: str = "main") -> str | None:
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        return repo.stored_refs().get(f"refs/heads/{branch}")


# -- paths --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["template.json", "prompts/system.md", "a b/c-d_e.f", ".gitignore", "x/.gitmodules",
                                  "é.md", "d/" * 32 + "f"])
def test_paths_git_accepts(path):
    assert normalise(path) == path


@pytest.mark.parametrize("path, rule", [
    ("../x", "hasDotdot"), ("a/./b", "hasDot"), (".git/config", "hasDotgit"), ("A/.GiT", "hasDotgit"),
    (".git./x", "hasDotgit"), ("git~1/config", "hasDotgit"), (".git\u200c/x", "hasDotgit"),
    ("/abs", "relative"), ("a//b", "empty segment"), ("a/", "empty segment"), ("", "empty"),
    ("a\\b", "backslash"), ("a\0b", "control character"), ("a\nb", "control character"),
    ("x" * 256, "longer than 255"), ("d/" * 33 + "f", "deeper than 32"), ("\ud800", "UTF-8"),
    ("é/" * 400 + "x", "longer than 1024"),
])
def test_paths_git_refuses_are_refused_naming_the_rule(path, rule):
    assert rule in (path_problem(path) or "")
    with pytest.raises(InvalidInput) as caught:
        normalise(path)
    assert "invalid path" in caught.value.message and rule in caught.value.message


def test_paths_are_composed_to_nfc():
    assert normalise("e\u0301.md") == "\u00e9.md"


# -- trees and JSON lines ---------------------------------------------------------------

def test_edit_tree_drops_empty_directories_stores_nothing_and_names_bad_changes(w):
    sha = first(w)
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        root = repo.object_store[repo.object_store[sha.encode()].tree]
        objects: list = []
        tree = edit_tree(repo.object_store, root.id, {"prompts/system.md": None, "a/b/c.md": b"c"}, objects)
        assert sorted(name for name, _, _ in tree.iteritems()) == [b"a", b"template.json"]  # prompts/ went
        assert tree.id in {o.id for o in objects} and tree.id not in repo.object_store
        for changes, error, where in (({"template.json/x": b"x"}, InvalidInput, "template.json"),
                                      ({"prompts": b"x"}, InvalidInput, "prompts"),
                                      ({"nothing.md": None}, PathNotFound, "nothing.md"),
                                      ({"no/where.md": None}, PathNotFound, "no/where.md")):
            with pytest.raises(error) as caught:
                edit_tree(repo.object_store, root.id, changes, [])
            assert caught.value.details["path"] == where


def test_edit_tree_swaps_a_file_and_a_directory_of_the_same_name_in_one_change():
    store = MemoryObjectStore()
    objects: list = []
    tree = edit_tree(store, None, {"a": b"file a", "d/x": b"x"}, objects)
    for obj in objects:
        store.add_object(obj)
    swapped = edit_tree(store, tree.id, {"a": None, "a/b": b"now a directory", "d/x": None, "d": b"now a file"}, [])
    assert stat.S_ISDIR(swapped[b"a"][0]) and swapped[b"d"][0] == 0o100644


def test_edit_tree_keeps_the_executable_bit_and_makes_a_link_a_file():
    store = MemoryObjectStore()
    script, link = Blob.from_string(b"#!/bin/sh\n"), Blob.from_string(b"target")
    tree = Tree()
    tree.add(b"run.sh", 0o100755, script.id)
    tree.add(b"link", 0o120000, link.id)
    for obj in (script, link, tree):
        store.add_object(obj)
    edited = edit_tree(store, tree.id, {"run.sh": b"#!/bin/sh\nexit 0\n", "link": b"now a file"}, [])
    assert edited[b"run.sh"][0] == 0o100755 and edited[b"link"][0] == 0o100644


def test_json_paths_point_at_their_line_or_the_nearest_ancestor():
    text = manifest(tags=["a", "b"]).decode()
    lines = text.splitlines()
    assert line_of(text.encode(), "$.tags[1]") == lines.index('    "b"') + 1
    assert line_of(text.encode(), "$.promptConfig.parameters[0].name") == \
        next(i for i, row in enumerate(lines, 1) if '"name"' in row)
    assert line_of(text.encode(), "$.promptConfig.nothing.here") == \
        next(i for i, row in enumerate(lines, 1) if '"promptConfig"' in row)
    assert line_of(text.encode(), "$") is None
    assert parse_path("$.a[2].b") == ["a", 2, "b"] and parse_path("x") is None


# -- commits through the push path ------------------------------------------------------------

def test_a_commit_lands_as_a_push_and_a_stale_parent_is_refused(w):
    sha = first(w)
    template = w.c.meta.templates.get("alice", "risk")
    heard: list[list[RefUpdate]] = []
    w.c = replace(w.c, listeners=Listeners(push=(lambda t, updates: heard.append(updates),)))  # what queues checks
    second = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Second",
                                    [Change("prompts/system.md", b"Shorter.\n")])
    assert tip(w) == second.sha and second.parent == sha
    assert heard == [[RefUpdate("refs/heads/main", sha, second.sha)]]
    pushes = w.c.meta.events.page(EventFilter(template_id=template.id, action="push"), 0, 10)[0]
    assert [(e.actor, e.payload["after"]) for e in pushes][:2] == [("alice", second.sha), ("alice", sha)]
    with pytest.raises(StaleParent) as caught:
        commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Late", [Change("x.md", b"x")])
    assert caught.value.details == {"tip": second.sha}


def test_a_commit_that_loses_the_race_inside_the_push_path_is_a_stale_parent(w, monkeypatch):
    sha = first(w)
    moved = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Meanwhile", [Change("m.md", b"m")])
    monkeypatch.setattr(commits, "expect_tip", lambda repo, branch, parent: None)  # as if read before `moved`
    with pytest.raises(StaleParent) as caught:
        commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Late", [Change("x.md", b"x")])
    assert caught.value.details == {"tip": moved.sha} and tip(w) == moved.sha


def test_refusals_of_the_push_path_reach_the_caller_and_store_nothing(w):
    sha = first(w)
    for change, error in ((Change("k.md", b"aws AKIAABCDEFGHIJKLMNOP"), ChangeRefused),
                          (Change("big.bin", b"x" * (w.c.settings.max_file_bytes + 1)), TooLarge)):
        with pytest.raises(error):
            commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Bad", [change])
    with pytest.raises(PermissionDenied):  # a reader
        commits.commit_changes(w.c, w.bob, "alice", "risk", "main", sha, "Bob", [Change("x.md", b"x")])
    templates.set_protection(w.c, w.alice, "alice", "risk", Protection("main", False, False, ("validate",), 0))
    with pytest.raises(BranchProtected):
        commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Direct", [Change("x.md", b"x")])
    assert tip(w) == sha
    options = editing.commit_options(w.c, w.alice, "alice", "risk", "main")
    assert not options.direct and "pull request" in (options.reason or "") and not options.via_fork
    proposed = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Via PR", [Change("x.md", b"x")],
                                      new_branch="x", pull=PullSpec("Add x"))
    assert proposed.pull is not None and proposed.pull.base_branch == "main" and tip(w, "x") == proposed.sha


def test_branch_rules_that_want_pull_requests_refuse_updates_but_not_creation(w):
    sha = first(w)
    side = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Side", [Change("s.md", b"s")],
                                  new_branch="side").sha
    rule = BranchRule(require_pull=True)
    assert direct_push_problem(rule) == "protected branch: changes must go through a pull request"
    assert direct_push_problem(BranchRule()) is None and direct_push_problem(None) is None
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        main = "refs/heads/main"
        assert update_problem(repo, RefUpdate(main, sha, side), sha, rule, main) == direct_push_problem(rule)
        assert update_problem(repo, RefUpdate(main, sha, side), sha, BranchRule(), main) is None
        assert update_problem(repo, RefUpdate("refs/heads/new", "0" * 40, side), "0" * 40, rule, main) is None


def test_a_reader_proposes_from_a_fork_that_reads_the_templates_packs(w):
    sha = first(w)
    change = [Change("prompts/system.md", b"Bob's prompt.\n")]
    proposed = proposals.propose_changes(w.c, w.bob, "alice", "risk", "main", sha, "Bob", change, PullSpec("Bob's"))
    assert proposed.template.full_name == "bob/risk" and proposed.branch == "bob-patch-1"
    assert proposed.pull is not None and proposed.pull.head_branch == "bob-patch-1" and tip(w) == sha
    newer = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Newer", [Change("n.md", b"n")]).sha
    again = proposals.propose_changes(w.c, w.bob, "alice", "risk", "main", newer, "Bob 2", change, PullSpec("Again"))
    assert again.template.id == proposed.template.id and again.parent == newer
    assert [t.full_name for t in w.c.meta.templates.forks_of(w.c.meta.templates.get("alice", "risk").id)] == ["bob/risk"]
    assert editing.commit_options(w.c, w.bob, "alice", "risk", "main").via_fork


# -- the three-way helper ------------------------------------------------------------

def test_rebase_onto_a_tip_that_changed_another_file_or_lines_is_clean(w):
    sha = first(w)
    theirs = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Theirs", [
        Change("README.md", b"# read me\n"), Change("prompts/system.md", PROMPT.replace("Cite", "Always cite").encode())])
    mine = [Change("prompts/system.md", PROMPT.replace("You are careful.", "You are very careful.").encode())]
    rebased = editing.rebase_changes(w.c, w.alice, "alice", "risk", "main", sha, mine)
    assert rebased.tip == theirs.sha and rebased.conflicts == []
    assert rebased.files == {"prompts/system.md": b"You are very careful.\nBe brief.\nAlways cite sources.\n"}
    landed = commits.commit_changes(w.c, w.alice, "alice", "risk", "main", rebased.tip, "Mine, merged",
                                    [Change(p, d) for p, d in rebased.files.items()])
    assert tip(w) == landed.sha


def test_rebase_reports_conflicting_lines_and_manifest_keys(w):
    sha = first(w)
    commits.commit_changes(w.c, w.alice, "alice", "risk", "main", sha, "Theirs", [
        Change("prompts/system.md", PROMPT.replace("Be brief.", "Be terse.").encode()),
        Change("template.json", manifest(title="Their title", description="Theirs"))])
    mine = [Change("prompts/system.md", PROMPT.replace("Be brief.", "Be short.").encode()),
            Change("template.json", manifest(title="My title"))]
    rebased = editing.rebase_changes(w.c, w.alice, "alice", "risk", "main", sha, mine)
    assert rebased.conflicts == ["prompts/system.md", "template.json:$.title"] and rebased.files == {}
    clean = editing.rebase_changes(w.c, w.alice, "alice", "risk", "main", sha, [
        Change("template.json", manifest(tags=["mine"]))])
    merged = json.loads(clean.files["template.json"] or b"")
    assert clean.conflicts == [] and merged["tags"] == ["mine"] and merged["title"] == "Their title"


def test_rebase_on_an_unmoved_tip_is_the_change_itself(w):
    sha = first(w)
    assert editing.rebase_changes(w.c, w.alice, "alice", "risk", "main", sha,
                                  [Change("x.md", b"x")]).files == {"x.md": b"x"}


# -- live checks ---------------------------------------------------------------------

def test_check_changes_names_file_and_line_and_stores_nothing(w):
    sha = first(w)
    problems = editing.check_changes(w.c, w.bob, "alice", "risk", "main", [
        Change("prompts/system.md", b"One.\nTwo {{ topic }}.\n"), Change("notes/../x", b"x")])
    assert [(p.path, p.line) for p in problems] == [("notes/../x", None), ("prompts/system.md", 2)]
    assert "'topic' is not a declared parameter" in problems[1].message
    assert problems[1].json_path == "$.promptConfig.systemPrompt"
    text = manifest(promptConfig={**MANIFEST["promptConfig"], "constraints": {"maxTokens": "many"}})
    (schema,) = editing.check_changes(w.c, w.bob, "alice", "risk", sha, [Change("template.json", text)])
    assert schema.path == "template.json" and schema.json_path == "$.promptConfig.constraints.maxTokens"
    assert text.decode().splitlines()[(schema.line or 0) - 1].strip().startswith('"maxTokens"')
    assert editing.check_changes(w.c, w.anon, "alice", "risk", "main", [Change("x.md", b"fine")]) == []
    gone = editing.check_changes(w.c, w.bob, "alice", "risk", "main", [Change("template.json", None)])
    assert [(p.path, p.message) for p in gone] == [("template.json", "template.json is missing at the repository root")]
    assert tip(w) == sha
