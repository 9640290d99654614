"""Token management on an in-process container: the caller's own tokens and operators' commands."""
from __future__ import annotations

import pytest

from registry import access
from registry.errors import InvalidInput, PermissionDenied, TokenNotFound, Unauthenticated
from registry.services import users
from tests.unit.usecases import World


@pytest.fixture
def w(tmp_path) -> World:
    return World.make(tmp_path)


def test_tokens_are_listed_without_the_secret_and_created_no_broader(w):
    token, record = users.create_my_token(w.c, w.bob, "read", 7)
    assert record.scope == "read" and record.expires_at and token.startswith("rgt_")
    listed = users.my_tokens(w.c, w.bob)
    assert [t.id for t in listed][-1] == record.id and all(token not in repr(t) for t in listed)
    assert users.authenticate(w.c, token).scope == "read"
    with pytest.raises(PermissionDenied):
        users.create_my_token(w.c, w.carol_ro, "write", None)  # a read token cannot mint a write one
    with pytest.raises(PermissionDenied):
        users.create_my_token(w.c, w.bob, "admin", None)
    with pytest.raises(InvalidInput):
        users.create_my_token(w.c, w.bob, "root", None)
    with pytest.raises(Unauthenticated):
        users.my_tokens(w.c, w.anon)


def test_revocation_is_for_the_owner_or_an_admin_and_takes_effect_at_once(w):
    token, record = users.create_my_token(w.c, w.bob, "write", None)
    with pytest.raises(TokenNotFound):  # someone else's token is not even confirmed to exist
        users.revoke_my_token(w.c, w.carol, record.id)
    users.revoke_my_token(w.c, w.bob, record.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        users.authenticate(w.c, token)
    other, record2 = users.create_my_token(w.c, w.carol, "write", None)
    users.revoke_my_token(w.c, w.admin, record2.id)
    with pytest.raises(Unauthenticated):
        users.authenticate(w.c, other)


def test_rotation_keeps_scope_and_lifetime_and_kills_the_old_token(w):
    old = users.create_token(w.c, "bob", "read", expires_days=2)
    record = w.c.meta.users.find_token(access.hash_token(old))[0]
    new = users.rotate_token(w.c, record.id)
    with pytest.raises(Unauthenticated):
        users.authenticate(w.c, old)
    fresh = w.c.meta.users.find_token(access.hash_token(new))[0]
    assert fresh.scope == "read" and abs(fresh.expires_at - record.expires_at) < 5
    with pytest.raises(InvalidInput):
        users.rotate_token(w.c, record.id)  # revoked already


def test_last_use_is_recorded_at_most_once_a_minute(w, monkeypatch):
    token = users.create_token(w.c, "bob")
    record = w.c.meta.users.find_token(access.hash_token(token))[0]
    assert record.last_used_at is None
    users.authenticate(w.c, token)
    first = w.c.meta.users.get_token(record.id).last_used_at
    assert first is not None
    users.authenticate(w.c, token)
    assert w.c.meta.users.get_token(record.id).last_used_at == first  # not written again within the minute
    assert [t.id for t in users.tokens_of(w.c, "bob")][-1] == record.id
