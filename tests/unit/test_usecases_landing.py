"""What follows a write of refs is recorded once even when the database fails right after the refs
moved (issue 27, found by `make soak-cluster`: a push accepted without its push event and checks,
a pull request merged into main but left open, when PostgreSQL restarted at that moment)."""
from __future__ import annotations

import time

import pytest

from registry.errors import StorageError, Unavailable
from registry.git.policy import RefUpdate
from registry.meta import EventFilter
from registry.services import contents, landing, merging, pulls, templates
from tests.unit.test_usecases_pulls import _branch
from tests.unit.usecases import World, manifest_files

LATER = landing.GRACE + 1  # past the grace a write's own request has to settle it


@pytest.fixture
def w(tmp_path) -> World:
    world = World.make(tmp_path)
    world.commit(templates.create(world.c, world.alice, "risk"), manifest_files())
    return world


def _down(*args, **kwargs):
    raise Unavailable("the database is unavailable; try again shortly")


def _events(w: World, action: str) -> list[dict]:
    t = w.c.meta.templates.get("alice", "risk")
    return [e.payload for e in w.c.meta.events.page(EventFilter(template_id=t.id, action=action), 0, 100)[0]]


def _main(w: World) -> str:
    with w.c.open_repo(w.c.meta.templates.get("alice", "risk")) as repo:
        return repo.ref_value("refs/heads/main")


def test_a_push_whose_database_fails_after_its_refs_moved_gets_its_event_once_from_the_journal(w, monkeypatch):
    before = len(_events(w, "push"))
    monkeypatch.setattr(w.c.meta.writes, "record", _down)  # the database goes away just after the CAS
    done = contents.put_file(w.c, w.alice, "alice", "risk", "README.md", b"# risk\n", "readme")
    assert _main(w) == done.sha  # landed, and answered as landed
    assert len(_events(w, "push")) == before  # nothing recorded yet
    monkeypatch.undo()
    assert landing.catch_up(w.c, time.time() + 1) == 0  # within the grace its own request has
    assert landing.catch_up(w.c, time.time() + LATER) == 1
    pushed = [e for e in _events(w, "push") if e["after"] == done.sha]
    assert len(pushed) == 1 and pushed[0]["ref"] == "refs/heads/main"
    assert landing.catch_up(w.c, time.time() + LATER) == 0  # forgotten once done: never twice
    assert len([e for e in _events(w, "push") if e["after"] == done.sha]) == 1


def test_a_push_the_database_cannot_journal_is_refused_with_nothing_stored(w, monkeypatch):
    tip = _main(w)
    monkeypatch.setattr(w.c.meta.writes, "add", _down)
    with pytest.raises(StorageError) as refused:
        contents.put_file(w.c, w.alice, "alice", "risk", "README.md", b"# risk\n", "readme")
    assert "unavailable" in refused.value.message
    assert _main(w) == tip


def test_a_merge_whose_database_fails_after_main_moved_answers_merged_and_is_recorded_once(w, monkeypatch):
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "bob", "writer")
    _branch(w, title="Better title")
    pull = pulls.open_pull(w.c, w.bob, "alice", "risk", "Better title", "", "feature", "main")
    monkeypatch.setattr(w.c.meta.writes, "record", _down)
    sha = merging.merge(w.c, w.alice, "alice", "risk", pull.number, "squash", pull.head_sha)  # not a 503: it merged
    assert _main(w) == sha
    assert w.c.meta.pulls.get(pull.template_id, pull.number).state == "open"  # recorded later
    monkeypatch.undo()
    assert landing.catch_up(w.c, time.time() + LATER) == 1
    merged = w.c.meta.pulls.get(pull.template_id, pull.number)
    assert merged.state == "merged" and merged.merged_sha == sha
    assert [e["number"] for e in _events(w, "pull_request.merged")] == [pull.number]
    assert len([e for e in _events(w, "push") if e["after"] == sha]) == 1
    landing.catch_up(w.c, time.time() + LATER)
    assert len(_events(w, "pull_request.merged")) == 1


def test_a_journalled_write_that_never_landed_is_forgotten_without_a_trace(w):
    t = w.c.meta.templates.get("alice", "risk")
    write_id = landing.journal(w.c, t, "push", "alice", [RefUpdate("refs/heads/main", _main(w), "b" * 40)])
    pushes = len(_events(w, "push"))
    assert landing.catch_up(w.c, time.time() + LATER) == 0  # not in the refs document: not yet known
    assert [x.id for x in w.c.meta.writes.owed(time.time() + LATER)] == [write_id]
    landing.catch_up(w.c, time.time() + landing.GIVE_UP + 1)
    assert w.c.meta.writes.owed(time.time() + landing.GIVE_UP + 1) == [] and len(_events(w, "push")) == pushes
