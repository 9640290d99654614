"""A user's own data (export, deletion) and the admins' hold on accounts, on the in-process
World of tests/unit/usecases.py: deletion keeps the events with a stable pseudonym, deletes or
hands over each owned template as told, and removes the rest."""
from __future__ import annotations

import json

import pytest

from registry.accounts import passwords, tokens
from registry.errors import (
    AccountDisabled,
    InvalidField,
    NotFound,
    PermissionDenied,
    TemplateNotFound,
    UserNotFound,
)
from registry.meta import EventFilter
from registry.services import accounts, accounts_data, gallery, merging, pulls, templates, users
from registry.services import accounts_sessions as sessions
from registry.settings import secret_key
from tests.unit.usecases import World, manifest_files

PASSWORD = "violet-lantern-orbit-57"


def me(w: World, user) -> sessions.SignedIn:
    """A session of `user`, signed in fully."""
    return sessions.start(w.c, user, "password", second_factor=True)[1]


@pytest.fixture
def w(tmp_path) -> World:
    world = World.make(tmp_path)
    for actor in (world.alice, world.bob):
        world.c.accounts.set_password(actor.user.id, passwords.hash_password(PASSWORD))
    return world


def _alices_footprint(w: World):
    """Alice owns two templates, stars, rates and comments on bob's, opens a pull request on it."""
    c = w.c
    keep = templates.create(c, w.alice, "keep")
    gone = templates.create(c, w.alice, "gone", visibility="private")
    bobs = templates.create(c, w.bob, "shared")
    w.commit(bobs, manifest_files())
    w.commit(keep, manifest_files())
    gallery.star(c, w.alice, "bob", "shared", True)
    gallery.rate(c, w.alice, "bob", "shared", 5, "lovely")
    templates.set_collaborator(c, w.bob, "bob", "shared", "alice", "writer")
    w.commit(bobs, manifest_files(title="Alice's change"), branch="feature")
    pulls.open_pull(c, w.alice, "bob", "shared", "Change the title", "please", "feature", "main")
    merging.comment(c, w.alice, "bob", "shared", 1, "one more thing")
    return keep, gone, bobs


def test_the_export_holds_everything_about_the_caller(w):
    keep, gone, _ = _alices_footprint(w)
    accounts.update_profile(w.c, me(w, w.alice.user), "Alice A.", "alice@example.com")
    sessions.start(w.c, w.alice.user, "password", ip="10.0.0.7", user_agent="Firefox")
    data = accounts_data.export_user_data(w.c, w.alice.user, "https://reg.example.com")
    json.dumps(data)  # JSON-ready as it is
    assert data["profile"]["username"] == "alice" and data["profile"]["display_name"] == "Alice A."
    assert data["profile"]["email"] == "alice@example.com" and data["profile"]["has_password"]
    assert data["profile"]["created_at"].endswith("Z")
    assert {t["name"]: t["clone_url"] for t in data["templates"]} == {
        "alice/gone": "https://reg.example.com/alice/gone.git", "alice/keep": "https://reg.example.com/alice/keep.git"}
    assert [s["template"] for s in data["stars"]] == ["bob/shared"]
    assert data["ratings"][0]["score"] == 5 and data["ratings"][0]["review"] == "lovely"
    assert data["pull_requests"][0]["title"] == "Change the title"
    assert [c["body"] for c in data["comments"]] == ["one more thing"]
    assert data["collaborations"] == [{"template": "bob/shared", "role": "writer"}]
    assert data["sessions"][0]["ip"] == "10.0.0.7" and data["sessions"][0]["user_agent"] == "Firefox"
    assert [t["scope"] for t in data["tokens"]] == ["write"]
    actions = {e["action"] for e in data["events"]}
    assert {"template.created", "star.created", "rating.created", "pull_request.opened", "comment.created",
            "user.signed_in"} <= actions
    assert all(e["time"].endswith("Z") for e in data["events"])
    assert "bob" not in {e.get("actor") for e in data["events"]}
    bobs = accounts_data.export_user_data(w.c, w.bob.user)
    assert bobs["stars"] == [] and {t["name"] for t in bobs["templates"]} == {"bob/shared"}


