"""registry/accounts/passkeys.py against a software authenticator (tests/softauthn.py): options
the browser takes, registration and assertions verified for real, and what is refused (another
origin or relying party, a replayed or stale signature counter, a wrong key, hostile JSON)."""
from __future__ import annotations

import json

import pytest

from registry.accounts import passkeys
from registry.errors import InvalidField, WrongCredentials
from tests.softauthn import SoftAuthenticator

BASE = "https://reg.example.com"
HANDLE = "dXNlci1oYW5kbGUtMzItYnl0ZXMtbG9uZy4uLi4uLi4"


@pytest.fixture
def rp() -> passkeys.RelyingParty:
    return passkeys.relying_party(BASE, "Prompt registry")


def _registered(rp, device: SoftAuthenticator) -> passkeys.NewPasskey:
    challenge, options = passkeys.registration_options(rp, "alice", "Alice", HANDLE, [])
    return passkeys.verify_registration(rp, device.create(options), challenge)


def test_the_relying_party_is_the_base_urls_host_and_origin():
    rp = passkeys.relying_party("http://127.0.0.1:8000/", "R")
    assert (rp.id, rp.origin) == ("127.0.0.1", "http://127.0.0.1:8000")
    assert passkeys.relying_party("https://user@reg.example.com", "R").origin == "https://reg.example.com"


def test_registration_options_ask_for_a_discoverable_key_and_exclude_known_ones(rp):
    challenge, options = passkeys.registration_options(rp, "alice", "Alice", HANDLE, ["AAAA"])
    got = json.loads(options)
    assert got["challenge"] == challenge and got["rp"] == {"id": "reg.example.com", "name": "Prompt registry"}
    assert got["user"]["id"] == HANDLE and got["user"]["name"] == "alice"
    assert got["authenticatorSelection"]["residentKey"] == "preferred"
    assert [c["id"] for c in got["excludeCredentials"]] == ["AAAA"]
    assert passkeys.registration_options(rp, "alice", "Alice", HANDLE, [])[0] != challenge


def test_register_then_sign_in_and_the_counter_moves_forward(rp):
    device = SoftAuthenticator(BASE)
    new = _registered(rp, device)
    assert new.sign_count == 0 and new.transports == ("usb",)
    challenge, options = passkeys.authentication_options(rp, [(new.credential_id, new.transports)], False)
    assert json.loads(options)["allowCredentials"][0]["id"] == new.credential_id
    assertion = passkeys.parse_assertion(device.get(options))
    assert passkeys.credential_id(assertion) == new.credential_id
    count = passkeys.verify_assertion(rp, assertion, challenge, new.public_key, new.sign_count, False)
    assert count == 1
    challenge, options = passkeys.authentication_options(rp, None, True)  # passwordless: any passkey here
    assert "allowCredentials" not in json.loads(options) or not json.loads(options)["allowCredentials"]
    assert json.loads(options)["userVerification"] == "required"
    assert passkeys.verify_assertion(rp, passkeys.parse_assertion(device.get(options)), challenge, new.public_key,
                                     count, True) == 2


def test_a_replayed_or_cloned_counter_is_refused(rp):
    device = SoftAuthenticator(BASE)
    new = _registered(rp, device)
    challenge, options = passkeys.authentication_options(rp, None, False)
    answer = passkeys.parse_assertion(device.get(options, count_up=5))
    assert passkeys.verify_assertion(rp, answer, challenge, new.public_key, 0, False) == 5
    with pytest.raises(WrongCredentials):  # the same answer again: its count is not past 5
        passkeys.verify_assertion(rp, answer, challenge, new.public_key, 5, False)


def test_answers_for_another_site_challenge_or_key_are_refused(rp):
    device = SoftAuthenticator(BASE)
    new = _registered(rp, device)
    challenge, options = passkeys.authentication_options(rp, None, False)
    for answer in (device.get(options, origin="https://evil.example.com"),
                   device.get(options, rp_id="evil.example.com")):
        with pytest.raises(WrongCredentials):
            passkeys.verify_assertion(rp, passkeys.parse_assertion(answer), challenge, new.public_key, 0, False)
    other_challenge, _ = passkeys.authentication_options(rp, None, False)
    with pytest.raises(WrongCredentials):
        passkeys.verify_assertion(rp, passkeys.parse_assertion(device.get(options)), other_challenge, new.public_key,
                                  0, False)
    stranger = _registered(rp, SoftAuthenticator(BASE))
    with pytest.raises(WrongCredentials):
        passkeys.verify_assertion(rp, passkeys.parse_assertion(device.get(options)), challenge, stranger.public_key,
                                  0, False)


def test_passwordless_needs_the_authenticator_to_verify_its_user(rp):
    device = SoftAuthenticator(BASE)
    new = _registered(rp, device)
    device.verifies_user = False
    challenge, options = passkeys.authentication_options(rp, None, True)
    with pytest.raises(WrongCredentials):
        passkeys.verify_assertion(rp, passkeys.parse_assertion(device.get(options)), challenge, new.public_key, 0, True)


def test_registration_for_another_origin_is_refused(rp):
    challenge, options = passkeys.registration_options(rp, "alice", "Alice", HANDLE, [])
    with pytest.raises(InvalidField) as refused:
        passkeys.verify_registration(rp, SoftAuthenticator(BASE).create(options, origin="https://evil.example.com"),
                                     challenge)
    assert refused.value.field == "passkey"


@pytest.mark.parametrize("hostile", ["", "not json", "[]", "{}", json.dumps({"id": "x", "response": {}}),
                                     "{" + " " * 70_000 + "}"])
def test_hostile_answers_are_refused_not_crashes(rp, hostile):
    challenge, _ = passkeys.registration_options(rp, "alice", "Alice", HANDLE, [])
    with pytest.raises(InvalidField):
        passkeys.verify_registration(rp, hostile, challenge)
    with pytest.raises((InvalidField, WrongCredentials)):
        passkeys.parse_assertion(hostile)
