"""Template, user and push use cases on an in-process container: each happy path and refusal."""
from __future__ import annotations

from dataclasses import replace

import pytest

from registry import views
from registry.access import Level
from registry.container import Listeners
from registry.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidName,
    PermissionDenied,
    TemplateNotFound,
    Unauthenticated,
)
from registry.meta import Protection
from registry.services import push, templates, users
from tests.unit.usecases import World, manifest_files


@pytest.fixture
def w(tmp_path) -> World:
    return World.make(tmp_path)


def test_create_then_read_back_through_the_views(w):
    t = templates.create(w.c, w.alice, "risk", description="d")
    detail = views.template_detail(w.c, w.alice, "alice", "risk")
    assert detail.template == t and detail.head is None and detail.default_branch == "main"
    assert detail.level == Level.OWN and detail.parent is None
    sha = w.commit(t, manifest_files())
    assert views.template_detail(w.c, w.anon, "alice", "risk").head == sha
    assert [b["name"] for b in views.branches(w.c, w.anon, "alice", "risk")] == ["main"]
    assert b"Quarterly" in views.raw(w.c, w.anon, "alice", "risk", "main/template.json")


@pytest.mark.parametrize("who, owner, error", [
    ("anon", None, Unauthenticated), ("carol_ro", None, PermissionDenied), ("bob", "alice", PermissionDenied)])
def test_create_refusals(w, who, owner, error):
    with pytest.raises(error):
        templates.create(w.c, getattr(w, who), "x", owner=owner)


def test_create_checks_name_visibility_and_uniqueness(w):
    with pytest.raises(InvalidName):
        templates.create(w.c, w.alice, "../evil")
    with pytest.raises(InvalidInput):
        templates.create(w.c, w.alice, "x", visibility="secret")
    templates.create(w.c, w.alice, "x")
    with pytest.raises(AlreadyExists):
        templates.create(w.c, w.alice, "x")
    assert templates.create(w.c, w.admin, "y", owner="bob").owner == "bob"  # admins create for others


def test_private_templates_are_invisible_to_others(w):
    templates.create(w.c, w.alice, "secret", visibility="private")
    templates.create(w.c, w.alice, "open")
    for actor in (w.anon, w.bob):
        with pytest.raises(TemplateNotFound):
            views.template_detail(w.c, actor, "alice", "secret")
        names = [t.name for t in templates.list_visible(w.c, actor, "alice", 1, 30)[0]]
        assert names == ["open"]
    templates.set_collaborator(w.c, w.alice, "alice", "secret", "bob", "reader")
    assert views.template_detail(w.c, w.bob, "alice", "secret").level == Level.READ


def test_fork_shares_packs_and_announces_its_tips(w):
    heard = []
    w.c = replace(w.c, listeners=Listeners(push=(lambda t, updates: heard.append((t.full_name, [u.new for u in updates])),)))
    parent = templates.create(w.c, w.alice, "risk")
    sha = w.commit(parent, manifest_files())
    fork = templates.fork(w.c, w.bob, "alice", "risk")
    assert fork.owner == "bob" and fork.parent_id == parent.id
    assert views.template_detail(w.c, w.bob, "bob", "risk").parent.id == parent.id
    assert ("bob/risk", [sha]) in heard
    with w.c.open_repo(fork) as f, w.c.open_repo(parent) as p:
        assert f.doc.packs == p.doc.packs
    with pytest.raises(Unauthenticated):
        templates.fork(w.c, w.anon, "alice", "risk")


def test_delete_needs_the_owner_and_keeps_forks_readable(w):
    parent = templates.create(w.c, w.alice, "risk")
    w.commit(parent, manifest_files())
    templates.fork(w.c, w.bob, "alice", "risk")
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "carol", "maintainer")
    with pytest.raises(PermissionDenied):
        templates.delete(w.c, w.carol, "alice", "risk")
    templates.delete(w.c, w.alice, "alice", "risk")
    with pytest.raises(TemplateNotFound):
        views.template_detail(w.c, w.alice, "alice", "risk")
    assert b"Quarterly" in views.raw(w.c, w.bob, "bob", "risk", "main/template.json")


