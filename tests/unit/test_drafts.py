"""Shared drafts as use cases, in process: who may open, join, edit and commit; a form's edit
merged three ways with what others typed; a commit through the push path naming every other
editor; the branch moving underneath (merged in, template.json by JSON path; conflicts keep every
side); the hidden ref that keeps a draft's base and that no git client sees."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from registry.container import Listeners
from registry.drafts import ydoc
from registry.drafts.bus import Note
from registry.errors import (
    DraftConflicted,
    DraftNotFound,
    InvalidInput,
    PermissionDenied,
    TemplateNotFound,
    Unauthenticated,
)
from registry.git import browse, wants
from registry.git.clone import CloneRequest, eligible
from registry.services import drafts, drafts_rebase, templates
from registry.services.commits import Change, PullSpec, commit_changes
from tests.unit.usecases import MINIMAL, World

PROMPT = "You are careful.\nBe brief.\nCite sources.\n"


def manifest(**changes) -> bytes:
    return (json.dumps({**MINIMAL, **changes}, indent=2) + "\n").encode()


@pytest.fixture
def w(tmp_path) -> World:
    return drafts_world(tmp_path)


def drafts_world(tmp_path) -> World:
    """alice's template `risk` (bob writes, carol reads) with a manifest and a prompt on main;
    the draft notes heard are in `heard`."""
    world = World.make(tmp_path)
    heard: list[Note] = []
    world.c = replace(world.c, listeners=Listeners(draft=(heard.append,)))
    world.heard = heard  # type: ignore[attr-defined]
    templates.create(world.c, world.alice, "risk")
    templates.set_collaborator(world.c, world.alice, "alice", "risk", "bob", "writer")
    templates.set_collaborator(world.c, world.alice, "alice", "risk", "carol", "reader")
    commit_changes(w_c := world.c, world.alice, "alice", "risk", "main", None, "First",
                   [Change("template.json", manifest()), Change("prompts/system.md", PROMPT.encode())])
    assert w_c is world.c
    return world


def _tip(w: World, branch: str = "main") -> str:
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        return repo.doc.refs[f"refs/heads/{branch}"]


def _type(w: World, draft_id: int, path: str, new: str, who=None) -> None:
    """An editor's change, stored as a room stores it."""
    doc, text = ydoc.load(w.c.meta.drafts.load(draft_id, path))
    update = ydoc.replace_text(doc, text, new)
    assert update is not None
    w.c.meta.drafts.append(draft_id, path, [update], (who or w.bob).user.id)


def _push(w: World, path: str, content: bytes, message: str = "upstream") -> str:
    return commit_changes(w.c, w.alice, "alice", "risk", "main", _tip(w), message, [Change(path, content)]).sha


def test_writers_open_and_edit_readers_watch_others_get_nothing(w):
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main", "prompts/system.md")
    assert draft.base == _tip(w) and draft.created_by == "bob"
    assert drafts.text(w.c, w.carol, "alice", "risk", draft.id, "prompts/system.md") == PROMPT
    watcher = drafts.connect(w.c, w.carol, "alice", "risk", draft.id, "prompts/system.md")
    assert not watcher.can_write and watcher.path == "prompts/system.md"
    with pytest.raises(DraftNotFound):  # a reader opens no new file
        drafts.connect(w.c, w.carol, "alice", "risk", draft.id, "README.md")
    editor = drafts.connect(w.c, w.bob, "alice", "risk", draft.id, "notes/new.md")
    assert editor.can_write and drafts.text(w.c, w.bob, "alice", "risk", draft.id, "notes/new.md") == ""
    assert not drafts.connect(w.c, w.carol_ro, "alice", "risk", draft.id, "prompts/system.md").can_write
    with pytest.raises(PermissionDenied):
        drafts.open_draft(w.c, w.carol, "alice", "risk", "main")
    with pytest.raises(Unauthenticated):
        drafts.connect(w.c, w.anon, "alice", "risk", draft.id, "prompts/system.md")
    with pytest.raises(InvalidInput):
        drafts.connect(w.c, w.bob, "alice", "risk", draft.id, "../etc/passwd")
    templates.update(w.c, w.alice, "alice", "risk", visibility="private")
    templates.remove_collaborator(w.c, w.alice, "alice", "risk", "carol")
    with pytest.raises(TemplateNotFound):
        drafts.connect(w.c, w.carol, "alice", "risk", draft.id, "prompts/system.md")
    other = templates.create(w.c, w.bob, "other")
    with pytest.raises(DraftNotFound):  # a draft is found through its own template only
        drafts.get_draft(w.c, w.bob, "bob", other.name, draft.id)


