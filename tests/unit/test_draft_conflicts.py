"""A draft's conflicts resolved with the pull requests' machinery (issue 32): when its branch
moves with clashing changes, each conflicted file is shown by lines, template.json by JSON path,
a test file by test case, with the draft's text now as ours; the choices become the file's text
in the draft on the new base (what the branch changed elsewhere in the file comes in too), the
conflict is settled, and the draft commits. Typing inside a hunk since it was shown refuses the
choices; typing elsewhere stays. Readers look, only writers resolve."""
from __future__ import annotations

import json

import pytest

from registry.errors import DraftConflicted, InvalidInput, NotFound, PermissionDenied, StaleDraft
from registry.git import browse
from registry.resolution import Choice, Resolution
from registry.services import drafts, drafts_rebase, drafts_resolving
from tests.unit.test_drafts import _push, _tip, _type, drafts_world, manifest


@pytest.fixture
def w(tmp_path):
    return drafts_world(tmp_path)


LONG = "One.\nTwo.\nThree.\nFour.\nFive.\nSix.\n"


def _moved(w, path: str, ours: str, theirs: bytes | None, seed: bytes | None = None) -> int:
    """A draft of `path` (seeded with `seed` on main first) typed into as `ours`, then main
    changed to `theirs` underneath and merged in: the draft's id."""
    if seed is not None:
        _push(w, path, seed, "seed")
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main", path)
    _type(w, draft.id, path, ours)
    _push(w, path, theirs)
    drafts_rebase.rebase(w.c, w.c.meta.templates.get("alice", "risk"), draft.id)
    assert [k.path for k in w.c.meta.drafts.conflicts(draft.id)] == [path]
    return draft.id


def _one(path: str, *choices: Choice) -> Resolution:
    return Resolution({path: dict(enumerate(choices))})


def test_a_text_files_hunks_are_chosen_and_become_the_drafts_text_which_then_commits(w):
    path = "prompts/long.md"
    draft_id = _moved(w, path, LONG.replace("Two.", "Two, ours.").replace("Six.", "Six, ours."),
                      LONG.replace("Two.", "Two, theirs.").replace("Four.", "Four, theirs.").encode(), LONG.encode())
    shown = drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path)
    f = shown.file
    assert (f.kind, len(f.hunks), shown.why_not, shown.others) == ("lines", 1, None, ())
    assert (f.hunks[0].base, f.hunks[0].ours, f.hunks[0].theirs) == ("Two.\n", "Two, ours.\n", "Two, theirs.\n")
    with pytest.raises(DraftConflicted):
        drafts.commit_draft(w.c, w.bob, "alice", "risk", draft_id, "too soon")
    with pytest.raises(InvalidInput, match="choose how to resolve line 2"):
        drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path, Resolution(),
                                                shown.shown)
    text = drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path,
                                                   _one(path, Choice("both")), shown.shown)
    want = "One.\nTwo, ours.\nTwo, theirs.\nThree.\nFour, theirs.\nFive.\nSix, ours.\n"  # theirs' Four came in
    assert text == want == drafts.text(w.c, w.bob, "alice", "risk", draft_id, path)
    assert w.c.meta.drafts.conflicts(draft_id) == []
    assert any(json.loads(n.data).get("state") == "resolved" for n in w.heard if n.kind == "notice")
    with pytest.raises(NotFound):
        drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path)
    done = drafts.commit_draft(w.c, w.bob, "alice", "risk", draft_id, "Resolved")
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        assert browse.raw(repo, done.sha, path).decode() == want


def test_typing_inside_a_hunk_since_it_was_shown_refuses_the_choices_typing_elsewhere_stays(w):
    path = "prompts/long.md"
    ours = LONG.replace("Two.", "Two, ours.")
    draft_id = _moved(w, path, ours, LONG.replace("Two.", "Two, theirs.").encode(), LONG.encode())
    shown = drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path).shown
    _type(w, draft_id, path, ours.replace("Six.", "Six, typed meanwhile."))  # elsewhere: the hunks are the same
    text = drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path,
                                                   _one(path, Choice("edit", "Two, edited.\n")), shown)
    assert text == LONG.replace("Two.", "Two, edited.").replace("Six.", "Six, typed meanwhile.")

    draft_id = _moved(w, "prompts/other.md", ours, LONG.replace("Two.", "Two, theirs.").encode(), LONG.encode())
    shown = drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "prompts/other.md").shown
    _type(w, draft_id, "prompts/other.md", ours.replace("Two, ours.", "Two, ours, typed meanwhile."))
    with pytest.raises(StaleDraft):
        drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "prompts/other.md",
                                                _one("prompts/other.md", Choice("theirs")), shown)
    assert "typed meanwhile" in drafts.text(w.c, w.bob, "alice", "risk", draft_id, "prompts/other.md")
    assert w.c.meta.drafts.conflicts(draft_id)  # nothing applied, nothing settled


