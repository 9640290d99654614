"""Second factors: TOTP with its ten recovery codes, and passkeys (WebAuthn) as a second factor
or for passwordless sign-in. Enrolling or using one works through a ceremony the server keeps
(a challenge taken once, expiring); its handle goes to the browser. Removing a factor needs
proof (`confirm`: the password, a TOTP code or a recovery code) and ends every other session.

Adding, removing or renewing factors takes the caller's session (`SignedIn`), never a bare user
(accounts_sessions.settled says why).
"""
from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import urlsplit

from ..accounts import passkeys, passwords, recovery, tokens, totp
from ..container import Container
from ..errors import AccountDisabled, InvalidField, InvalidLink, WrongCredentials
from ..events import recording
from ..meta import User
from ..meta.records_accounts import Account, Passkey
from .accounts_sessions import SignedIn, settled

ENROL_SECONDS = 900.0
WEBAUTHN_SECONDS = 300.0
MAX_PASSKEY_NAME = 60


def _issuer(c: Container, base_url: str | None) -> str:
    host = urlsplit(base_url or c.settings.base_url or "").hostname
    return host or "Prompt registry"


def _challenge(c: Container, kind: str, user_id: int | None, data: dict[str, object], seconds: float) -> str:
    handle = tokens.new_token()
    c.accounts.put_challenge(tokens.hash_secret(handle), kind, user_id, data, time.time() + seconds)
    return handle


def _take(c: Container, handle: str, kind: str, user_id: int | None) -> dict[str, object]:
    taken = c.accounts.take_challenge(tokens.hash_secret(handle), kind, time.time()) \
        if tokens.well_formed(handle) else None
    if taken is None or (user_id is not None and taken.user_id != user_id):
        raise InvalidLink("this step has expired or was already done: start again")
    return taken.data


# -- TOTP ------------------------------------------------------------------------------------
def begin_totp(c: Container, who: SignedIn, base_url: str | None = None) -> tuple[str, totp.Enrolment]:
    """A new secret to enrol, with its QR code; kept server-side until `confirm_totp` (the
    handle names it). An account with TOTP removes it first (with proof) to enrol another."""
    user = settled(who)
    if c.accounts.account(user.id).totp_secret is not None:
        raise InvalidField("code", "an authenticator app is enrolled already: remove it first")
    secret = totp.new_secret()
    handle = _challenge(c, "totp.enrol", user.id, {"secret": secret}, ENROL_SECONDS)
    return handle, totp.enrolment(secret, user.name, _issuer(c, base_url))


def confirm_totp(c: Container, who: SignedIn, handle: str, code: str) -> list[str]:
    """Enrol the pending secret once a code from it is right; returns the new recovery codes,
    shown this once. (The caller's session has just passed a factor: rotate it with
    `second_factor=True`.)"""
    user = settled(who)
    secret = str(_take(c, handle, "totp.enrol", user.id)["secret"])
    step = totp.match(secret, code, time.time())
    if step is None:
        raise InvalidField("code", "this code is not right: check the app's clock, and enrol again")
    if c.accounts.account(user.id).totp_secret is not None:
        raise InvalidField("code", "an authenticator app is enrolled already: remove it first")
    codes = recovery.new_codes()
    with recording(c) as r:
        c.accounts.set_totp(user.id, secret)
        c.accounts.advance_totp_step(user.id, step)
        c.accounts.replace_recovery_codes(user.id, [recovery.hash_code(x) for x in codes])
        r.add(user.name, "user.totp_enabled", None, {})
    return codes


def check_totp(c: Container, user: User, code: str) -> None:
    """A sign-in's second factor; a code is good once (a replay within its step is refused)."""
    account = c.accounts.account(user.id)
    step = totp.match(account.totp_secret, code, time.time()) if account.totp_secret else None
    if step is None or not c.accounts.advance_totp_step(user.id, step):
        raise WrongCredentials("this code is not right, or was used already")


def use_recovery_code(c: Container, user: User, code: str) -> int:
    """A recovery code instead of the second factor (used up); how many are left."""
    if recovery.normalize(code) is None or not c.accounts.use_recovery_code(user.id, recovery.hash_code(code),
                                                                          time.time()):
        raise WrongCredentials("this recovery code is not right, or was used already")
    with recording(c) as r:
        left = c.accounts.recovery_codes_left(user.id)
        r.add(user.name, "user.recovery_code_used", None, {"left": left})
    return left


def new_recovery_codes(c: Container, who: SignedIn, proof: str) -> list[str]:
    """A new set of ten (the old ones stop working), given proof it is the user."""
    user = settled(who)
    account = c.accounts.account(user.id)
    confirm(c, account, proof)
    codes = recovery.new_codes()
    with recording(c) as r:
        c.accounts.replace_recovery_codes(user.id, [recovery.hash_code(x) for x in codes])
        r.add(user.name, "user.recovery_codes_renewed", None, {})
    return codes


def disable_totp(c: Container, who: SignedIn, proof: str) -> None:
    """Remove the authenticator app, given proof; every session but the caller's ends."""
    user = settled(who)
    account = c.accounts.account(user.id)
    confirm(c, account, proof)
    with recording(c) as r:
        c.accounts.set_totp(user.id, None)
        if not c.accounts.passkeys(user.id):
            c.accounts.replace_recovery_codes(user.id, [])
        ended = c.accounts.end_sessions(user.id, keep=who.session.id)
        r.add(user.name, "user.totp_disabled", None, {"sessions_ended": ended})