def test_the_base_is_kept_by_a_hidden_ref_that_no_git_client_is_shown(w):
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main")
    template = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(template) as repo:
        assert repo.doc.refs[draft.ref] == draft.base
        assert all(not r.startswith(b"refs/drafts/") for r in repo.advertised_refs())
        assert all(not r.startswith(b"refs/drafts/") for r in repo.get_refs())
    old = draft.base
    new = _push(w, "README.md", b"# risk\n")  # the draft follows (rebase), its ref too
    drafts.get_draft(w.c, w.bob, "alice", "risk", draft.id)
    with w.c.open_repo(template) as repo:
        assert repo.doc.refs[draft.ref] == new
        repo.commit_updates({draft.ref: old}, {draft.ref: new})
        assert wants.stale_reachable(repo, [old]) == {old}  # an ancestor of main: wantable as before
        assert not eligible(repo, CloneRequest(frozenset({new.encode()}), frozenset()))  # the base is no tip
    # a commit only the hidden ref reaches (its branch deleted) is not wantable
    side = commit_changes(w.c, w.alice, "alice", "risk", "main", new, "side", [Change("side.md", b"x\n")],
                          new_branch="side").sha
    with w.c.open_repo(template) as repo:
        repo.commit_updates({draft.ref: side, "refs/heads/side": "0" * 40}, {draft.ref: old, "refs/heads/side": side})
        assert wants.stale_reachable(repo, [side]) == set()
    fork = templates.fork(w.c, w.carol, "alice", "risk")
    with w.c.open_repo(fork) as repo:
        assert not any(r.startswith("refs/drafts/") for r in repo.doc.refs)
    drafts.delete_draft(w.c, w.bob, "alice", "risk", draft.id)
    with w.c.open_repo(template) as repo:
        assert draft.ref not in repo.doc.refs
    assert json.loads(w.heard[-1].data) == {"state": "deleted", "by": "bob"}


def test_a_forms_edit_is_merged_with_what_others_typed_meanwhile(w):
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main", "prompts/system.md")
    shown = PROMPT
    _type(w, draft.id, "prompts/system.md", PROMPT.replace("You are careful.", "You are careful, always."), w.alice)
    merged = drafts.save_text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md", shown,
                              PROMPT.replace("Cite sources.", "Cite two sources."))
    assert merged == "You are careful, always.\nBe brief.\nCite two sources.\n"
    assert drafts.text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md") == merged
    assert w.heard[-1].kind == "stored" and w.heard[-1].path == "prompts/system.md"
    with pytest.raises(DraftConflicted):  # the same line, changed apart: nothing is overwritten
        drafts.save_text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md", shown,
                         PROMPT.replace("You are careful.", "You are terse."))
    assert drafts.text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md") == merged
    with pytest.raises(PermissionDenied):
        drafts.save_text(w.c, w.carol, "alice", "risk", draft.id, "prompts/system.md", shown, "x")


def test_a_commit_goes_through_the_push_path_and_names_every_other_editor(w):
    draft = drafts.open_draft(w.c, w.alice, "alice", "risk", "main", "prompts/system.md")
    with pytest.raises(InvalidInput):
        drafts.commit_draft(w.c, w.alice, "alice", "risk", draft.id, "nothing yet")
    _type(w, draft.id, "prompts/system.md", PROMPT + "Say so when unsure.\n", w.bob)
    _type(w, draft.id, "prompts/system.md", "# System\n" + PROMPT + "Say so when unsure.\n", w.alice)
    done = drafts.commit_draft(w.c, w.alice, "alice", "risk", draft.id, "Sharper system prompt")
    template = w.c.meta.templates.get("alice", "risk")
    with w.c.open_repo(template) as repo:
        commit = repo.object_store[done.sha.encode()]
        assert commit.message.decode() == "Sharper system prompt\n\nCo-authored-by: bob <bob@registry>\n"
        assert commit.author.decode().startswith("alice ")
        assert repo.doc.refs["refs/heads/main"] == done.sha
    after = w.c.meta.drafts.get(draft.id)
    assert after.base == after.last_commit == done.sha  # it goes on from its own commit
    _type(w, draft.id, "prompts/system.md", "# System prompt\n" + PROMPT + "Say so when unsure.\n", w.bob)
    proposed = drafts.commit_draft(w.c, w.bob, "alice", "risk", draft.id, "Heading",
                                   pull=PullSpec("A better heading"))
    assert proposed.pull is not None and proposed.branch == f"bob-draft-{draft.id}"
    follows = w.c.meta.drafts.get(draft.id)
    assert (follows.branch, follows.base, follows.pull_number) == (proposed.branch, proposed.sha, proposed.pull.number)
    assert _tip(w) == done.sha  # main is untouched by the proposal
    assert any(json.loads(n.data).get("state") == "committed" for n in w.heard if n.kind == "notice")


