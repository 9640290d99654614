"""The conflict model on real commits in a memory store: line hunks, template.json by JSON
path, test files by test case, files deleted on one side, binary files; resolutions applied
(and refused); the JSON merge's rule for a list deleted on one side and edited on the other."""
from __future__ import annotations

import json

import pytest
from dulwich.object_store import MemoryObjectStore
from dulwich.objects import Blob, Commit, ShaFile, Tree

from registry import conflicts, linemerge, resolution
from registry.casemerge import merge_cases
from registry.errors import InvalidInput
from registry.git.write import build_tree, make_commit
from registry.jsonmerge import MISSING, merge3
from registry.resolution import Choice, Resolution
from registry.treemerge import merge_detail
from tests.unit.usecases import MINIMAL

PROMPT = "You are careful.\nBe brief.\nCite sources.\nEnd.\n"


def manifest(**changes) -> bytes:
    return (json.dumps({**MINIMAL, **changes}, indent=2) + "\n").encode()


def cases(*items) -> bytes:
    return (json.dumps(list(items), indent=2) + "\n").encode()


def case(name: str, **parameters) -> dict:
    return {"name": name, "parameters": parameters, "assert": [{"type": "contains", "value": "Q3"}]}


class Repo:
    def __init__(self) -> None:
        self.store = MemoryObjectStore()

    def commit(self, files: dict[str, bytes], parents: list[Commit] | None = None) -> Commit:
        objects: list[ShaFile] = []
        tree = build_tree(files, objects)
        commit = make_commit(tree.id, [p.id.decode() for p in parents or []], "T <t@x>", "c\n")
        for obj in [*objects, commit]:
            self.store.add_object(obj)
        return commit

    def files(self, tree_id) -> dict[str, bytes]:
        out: dict[str, bytes] = {}

        def walk(sha, prefix):
            tree = self.store[sha]
            assert isinstance(tree, Tree)
            for entry in tree.iteritems():
                path = prefix + entry.path.decode()
                obj = self.store[entry.sha]
                if isinstance(obj, Tree):
                    walk(entry.sha, path + "/")
                else:
                    assert isinstance(obj, Blob)
                    out[path] = obj.data
        walk(tree_id, "")
        return out


BASE = {"template.json": manifest(), "prompts/system.md": PROMPT.encode(),
        "tests/basic.json": cases(case("q3", quarter="Q3"), case("q4", quarter="Q4")),
        "notes.md": b"notes\n", "logo.bin": b"\x00\x01", "README.md": b"# Risk\n"}


@pytest.fixture
def three() -> tuple[Repo, Commit, Commit, Commit]:
    repo = Repo()
    base = repo.commit(BASE)
    theirs_files = {**BASE, "template.json": manifest(title="Theirs", description="New description"),
                    "prompts/system.md": PROMPT.replace("Be brief.", "Be short.").replace("End.", "The end.").encode(),
                    "tests/basic.json": cases(case("q3", quarter="Q3-theirs"), case("q4", quarter="Q4"),
                                              case("q1", quarter="Q1")),
                    "notes.md": b"notes, longer\n", "logo.bin": b"\x00\x03"}
    del theirs_files["README.md"]
    ours_files = {**BASE}
    del ours_files["notes.md"]
    ours = repo.commit({**ours_files, "template.json": manifest(title="Ours", tags=["a"]),
                        "prompts/system.md": PROMPT.replace("Be brief.", "Be very brief.").encode(),
                        "tests/basic.json": cases(case("q3", quarter="Q3-ours"), case("q4", quarter="Q4")),
                        "logo.bin": b"\x00\x02", "README.md": b"# Risk, ours\n"}, [base])
    theirs = repo.commit(theirs_files, [base])
    return repo, base, ours, theirs


