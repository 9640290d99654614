"""The tests' OpenID provider (tests/oidc: npm oidc-provider) works as a relying party will use it:
the authorization code flow with PKCE, done with httpx alone (no registry), its ID token checked
with joserfc (Authlib's JOSE) against the provider's published keys; PKCE, the password and the registered
redirect URI are enforced."""
from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.oidc import OidcClient, authorize_url, pkce_pair, sign_in


def _redirected(resp: httpx.Response) -> dict[str, str]:
    query = parse_qs(urlsplit(urljoin(str(resp.url), resp.headers["location"])).query)
    return {k: v[0] for k, v in query.items()}


def _code_flow(provider, client: OidcClient, username: str) -> tuple[dict, dict]:
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    with httpx.Client(timeout=10) as browser:  # cookies of the provider's session, as a browser keeps them
        back = _redirected(sign_in(browser, authorize_url(provider, client, state=state, nonce=nonce, challenge=challenge),
                                   username, leave_at=client.redirect_uri))
    assert back["state"] == state and back["iss"] == provider.issuer and "code" in back, back
    config = provider.configuration()
    with httpx.Client(timeout=10) as rp:
        tokens = rp.post(config["token_endpoint"], auth=(client.client_id, client.client_secret),
                         data={"grant_type": "authorization_code", "code": back["code"],
                               "redirect_uri": client.redirect_uri, "code_verifier": verifier})
        assert tokens.status_code == 200, tokens.text
        keys = KeySet.import_key_set(rp.get(config["jwks_uri"]).json())
        claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["RS256"]).claims  # the signature
        jwt.JWTClaimsRegistry(leeway=5, iss={"essential": True, "value": provider.issuer},
                              aud={"essential": True, "value": client.client_id},
                              nonce={"essential": True, "value": nonce}).validate(claims)
        info = rp.get(config["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
        assert info.status_code == 200, info.text
    return dict(claims), info.json()


def test_discovery_names_an_http_issuer_on_loopback_with_s256_only(oidc_provider):
    config = oidc_provider.configuration()
    assert config["issuer"] == oidc_provider.issuer and oidc_provider.issuer.startswith("http://127.0.0.1:")
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["authorization_endpoint"] == oidc_provider.issuer + "/auth"


def test_code_flow_with_pkce_over_httpx(oidc_provider):
    claims, info = _code_flow(oidc_provider, oidc_provider.client, "dana.h")
    assert claims["sub"] == "dana.h"
    assert claims["email"] == "dana.h@example.test" and claims["email_verified"] is True
    assert info == {"sub": "dana.h", "email": "dana.h@example.test", "email_verified": True,
                    "name": "dana.h", "preferred_username": "dana.h"}


def test_a_registered_client_signs_in_at_its_own_redirect_uri_only(oidc_provider):
    client = oidc_provider.register("http://127.0.0.1:9/registry/callback")
    assert client.client_id != oidc_provider.client_id
    claims, _ = _code_flow(oidc_provider, client, "erin")
    assert claims["aud"] == client.client_id
    stolen = OidcClient(client.client_id, client.client_secret, oidc_provider.redirect_uri)
    _, challenge = pkce_pair()
    resp = httpx.get(authorize_url(oidc_provider, stolen, state="s", nonce="n", challenge=challenge))
    assert resp.status_code == 400 and "redirect_uri" in resp.text  # shown, never redirected to


def test_pkce_is_required_and_checked(oidc_provider):
    client = oidc_provider.client
    url = authorize_url(oidc_provider, client, state="s1", nonce="n1", challenge="")
    resp = httpx.get(url.replace("&code_challenge=&code_challenge_method=S256", ""))
    assert resp.is_redirect and _redirected(resp)["error"] == "invalid_request"
    assert "PKCE" in _redirected(resp)["error_description"]
    _, challenge = pkce_pair()
    with httpx.Client(timeout=10) as browser:
        back = _redirected(sign_in(browser, authorize_url(oidc_provider, client, state="s2", nonce="n2", challenge=challenge),
                                   "frank", leave_at=client.redirect_uri))
    wrong, _ = pkce_pair()
    resp = httpx.post(oidc_provider.configuration()["token_endpoint"], auth=(client.client_id, client.client_secret),
                      data={"grant_type": "authorization_code", "code": back["code"], "redirect_uri": client.redirect_uri,
                            "code_verifier": wrong})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("login", "password", "status", "says"), [
    ("gail", "not the password", 401, "Wrong password."),
    ("<script>", None, 400, "Username: letters"),
])
def test_the_sign_in_page_refuses_a_wrong_password_or_username(oidc_provider, login, password, status, says):
    _, challenge = pkce_pair()
    url = authorize_url(oidc_provider, oidc_provider.client, state="s", nonce="n", challenge=challenge)
    with httpx.Client(timeout=10, follow_redirects=True) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and 'name="password"' in page.text
        resp = browser.post(page.url, data={"login": login, "password": password or oidc_provider.password})
        assert resp.status_code == status and says in resp.text and "<script>" not in resp.text
        # Cancel: through the provider's resume step, back to the client with an error
        resp = browser.get(str(page.url) + "/abort", follow_redirects=False)
        while not urljoin(str(resp.url), resp.headers["location"]).startswith(oidc_provider.redirect_uri):
            resp = browser.get(urljoin(str(resp.url), resp.headers["location"]), follow_redirects=False)
    assert _redirected(resp)["error"] == "access_denied"
