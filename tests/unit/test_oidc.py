"""registry/accounts/oidc.py offline: a provider's discovery, keys and token endpoint answered in
process (httpx's MockTransport), ID tokens signed here with keys made here. What a real provider
does end to end is tested in the browser suite against npm's oidc-provider."""
from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from registry.accounts.oidc import OidcClient, Pending
from registry.errors import InvalidInput, Unavailable, WrongCredentials

ISSUER = "https://idp.example.com"
CLIENT = "registry"
SECRET = "s3cret"
REDIRECT = "https://reg.example.com/login/oidc/callback"


class Provider:
    """What the client talks to: discovery, JWKS and the token endpoint, with the requests seen."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.keys = [self.key]
        self.discovery = {
            "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"]}
        self.claims: dict = {}
        self.token_answer: tuple[int, bytes] | None = None
        self.requests: list[httpx.Request] = []
        self.jwks_fetches = 0

    def sign(self, claims: dict, key: RSAKey | OctKey | None = None, alg: str = "RS256") -> str:
        key = key or self.key
        header = {"alg": alg, **({"kid": key.kid} if key.kid else {})}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def id_claims(self, nonce_value: str, **changes) -> dict:
        now = int(time.time())
        return {"iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": now + 300, "iat": now, "nonce": nonce_value,
                "email": "Alice@Example.com", "email_verified": True, "name": "Alice", **changes}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.discovery)
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json=KeySet(self.keys).as_dict(private=False))
        if path == "/token":
            if self.token_answer is not None:
                return httpx.Response(self.token_answer[0], content=self.token_answer[1])
            return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer",
                                             "id_token": self.sign(self.claims)})
        return httpx.Response(404)


@pytest.fixture
def idp() -> Provider:
    return Provider()


def client(idp: Provider, issuer: str = ISSUER) -> OidcClient:
    return OidcClient(issuer, CLIENT, SECRET, http=httpx.Client(transport=httpx.MockTransport(idp.handle)))


def test_begin_sends_the_browser_with_pkce_state_and_nonce(idp):
    url, pending = client(idp).begin(REDIRECT)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/auth"
    assert query["response_type"] == "code" and query["client_id"] == CLIENT and query["redirect_uri"] == REDIRECT
    assert query["state"] == pending.state and query["nonce"] == pending.nonce and "openid" in query["scope"]
    assert query["code_challenge_method"] == "S256"
    digest = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == digest
    again = client(idp).begin(REDIRECT)[1]
    assert len({pending.state, pending.nonce, pending.verifier, again.state, again.nonce}) == 5


def test_finish_exchanges_the_code_and_returns_the_verified_claims(idp):
    oidc = client(idp)
    _, pending = oidc.begin(REDIRECT)
    idp.claims = idp.id_claims(pending.nonce)
    claims = oidc.finish("the-code", pending)
    assert (claims.issuer, claims.subject, claims.email, claims.email_verified, claims.name) == \
        (ISSUER, "user-1", "alice@example.com", True, "Alice")
    token_request = next(r for r in idp.requests if r.url.path == "/token")
    form = {k: v[0] for k, v in parse_qs(token_request.content.decode()).items()}
    assert form == {"grant_type": "authorization_code", "code": "the-code", "redirect_uri": REDIRECT,
                    "code_verifier": pending.verifier, "client_id": CLIENT}
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()


def test_the_secret_goes_in_the_form_when_the_provider_takes_only_that(idp):
    idp.discovery["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    oidc = client(idp)
    _, pending = oidc.begin(REDIRECT)
    idp.claims = idp.id_claims(pending.nonce)
    oidc.finish("c", pending)
    token_request = next(r for r in idp.requests if r.url.path == "/token")
    assert "authorization" not in token_request.headers
    assert parse_qs(token_request.content.decode())["client_secret"] == [SECRET]


@pytest.mark.parametrize("changes, why", [
    ({"nonce": "another nonce"}, "'nonce'"),
    ({"aud": "another-client"}, "'aud'"),
    ({"aud": [CLIENT, "another"]}, "'azp'"),  # several audiences and no azp naming us
    ({"iss": "https://evil.example.com"}, "'iss'"),
    ({"exp": int(time.time()) - 120}, "expired"),  # past the minute of skew allowed
    ({"iat": int(time.time()) + 300}, "in the future"),
    ({"sub": None}, "'sub'"),
])
def test_id_tokens_with_wrong_claims_are_refused(idp, changes, why):
    oidc = client(idp)
    nonce = "the-nonce"
    claims = {k: v for k, v in idp.id_claims(nonce, **changes).items() if v is not None}
    with pytest.raises(WrongCredentials, match=why):
        oidc.verify_id_token(idp.sign(claims), nonce)


def test_clock_skew_within_a_minute_is_allowed(idp):
    now = int(time.time())
    token = idp.sign(idp.id_claims("n", exp=now - 30, iat=now + 30))
    assert client(idp).verify_id_token(token, "n").subject == "user-1"


def test_a_missing_nonce_is_refused(idp):
    claims = idp.id_claims("n")
    del claims["nonce"]
    with pytest.raises(WrongCredentials):
        client(idp).verify_id_token(idp.sign(claims), "n")


def test_tokens_not_signed_by_the_providers_keys_are_refused(idp):
    oidc = client(idp)
    claims = idp.id_claims("n")
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, another key
    with pytest.raises(WrongCredentials):
        oidc.verify_id_token(idp.sign(claims, stranger), "n")
    with pytest.raises(WrongCredentials):  # a MAC keyed with the client secret is not accepted
        oidc.verify_id_token(idp.sign(claims, OctKey.import_key(SECRET * 8), alg="HS256"), "n")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(WrongCredentials):
        oidc.verify_id_token(f"{header}.{body}.", "n")
    with pytest.raises(WrongCredentials):
        oidc.verify_id_token("not a token", "n")


def test_rotated_keys_are_fetched_again(idp):
    oidc = client(idp)
    assert oidc.verify_id_token(idp.sign(idp.id_claims("n")), "n").subject == "user-1"
    assert idp.jwks_fetches == 1
    idp.key = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    idp.keys = [idp.key]
    assert oidc.verify_id_token(idp.sign(idp.id_claims("n")), "n").subject == "user-1"
    assert idp.jwks_fetches == 2


def test_a_discovery_document_for_another_issuer_or_without_https_is_refused(idp):
    with pytest.raises(Unavailable):
        client(idp, issuer="https://idp.example.com/realms/x").metadata()
    idp.discovery["token_endpoint"] = "http://idp.example.com/token"
    with pytest.raises(Unavailable):
        client(idp).metadata()
    idp.discovery["token_endpoint"] = f"{ISSUER}/token"
    del idp.discovery["jwks_uri"]
    with pytest.raises(Unavailable):
        client(idp).metadata()


def test_a_refused_code_an_oversized_answer_and_a_bad_code_are_errors_not_crashes(idp):
    oidc = client(idp)
    _, pending = oidc.begin(REDIRECT)
    idp.token_answer = (400, b'{"error": "invalid_grant"}')
    with pytest.raises(WrongCredentials, match="invalid_grant"):
        oidc.finish("c", pending)
    idp.token_answer = (200, b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    with pytest.raises(Unavailable):
        oidc.finish("c", pending)
    idp.token_answer = (200, b'{"access_token": "at"}')
    with pytest.raises(WrongCredentials):
        oidc.finish("c", pending)
    with pytest.raises(InvalidInput):
        oidc.finish("x" * 5000, pending)
    assert isinstance(pending, Pending)


def test_an_unreachable_provider_is_unavailable():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    oidc = OidcClient(ISSUER, CLIENT, SECRET, http=httpx.Client(transport=httpx.MockTransport(down)))
    with pytest.raises(Unavailable):
        oidc.begin(REDIRECT)
