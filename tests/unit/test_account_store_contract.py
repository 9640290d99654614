"""One contract for every AccountRepository: SQLite here, PostgreSQL in
tests/integration/test_account_store_postgres.py (the same tests, another `store` fixture).

Each test says what the account use cases rely on: unique names and addresses, single use of
links, recovery codes, challenges and TOTP steps decided by the database, sign counts moved by
compare-and-swap, sessions ended per user, writes joining the MetaStore's transaction, and an
erasure that keeps the record with a pseudonym.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from registry.accounts.store import AccountRepository
from registry.errors import AlreadyExists, Conflict, UserNotFound
from registry.meta import Event, EventFilter, MetaStore, Template
from registry.meta.db import open_store
from registry.settings import Settings

NOW = 1_000_000.0


@dataclass
class Stores:
    meta: MetaStore
    accounts: AccountRepository


@pytest.fixture
def stores(tmp_path) -> Stores:
    meta = open_store(Settings(data_dir=tmp_path))
    return Stores(meta, meta.accounts)


def test_accounts_are_unique_by_name_and_email_and_found_by_either(stores):
    repo = stores.accounts
    alice = repo.create_account("alice", "alice@example.com", "h1", display_name="Alice")
    assert alice.name == "alice" and alice.password_hash == "h1" and not alice.email_verified
    assert alice.display_name == "Alice" and alice.created_at > 0 and not alice.disabled
    assert repo.account_by_login("alice") == alice == repo.account_by_login("ALICE@example.com ")
    assert repo.account_by_login("bob") is None and repo.account_by_login("bob@example.com") is None
    assert stores.meta.users.get("alice") == alice.user  # the same users table
    with pytest.raises(AlreadyExists) as taken:
        repo.create_account("alice", "other@example.com", None)
    assert taken.value.details["field"] == "username"
    with pytest.raises(AlreadyExists) as taken:
        repo.create_account("alice2", "alice@example.com", None)
    assert taken.value.details["field"] == "email"
    bob = repo.create_account("bob", None, None)
    carol = repo.create_account("carol", None, None)  # any number of accounts without an address
    with pytest.raises(AlreadyExists):
        repo.set_email(bob.id, "alice@example.com", True)
    repo.set_email(carol.id, "carol@example.com", False)
    assert repo.account(carol.id).user.email == "carol@example.com"
    with pytest.raises(UserNotFound):
        repo.account(carol.id + 100)
    with pytest.raises(UserNotFound):
        repo.account_by_name("nobody")


def test_an_address_is_verified_only_while_it_is_the_accounts(stores):
    repo = stores.accounts
    alice = repo.create_account("alice", "old@example.com", None)
    repo.set_email(alice.id, "new@example.com", False)
    assert not repo.mark_email_verified(alice.id, "old@example.com")  # a link to the old address
    assert not repo.account(alice.id).email_verified
    assert repo.mark_email_verified(alice.id, "new@example.com")
    assert repo.account(alice.id).email_verified


def test_flags_password_profile_and_admin(stores):
    repo = stores.accounts
    alice = repo.create_account("alice", None, None)
    repo.set_password(alice.id, "argon")
    repo.set_profile(alice.id, "Alice A.")
    repo.set_disabled(alice.id, True)
    repo.set_admin(alice.id, True)
    got = repo.account(alice.id)
    assert (got.password_hash, got.display_name, got.disabled, got.user.is_admin) == ("argon", "Alice A.", True, True)
    assert stores.meta.users.get("alice").disabled  # the MetaStore's users see it too
    with pytest.raises(UserNotFound):
        repo.set_disabled(alice.id + 100, True)


def test_list_accounts_searches_names_and_addresses_with_totals(stores):
    repo = stores.accounts
    for name in ("alice", "alina", "bob"):
        repo.create_account(name, f"{name}@example.com", None)
    repo.create_account("carol", "carol@alimail.example", None)
    items, total = repo.list_accounts("ali", 0, 2)
    assert total == 3 and [a.name for a in items] == ["alice", "alina"]
    items, total = repo.list_accounts("ali", 2, 2)
    assert [a.name for a in items] == ["carol"]
    assert repo.list_accounts(None, 0, 10)[1] == 4
    assert repo.list_accounts("100%_", 0, 10)[1] == 0  # LIKE's wildcards are plain characters


def test_a_totp_step_is_accepted_once_and_never_an_earlier_one(stores):
    repo = stores.accounts
    alice = repo.create_account("alice", None, None)
    assert not repo.advance_totp_step(alice.id, 5)  # not enrolled
    repo.set_totp(alice.id, "SECRET")
    assert repo.advance_totp_step(alice.id, 5)
    assert not repo.advance_totp_step(alice.id, 5)  # replayed
    assert not repo.advance_totp_step(alice.id, 4)  # an older code
    assert repo.advance_totp_step(alice.id, 6)
    assert repo.account(alice.id).totp_last_step == 6
    repo.set_totp(alice.id, "NEW")  # re-enrolled: a new secret starts afresh
    assert repo.account(alice.id).totp_last_step is None and repo.advance_totp_step(alice.id, 1)


def test_recovery_codes_are_single_use_and_replaced_whole(stores):
    repo = stores.accounts
    alice, bob = repo.create_account("alice", None, None), repo.create_account("bob", None, None)
    repo.replace_recovery_codes(alice.id, ["c1", "c2"])
    assert repo.recovery_codes_left(alice.id) == 2
    assert not repo.use_recovery_code(bob.id, "c1", NOW)  # not bob's
    assert repo.use_recovery_code(alice.id, "c1", NOW)
    assert not repo.use_recovery_code(alice.id, "c1", NOW)
    assert repo.recovery_codes_left(alice.id) == 1
    repo.replace_recovery_codes(alice.id, ["c3"])
    assert not repo.use_recovery_code(alice.id, "c2", NOW)  # the old set is gone
    assert repo.recovery_codes_left(alice.id) == 1


def test_passkeys_are_unique_found_by_credential_and_counted_by_compare_and_swap(stores):
    repo = stores.accounts
    alice, bob = repo.create_account("alice", None, None), repo.create_account("bob", None, None)
    key = repo.add_passkey(alice.id, "cred1", "pk", 0, "handle", "laptop", ["usb", "internal"])
    assert key.transports == ("usb", "internal") and key.name == "laptop" and key.last_used_at is None
    with pytest.raises(AlreadyExists):
        repo.add_passkey(bob.id, "cred1", "pk", 0, "h2", "stolen", [])
    assert repo.passkey_by_credential("cred1") == key and repo.passkey_by_credential("nope") is None
    assert repo.use_passkey(key.id, 0, 3, NOW)
    assert not repo.use_passkey(key.id, 0, 4, NOW)  # another use moved it first
    assert repo.passkey_by_credential("cred1").sign_count == 3
    assert [k.id for k in repo.passkeys(alice.id)] == [key.id] and repo.passkeys(bob.id) == []
    assert not repo.remove_passkey(bob.id, key.id)  # only its owner's
    assert repo.remove_passkey(alice.id, key.id) and repo.passkeys(alice.id) == []


def test_identities_link_once(stores):
    repo = stores.accounts
    alice, bob = repo.create_account("alice", None, None), repo.create_account("bob", None, None)
    repo.link_identity(alice.id, "https://idp", "sub1", "a@idp")
    with pytest.raises(AlreadyExists):
        repo.link_identity(bob.id, "https://idp", "sub1", None)
    repo.link_identity(bob.id, "https://other", "sub1", None)  # subjects are per issuer
    found = repo.identity("https://idp", "sub1")
    assert found is not None and found.user_id == alice.id and found.email == "a@idp"
    repo.touch_identity("https://idp", "sub1", NOW)
    assert repo.identities(alice.id)[0].last_used_at == NOW and repo.identity("https://idp", "x") is None


def test_links_are_single_use_expire_and_keep_their_kind(stores):
    repo = stores.accounts
    alice = repo.create_account("alice", None, None)
    repo.add_link("reset", "h1", alice.id, None, None, NOW + 60)
    repo.add_link("invite", "h2", None, "new@example.com", alice.id, NOW + 60)
    assert repo.peek_link("reset", "h1", NOW) is not None
    assert repo.take_link("invite", "h1", NOW) is None  # a reset token is no invite
    taken = repo.take_link("reset", "h1", NOW)
    assert taken is not None and taken.user_id == alice.id
    assert repo.take_link("reset", "h1", NOW) is None and repo.peek_link("reset", "h1", NOW) is None
    assert repo.take_link("invite", "h2", NOW + 61) is None  # expired
    invite = repo.peek_link("invite", "h2", NOW)
    assert invite is not None and invite.email == "new@example.com" and invite.created_by == alice.id
    repo.add_link("reset", "h3", alice.id, None, None, NOW + 60)
    assert repo.drop_links(alice.id, "reset") == 2 and repo.take_link("reset", "h3", NOW) is None


def test_sessions_rotate_end_per_user_and_are_pruned(stores):
    repo = stores.accounts
    alice, bob = repo.create_account("alice", None, None), repo.create_account("bob", None, None)
    s1 = repo.add_session("t1", alice.id, "10.0.0.1", "Firefox", False, NOW, NOW + 100, NOW + 1000)
    s2 = repo.add_session("t2", alice.id, None, None, True, NOW, NOW + 100, NOW + 1000)
    s3 = repo.add_session("t3", bob.id, None, None, False, NOW, NOW + 100, NOW + 1000)
    assert repo.find_session("t1") == s1 and s1.ip == "10.0.0.1" and s1.alive(NOW) and not s1.alive(NOW + 100)
    repo.touch_session(s1.id, NOW + 50, NOW + 150)
    assert repo.find_session("t1").idle_until == NOW + 150
    assert repo.rotate_session(s1.id, "t1b", True)
    assert repo.find_session("t1") is None and repo.find_session("t1b").second_factor
    assert not repo.end_session(bob.id, s2.id)  # not bob's to end
    assert repo.end_sessions(alice.id, keep=s1.id) == 1
    assert [s.id for s in repo.sessions(alice.id)] == [s1.id]
    assert repo.end_session(alice.id, s1.id) and repo.sessions(alice.id) == []
    assert repo.prune(NOW + 101) == 1 and repo.find_session("t3") is None and s3.id


def test_challenges_are_taken_once_only_with_their_kind_and_before_expiry(stores):
    repo = stores.accounts
    repo.put_challenge("c1", "oidc", None, {"nonce": "n"}, NOW + 60)
    taken = repo.take_challenge("c1", "oidc", NOW)
    assert taken is not None and taken.data == {"nonce": "n"} and taken.user_id is None
    assert repo.take_challenge("c1", "oidc", NOW) is None
    repo.put_challenge("c2", "webauthn", None, {}, NOW + 60)
    assert repo.take_challenge("c2", "oidc", NOW) is None  # the wrong kind uses it up
    assert repo.take_challenge("c2", "webauthn", NOW) is None
    repo.put_challenge("c3", "oidc", None, {}, NOW + 60)
    assert repo.take_challenge("c3", "oidc", NOW + 60) is None  # expired
    repo.put_challenge("c4", "oidc", None, {}, NOW + 60)
    assert repo.prune(NOW + 61) == 1 and repo.take_challenge("c4", "oidc", NOW) is None


def test_writes_join_the_metastores_transaction(stores):
    alice = stores.accounts.create_account("alice", None, None)
    with pytest.raises(RuntimeError), stores.meta.atomic():
        stores.accounts.set_password(alice.id, "new")
        stores.meta.events.add(Event("user.password_changed", "alice"))
        raise RuntimeError("the use case failed after both writes")
    assert stores.accounts.account(alice.id).password_hash is None
    assert stores.meta.events.page(EventFilter(actor="alice"), 0, 10)[1] == 0


def _template(meta: MetaStore, owner: str, name: str) -> Template:
    return meta.templates.add(Template(f"{owner}-{name}", owner, name, "public", "d", None, 1.0, 1.0))


def test_activity_lists_what_a_user_did(stores):
    meta, repo = stores.meta, stores.accounts
    alice, bob = repo.create_account("alice", None, None), repo.create_account("bob", None, None)
    t = _template(meta, "bob", "t")
    meta.activity.set_star(t.id, alice.id, True)
    meta.templates.set_collaborator(t.id, alice.id, "writer")
    meta.activity.rate(t.id, alice.id, 4, "good")
    meta.pulls.add(t.id, "title", "body", "alice", t.id, "feature", "main", "a" * 40)
    meta.pulls.add_review(t.id, 1, "alice", "COMMENT", "looks fine", "a" * 40, [])
    meta.pulls.add_comment(t.id, 1, "alice", "a remark", "x.md", 3, "RIGHT", "a" * 40)
    meta.pulls.add_comment(t.id, 1, "bob", "not alice's", None, None, None, "a" * 40)
    got = repo.activity(alice.id, "alice")
    assert [s["template"] for s in got.stars] == ["bob/t"]
    assert got.ratings[0]["score"] == 4 and got.ratings[0]["review"] == "good"
    assert got.pulls[0]["title"] == "title" and got.reviews[0]["body"] == "looks fine"
    assert [(c["body"], c["path"], c["line"]) for c in got.comments] == [("a remark", "x.md", 3)]  # not bob's
    assert got.collaborations == [{"template": "bob/t", "role": "writer"}]
    assert repo.activity(bob.id, "bob").stars == []


def test_transfer_moves_the_template_and_refuses_a_name_taken(stores):
    meta, repo = stores.meta, stores.accounts
    repo.create_account("alice", None, None)
    bob = repo.create_account("bob", None, None)
    t = _template(meta, "alice", "t")
    _template(meta, "bob", "taken")
    _template(meta, "alice", "taken")
    meta.templates.set_collaborator(t.id, bob.id, "writer")
    repo.transfer_template(t.id, "bob")
    assert meta.templates.get("bob", "t").id == t.id and meta.templates.collaborator_role(t.id, bob.id) is None
    with pytest.raises(AlreadyExists):
        repo.transfer_template("alice-taken", "bob")
    assert meta.templates.get("alice", "taken").owner == "alice"


def test_erasure_keeps_events_with_a_pseudonym_and_removes_the_rest(stores):
    meta, repo = stores.meta, stores.accounts
    alice, bob = repo.create_account("alice", "a@example.com", None), repo.create_account("bob", None, None)
    t = _template(meta, "bob", "t")
    mine = _template(meta, "alice", "mine")
    meta.activity.set_star(t.id, alice.id, True)
    meta.users.add_token(alice.id, "tokhash", "write", None)
    repo.add_session("s", alice.id, None, None, False, NOW, NOW + 1, NOW + 2)
    meta.pulls.add(t.id, "title", "body", "alice", t.id, "feature", "main", "a" * 40)
    meta.events.add(Event("star.created", "alice", t.id, "bob/t", {"sender": "alice"}, client_ip="10.1.1.1"))
    meta.events.add(Event("template.created", "alice", mine.id, "alice/mine", {"forkee": "alice/mine"}))
    meta.events.add(Event("collaborator.added", "bob", t.id, "bob/t", {"user": "alice", "role": "writer"},
                         client_ip="10.2.2.2"))
    meta.events.add(Event("push", "alicea", t.id, "bob/t", {"user": "alicea"}))  # a name that merely starts alike
    with pytest.raises(Conflict):
        repo.erase_user(alice.id, "alice", "deleted:x")  # still owns a template
    meta.templates.delete(mine.id)
    repo.erase_user(alice.id, "alice", "deleted:x")
    with pytest.raises(UserNotFound):
        meta.users.get("alice")
    assert meta.users.find_token("tokhash") is None and repo.find_session("s") is None and not meta.activity.has_star(t.id, alice.id)
    events = {e.action: e for e in meta.events.page(EventFilter(), 0, 10)[0]}
    assert events["star.created"].actor == "deleted:x" and events["star.created"].client_ip is None
    assert events["star.created"].payload == {"sender": "deleted:x"}
    assert events["template.created"].template == "deleted:x/mine"
    assert events["template.created"].payload == {"forkee": "deleted:x/mine"}
    assert events["collaborator.added"].actor == "bob" and events["collaborator.added"].client_ip == "10.2.2.2"
    assert events["collaborator.added"].payload["user"] == "deleted:x"
    assert events["push"].actor == "alicea" and events["push"].payload == {"user": "alicea"}
    assert meta.pulls.get(t.id, 1).author == "deleted:x"
    assert meta.events.page(EventFilter(actor="alice"), 0, 10)[1] == 0
    assert repo.account(bob.id).name == "bob"