def confirm(c: Container, account: Account, proof: str) -> None:
    """Proof it is the account's owner, for removing a factor or deleting the account: the
    password, a current TOTP code, or a recovery code (used up)."""
    if not isinstance(proof, str) or not proof.strip():
        raise InvalidField("proof", "enter your password, or a code from your authenticator")
    if account.totp_secret and totp.normalize(proof) is not None:
        step = totp.match(account.totp_secret, proof, time.time())
        if step is not None and c.accounts.advance_totp_step(account.id, step):
            return
    if recovery.normalize(proof) is not None \
            and c.accounts.use_recovery_code(account.id, recovery.hash_code(proof), time.time()):
        return
    if account.password_hash is not None and passwords.verify(account.password_hash, proof)[0]:
        return  # (verify refuses, after the same work, a password past the bounds)
    raise InvalidField("proof", "this is not your password, or a right code")


# -- passkeys --------------------------------------------------------------------------------
def _rp(c: Container, base_url: str | None) -> passkeys.RelyingParty:
    return passkeys.relying_party(base_url or c.settings.public_base_url(), "Prompt registry")


def passkey_registration(c: Container, who: SignedIn, base_url: str | None = None) -> tuple[str, str]:
    """(handle, options JSON for navigator.credentials.create)."""
    user = settled(who)
    keys = c.accounts.passkeys(user.id)
    user_handle = keys[0].user_handle if keys else base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    display = c.accounts.account(user.id).display_name or user.name
    challenge, options = passkeys.registration_options(_rp(c, base_url), user.name, display, user_handle,
                                                       [k.credential_id for k in keys])
    handle = _challenge(c, "webauthn.register", user.id, {"challenge": challenge, "user_handle": user_handle},
                        WEBAUTHN_SECONDS)
    return handle, options


def add_passkey(c: Container, who: SignedIn, handle: str, credential_json: str, name: str,
                base_url: str | None = None) -> tuple[Passkey, list[str]]:
    """Register the browser's new credential; with the first second factor of an account comes
    its set of recovery codes (returned, shown once; otherwise empty)."""
    user = settled(who)
    label = (name or "passkey").strip()
    if len(label) > MAX_PASSKEY_NAME or any(ord(ch) < 32 for ch in label):
        raise InvalidField("name", f"at most {MAX_PASSKEY_NAME} characters, on one line")
    data = _take(c, handle, "webauthn.register", user.id)
    new = passkeys.verify_registration(_rp(c, base_url), credential_json, str(data["challenge"]))
    codes = [] if c.accounts.recovery_codes_left(user.id) else recovery.new_codes()
    with recording(c) as r:
        key = c.accounts.add_passkey(user.id, new.credential_id, new.public_key, new.sign_count,
                                     str(data["user_handle"]), label, new.transports)
        if codes:
            c.accounts.replace_recovery_codes(user.id, [recovery.hash_code(x) for x in codes])
        r.add(user.name, "user.passkey_added", None, {"passkey": key.id, "name": label})
    return key, codes


def passkey_challenge(c: Container, user: User | None, base_url: str | None = None) -> tuple[str, str]:
    """(handle, options JSON for navigator.credentials.get): for a known user's second factor,
    or (user None) for passwordless sign-in with any passkey of this site."""
    allow = None if user is None else [(k.credential_id, k.transports) for k in c.accounts.passkeys(user.id)]
    challenge, options = passkeys.authentication_options(_rp(c, base_url), allow, require_user_verification=user is None)
    handle = _challenge(c, "webauthn.login", user.id if user else None, {"challenge": challenge}, WEBAUTHN_SECONDS)
    return handle, options


def passkey_sign_in(c: Container, handle: str, credential_json: str, user: User | None = None,
                    base_url: str | None = None) -> User:
    """The user whose passkey answered the challenge. With `user` (a second factor) it must be
    theirs; without (passwordless) the authenticator must have verified its user."""
    data = _take(c, handle, "webauthn.login", user.id if user else None)
    assertion = passkeys.parse_assertion(credential_json)
    key = c.accounts.passkey_by_credential(passkeys.credential_id(assertion))
    if key is None or (user is not None and key.user_id != user.id):
        raise WrongCredentials("this passkey is not registered here")
    count = passkeys.verify_assertion(_rp(c, base_url), assertion, str(data["challenge"]), key.public_key,
                                      key.sign_count, require_user_verification=user is None)
    if not c.accounts.use_passkey(key.id, key.sign_count, count, time.time()):
        raise WrongCredentials("this passkey was used at the same moment elsewhere: try again")
    account = c.accounts.account(key.user_id)
    if account.disabled:
        raise AccountDisabled(f"the account {account.name} is disabled")
    return account.user


def my_passkeys(c: Container, user: User) -> list[Passkey]:
    return c.accounts.passkeys(user.id)


def remove_passkey(c: Container, who: SignedIn, passkey_id: int, proof: str) -> None:
    """Remove one of the caller's passkeys, given proof; every session but the caller's ends."""
    user = settled(who)
    account = c.accounts.account(user.id)
    confirm(c, account, proof)
    with recording(c) as r:
        if not c.accounts.remove_passkey(user.id, passkey_id):
            raise InvalidField("passkey", "no such passkey")
        if account.totp_secret is None and not c.accounts.passkeys(user.id):
            c.accounts.replace_recovery_codes(user.id, [])
        ended = c.accounts.end_sessions(user.id, keep=who.session.id)
        r.add(user.name, "user.passkey_removed", None, {"passkey": passkey_id, "sessions_ended": ended})


def recovery_codes_left(c: Container, user: User) -> int:
    return c.accounts.recovery_codes_left(user.id)
