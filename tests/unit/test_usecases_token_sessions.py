"""Sessions begun with an API token (the /login token form): the token's scope and no more, a
second factor still asked where enrolled, and the session ends with the token."""
from __future__ import annotations

import time

import pytest

from registry.accounts import totp
from registry.errors import AccountDisabled, Unauthenticated
from registry.services import accounts_data, accounts_factors, users
from registry.services import accounts_sessions as sessions
from tests.unit.test_usecases_accounts import container


@pytest.fixture
def c(tmp_path):
    c = container(tmp_path)
    users.add_user(c, "alice", "alice@example.com")
    users.add_user(c, "bob")
    users.add_user(c, "root", is_admin=True)
    return c


def test_a_token_session_acts_with_the_tokens_scope(c):
    read = users.create_token(c, "alice", "read")
    secret, signed_in = sessions.start_with_token(c, "alice", read, ip="10.0.0.9")
    assert signed_in.complete and signed_in.scope == "read" and signed_in.session.token_id is not None
    assert sessions.current(c, secret).scope == "read"
    rotated, again = sessions.rotate(c, secret)
    assert again.scope == "read" and sessions.current(c, rotated).scope == "read"
    _, by_address = sessions.start_with_token(c, " Alice@Example.com ", users.create_token(c, "alice", "write"))
    assert by_address.scope == "write"
    _, root = sessions.start_with_token(c, "root", users.create_token(c, "root", "write"))
    assert root.scope == "write"  # an admin's write token makes no admin session


def test_other_sessions_act_with_the_users_rights(c):
    assert sessions.start(c, c.meta.users.get("alice"), "password")[1].scope == "write"
    assert sessions.start(c, c.meta.users.get("root"), "password")[1].scope == "admin"


def test_a_token_signs_in_only_its_own_user(c):
    token = users.create_token(c, "alice")
    with pytest.raises(Unauthenticated, match="does not belong"):
        sessions.start_with_token(c, "bob", token)
    with pytest.raises(Unauthenticated, match="invalid token"):
        sessions.start_with_token(c, "alice", "rgt_nothing")
    with pytest.raises(Unauthenticated):
        sessions.start_with_token(c, "alice", "x" * 5000)
    with pytest.raises(Unauthenticated, match="does not belong"):
        sessions.start_with_token(c, "", token)


def test_the_session_ends_when_its_token_is_revoked_or_expires(c, monkeypatch):
    token = users.create_token(c, "alice")
    secret, signed_in = sessions.start_with_token(c, "alice", token)
    other, _ = sessions.start_with_token(c, "alice", users.create_token(c, "alice"))
    users.revoke_token(c, signed_in.session.token_id)
    assert sessions.current(c, secret) is None
    assert sessions.current(c, other) is not None  # only the session of that token
    short = users.create_token(c, "alice", expires_days=1)
    secret, _ = sessions.start_with_token(c, "alice", short)
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert sessions.current(c, secret, later) is None


def test_a_disabled_user_signs_in_with_no_token(c):
    token = users.create_token(c, "alice")
    accounts_data.set_disabled(c, None, "alice", True)
    with pytest.raises(AccountDisabled):
        sessions.start_with_token(c, "alice", token)


def test_a_token_is_a_first_factor_only(c):
    secret, signed_in = sessions.start(c, c.meta.users.get("alice"), "password")
    handle, enrolment = accounts_factors.begin_totp(c, signed_in)
    accounts_factors.confirm_totp(c, signed_in, handle, totp.code_at(enrolment.secret, time.time()))
    _, by_token = sessions.start_with_token(c, "alice", users.create_token(c, "alice"))
    assert by_token.needs_second_factor and not by_token.complete
