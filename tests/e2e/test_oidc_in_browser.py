"""The tests' OpenID provider signs a person in in Chromium: the code flow with PKCE, through the
provider's own sign-in page, typed into by keyboard; the browser lands on the fixture's relying
party page (`oidc_provider.landing`) and the test redeems the code with httpx."""
from __future__ import annotations

import secrets

import httpx

from tests.browser import assert_accessible, screenshot
from tests.keyboard import activate, fill_by_keyboard, tab_to
from tests.oidc import authorize_url, pkce_pair


def test_code_flow_with_pkce_in_chromium(open_page, oidc_provider):
    client = oidc_provider.client
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    page = open_page(oidc_provider.issuer)
    page.goto(authorize_url(oidc_provider, client, state=state, nonce=nonce, challenge=challenge))
    page.get_by_role("heading", name="Sign in to the test provider").wait_for()
    assert_accessible(page)
    fill_by_keyboard(page, "Username", "lena")
    fill_by_keyboard(page, "Password", "wrong")
    activate(page)
    page.get_by_role("alert").filter(has_text="Wrong password.").wait_for()
    screenshot(page, "oidc-provider-wrong-password")
    page.get_by_label("Password").fill(oidc_provider.password)
    tab_to(page, "Sign in", role="button")
    activate(page)
    page.get_by_role("heading", name="Signed in").wait_for()

    back = oidc_provider.landing.last()
    assert back["state"] == state and back["iss"] == oidc_provider.issuer
    config = oidc_provider.configuration()
    tokens = httpx.post(config["token_endpoint"], auth=(client.client_id, client.client_secret), timeout=10,
                        data={"grant_type": "authorization_code", "code": back["code"],
                              "redirect_uri": client.redirect_uri, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    info = httpx.get(config["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert info.json()["email"] == "lena@example.test"

    # The provider remembers the person: a second authorization asks nothing and comes straight back.
    _, challenge = pkce_pair()
    page.goto(authorize_url(oidc_provider, client, state="again", nonce="n2", challenge=challenge))
    page.get_by_role("heading", name="Signed in").wait_for()
    assert oidc_provider.landing.last()["state"] == "again"