def test_deleting_an_account_needs_proof_and_a_word_on_each_template(w):
    keep, gone, _ = _alices_footprint(w)
    plan = {"alice/keep": "bob", "alice/gone": None}
    with pytest.raises(InvalidField) as refused:
        accounts_data.delete_account(w.c, me(w, w.alice.user), "wrong password!", plan)
    assert refused.value.field == "proof"
    with pytest.raises(InvalidField) as refused:
        accounts_data.delete_account(w.c, me(w, w.alice.user), PASSWORD, {"alice/keep": "bob"})
    assert refused.value.field == "templates" and "alice/gone" in refused.value.reason
    with pytest.raises(InvalidField):
        accounts_data.delete_account(w.c, me(w, w.alice.user), PASSWORD, {**plan, "bob/shared": None})
    with pytest.raises(InvalidField):
        accounts_data.delete_account(w.c, me(w, w.alice.user), PASSWORD, {**plan, "alice/keep": "nobody"})
    assert w.c.meta.users.get("alice")  # nothing happened


def test_deletion_hands_over_or_deletes_templates_and_keeps_events_with_a_pseudonym(w):
    c = w.c
    keep, gone, bobs = _alices_footprint(w)
    before = c.meta.events.page(EventFilter(actor="alice"), 0, 1000)[1]
    secret, _ = sessions.start(c, w.alice.user, "password")
    created_at = c.accounts.account(w.alice.user.id).created_at
    name = accounts_data.delete_account(c, me(w, w.alice.user), PASSWORD, {"alice/keep": "bob", "alice/gone": None})
    assert name == tokens.pseudonym(secret_key(c.settings), w.alice.user.id, created_at)  # stable: from the account
    with pytest.raises(UserNotFound):
        c.meta.users.get("alice")
    assert c.meta.templates.get("bob", "keep").id == keep.id  # handed over, same repository
    with pytest.raises(TemplateNotFound):
        c.meta.templates.get("alice", "gone")
    assert c.meta.activity.social(bobs.id)[0] == 0  # the star went with the account
    assert sessions.current(c, secret) is None
    assert c.meta.events.page(EventFilter(actor="alice"), 0, 10)[1] == 0
    kept = c.meta.events.page(EventFilter(actor=name), 0, 1000)[0]
    assert len(kept) >= before and all(e.client_ip is None for e in kept)
    assert {"star.created", "pull_request.opened", "template.transferred", "user.deleted"} <= {e.action for e in kept}
    assert all("alice" not in json.dumps(e.payload) for e in kept)
    assert c.meta.pulls.get(bobs.id, 1).author == name
    assert all(cm["author"] == name for cm in c.meta.pulls.comments(bobs.id, 1))
    data = accounts_data.export_user_data(c, c.meta.users.get("bob"))
    assert {t["name"] for t in data["templates"]} == {"bob/keep", "bob/shared"}


def test_the_name_is_free_again_after_deletion_and_the_pseudonym_differs(w):
    first = accounts_data.delete_account(w.c, me(w, w.carol.user), None, {}, reauthenticated=True)
    carol = accounts.join(w.c, "carol", "carol@example.com", PASSWORD)
    w.c.accounts.set_password(carol.id, passwords.hash_password(PASSWORD))
    assert accounts_data.delete_account(w.c, me(w, carol), PASSWORD, {}) != first


def test_reauthentication_stands_in_for_proof_only_without_a_password_or_factor(w):
    with pytest.raises(InvalidField):
        accounts_data.delete_account(w.c, me(w, w.alice.user), None, {}, reauthenticated=True)  # alice has a password
    assert accounts_data.delete_account(w.c, me(w, w.carol.user), None, {}, reauthenticated=True).startswith("deleted:")


# -- admins -------------------------------------------------------------------------------------------------
def test_admins_list_disable_enable_and_promote_users(w):
    c = w.c
    items, total = accounts_data.list_users(c, w.admin, "ca", 1, 10)
    assert total == 1 and items[0].name == "carol"
    with pytest.raises(PermissionDenied):
        accounts_data.list_users(c, w.alice, None, 1, 10)
    with pytest.raises(PermissionDenied):
        accounts_data.set_disabled(c, w.alice, "bob", True)
    token = users.create_token(c, "bob")
    accounts_data.set_disabled(c, w.admin, "bob", True)
    with pytest.raises(AccountDisabled):
        users.authenticate(c, token)
    with pytest.raises(PermissionDenied):
        accounts_data.set_disabled(c, w.admin, "root", True)  # not oneself
    accounts_data.set_disabled(c, w.admin, "bob", False)
    assert users.authenticate(c, token).name == "bob"
    assert accounts_data.set_admin(c, w.admin, "carol", True).is_admin
    with pytest.raises(PermissionDenied):
        accounts_data.set_admin(c, w.admin, "root", False)
    actions = [e.action for e in c.meta.events.page(EventFilter(actor="root"), 0, 10)[0]]
    assert actions == ["user.admin_granted", "user.enabled", "user.disabled"]
    with pytest.raises(NotFound):
        accounts_data.set_disabled(c, w.admin, "nobody", True)