def test_each_kind_of_conflict_is_shown_with_its_three_sides(three):
    repo, base, ours, theirs = three
    found = conflicts.find(repo.store, base, ours, theirs)
    by_path = {f.path: f for f in found.files}
    assert sorted(by_path) == ["README.md", "logo.bin", "notes.md", "prompts/system.md", "template.json",
                               "tests/basic.json"]
    lines = by_path["prompts/system.md"]
    assert lines.kind == "lines" and lines.base == PROMPT and "Be short." in lines.theirs
    assert [(h.where, h.base, h.ours, h.theirs) for h in lines.hunks] == [
        ("line 2", "Be brief.\n", "Be very brief.\n", "Be short.\n")]  # "The end." merged by itself
    assert lines.picks == ("ours", "theirs", "both", "base", "edit")
    manifest_ = by_path["template.json"]
    assert manifest_.kind == "json" and "both" not in manifest_.picks
    assert [(h.where, h.base, h.ours, h.theirs) for h in manifest_.hunks] == [
        ("$.title", '"Quarterly risk report writer"', '"Ours"', '"Theirs"')]  # tags, description: merged
    tests_ = by_path["tests/basic.json"]
    assert tests_.kind == "cases" and [h.where for h in tests_.hunks] == ["test case 'q3'"]
    q3 = tests_.hunks[0]
    assert json.loads(q3.ours)["parameters"] == {"quarter": "Q3-ours"}
    assert json.loads(q3.theirs)["parameters"] == {"quarter": "Q3-theirs"}
    deleted = by_path["notes.md"]  # deleted on ours, changed on theirs: one whole-file decision
    assert deleted.kind == "file" and deleted.absent == ("ours",) and deleted.ours is None
    assert [(h.where, h.base, h.ours, h.theirs) for h in deleted.hunks] == [
        ("the whole file", "notes\n", None, "notes, longer\n")]
    binary = by_path["logo.bin"]
    assert binary.kind == "file" and binary.binary and binary.hunks[0].ours is None and "edit" not in binary.picks
    readme = by_path["README.md"]
    assert readme.kind == "file" and readme.absent == ("theirs",)


def test_a_resolution_gives_every_conflicted_file_its_content(three):
    repo, base, ours, theirs = three
    found = conflicts.find(repo.store, base, ours, theirs)
    chosen = Resolution(hunks={
        "prompts/system.md": {0: Choice("both")},
        "template.json": {0: Choice("edit", '"Both titles"')},
        "tests/basic.json": {0: Choice("theirs")},
        "notes.md": {0: Choice("ours")},  # ours deleted it
        "logo.bin": {0: Choice("theirs")},
        "README.md": {0: Choice("edit", "# Risk, edited")},
    })
    tree_id, objects = resolution.tree(repo.store, found, chosen)
    for obj in objects:
        repo.store.add_object(obj)
    files = repo.files(tree_id)
    assert files["prompts/system.md"].decode() == PROMPT.replace("Be brief.", "Be very brief.\nBe short.").replace(
        "End.", "The end.")
    merged = json.loads(files["template.json"])
    assert merged["title"] == "Both titles" and merged["tags"] == ["a"] and merged["description"] == "New description"
    assert [c["parameters"]["quarter"] for c in json.loads(files["tests/basic.json"])] == ["Q3-theirs", "Q4", "Q1"]
    assert "notes.md" not in files
    assert files["logo.bin"] == b"\x00\x03"
    assert files["README.md"] == b"# Risk, edited"  # a whole file is taken as typed
    assert files["prompts/system.md"] != b"" and not any(b"<<<<<<<" in data for data in files.values())


def test_whole_files_replace_hunk_choices(three):
    repo, base, ours, theirs = three
    found = conflicts.find(repo.store, base, ours, theirs)
    everything = {f.path: {0: Choice("ours")} for f in found.files if f.path != "prompts/system.md"}
    contents = resolution.contents(found, Resolution(hunks=everything,
                                                     files={"prompts/system.md": "Just this.\r\nAnd this.\n"}))
    assert contents["prompts/system.md"] == b"Just this.\nAnd this.\n"
    assert contents["notes.md"] is None and contents["logo.bin"] == b"\x00\x02"


@pytest.mark.parametrize("hunks, files, message", [
    ({}, {}, "choose how to resolve"),
    ({"prompts/system.md": {0: Choice("both")}, "nope.md": {0: Choice("ours")}}, {}, "nope.md is not in conflict"),
    ({"prompts/system.md": {3: Choice("ours")}}, {}, "has no hunk 3"),
    ({"template.json": {0: Choice("both")}}, {}, "choose one of ours, theirs, base, edit"),
    ({"logo.bin": {0: Choice("edit", "text")}}, {}, "choose one of ours, theirs, base"),
    ({"prompts/system.md": {0: Choice("edit")}}, {}, "an edit needs its text"),
    ({"template.json": {0: Choice("edit", "{not json")}}, {}, "$.title: the edited value is not JSON"),
])
def test_a_resolution_that_leaves_or_names_a_wrong_hunk_is_refused(three, hunks, files, message):
    repo, base, ours, theirs = three
    found = conflicts.find(repo.store, base, ours, theirs)
    complete = {f.path: {0: Choice("ours")} for f in found.files}
    chosen = Resolution(hunks={**complete, **hunks} if hunks else {}, files=files)
    with pytest.raises(InvalidInput) as refused:
        resolution.contents(found, chosen)
    assert message in refused.value.message


