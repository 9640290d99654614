"""Passkeys (WebAuthn), a thin layer over py_webauthn: registration and authentication options
as the JSON the browser's `navigator.credentials` takes, and verification of its answers.

The relying party is this site: its id is the host of REGISTRY_BASE_URL, its origin the base
URL's scheme, host and port. Challenges are random, kept server-side by the caller (the
AccountRepository's challenges, with an expiry) and used once. A signature counter that does
not move forward is refused (a cloned authenticator), unless the authenticator keeps none (0).

A passkey serves as a second factor (after a password) and for passwordless sign-in, where the
authenticator must verify its user (PIN, biometrics): then it is two factors on its own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..errors import InvalidField, WrongCredentials

MAX_CREDENTIAL_JSON = 64 * 1024  # an answer with attestation certificates is a few kB
TIMEOUT_MS = 120_000
KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host
    origin: str  # scheme://host[:port], what the browser reports
    name: str


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url
    public_key: str  # base64url COSE key
    sign_count: int
    transports: tuple[str, ...]


def relying_party(base_url: str, name: str) -> RelyingParty:
    parts = urlsplit(base_url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"not a base URL: {base_url!r}")
    return RelyingParty(parts.hostname, f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}", name)


def registration_options(rp: RelyingParty, user_name: str, display_name: str, user_handle: str,
                         exclude: list[str]) -> tuple[str, str]:
    """(the challenge, base64url; the options as JSON). `exclude`: the user's credential ids,
    so one authenticator is not registered twice."""
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=user_name, user_display_name=display_name,
        user_id=base64url_to_bytes(user_handle), timeout=TIMEOUT_MS,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,  # a discoverable one signs in without a username
            user_verification=UserVerificationRequirement.PREFERRED))
    return bytes_to_base64url(options.challenge), options_to_json(options)


def verify_registration(rp: RelyingParty, credential_json: str, challenge: str) -> NewPasskey:
    credential = _bounded(credential_json)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(credential=parsed, expected_challenge=base64url_to_bytes(challenge),
                                                expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise InvalidField("passkey", f"the authenticator's answer was refused ({exc})") from None
    transports = tuple(t.value for t in parsed.response.transports or () if t.value in KNOWN_TRANSPORTS)
    return NewPasskey(bytes_to_base64url(verified.credential_id), bytes_to_base64url(verified.credential_public_key),
                      verified.sign_count, transports)


def authentication_options(rp: RelyingParty, allow: list[tuple[str, tuple[str, ...]]] | None,
                           require_user_verification: bool) -> tuple[str, str]:
    """(challenge, options JSON). `allow`: the user's credentials (id, transports) when the user
    is known (a second factor); None for passwordless sign-in, where the browser offers the
    discoverable passkeys it holds for this site."""
    descriptors = None if allow is None else [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid), transports=[AuthenticatorTransport(t) for t in ts])
        for cid, ts in allow]
    uv = UserVerificationRequirement.REQUIRED if require_user_verification else UserVerificationRequirement.PREFERRED
    options = generate_authentication_options(rp_id=rp.id, timeout=TIMEOUT_MS, allow_credentials=descriptors,
                                              user_verification=uv)
    return bytes_to_base64url(options.challenge), options_to_json(options)


def parse_assertion(credential_json: str) -> AuthenticationCredential:
    """The browser's answer to `authentication_options`, parsed (its credential id says which
    passkey to verify it with)."""
    try:
        return parse_authentication_credential_json(_bounded(credential_json))
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise WrongCredentials("the passkey's answer was not understood") from None


def credential_id(assertion: AuthenticationCredential) -> str:
    return bytes_to_base64url(assertion.raw_id)


def verify_assertion(rp: RelyingParty, assertion: AuthenticationCredential, challenge: str, public_key: str,
                     sign_count: int, require_user_verification: bool) -> int:
    """The authenticator's new signature count, once its signature over the challenge checks out."""
    try:
        verified = verify_authentication_response(
            credential=assertion, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count, require_user_verification=require_user_verification)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise WrongCredentials("the passkey could not be verified") from None
    return int(verified.new_sign_count)


def _bounded(credential_json: Any) -> str:
    if not isinstance(credential_json, str) or not credential_json:
        raise InvalidField("passkey", "the authenticator's answer is missing")
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        raise InvalidField("passkey", f"the authenticator's answer is longer than {MAX_CREDENTIAL_JSON} bytes")
    try:
        json.loads(credential_json)
    except ValueError:
        raise InvalidField("passkey", "the authenticator's answer is not JSON") from None
    return credential_json
