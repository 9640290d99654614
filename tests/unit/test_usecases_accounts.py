"""Account use cases on an in-process container (SQLite, a temp dir) and, where mail is sent, a
real SMTP server: joining under each signup mode, signing in, passwords, resets, invites,
address verification, sessions."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from registry.access import Actor
from registry.container import Container
from registry.errors import (
    AccountDisabled,
    AlreadyExists,
    InvalidField,
    InvalidInput,
    InvalidLink,
    InvalidName,
    PermissionDenied,
    SignupClosed,
    Unauthenticated,
    WrongCredentials,
)
from registry.meta import EventFilter
from registry.services import accounts, accounts_data, users
from registry.services import accounts_sessions as sessions
from registry.settings import Settings
from tests.mailbox import Mailbox, mailbox

PASSWORD = "violet-lantern-orbit-57"
OTHER = "copper-meadow-tundra-91"
BASE = "https://reg.example.com"


def container(tmp_path, **settings) -> Container:
    return Container.build(Settings(data_dir=tmp_path / "data", base_url=BASE, **settings))


@pytest.fixture
def c(tmp_path) -> Container:
    return container(tmp_path)


@pytest.fixture
def mail(tmp_path) -> Iterator[tuple[Container, Mailbox]]:
    with mailbox() as box:
        yield container(tmp_path, smtp_url=box.url, mail_from="registry@reg.example.com"), box


def _actions(c: Container, actor: str | None = None) -> list[str]:
    return [e.action for e in reversed(c.meta.events.page(EventFilter(actor=actor), 0, 100)[0])]


# -- joining -------------------------------------------------------------------------------------
def test_join_creates_an_account_that_signs_in_by_name_or_address(c):
    user = accounts.join(c, "alice", "Alice@Example.com", PASSWORD, display_name=" Alice ")
    assert user.name == "alice" and user.email == "alice@example.com"
    assert accounts.authenticate(c, "alice", PASSWORD) == user
    assert accounts.authenticate(c, "ALICE@example.com", PASSWORD) == user
    account = accounts.account_of(c, user)
    assert account.display_name == "Alice" and not account.email_verified  # no mail here: unverified
    assert _actions(c, "alice") == ["user.joined"]


def test_join_refuses_each_bad_field_by_name_before_hashing(c, monkeypatch):
    from registry.accounts import passwords

    monkeypatch.setattr(passwords, "hash_password", lambda p: (_ for _ in ()).throw(AssertionError("hashed")))
    cases = [(("admin", "a@example.com", PASSWORD), "username"), (("Bad Name", "a@example.com", PASSWORD), "username"),
             (("alice", "not-an-address", PASSWORD), "email"), (("alice", "a@example.com", "short"), "password"),
             (("alice", "alice@example.com", "alice@example.com1"), "password"),
             (("alice", "a@example.com", "x" * 1025), "password")]
    for args, field in cases:
        with pytest.raises((InvalidField, InvalidName)) as refused:
            accounts.join(c, *args)
        assert refused.value.details["field"] == field, args


def test_a_taken_username_or_address_is_named(c):
    accounts.join(c, "alice", "alice@example.com", PASSWORD)
    with pytest.raises(AlreadyExists) as taken:
        accounts.join(c, "alice", "other@example.com", PASSWORD)
    assert taken.value.details["field"] == "username"
    with pytest.raises(AlreadyExists) as taken:
        accounts.join(c, "bob", "ALICE@example.com", PASSWORD)
    assert taken.value.details["field"] == "email"


def test_closed_signup_refuses_everyone(tmp_path):
    c = container(tmp_path, signup="closed")
    with pytest.raises(SignupClosed):
        accounts.join(c, "alice", "alice@example.com", PASSWORD)


def test_invite_signup_needs_a_single_use_unexpired_invite(tmp_path):
    c = container(tmp_path, signup="invite")
    with pytest.raises(SignupClosed):
        accounts.join(c, "alice", "alice@example.com", PASSWORD)
    url = accounts.make_invite(c, None, "Alice@Example.com")
    assert url.startswith(f"{BASE}/join?invite=")
    token = url.split("invite=")[1]
    assert accounts.invite_email(c, token) == "alice@example.com"
    users.add_user(c, "taken")
    with pytest.raises(AlreadyExists):  # a refused join leaves the invite for another try
        accounts.join(c, "taken", "alice@example.com", PASSWORD, invite=token)
    user = accounts.join(c, "alice", "alice@example.com", PASSWORD, invite=token)
    assert user.name == "alice" and accounts.invite_email(c, token) is None
    with pytest.raises(InvalidLink):
        accounts.join(c, "bob", "bob@example.com", PASSWORD, invite=token)
    with pytest.raises(InvalidLink):
        accounts.join(c, "bob", "bob@example.com", PASSWORD, invite="x" * 300)


def test_an_invite_expires(tmp_path, monkeypatch):
    c = container(tmp_path, signup="invite")
    token = accounts.make_invite(c, None, "bob@example.com").split("invite=")[1]
    later = time.time() + 8 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert accounts.invite_email(c, token) is None
    with pytest.raises(InvalidLink):
        accounts.join(c, "bob", "bob@example.com", PASSWORD, invite=token)


def test_only_admins_invite_and_not_an_existing_address(c):
    users.add_user(c, "root", "root@example.com", is_admin=True)
    bob = users.add_user(c, "bob")
    with pytest.raises(PermissionDenied):
        accounts.make_invite(c, Actor(bob, "admin"), "x@example.com")
    root = c.meta.users.get("root")
    assert "/join?invite=" in accounts.make_invite(c, Actor(root, "admin"), "x@example.com")
    with pytest.raises(AlreadyExists):
        accounts.make_invite(c, Actor(root, "admin"), "ROOT@example.com")
    assert _actions(c, "root") == ["user.invited"]


def test_registry_user_add_follows_the_same_rules(c):
    with pytest.raises(InvalidName):
        users.add_user(c, "settings")
    with pytest.raises(InvalidField):
        users.add_user(c, "alice", "nope")
    alice = users.add_user(c, "alice", "Alice@Example.com")
    assert alice.email == "alice@example.com"
    with pytest.raises(AlreadyExists):
        users.add_user(c, "bob", "alice@example.com")
    with pytest.raises(WrongCredentials):  # no password until a reset link sets one
        accounts.authenticate(c, "alice", PASSWORD)


# -- signing in ---------------------------------------------------------------------------------
def test_unknown_users_and_wrong_passwords_get_the_same_error_in_about_the_same_time(c):
    accounts.join(c, "alice", "alice@example.com", PASSWORD)
    messages, times = {}, {"unknown": [], "wrong": []}
    for _ in range(5):
        for kind, login in (("unknown", "nobody"), ("wrong", "alice")):
            started = time.perf_counter()
            with pytest.raises(WrongCredentials) as refused:
                accounts.authenticate(c, login, OTHER)
            times[kind].append(time.perf_counter() - started)
            messages[kind] = (refused.value.code, refused.value.message)
    assert messages["unknown"] == messages["wrong"]
    median = {k: sorted(v)[2] for k, v in times.items()}
    assert 0.5 < median["unknown"] / median["wrong"] < 2.0, median


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop(c):
    accounts.join(c, "alice", "alice@example.com", PASSWORD)
    token = users.create_token(c, "alice")
    accounts_data.set_disabled(c, None, "alice", True)
    with pytest.raises(AccountDisabled):
        accounts.authenticate(c, "alice", PASSWORD)
    with pytest.raises(AccountDisabled):
        users.authenticate(c, token)
    with pytest.raises(WrongCredentials):  # the wrong password says nothing of the state
        accounts.authenticate(c, "alice", OTHER)
    accounts_data.set_disabled(c, None, "alice", False)
    assert users.authenticate(c, token).name == "alice"


def test_a_hash_made_with_older_parameters_is_remade_at_sign_in(c):
    from argon2 import PasswordHasher

    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    c.accounts.set_password(alice.id, old)
    accounts.authenticate(c, "alice", PASSWORD)
    remade = c.accounts.account(alice.id).password_hash
    assert remade != old and remade.startswith("$argon2id$v=19$m=65536")
    assert accounts.authenticate(c, "alice", PASSWORD) == alice


def test_sign_in_bounds_its_input(c):
    with pytest.raises(InvalidField):
        accounts.authenticate(c, "alice", "x" * 2000)
    with pytest.raises(WrongCredentials):
        accounts.authenticate(c, "a" * 5000, PASSWORD)


# -- passwords -----------------------------------------------------------------------------------
def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    here, who = sessions.start(c, alice, "password")
    there, _ = sessions.start(c, alice, "password")
    with pytest.raises(InvalidField) as refused:
        accounts.change_password(c, who, OTHER, "brand-new-phrase-13")
    assert refused.value.field == "current_password"
    with pytest.raises(InvalidField):
        accounts.change_password(c, who, PASSWORD, "alice12345")
    accounts.change_password(c, who, PASSWORD, OTHER)
    assert sessions.current(c, here) is not None and sessions.current(c, there) is None
    assert accounts.authenticate(c, "alice", OTHER) == alice
    with pytest.raises(WrongCredentials):
        accounts.authenticate(c, "alice", PASSWORD)
    assert "user.password_changed" in _actions(c, "alice")


def test_an_admin_reset_link_sets_a_new_password_once_and_ends_every_session(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    secret, _ = sessions.start(c, alice, "password")
    url = accounts.make_reset_link(c, None, "alice")
    assert url.startswith(f"{BASE}/login/reset?token=")
    token = url.split("token=")[1]
    with pytest.raises(InvalidField):  # a weak one is refused and the link still works
        accounts.reset_with_token(c, token, "password1")
    assert accounts.reset_with_token(c, token, OTHER) == alice
    assert accounts.authenticate(c, "alice", OTHER) == alice and sessions.current(c, secret) is None
    with pytest.raises(InvalidLink):
        accounts.reset_with_token(c, token, "another-strong-phrase-8")


def test_a_newer_reset_link_voids_the_older_and_links_expire(c, monkeypatch):
    accounts.join(c, "alice", "alice@example.com", PASSWORD)
    first = accounts.make_reset_link(c, None, "alice").split("token=")[1]
    second = accounts.make_reset_link(c, None, "alice").split("token=")[1]
    with pytest.raises(InvalidLink):
        accounts.reset_with_token(c, first, OTHER)
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidLink):
        accounts.reset_with_token(c, second, OTHER)


def test_reset_by_mail_sends_a_link_only_to_an_existing_account(mail):
    c, box = mail
    accounts.join(c, "alice", "alice@example.com", PASSWORD)
    accounts.request_reset(c, "nobody@example.com")  # says nothing, sends nothing
    accounts.request_reset(c, "alice")
    url = box.link("alice@example.com", "/login/reset?token=")
    assert url.startswith(BASE)
    alice = accounts.reset_with_token(c, url.split("token=")[1], OTHER)
    assert accounts.account_of(c, alice).email_verified  # the mail reached the address
    assert len([m for m in box.messages if "Reset" in m["Subject"]]) == 1


def test_reset_by_mail_without_smtp_says_ask_an_admin(c):
    with pytest.raises(InvalidInput, match="admin"):
        accounts.request_reset(c, "alice")


# -- addresses and profile ---------------------------------------------------------------------------
def test_joining_with_mail_sends_a_verification_link_that_works_once(mail):
    c, box = mail
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    url = box.link("alice@example.com", "/join/verify?token=")
    token = url.split("token=")[1]
    assert accounts.verify_email(c, token) == alice
    assert accounts.account_of(c, alice).email_verified
    with pytest.raises(InvalidLink):
        accounts.verify_email(c, token)


def test_a_changed_address_is_unverified_and_an_old_link_does_not_verify_it(mail):
    c, box = mail
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    old_link = box.link("alice@example.com", "/join/verify?token=").split("token=")[1]
    who = sessions.start(c, alice, "password")[1]
    account = accounts.update_profile(c, who, "Alice", "New@Example.com")
    assert account.user.email == "new@example.com" and not account.email_verified and account.display_name == "Alice"
    with pytest.raises(InvalidLink):
        accounts.verify_email(c, old_link)
    accounts.verify_email(c, box.link("new@example.com", "/join/verify?token=").split("token=")[1])
    assert accounts.account_of(c, alice).email_verified
    with pytest.raises(InvalidField):
        accounts.update_profile(c, who, "x" * 101, None)


# -- sessions -------------------------------------------------------------------------------------
def test_sessions_live_until_idle_or_too_old(tmp_path):
    c = container(tmp_path, session_idle_hours=1, session_max_days=1)
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    secret, signed_in = sessions.start(c, alice, "password", ip="10.0.0.1", user_agent="Firefox" * 100)
    assert signed_in.complete and signed_in.session.ip == "10.0.0.1" and len(signed_in.session.user_agent) == 300
    now = time.time()
    assert sessions.current(c, secret, now + 3000) is not None  # used: idle time starts again
    assert sessions.current(c, secret, now + 3000 + 3500) is not None
    assert sessions.current(c, secret, now + 3000 + 3500 + 3700) is None  # idle past the hour: ended
    secret, _ = sessions.start(c, alice, "password")
    for hours in range(1, 24):
        assert sessions.current(c, secret, now + hours * 3000) is not None
    assert sessions.current(c, secret, now + 86401) is None  # a day at most, however busy
    assert sessions.current(c, "unknown") is None and sessions.current(c, None) is None


def test_sessions_are_listed_ended_one_by_one_or_all_but_this_one(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    bob = accounts.join(c, "bob", "bob@example.com", PASSWORD)
    one, _ = sessions.start(c, alice, "password", user_agent="phone")
    two, _ = sessions.start(c, alice, "password", user_agent="laptop")
    three, _ = sessions.start(c, alice, "password")
    bobs, _ = sessions.start(c, bob, "password")
    assert len(sessions.my_sessions(c, alice)) == 3
    assert not sessions.end(c, bob, sessions.session_id_of(c, one))  # not bob's to end
    assert sessions.end(c, alice, sessions.session_id_of(c, one)) and sessions.current(c, one) is None
    assert sessions.end_others(c, alice, two) == 1
    assert sessions.current(c, two) is not None and sessions.current(c, three) is None
    assert sessions.current(c, bobs) is not None
    sessions.sign_out(c, two)
    assert sessions.current(c, two) is None and sessions.my_sessions(c, alice) == []


def test_rotation_gives_a_new_secret_and_the_old_one_stops(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    old, _ = sessions.start(c, alice, "password")
    new, signed_in = sessions.rotate(c, old)
    assert new != old and sessions.current(c, old) is None and sessions.current(c, new) is not None
    with pytest.raises(Unauthenticated):
        sessions.rotate(c, old)


def test_a_disabled_users_sessions_end_at_once(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    secret, _ = sessions.start(c, alice, "password")
    accounts_data.set_disabled(c, None, "alice", True)
    assert sessions.current(c, secret) is None
    accounts_data.set_disabled(c, None, "alice", False)
    assert sessions.current(c, secret) is None  # ended, not suspended


def test_require_2fa_asks_admins_or_everyone_to_enrol(tmp_path):
    c = container(tmp_path, require_2fa="admins")
    users.add_user(c, "root", "root@example.com", is_admin=True)
    bob = accounts.join(c, "bob", "bob@example.com", PASSWORD)
    root = c.meta.users.get("root")
    assert sessions.start(c, root, "password")[1].must_enrol
    assert sessions.start(c, bob, "password")[1].complete
    c = container(tmp_path, require_2fa="all")
    assert sessions.start(c, bob, "password")[1].must_enrol


def test_expired_sessions_links_and_ceremonies_are_pruned(c, monkeypatch):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    sessions.start(c, alice, "password")
    accounts.make_reset_link(c, None, "alice")
    later = time.time() + 30 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert accounts_data.prune(c) == 2
