"""What keeps accounts safe, over HTTP against `registry serve` (a real SMTP server for resets):
sign-in, reset and joining throttled per account and per IP with 429 and Retry-After while the
owner's own browser still signs in; a session ended from the sessions page, by a password change
or by disabling the user fails on its very next request; the admin pages (list, search, disable,
enable, make admin, invite and reset links) and who may see them."""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from tests.accounts_web import OTHER_PASSWORD, PASSWORD, WebClient, csrf_of, error_of
from tests.integration.conftest import Env, _start
from tests.mail import first_link

pytestmark = pytest.mark.timeout(300)
WRONG = "wrong-password-42"


@pytest.fixture(scope="module")
def site(tmp_path_factory, smtp_server) -> Iterator[Env]:
    for env in _start(tmp_path_factory.mktemp("srv-abuse"), "local", None,
                      {"REGISTRY_SMTP_URL": smtp_server.url, "REGISTRY_MAIL_FROM": "registry@example.test"}):
        env.tokens["root"] = env.server.user("root", "admin", admin=True)
        yield env


def _throttled(resp: httpx.Response, what: str) -> None:
    assert resp.status_code == 429, f"{resp.status_code}: {error_of(resp.text) or resp.text[:300]}"
    assert 0 < int(resp.headers["retry-after"]) <= 3600
    assert f"too many {what}" in resp.text


def test_sign_in_is_throttled_per_account_but_never_against_the_owners_own_browser(site):
    owner = WebClient(site.url)
    owner.join("thea", "thea@example.test")
    owner.post("/logout", {}, page="/")
    for _ in range(10):  # ten guesses, each from another address: no IP's limit is reached
        assert WebClient(site.url).sign_in("thea", WRONG).status_code == 401
    _throttled(WebClient(site.url).sign_in("thea", WRONG), "sign-in attempts")
    _throttled(WebClient(site.url).sign_in("THEA", PASSWORD), "sign-in attempts")  # even the right one
    assert owner.sign_in("thea").headers["location"] == "/"  # her browser signed in before: its own bucket
    assert owner.who() == "thea"
    assert WebClient(site.url).sign_in("alice", WRONG).status_code == 401  # other accounts are untouched


def test_sign_in_is_throttled_per_ip(site):
    """Failures of every kind from one address share its bucket: wrong passwords for many accounts
    and passkey answers that do not check out (cheap to make, so most of the thirty are those)."""
    guesser = WebClient(site.url)
    for n in range(5):
        assert guesser.sign_in(f"nobody-{n}", WRONG).status_code == 401
    csrf = csrf_of(guesser.get("/login").text)
    for _ in range(25):
        bad = guesser.http.post("/login/passkey", data={"csrf": csrf, "handle": "made-up", "credential": "{}"})
        assert bad.status_code == 401 and "start again" in error_of(bad.text)
    _throttled(guesser.sign_in("nobody-else", WRONG), "sign-in attempts")
    _throttled(guesser.http.post("/login/passkey", data={"csrf": csrf, "handle": "x", "credential": "{}"}),
               "sign-in attempts")
    assert WebClient(site.url).sign_in("nobody-else", WRONG).status_code == 401  # another address is not


def test_second_factor_codes_count_against_the_same_buckets(site):
    web = WebClient(site.url)
    web.join("ugo", "ugo@example.test")
    page = web.post("/settings/security/totp", {}, page="/settings/security")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    handle = re.search(r'name="handle" value="([^"]+)"', page.text).group(1)
    web.http.post("/settings/security/totp/confirm",
                  data={"csrf": csrf_of(page.text), "handle": handle, "code": pyotp.TOTP(secret).now()})
    stranger = WebClient(site.url)
    assert stranger.sign_in("ugo").headers["location"] == "/login/2fa"  # the password leaked, say
    for _ in range(10):
        assert stranger.post("/login/2fa", {"code": "123456"}, page="/login/2fa").status_code == 401
    _throttled(stranger.post("/login/2fa", {"code": "123456"}, page="/login/2fa"), "sign-in attempts")