def test_line_hunks_and_every_pick():
    base, ours, theirs = b"a\nb\nc\nd\n", b"a\nB1\nc\nd\nx\n", b"a\nB2\nc\nD\n"
    hunks = linemerge.hunks(base, ours, theirs)
    assert [(h.where(), h.base, h.ours, h.theirs) for h in hunks] == [
        ("line 2", (b"b\n",), (b"B1\n",), (b"B2\n",)), ("lines 4–5", (b"d\n",), (b"d\n", b"x\n"), (b"D\n",))]
    picks = {0: "both", 1: "base"}
    merged = linemerge.merge(base, ours, theirs, lambda i, h: h.ours + h.theirs if picks[i] == "both" else h.base)
    assert merged == b"a\nB1\nB2\nc\nd\n"
    assert linemerge.edited_lines("E1\r\nE2", hunks[0]) == [b"E1\n", b"E2\n"]  # the textarea's lost newline
    assert linemerge.edited_lines("", hunks[0]) == []  # an empty edit removes the lines
    added = linemerge.hunks(b"", b"x\n", b"y\n")  # both added the file
    assert [(h.where(), h.base) for h in added] == [("line 1", ())]


def test_test_files_merge_by_case():
    base = cases(case("q3", quarter="Q3"), case("q4", quarter="Q4"))
    ours = cases(case("q3", quarter="Q3"), case("q4", quarter="Q4", portfolio="SME"), case("q1", quarter="Q1"))
    theirs = cases(case("q4", quarter="Q4", tone="dry"), case("q3", quarter="Q3"), case("q2", quarter="Q2"))
    merged, conflicted = merge_cases(base, ours, theirs)
    assert conflicted == []  # different cases added, different keys of q4 changed
    assert [(c["name"], c["parameters"]) for c in json.loads(merged)] == [
        ("q3", {"quarter": "Q3"}), ("q4", {"quarter": "Q4", "portfolio": "SME", "tone": "dry"}),
        ("q1", {"quarter": "Q1"}), ("q2", {"quarter": "Q2"})]
    deleted = cases(case("q4", quarter="Q4"))
    edited = cases(case("q3", quarter="Q3!"), case("q4", quarter="Q4"))
    _, conflicted = merge_cases(base, deleted, edited)
    assert conflicted == ["q3"]  # deleted on one side, edited on the other: one conflict
    one = json.dumps(case("q3", quarter="Q3")).encode()
    merged, conflicted = merge_cases(one, json.dumps(case("q3", quarter="A")).encode(),
                                     json.dumps(case("q3", quarter="B")).encode(), lambda *sides: sides[3])
    assert conflicted == ["q3"] and json.loads(merged)["parameters"] == {"quarter": "B"}  # still one object
    assert merge_cases(base, b"[1, 2]", theirs) is None  # not named cases: the line merge decides
    assert merge_cases(base, cases(case("x"), case("x")), theirs) is None  # repeated names too


def test_a_list_deleted_on_one_side_and_edited_on_the_other_is_one_conflict():
    base = {"mcpServers": [{"serverId": "s1", "url": "u"}], "tags": ["x"]}
    deleted = {}
    edited = {"mcpServers": [{"serverId": "s1", "url": "v"}, {"serverId": "s2"}], "tags": ["x", "y"]}
    merged, conflicts_ = merge3(base, deleted, edited)
    assert conflicts_ == ["$.mcpServers", "$.tags"]  # not "$.mcpServers[0]" with s2 kept in a deleted list
    assert merged == {}  # unresolved: ours (deleted) kept
    seen = []
    merged, _ = merge3(base, edited, deleted, resolve=lambda path, b, o, t: seen.append((path, t)) or MISSING)
    assert seen == [("$.mcpServers", MISSING), ("$.tags", MISSING)] and merged == {}
    clean, none = merge3(base, {**base, "tags": ["x", "z"]}, edited | {"tags": ["x"]})
    assert none == [] and clean["mcpServers"][1] == {"serverId": "s2"}  # both lists kept: item by item
    dup = [{"name": "a", "v": 1}, {"name": "a", "v": 2}]
    _, conflicted = merge3([{"name": "a", "v": 0}], dup, [{"name": "a", "v": 3}])
    assert conflicted == ["$"]  # repeated names are no key: one conflict, nothing silently dropped


def test_the_merge_settles_test_files_by_case_and_reports_a_deleted_manifest():
    repo = Repo()
    base = repo.commit({"template.json": manifest(), "tests/a.json": cases(case("q3"))})
    ours = repo.commit({"template.json": manifest(title="T"), "tests/a.json": cases(case("q3"), case("q1"))}, [base])
    theirs = repo.commit({"tests/a.json": cases(case("q3"), case("q2"))}, [base])
    merged = merge_detail(repo.store, base, ours, theirs)
    assert merged.files == ["template.json"]  # deleted against changed: no longer merged away silently
    for obj in merged.objects:
        repo.store.add_object(obj)
    assert [c["name"] for c in json.loads(repo.files(merged.tree)["tests/a.json"])] == ["q3", "q1", "q2"]
