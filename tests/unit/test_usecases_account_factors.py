"""Second factors and single sign-on as use cases: TOTP enrolment and replay refusal, recovery
codes used once, passkeys as second factor and passwordless (a software authenticator), proof
before a factor is removed, and OpenID Connect sign-in with an offline provider (new identities
join or are linked only by their owner)."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from registry.accounts import totp
from registry.accounts.oidc import OidcClient
from registry.container import Container
from registry.errors import AlreadyExists, InvalidField, InvalidLink, PermissionDenied, SignupClosed, WrongCredentials
from registry.meta import EventFilter
from registry.services import accounts, accounts_data, accounts_sso
from registry.services import accounts_factors as factors
from registry.services import accounts_sessions as sessions
from registry.settings import Settings
from tests.softauthn import SoftAuthenticator
from tests.unit.test_oidc import ISSUER, Provider

PASSWORD = "violet-lantern-orbit-57"
BASE = "https://reg.example.com"


def container(tmp_path, **settings) -> Container:
    return Container.build(Settings(data_dir=tmp_path / "data", base_url=BASE, **settings))


@pytest.fixture
def c(tmp_path) -> Container:
    return container(tmp_path)


def me(c: Container, user) -> sessions.SignedIn:
    """A session of `user` past any second factor, as after a full sign-in."""
    return sessions.start(c, user, "password", second_factor=True)[1]


def _enrol(c: Container, user) -> tuple[str, list[str]]:
    handle, enrolment = factors.begin_totp(c, me(c, user))
    codes = factors.confirm_totp(c, me(c, user), handle, totp.code_at(enrolment.secret, time.time()))
    return enrolment.secret, codes


# -- TOTP and recovery codes ------------------------------------------------------------------------
def test_enrolling_totp_needs_a_right_code_and_gives_ten_recovery_codes(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    handle, enrolment = factors.begin_totp(c, me(c, alice))
    assert enrolment.uri.startswith("otpauth://totp/reg.example.com:alice") and enrolment.qr_svg.startswith("<svg")
    with pytest.raises(InvalidField):
        factors.confirm_totp(c, me(c, alice), handle, "000000" if totp.code_at(enrolment.secret, time.time()) != "000000"
                             else "111111")
    with pytest.raises(InvalidLink):  # a handle is tried once: enrol again
        factors.confirm_totp(c, me(c, alice), handle, totp.code_at(enrolment.secret, time.time()))
    secret, codes = _enrol(c, alice)
    assert len(codes) == 10 and factors.recovery_codes_left(c, alice) == 10
    assert c.accounts.account(alice.id).totp_secret == secret
    with pytest.raises(InvalidField):  # one app at a time: remove it (with proof) to enrol another
        factors.begin_totp(c, me(c, alice))


def test_another_users_enrolment_handle_is_not_theirs(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    bob = accounts.join(c, "bob", "bob@example.com", PASSWORD)
    handle, enrolment = factors.begin_totp(c, me(c, alice))
    with pytest.raises(InvalidLink):
        factors.confirm_totp(c, me(c, bob), handle, totp.code_at(enrolment.secret, time.time()))


def test_a_totp_code_signs_in_once_and_a_replay_is_refused(c, monkeypatch):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    enrolled_at = time.time()
    secret, _ = _enrol(c, alice)
    pending, signed_in = sessions.start(c, alice, "password")
    assert signed_in.needs_second_factor and not signed_in.complete
    later = enrolled_at + 30  # the next time step: enrolment used the one before
    monkeypatch.setattr(time, "time", lambda: later)
    code = totp.code_at(secret, later)
    with pytest.raises(WrongCredentials):
        factors.check_totp(c, alice, "123456" if code != "123456" else "654321")
    factors.check_totp(c, alice, code)
    with pytest.raises(WrongCredentials):
        factors.check_totp(c, alice, code)  # the same code again within its step
    with pytest.raises(WrongCredentials):
        factors.check_totp(c, alice, totp.code_at(secret, enrolled_at))  # still in the window, but older
    fresh, signed_in = sessions.rotate(c, pending, second_factor=True)
    assert signed_in.complete and sessions.current(c, pending) is None and sessions.current(c, fresh) is not None


def test_recovery_codes_are_single_use(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    _, codes = _enrol(c, alice)
    assert factors.use_recovery_code(c, alice, codes[0].upper()) == 9
    with pytest.raises(WrongCredentials):
        factors.use_recovery_code(c, alice, codes[0])
    with pytest.raises(WrongCredentials):
        factors.use_recovery_code(c, alice, "not a code")
    renewed = factors.new_recovery_codes(c, me(c, alice), PASSWORD)
    with pytest.raises(WrongCredentials):
        factors.use_recovery_code(c, alice, codes[1])  # the old set is gone
    assert factors.use_recovery_code(c, alice, renewed[0]) == 9
    actions = [e.action for e in c.meta.events.page(EventFilter(actor="alice"), 0, 50)[0]]
    assert actions.count("user.recovery_code_used") == 2


def test_removing_totp_needs_proof_and_ends_other_sessions(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    secret, codes = _enrol(c, alice)
    here, who = sessions.start(c, alice, "password", second_factor=True)
    there, _ = sessions.start(c, alice, "password", second_factor=True)
    with pytest.raises(InvalidField) as refused:
        factors.disable_totp(c, who, "not my password")
    assert refused.value.field == "proof"
    factors.disable_totp(c, who, codes[3])  # a recovery code is proof
    assert c.accounts.account(alice.id).totp_secret is None and factors.recovery_codes_left(c, alice) == 0
    assert sessions.current(c, here) is not None and sessions.current(c, there) is None
    assert not sessions.current(c, here).needs_second_factor


def test_a_session_waiting_for_its_second_factor_cannot_touch_the_factors(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    secret, codes = _enrol(c, alice)
    _, waiting = sessions.start(c, alice, "password")  # the password is known, the code is not
    assert waiting.needs_second_factor
    for attempt in (lambda: factors.disable_totp(c, waiting, PASSWORD),
                    lambda: factors.new_recovery_codes(c, waiting, PASSWORD),
                    lambda: factors.passkey_registration(c, waiting),
                    lambda: factors.begin_totp(c, waiting),
                    lambda: accounts.change_password(c, waiting, PASSWORD, "brand-new-phrase-13"),
                    lambda: accounts.update_profile(c, waiting, None, "mallory@example.com"),
                    lambda: accounts_data.delete_account(c, waiting, PASSWORD, {})):
        with pytest.raises(PermissionDenied):
            attempt()
    assert c.accounts.account(alice.id).totp_secret == secret and factors.recovery_codes_left(c, alice) == 10


# -- passkeys ------------------------------------------------------------------------------------------
def _add_passkey(c: Container, user, device: SoftAuthenticator, name: str = "laptop"):
    handle, options = factors.passkey_registration(c, me(c, user))
    return factors.add_passkey(c, me(c, user), handle, device.create(options), name)


def test_a_passkey_is_a_second_factor_and_comes_with_recovery_codes(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    device = SoftAuthenticator(BASE)
    key, codes = _add_passkey(c, alice, device)
    assert key.name == "laptop" and len(codes) == 10
    assert _add_passkey(c, alice, SoftAuthenticator(BASE), "phone")[1] == []  # codes come once
    keys = factors.my_passkeys(c, alice)
    assert [k.name for k in keys] == ["laptop", "phone"] and keys[0].user_handle == keys[1].user_handle
    _, signed_in = sessions.start(c, alice, "password")
    assert signed_in.needs_second_factor
    handle, options = factors.passkey_challenge(c, alice)
    assert factors.passkey_sign_in(c, handle, device.get(options), alice) == alice
    with pytest.raises(InvalidLink):  # the challenge is used up
        factors.passkey_sign_in(c, handle, device.get(options), alice)


def test_passwordless_sign_in_finds_the_user_by_their_passkey(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    bob = accounts.join(c, "bob", "bob@example.com", PASSWORD)
    device = SoftAuthenticator(BASE)
    _add_passkey(c, alice, device)
    handle, options = factors.passkey_challenge(c, None)
    assert factors.passkey_sign_in(c, handle, device.get(options)) == alice
    handle, options = factors.passkey_challenge(c, bob)  # bob's second factor, alice's key
    with pytest.raises(WrongCredentials):
        factors.passkey_sign_in(c, handle, device.get(options), bob)
    handle, options = factors.passkey_challenge(c, None)
    with pytest.raises(WrongCredentials):  # an authenticator nobody registered
        factors.passkey_sign_in(c, handle, SoftAuthenticator(BASE).get(options))


def test_a_cloned_passkey_is_refused(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    device = SoftAuthenticator(BASE)
    _add_passkey(c, alice, device)
    handle, options = factors.passkey_challenge(c, None)
    factors.passkey_sign_in(c, handle, device.get(options, count_up=10))
    device.sign_count = 3  # a copy of the key, behind the original's counter
    handle, options = factors.passkey_challenge(c, None)
    with pytest.raises(WrongCredentials):
        factors.passkey_sign_in(c, handle, device.get(options))


def test_removing_a_passkey_needs_proof_and_is_only_the_owners(c):
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)
    bob = accounts.join(c, "bob", "bob@example.com", PASSWORD)
    key, _ = _add_passkey(c, alice, SoftAuthenticator(BASE))
    with pytest.raises(InvalidField):
        factors.remove_passkey(c, me(c, bob), key.id, PASSWORD)
    with pytest.raises(InvalidField):
        factors.remove_passkey(c, me(c, alice), key.id, "wrong password here")
    factors.remove_passkey(c, me(c, alice), key.id, PASSWORD)
    assert factors.my_passkeys(c, alice) == [] and factors.recovery_codes_left(c, alice) == 0
    with pytest.raises(InvalidField):
        factors.add_passkey(c, me(c, alice), "no-such-handle", "{}", "x" * 61)


# -- single sign-on -------------------------------------------------------------------------------------
@pytest.fixture
def sso(tmp_path, monkeypatch):
    idp = Provider()
    oidc = OidcClient(ISSUER, "registry", "s3cret", http=httpx.Client(transport=httpx.MockTransport(idp.handle)))
    monkeypatch.setattr(accounts_sso, "_client", lambda c: oidc)
    c = container(tmp_path, oidc_issuer=ISSUER, oidc_client_id="registry", oidc_client_secret="s3cret",
                  oidc_name="Example SSO")
    return c, idp


def _round_trip(c: Container, idp: Provider, subject: str = "user-1", next_path: str = "/after"):
    url = accounts_sso.sso_begin(c, f"{BASE}/login/oidc/callback", next_path)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    idp.claims = idp.id_claims(query["nonce"], sub=subject)
    return query["state"], accounts_sso.sso_finish(c, query["state"], "code")


def test_a_new_identity_joins_as_a_new_account_and_signs_in_after(sso):
    c, idp = sso
    assert accounts_sso.enabled(c) and accounts_sso.button_name(c) == "Example SSO"
    state, outcome = _round_trip(c, idp)
    assert outcome.user is None and outcome.pending and outcome.next == "/after"
    with pytest.raises(InvalidLink):
        accounts_sso.sso_finish(c, state, "code")  # a state is used once
    alice = accounts_sso.sso_join(c, outcome.pending, "alice")
    account = c.accounts.account(alice.id)
    assert alice.email == "alice@example.com" and account.email_verified and account.display_name == "Alice"
    assert not account.has_password
    _, again = _round_trip(c, idp)
    assert again.user == alice and again.pending is None
    assert [i.subject for i in accounts_sso.my_identities(c, alice)] == ["user-1"]


def test_a_new_identity_is_never_linked_by_its_address_alone(sso):
    c, idp = sso
    alice = accounts.join(c, "alice", "alice@example.com", PASSWORD)  # the provider's address
    _, outcome = _round_trip(c, idp)
    assert outcome.user is None  # not signed in as alice
    joined = accounts_sso.sso_join(c, outcome.pending, "alice2")
    assert joined.email is None  # the address stays alice's
    _, outcome = _round_trip(c, idp, subject="user-2")
    assert accounts_sso.sso_link(c, alice, outcome.pending).user_id == alice.id  # alice, signed in, confirms
    assert _round_trip(c, idp, subject="user-2")[1].user == alice


def test_an_address_the_provider_has_not_verified_does_not_come_with_the_account(sso):
    c, idp = sso
    url = accounts_sso.sso_begin(c, f"{BASE}/login/oidc/callback")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    idp.claims = idp.id_claims(query["nonce"], email="victim@example.com", email_verified=False)
    outcome = accounts_sso.sso_finish(c, query["state"], "code")
    assert accounts_sso.sso_join(c, outcome.pending, "mallory").email is None
    assert accounts.join(c, "victim", "victim@example.com", PASSWORD).email == "victim@example.com"


def test_a_refused_sso_join_leaves_the_identity_for_another_try(sso):
    c, idp = sso
    accounts.join(c, "taken", "t@example.com", PASSWORD)
    _, outcome = _round_trip(c, idp)
    with pytest.raises(AlreadyExists):
        accounts_sso.sso_join(c, outcome.pending, "taken")
    assert accounts_sso.sso_join(c, outcome.pending, "alice").name == "alice"


def test_sso_join_follows_the_signup_mode(sso, tmp_path):
    c, idp = sso
    c = container(tmp_path, oidc_issuer=ISSUER, oidc_client_id="registry", signup="invite")
    _, outcome = _round_trip(c, idp)
    with pytest.raises(SignupClosed):
        accounts_sso.sso_join(c, outcome.pending, "alice")
    invite = accounts.make_invite(c, None, "alice@example.com").split("invite=")[1]
    assert accounts_sso.sso_join(c, outcome.pending, "alice", invite=invite).name == "alice"


def test_a_bad_state_or_a_token_for_another_login_is_refused(sso):
    c, idp = sso
    with pytest.raises(InvalidLink):
        accounts_sso.sso_finish(c, "made-up-state", "code")
    url = accounts_sso.sso_begin(c, f"{BASE}/login/oidc/callback")
    state = parse_qs(urlsplit(url).query)["state"][0]
    idp.claims = idp.id_claims("the nonce of another login")
    with pytest.raises(WrongCredentials):
        accounts_sso.sso_finish(c, state, "code")
