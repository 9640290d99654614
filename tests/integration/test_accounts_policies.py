"""A registry that lets people join only by invitation, asks everyone for a second factor
(REGISTRY_REQUIRE_2FA=all) and sends no mail: the join page and the reset page say so, an
invite link from `registry user invite` works once, and a session without a factor is sent to
the security page, whatever it asks for, until it has enrolled one."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest

from tests.accounts_web import PASSWORD, WebClient, csrf_of, error_of
from tests.integration.conftest import Env, _start

pytestmark = pytest.mark.timeout(300)
ENROL = "/settings/security?notice=enrol"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Env]:
    yield from _start(tmp_path_factory.mktemp("srv-policies"), "local", None,
                      {"REGISTRY_SIGNUP": "invite", "REGISTRY_REQUIRE_2FA": "all"})


def test_joining_needs_an_invite_that_works_once(site):
    web = WebClient(site.url)
    page = web.get("/join").text
    assert "needs an invite link" in page and 'action="/join"' not in page
    refused = web.post("/join", {"username": "olga", "email": "olga@example.test", "password": PASSWORD})
    assert refused.status_code == 403 and "invite link" in error_of(refused.text)
    assert "not valid" in web.get("/join", params={"invite": "made-up"}).text
    link = site.server.cli("user", "invite", "olga@example.test").stdout.strip()
    invite = link.split("invite=")[1]
    assert 'value="olga@example.test"' in web.get(link.replace(site.server.settings().public_base_url(), "")).text
    joined = web.post("/join", {"username": "olga", "email": "olga@example.test", "password": PASSWORD,
                                "invite": invite}, page="/join")
    assert joined.headers["location"] == ENROL
    again = WebClient(site.url).post("/join", {"username": "olga2", "email": "olga2@example.test",
                                               "password": PASSWORD, "invite": invite}, page="/join")
    assert again.status_code == 400 and "not valid" in error_of(again.text)


def test_a_session_without_a_factor_may_only_enrol_one(site):
    web = WebClient(site.url)
    assert web.post("/login", {"user": "alice", "token": site.tokens["alice"]}).headers["location"] == ENROL
    for path in ("/", "/settings/tokens", "/settings/account", "/admin/users", "/alice/anything"):
        assert web.get(path).headers.get("location") == ENROL, path
    assert web.post("/settings/tokens", {"scope": "read"}, page="/settings/security").headers["location"] == ENROL
    assert web.get("/api/v1/user").status_code == 401  # the API takes no such session either
    security = web.get("/settings/security")
    assert security.status_code == 200 and 'id="must-enrol"' in security.text
    page = web.post("/settings/security/totp", {}, page="/settings/security")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    handle = re.search(r'name="handle" value="([^"]+)"', page.text).group(1)
    done = web.http.post("/settings/security/totp/confirm",
                         data={"csrf": csrf_of(page.text), "handle": handle, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text
    assert web.get("/settings/tokens").status_code == 200 and web.who() == "alice"
    assert web.get("/api/v1/user").json()["two_factor"] is True


def test_without_mail_a_reset_is_an_admins_job(site):
    web = WebClient(site.url)
    assert "ask an admin to reset your password" in web.get("/login/reset").text
    asked = web.post("/login/reset", {"user": "alice"})
    assert asked.status_code == 400 and "sends no mail" in error_of(asked.text)