def test_template_json_is_resolved_per_json_path_and_takes_the_branchs_other_changes(w):
    ours = manifest(title="Draft title", description="Draft description").decode()
    theirs = manifest(title="Their title", description="Their description", tags=["theirs"])
    draft_id = _moved(w, "template.json", ours, theirs)
    shown = drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "template.json")
    assert shown.file.kind == "json"
    assert [h.where for h in shown.file.hunks] == ["$.title", "$.description"]
    assert (shown.file.hunks[0].ours, shown.file.hunks[0].theirs) == ('"Draft title"', '"Their title"')
    with pytest.raises(InvalidInput, match="not JSON"):
        drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "template.json",
                                                _one("template.json", Choice("theirs"), Choice("edit", "{")))
    text = drafts_resolving.resolve_draft_conflict(
        w.c, w.bob, "alice", "risk", draft_id, "template.json",
        _one("template.json", Choice("theirs"), Choice("edit", '"Both described"')), shown.shown)
    doc = json.loads(text)
    assert (doc["title"], doc["description"], doc["tags"]) == ("Their title", "Both described", ["theirs"])
    drafts.commit_draft(w.c, w.bob, "alice", "risk", draft_id, "Manifest resolved")


def test_a_test_file_is_resolved_per_test_case(w):
    cases = [{"name": "a", "parameters": {"q": "base"}}, {"name": "b", "parameters": {"q": "base"}}]

    def dump(items) -> str:
        return json.dumps(items, indent=2) + "\n"

    ours = [{"name": "a", "parameters": {"q": "ours"}}, cases[1]]
    theirs = [{"name": "a", "parameters": {"q": "theirs"}}, {"name": "b", "parameters": {"q": "theirs"}}]
    draft_id = _moved(w, "tests/basic.json", dump(ours), dump(theirs).encode(), dump(cases).encode())
    shown = drafts_resolving.draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "tests/basic.json")
    assert shown.file.kind == "cases" and [h.where for h in shown.file.hunks] == ["test case 'a'"]
    text = drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, "tests/basic.json",
                                                   _one("tests/basic.json", Choice("ours")), shown.shown)
    assert [c["parameters"]["q"] for c in json.loads(text)] == ["ours", "theirs"]  # b came in from theirs


def test_readers_look_only_writers_resolve_and_a_file_deleted_on_the_branch_is_chosen_whole(w):
    path = "prompts/long.md"
    draft_id = _moved(w, path, LONG + "Seven.\n", None, LONG.encode())  # main deletes the file
    watched = drafts_resolving.draft_conflict(w.c, w.carol, "alice", "risk", draft_id, path)
    assert watched.why_not and "write" in watched.why_not
    assert (watched.file.kind, watched.file.absent, watched.file.hunks[0].where) == ("file", ("theirs",),
                                                                                     "the whole file")
    with pytest.raises(PermissionDenied):
        drafts_resolving.resolve_draft_conflict(w.c, w.carol, "alice", "risk", draft_id, path,
                                                _one(path, Choice("ours")))
    assert w.c.meta.drafts.conflicts(draft_id)
    tip = _tip(w)
    drafts_resolving.resolve_draft_conflict(w.c, w.bob, "alice", "risk", draft_id, path, _one(path, Choice("theirs")))
    assert drafts.text(w.c, w.bob, "alice", "risk", draft_id, path) == ""  # gone, as on the branch
    with pytest.raises(InvalidInput, match="changes nothing"):
        drafts.commit_draft(w.c, w.bob, "alice", "risk", draft_id, "nothing")
    assert _tip(w) == tip