def test_reset_requests_are_throttled_per_account_and_mail_only_real_accounts(site, smtp_server):
    WebClient(site.url).join("rosa", "rosa@example.test")
    smtp_server.wait_for_mail("rosa@example.test")  # the verification mail
    for _ in range(3):
        asked = WebClient(site.url).post("/login/reset", {"user": "rosa"})
        assert asked.status_code == 200 and "If there is an account for it" in asked.text
    _throttled(WebClient(site.url).post("/login/reset", {"user": "rosa"}), "password reset requests")
    nobody = WebClient(site.url).post("/login/reset", {"user": "nobody-at-all"})
    assert nobody.status_code == 200 and "If there is an account for it" in nobody.text  # the same answer
    links = [first_link(smtp_server.wait_for_mail("rosa@example.test")) for _ in range(3)]  # three, not four
    assert smtp_server.pending("rosa@example.test") == 0
    link = links[-1]  # the newest link is the one that works
    assert link.startswith(f"{site.url}/login/reset?token=")
    web = WebClient(site.url)
    form = web.get(link)
    assert form.status_code == 200 and "New password" in form.text
    token = link.split("token=")[1]
    weak = web.http.post("/login/reset/set", data={"csrf": csrf_of(form.text), "token": token, "password": "rosa123456"})
    assert weak.status_code == 400 and error_of(weak.text).startswith("Password: too easy to guess")
    done = web.http.post("/login/reset/set", data={"csrf": csrf_of(form.text), "token": token, "password": OTHER_PASSWORD})
    assert done.headers["location"] == "/login?notice=password_reset"
    assert WebClient(site.url).sign_in("rosa", OTHER_PASSWORD).status_code == 303
    again = web.http.post("/login/reset/set", data={"csrf": csrf_of(web.get(link).text), "token": token,
                                                    "password": PASSWORD})
    assert again.status_code == 400 and "not valid" in error_of(again.text)


def test_joining_is_throttled_per_ip(site):
    web = WebClient(site.url)
    for n in range(20):
        assert web.post("/join", {"username": f"spam-{n}", "email": f"spam{n}@example.test",
                                  "password": "short"}).status_code == 400
    _throttled(web.post("/join", {"username": "spam-x", "email": "x@example.test", "password": PASSWORD}),
               "attempts to join")


def _sessions(web: WebClient) -> dict[int, bool]:
    """Session id -> whether it is the one asking, from the sessions page."""
    page = web.get("/settings/security").text
    rows = re.findall(r'<tr id="session-(\d+)">(.*?)</tr>', page, re.S)
    return {int(n): "(this session)" in row for n, row in rows}


def test_a_session_signed_out_from_the_sessions_page_fails_on_its_next_request(site):
    phone, laptop, tablet = WebClient(site.url), WebClient(site.url), WebClient(site.url)
    phone.join("sven", "sven@example.test")
    laptop.sign_in("sven")
    listed = _sessions(phone)
    assert len(listed) == 2 and sum(listed.values()) == 1
    assert "Firefox on Linux" in phone.get("/settings/security").text
    other = next(n for n, mine in listed.items() if not mine)
    ended = phone.post(f"/settings/security/sessions/{other}/end", {}, page="/settings/security")
    assert ended.headers["location"].startswith("/settings/security?notice=session_ended")
    assert laptop.get("/settings/account").status_code == 401 and laptop.who() is None
    laptop.sign_in("sven")
    tablet.sign_in("sven")
    phone.post("/settings/security/sessions/end-others", {}, page="/settings/security")
    assert laptop.who() is None and tablet.who() is None and phone.who() == "sven"
    laptop.sign_in("sven")
    phone.post("/settings/account/password", {"current_password": PASSWORD, "new_password": OTHER_PASSWORD},
               page="/settings/account")
    assert laptop.who() is None and phone.who() == "sven"  # a changed password ends every other session
    mine = next(n for n, me in _sessions(phone).items() if me)
    out = phone.post(f"/settings/security/sessions/{mine}/end", {}, page="/settings/security")
    assert out.headers["location"] == "/?notice=signed_out" and phone.who() is None


def test_a_session_begun_with_a_token_ends_with_it_and_acts_with_its_scope(site):
    web = WebClient(site.url)
    with httpx.Client(base_url=site.url + "/api/v1", headers={"Authorization": f"Bearer {site.tokens['alice']}"}) as api:
        made = api.post("/user/tokens", json={"scope": "read"}).json()
        web.post("/login", {"user": "alice", "token": made["token"]})
        assert web.who() == "alice"
        page = web.get("/settings/tokens").text
        assert '<option value="write">' not in page  # a read token makes a read session
        assert web.post("/settings/tokens", {"scope": "write"}).status_code == 403
        assert api.delete(f"/user/tokens/{made['id']}").status_code == 204
    assert web.who() is None


