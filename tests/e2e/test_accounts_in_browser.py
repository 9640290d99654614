"""Accounts in Chromium against `registry serve` with a real SMTP server, a real OpenID provider and
Chromium's virtual authenticator: the issue's whole flow (join, confirm the address by the mail
received, sign in, enrol an authenticator app from the shown secret, sign in with a code and with a
recovery code, register a passkey and sign in with it, sign in through the provider, export,
delete); every account page with no axe-core WCAG 2.1 AA violation and no horizontal scroll at
375 px; signing in by keyboard alone; a session signed out from another browser.

The registry is opened at http://localhost:PORT and is its own base URL there (WebAuthn refuses
IP addresses: tests/webauthn.py)."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.accounts_web import PASSWORD, WebClient, new_ip
from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.integration.conftest import Env
from tests.keyboard import activate, fill_by_keyboard
from tests.mail import first_link
from tests.services import free_port, registry_server
from tests.webauthn import add_virtual_authenticator

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(tmp_path_factory, smtp_server, oidc_provider) -> Iterator[Env]:
    port = free_port()
    base = f"http://localhost:{port}"
    client = oidc_provider.register(f"{base}/login/oidc/callback")
    extra = {"REGISTRY_BASE_URL": base, "REGISTRY_SMTP_URL": smtp_server.url,
             "REGISTRY_MAIL_FROM": "registry@example.test", "REGISTRY_OIDC_ISSUER": oidc_provider.issuer,
             "REGISTRY_OIDC_CLIENT_ID": client.client_id, "REGISTRY_OIDC_CLIENT_SECRET": client.client_secret,
             "REGISTRY_OIDC_NAME": "Test provider"}
    with registry_server(tmp_path_factory.mktemp("srv-accounts-web") / "data", extra, port=port) as server:
        tokens = server.accounts(("alice", "bob"), {"alice": ("alice", "write"), "bob": ("bob", "write")})
        tokens["root"] = server.user("root", "admin", admin=True)
        server.url = base  # the pages, links and passkeys all speak of localhost
        yield Env(server, "local", tokens)


def _open(open_page, site: Env, **kwargs) -> Page:
    page = open_page(site.url, **kwargs)
    page.context.set_extra_http_headers({"X-Forwarded-For": new_ip()})  # a client address of its own
    return page


def _checked(page: Page, name: str | None = None) -> None:
    """No axe-core violation, no horizontal scroll at 375 px (then back to the desktop width)."""
    assert_accessible(page)
    assert_fits_width(page)
    if name:
        screenshot(page, f"accounts-{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def _who(page: Page) -> str | None:
    found = page.locator("header a.who")
    return found.inner_text() if found.count() else None


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.locator("#notice")).to_have_text("You are signed out.")


def _sign_in_with_password(page: Page, user: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_join_verify_two_factors_passkey_single_sign_on_export_and_delete(site, open_page, smtp_server, oidc_provider):
    page = _open(open_page, site)
    authenticator = add_virtual_authenticator(page)

    # Join, and confirm the address by the link the SMTP server received.
    page.goto("/join")
    _checked(page, "join")
    page.get_by_label("Username", exact=True).fill("nora")
    page.get_by_label("Email address").fill("nora@example.test")
    page.get_by_label("Password", exact=True).fill("password1234")  # long enough for the browser's own check
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Password: too easy to guess")
    _checked(page, "join-refused")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/account\?notice=verify_sent$"))
    assert _who(page) == "nora"
    link = first_link(smtp_server.wait_for_mail("nora@example.test"))
    assert link.startswith(f"{site.url}/join/verify?token=")
    page.goto(link)
    _checked(page, "verify")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#email-status")).to_contain_text("confirmed")
    _checked(page, "account")

    # An authenticator app, enrolled from the secret the page shows (pyotp computes the code).
    page.goto("/settings/security")
    _checked(page, "security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    _checked(page, "security-totp")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    _checked(page, "recovery-codes")

    # Sign out; sign in with a code from the app (the next step: this one was used to enrol).
    _sign_out(page)
    _sign_in_with_password(page, "nora")
    expect(page).to_have_url(re.compile(r"/login/2fa$"))
    assert _who(page) is None
    _checked(page, "second-factor")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("header a.who")).to_have_text("nora")

    # ... and with a recovery code.
    _sign_out(page)
    _sign_in_with_password(page, "nora@example.test")
    page.get_by_role("textbox", name="Recovery code").fill(codes[0])
    page.get_by_role("button", name="Use recovery code").click()
    expect(page.locator("header a.who")).to_have_text("nora")

    # A passkey, made by the virtual authenticator; then a sign-in with it alone.
    page.goto("/settings/security")
    page.get_by_label("Name of the new passkey").fill("laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-list")).to_contain_text("laptop")
    assert [c["rpId"] for c in authenticator.credentials()] == ["localhost"]
    _checked(page, "passkeys")
    _sign_out(page)
    page.goto("/login")
    _checked(page, "login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("header a.who")).to_have_text("nora")

    # Single sign-on: a new identity at the provider, linked to this account by its owner.
    page.goto("/login/oidc")
    page.get_by_role("heading", name="Sign in to the test provider").wait_for()
    page.get_by_label("Username").fill("nora-sso")
    page.get_by_label("Password").fill(oidc_provider.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, nora-sso")).to_be_visible()
    _checked(page, "sso-new-identity")
    page.get_by_role("button", name="Link to nora").click()
    expect(page.locator("#identities")).to_contain_text("nora-sso@example.test")
    _sign_out(page)
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Test provider").click()  # the provider remembers her
    expect(page).to_have_url(re.compile(r"/login/2fa$"))  # a second factor still follows
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("header a.who")).to_have_text("nora")

    # Export everything held about her.
    page.goto("/settings/account")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["profile"]["username"] == "nora" and data["profile"]["email_verified"] is True
    assert data["two_factor"]["totp"] is True and data["two_factor"]["recovery_codes_left"] == 9
    assert [k["name"] for k in data["two_factor"]["passkeys"]] == ["laptop"]
    assert [i["subject"] for i in data["sso_identities"]] == ["nora-sso"]
    methods = [e["payload"].get("method") for e in data["events"] if e["action"] == "user.signed_in"]
    assert {"password", "passkey", "sso"} <= set(methods)

    # Remove the passkey (proof first); the authenticator app remains.
    page.goto("/settings/security")
    page.get_by_label("Your password, a code from your authenticator, or a recovery code").last.fill(PASSWORD)
    page.get_by_role("button", name="Remove laptop").click()
    expect(page.locator("#notice")).to_contain_text("The passkey is removed")
    expect(page.locator("#passkey-list")).to_have_count(0)

    # Delete the account: one template handed to bob, one deleted.
    page.goto("/settings/tokens")
    page.get_by_label("Scope").select_option("write")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token code").inner_text().strip()
    with httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}) as api:
        for name in ("nora-keep", "nora-drop"):
            assert api.post("/templates", json={"name": name}).status_code == 201
    page.goto("/settings/account")
    page.get_by_label("What happens to nora/nora-keep").select_option("transfer")
    page.get_by_label("New owner of nora/nora-keep").fill("bob")
    page.get_by_label("Your password, or a code from your authenticator or a recovery code").fill(PASSWORD)
    page.get_by_label("Type your username").fill("nora")
    _checked(page, "delete")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#notice")).to_have_text("Your account is deleted.")
    assert _who(page) is None
    with httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {site.tokens['bob']}"}) as api:
        assert api.get("/templates/bob/nora-keep").json()["owner"] == "bob"
        assert api.get("/templates/nora/nora-drop").status_code == 404


def test_the_other_account_pages_pass_axe_and_fit_a_phone(site, open_page):
    page = _open(open_page, site)
    for path in ("/login/reset", "/login/reset?token=made-up", "/join?invite=made-up", "/settings/account"):
        page.goto(path)
        _checked(page)
    assert page.get_by_role("link", name="Sign in").first.is_visible()  # the 401 page says where to go
    page.goto("/login/reset")
    page.get_by_label("Username or email").fill("nobody-in-particular")
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.locator("#notice")).to_contain_text("If there is an account for it")
    _checked(page, "reset-requested")
    page.goto("/login")
    page.locator("#token-form").get_by_label("User", exact=True).fill("root")
    page.locator("#token-form").get_by_label("Token").fill(site.tokens["root"])
    page.get_by_role("button", name="Sign in with the token").click()
    expect(page.locator("header a.who")).to_have_text("root")
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.locator("#count-users")).not_to_have_text("0")
    _checked(page, "admin")
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Invite someone by email address").fill("guest@example.test")
    page.get_by_role("button", name="Make an invite link").click()
    expect(page.locator("#new-link code")).to_contain_text("/join?invite=")
    _checked(page, "admin-users")
    page.get_by_label("Find users by name or address").fill("bob")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Disable bob").click()
    expect(page.locator("#user-bob")).to_contain_text("disabled")
    page.get_by_role("button", name="Enable bob").click()
    expect(page.locator("#user-bob")).not_to_contain_text("disabled")


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_signing_in_by_keyboard_alone_and_next_stays_on_this_site(site, open_page, js):
    name = f"kim-{'js' if js else 'nojs'}"
    WebClient(site.url).join(name, f"{name}@example.test")
    page = _open(open_page, site, js=js)
    page.goto("/login?next=//evil.example/")
    fill_by_keyboard(page, "Username or email", name)
    fill_by_keyboard(page, "Password", PASSWORD)
    activate(page, "Enter")  # Enter in a field submits its form
    expect(page.locator("header a.who")).to_have_text(name)
    assert page.url == site.url + "/"


def test_a_session_signed_out_from_another_browser_is_out_on_its_next_request(site, open_page):
    def signed_in() -> Page:
        page = _open(open_page, site)
        page.goto("/login")
        page.locator("#token-form").get_by_label("User", exact=True).fill("alice")
        page.locator("#token-form").get_by_label("Token").fill(site.tokens["alice"])
        page.get_by_role("button", name="Sign in with the token").click()
        expect(page.locator("header a.who")).to_have_text("alice")
        return page

    laptop, phone = signed_in(), signed_in()
    laptop.goto("/settings/security")
    rows = laptop.locator("#session-list tbody tr")
    other = rows.filter(has_not_text="(this session)").first
    other.get_by_role("button").click()
    expect(laptop.locator("#notice")).to_have_text("That session is signed out.")
    phone.reload()
    expect(phone.get_by_role("link", name="Sign in")).to_be_visible()
    assert _who(phone) is None and _who(laptop) == "alice"
