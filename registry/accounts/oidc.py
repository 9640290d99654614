"""OpenID Connect sign-in with any provider (Cognito, Okta, Entra ID, Keycloak), by discovery:
the authorization code flow with PKCE (S256), `state` and `nonce`, over Authlib's OAuth 2 and
OpenID core pieces and joserfc (Authlib's JOSE), with httpx for the three requests the flow
makes. No web framework: the caller keeps the pending login server-side (its state, nonce and
verifier, single use, expiring) and hands this module the browser's `code` when it comes back.

What is checked, so the caller need not: the discovery document is valid (Authlib: endpoints are
https, or http on loopback for a test provider) and its issuer is the configured one; the ID token is
signed with an asymmetric algorithm the provider names, by a key of its JWKS (fetched again once
when an unknown key id appears: keys rotate); its claims iss, aud (and azp), exp, iat and nonce,
with 60 s of clock skew allowed, and at_hash when present. Every answer read is bounded in size
and time.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token, is_secure_transport
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..errors import InvalidInput, Unavailable, WrongCredentials

LEEWAY = 60  # seconds of clock skew tolerated on exp, iat, nbf
TIMEOUT = 10.0
MAX_RESPONSE = 1024 * 1024
METADATA_SECONDS = 3600.0  # discovery and keys are fetched again after this
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
SCOPE = "openid email profile"


@dataclass(frozen=True)
class Pending:
    """What the caller keeps server-side between `begin` and `finish`."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str


@dataclass(frozen=True)
class Claims:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    preferred_username: str | None


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None,
                 http: httpx.Client | None = None) -> None:
        self.issuer = issuer  # compared as it is with the provider's: "/" at the end matters
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    # -- the provider ----------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is not None and time.time() - self._metadata[0] < METADATA_SECONDS:
                return self._metadata[1]
        doc = self._get_json(get_well_known_url(self.issuer, external=True))
        try:
            OpenIDProviderMetadata(doc).validate()
        except (ValueError, KeyError, TypeError) as exc:
            raise Unavailable(f"the single sign-on provider's discovery document is not valid: {exc}") from None
        if doc.get("issuer") != self.issuer:
            raise Unavailable("the single sign-on provider names another issuer than REGISTRY_OIDC_ISSUER")
        if not is_secure_transport(str(doc["token_endpoint"])):
            raise Unavailable("the single sign-on provider's token endpoint is not https")
        with self._lock:
            self._metadata = (time.time(), doc)
        return doc

    def _keyset(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if not refresh and self._keys is not None and time.time() - self._keys[0] < METADATA_SECONDS:
                return self._keys[1]
        doc = self._get_json(str(self.metadata()["jwks_uri"]))
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise Unavailable("the single sign-on provider's keys could not be read") from None
        with self._lock:
            self._keys = (time.time(), keys)
        return keys

    # -- the flow ----------------------------------------------------------------------------
    def begin(self, redirect_uri: str) -> tuple[str, Pending]:
        """Where to send the browser, and what to keep until it comes back."""
        pending = Pending(generate_token(43), generate_token(43), generate_token(64), redirect_uri)
        url = add_params_to_uri(str(self.metadata()["authorization_endpoint"]), [
            ("response_type", "code"), ("client_id", self.client_id), ("redirect_uri", redirect_uri),
            ("scope", SCOPE), ("state", pending.state), ("nonce", pending.nonce),
            ("code_challenge", create_s256_code_challenge(pending.verifier)), ("code_challenge_method", "S256")])
        return url, pending

    def finish(self, code: str, pending: Pending, now: float | None = None) -> Claims:
        """Exchange the code for tokens and return the verified ID token's claims."""
        if not isinstance(code, str) or not 0 < len(code) <= 4096:
            raise InvalidInput("the single sign-on answer carries no usable code")
        meta = self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.verifier, "client_id": self.client_id}
        auth: tuple[str, str] | None = None
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if self.client_secret is not None:
            if "client_secret_basic" in methods:
                auth = (self.client_id, self.client_secret)
            else:
                form["client_secret"] = self.client_secret
        tokens = self._post_json(str(meta["token_endpoint"]), form, auth)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str) or len(id_token) > MAX_RESPONSE:
            raise WrongCredentials("the single sign-on provider sent no ID token")
        access_token = tokens.get("access_token")
        return self.verify_id_token(id_token, pending.nonce, access_token if isinstance(access_token, str) else None,
                                    now)

    def verify_id_token(self, id_token: str, nonce: str, access_token: str | None = None,
                        now: float | None = None) -> Claims:
        meta = self.metadata()
        allowed = [a for a in meta.get("id_token_signing_alg_values_supported") or ["RS256"] if a in ALGORITHMS]
        try:
            try:
                token = jwt.decode(id_token, self._keyset(), algorithms=allowed)
            except (JoseError, ValueError):
                token = jwt.decode(id_token, self._keyset(refresh=True), algorithms=allowed)  # keys rotated?
            claims = CodeIDToken(token.claims, token.header, options={
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "nonce": {"essential": True, "value": nonce}},
                params={"nonce": nonce, "client_id": self.client_id, "access_token": access_token})
            claims.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise WrongCredentials(f"the single sign-on provider's ID token was refused ({exc})") from None
        email = claims.get("email")
        return Claims(str(claims["iss"]), str(claims["sub"]), email.lower() if isinstance(email, str) else None,
                      claims.get("email_verified") is True, _text(claims.get("name")),
                      _text(claims.get("preferred_username")))

    # -- bounded requests ---------------------------------------------------------------------
    def _get_json(self, url: str) -> dict[str, Any]:
        return self._request("GET", url)

    def _post_json(self, url: str, form: dict[str, str], auth: tuple[str, str] | None) -> dict[str, Any]:
        return self._request("POST", url, data=form, auth=auth)

    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            with self.http.stream(method, url, headers={"Accept": "application/json"}, **kwargs) as response:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE:
                        raise Unavailable("the single sign-on provider's answer is too large")
                status = response.status_code
        except httpx.HTTPError:
            raise Unavailable("the single sign-on provider cannot be reached; try again shortly") from None
        try:
            doc = httpx.Response(status, content=body).json()
        except ValueError:
            doc = None
        if status >= 400 and method == "POST":
            raise WrongCredentials("the single sign-on provider refused the sign-in"
                                   + (f" ({doc.get('error')})" if isinstance(doc, dict) and doc.get("error") else ""))
        if status != 200 or not isinstance(doc, dict):
            raise Unavailable(f"the single sign-on provider answered {status} to {urlsplit(url).path}")
        return doc


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None