def _admin(site: Env) -> WebClient:
    web = WebClient(site.url)
    web.post("/login", {"user": "root", "token": site.tokens["root"]})
    return web


def test_a_disabled_user_is_out_at_once_and_cannot_sign_in(site):
    bob = WebClient(site.url)
    bob.post("/login", {"user": "bob", "token": site.tokens["bob"]})
    WebClient(site.url).join("bea", "bea@example.test")
    bea = WebClient(site.url)
    bea.sign_in("bea")
    admin = _admin(site)
    for name in ("bob", "bea"):
        assert admin.post(f"/admin/users/{name}/disabled", {"value": "true"}, page="/admin/users").status_code == 303
    assert bob.who() is None and bea.who() is None
    refused = WebClient(site.url).sign_in("bea")
    assert refused.status_code == 401 and "disabled" in error_of(refused.text)
    api = httpx.get(site.url + "/api/v1/user", headers={"Authorization": f"Bearer {site.tokens['bob']}"})
    assert api.status_code == 401 and api.json()["error"]["code"] == "account_disabled"
    listing = admin.get("/admin/users", params={"q": "bea"}).text
    assert 'id="user-bea"' in listing and "disabled</span>" in listing
    for name in ("bob", "bea"):
        admin.post(f"/admin/users/{name}/disabled", {"value": "false"}, page="/admin/users")
    assert WebClient(site.url).sign_in("bea").status_code == 303
    assert httpx.get(site.url + "/api/v1/user", headers={"Authorization": f"Bearer {site.tokens['bob']}"}).status_code == 200


def test_admin_pages_list_search_promote_invite_and_reset(site, smtp_server):
    assert WebClient(site.url).get("/admin").status_code == 401
    alice = WebClient(site.url)
    alice.post("/login", {"user": "alice", "token": site.tokens["alice"]})
    assert alice.get("/admin").status_code == 403 and alice.get("/admin/users").status_code == 403
    assert "/admin" not in alice.get("/").text.split("</header>")[0]
    admin = _admin(site)
    assert '<a href="/admin">Admin</a>' in admin.get("/").text
    dashboard = admin.get("/admin").text
    assert int(re.search(r'id="count-users">(\d+)<', dashboard).group(1)) >= 3
    assert 'id="user-alice"' in admin.get("/admin/users", params={"q": "alice"}).text
    admin.post("/admin/users/alice/admin", {"value": "true"}, page="/admin/users")
    assert "admin</span>" in admin.get("/admin/users", params={"q": "alice"}).text
    admin.post("/admin/users/alice/admin", {"value": "false"}, page="/admin/users")
    invited = admin.post("/admin/invites", {"email": "New.Person@example.test"}, page="/admin/users")
    link = re.search(r'id="new-link".*?<code>([^<]+)</code>', invited.text, re.S).group(1)
    assert link.startswith(f"{site.url}/join?invite=") and first_link(
        smtp_server.wait_for_mail("new.person@example.test")) == link
    newcomer = WebClient(site.url)
    assert 'value="new.person@example.test"' in newcomer.get(link).text  # the address the invite was for
    newcomer.post("/join", {"username": "newcomer", "email": "new.person@example.test", "password": PASSWORD,
                            "invite": link.split("invite=")[1]}, page="/join")
    assert newcomer.who() == "newcomer"
    taken = admin.post("/admin/invites", {"email": "new.person@example.test"}, page="/admin/users")
    assert taken.status_code == 409 and "an account with this email address exists" in error_of(taken.text)
    reset = admin.post("/admin/users/newcomer/reset-link", {}, page="/admin/users")
    url = re.search(r'id="new-link".*?<code>([^<]+)</code>', reset.text, re.S).group(1)
    web = WebClient(site.url)
    form = web.get(url)
    done = web.http.post("/login/reset/set", data={"csrf": csrf_of(form.text), "token": url.split("token=")[1],
                                                   "password": OTHER_PASSWORD})
    assert done.status_code == 303 and newcomer.who() is None  # every session of the account ended
    assert WebClient(site.url).sign_in("newcomer", OTHER_PASSWORD).status_code == 303
    bad = admin.post("/admin/invites", {"email": "nope"}, page="/admin/users")
    assert bad.status_code == 400 and error_of(bad.text).startswith("Email address:")