def test_collaborators_and_protection_need_their_levels(w):
    templates.create(w.c, w.alice, "risk")
    with pytest.raises(InvalidInput):
        templates.set_collaborator(w.c, w.alice, "alice", "risk", "bob", "owner")
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "bob", "maintainer")
    with pytest.raises(PermissionDenied):
        templates.set_collaborator(w.c, w.bob, "alice", "risk", "carol", "writer")  # owners only
    rule = Protection("main", False, False, ("validate",), 1)
    templates.set_protection(w.c, w.bob, "alice", "risk", rule)  # maintainers may
    assert w.c.meta.templates.get_protection(w.c.meta.templates.get("alice", "risk").id, "main") == rule
    with pytest.raises(PermissionDenied):
        templates.set_protection(w.c, w.carol, "alice", "risk", rule)
    templates.remove_collaborator(w.c, w.alice, "alice", "risk", "bob")
    with pytest.raises(PermissionDenied):
        templates.remove_protection(w.c, w.bob, "alice", "risk", "main")


def test_git_access_follows_levels(w):
    templates.create(w.c, w.alice, "risk", visibility="private")
    assert push.authorize(w.c, w.alice, "alice", "risk", "git-receive-pack").name == "risk"
    with pytest.raises(TemplateNotFound):
        push.authorize(w.c, w.bob, "alice", "risk", "git-upload-pack")
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "bob", "reader")
    push.authorize(w.c, w.bob, "alice", "risk", "git-upload-pack")
    with pytest.raises(PermissionDenied):
        push.authorize(w.c, w.bob, "alice", "risk", "git-receive-pack")
    with pytest.raises(InvalidName):
        push.authorize(w.c, w.alice, "alice", "risk", "git-upload-archive")


def test_tokens_scope_and_authentication(w):
    token = users.create_token(w.c, "bob", "read", expires_days=1)
    assert users.authenticate(w.c, token).scope == "read"
    with pytest.raises(Unauthenticated):
        users.authenticate(w.c, token + "x")
    with pytest.raises(InvalidInput):
        users.create_token(w.c, "bob", "root")


def test_import_folder_commits_and_announces(w, tmp_path):
    heard = []
    w.c = replace(w.c, listeners=Listeners(push=(lambda t, updates: heard.append(t.name),)))
    folder = tmp_path / "summarize_text"
    folder.mkdir()
    (folder / "system.md").write_text("# IDENTITY\nYou summarize text.\n")
    assert templates.import_candidates(tmp_path) == [folder]
    template, sha, _ = templates.import_folder(w.c, w.alice, folder)
    assert heard == [template.name] and views.template_detail(w.c, w.alice, "alice", template.name).head == sha


def test_maintainers_change_description_visibility_and_default_branch(w):
    from registry.errors import RefNotFound

    t = templates.create(w.c, w.alice, "risk")
    w.commit(t, manifest_files())
    w.commit(t, manifest_files(title="On dev"), branch="dev")
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "bob", "maintainer")
    templates.set_collaborator(w.c, w.alice, "alice", "risk", "carol", "writer")
    with pytest.raises(PermissionDenied):
        templates.update(w.c, w.carol, "alice", "risk", description="nope")
    changed = templates.update(w.c, w.bob, "alice", "risk", description="new words", default_branch="dev")
    assert changed.description == "new words"
    detail = views.template_detail(w.c, w.anon, "alice", "risk")
    assert detail.default_branch == "dev" and detail.manifest["title"] == "On dev"
    with pytest.raises(RefNotFound):
        templates.update(w.c, w.bob, "alice", "risk", default_branch="nowhere")
    with pytest.raises(InvalidInput):
        templates.update(w.c, w.bob, "alice", "risk", visibility="secret")
    templates.update(w.c, w.alice, "alice", "risk", visibility="private")
    with pytest.raises(TemplateNotFound):
        views.template_detail(w.c, w.anon, "alice", "risk")