def test_the_branch_moving_underneath_is_merged_in_and_conflicts_keep_every_side(w):
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main", "prompts/system.md")
    drafts.connect(w.c, w.bob, "alice", "risk", draft.id, "template.json")
    _type(w, draft.id, "prompts/system.md", PROMPT.replace("You are careful.", "You are very careful."))
    _type(w, draft.id, "template.json", manifest(title="Draft title").decode())
    # upstream: another line of the prompt, and another key of the manifest
    _push(w, "prompts/system.md", PROMPT.replace("Cite sources.", "Cite primary sources.").encode())
    tip = _push(w, "template.json", manifest(description="Upstream description"))
    view = drafts.get_draft(w.c, w.bob, "alice", "risk", draft.id)  # (a lost rebase is done here)
    assert view.draft.base == tip and not view.conflicts and not view.behind
    assert view.draft.rebased["merged"] == ["prompts/system.md", "template.json"]
    texts = drafts.texts(w.c, view.draft)
    assert texts["prompts/system.md"] == "You are very careful.\nBe brief.\nCite primary sources.\n"
    merged = json.loads(texts["template.json"])
    assert (merged["title"], merged["description"]) == ("Draft title", "Upstream description")
    # a conflicting push: the same line changed apart
    _type(w, draft.id, "prompts/system.md", texts["prompts/system.md"].replace("Be brief.", "Be brief, please."))
    ours = drafts.text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md")
    clash = _push(w, "prompts/system.md", texts["prompts/system.md"].replace("Be brief.", "Be short.").encode())
    drafts_rebase.rebase(w.c, w.c.meta.templates.get("alice", "risk"), draft.id)
    view = drafts.get_draft(w.c, w.bob, "alice", "risk", draft.id)
    [conflict] = view.conflicts
    assert conflict.path == "prompts/system.md" and conflict.theirs_sha == clash and view.draft.base == clash
    assert conflict.ours.decode() == ours and "Be short." in conflict.theirs.decode()
    assert "Be brief." in conflict.base.decode()
    assert drafts.text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md") == ours  # untouched
    assert view.draft.rebased["conflicts"] == ["prompts/system.md"]
    with pytest.raises(DraftConflicted):
        drafts.commit_draft(w.c, w.bob, "alice", "risk", draft.id, "too soon")
    with pytest.raises(PermissionDenied):
        drafts.resolve_conflict(w.c, w.carol, "alice", "risk", draft.id, "prompts/system.md", "ours")
    drafts.resolve_conflict(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md", "ours")
    done = drafts.commit_draft(w.c, w.bob, "alice", "risk", draft.id, "Draft")
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        commit = repo.object_store[done.sha.encode()]
        assert [p.decode() for p in commit.parents] == [clash]  # on top of theirs, with the draft's text


def test_taking_theirs_settles_a_conflict_and_a_commit_racing_a_push_is_merged_first(w):
    draft = drafts.open_draft(w.c, w.bob, "alice", "risk", "main", "prompts/system.md")
    _type(w, draft.id, "prompts/system.md", "Mine.\n" + PROMPT)
    template = w.c.meta.templates.get("alice", "risk")
    _push(w, "README.md", b"# readme\n")  # no rebase ran (no listener here): the commit meets it
    done = drafts.commit_draft(w.c, w.bob, "alice", "risk", draft.id, "Mine")
    with w.c.open_repo(template) as repo:
        assert repo.doc.refs["refs/heads/main"] == done.sha
        assert browse.raw(repo, done.sha, "prompts/system.md") == ("Mine.\n" + PROMPT).encode()
    _type(w, draft.id, "prompts/system.md", "Mine, again.\n" + PROMPT)
    _push(w, "prompts/system.md", ("Theirs.\n" + PROMPT).encode())
    drafts_rebase.rebase(w.c, template, draft.id)
    assert [k.path for k in w.c.meta.drafts.conflicts(draft.id)] == ["prompts/system.md"]
    drafts.resolve_conflict(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md", "theirs")
    assert drafts.text(w.c, w.bob, "alice", "risk", draft.id, "prompts/system.md") == "Theirs.\n" + PROMPT
    assert w.c.meta.drafts.conflicts(draft.id) == []


def test_merge_text_merges_lines_and_refuses_clashes():
    base = "a\nb\nc\nd\n"
    assert drafts_rebase.merge_text(base, "A\nb\nc\nd\n", "a\nb\nc\nD\n") == "A\nb\nc\nD\n"
    assert drafts_rebase.merge_text(base, base, "x\n") == "x\n"
    assert drafts_rebase.merge_text(base, "y\n", base) == "y\n"
    assert drafts_rebase.merge_text(base, "a\nB\nc\nd\n", "a\nBB\nc\nd\n") is None
    assert drafts.with_trailers("Msg\n", "alice", ["bob", "alice", "carol"]) == (
        "Msg\n\nCo-authored-by: bob <bob@registry>\nCo-authored-by: carol <carol@registry>\n")
    assert drafts.with_trailers("Msg\n", "alice", ["alice"]) == "Msg\n"
