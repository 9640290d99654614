"""The web layer's own rules, in process: where `next=` may lead, the session cookie's flags on an
https site (Secure) and the secret it holds (nothing but the session's), a new secret at sign-in,
and the sessions page's names for devices."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web.navigation import safe_next
from api.web.security import device
from registry.container import Container
from registry.services import accounts_sessions
from registry.settings import Settings
from tests.accounts_web import PASSWORD, csrf_of

BASE = "https://reg.example.com"


@pytest.mark.parametrize("value", ["//evil.example", "/\\evil.example", "https://evil.example", "http:/x", "x/y",
                                   "/\t/evil.example", "/\r\n/x", "javascript:alert(1)", "", None, "/" + "a" * 3000])
def test_next_refuses_anything_but_a_path_of_this_site(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", ["/", "/alice/demo", "/alice/demo/pulls?state=all#x", "/settings/account#delete"])
def test_next_keeps_a_path_of_this_site(value):
    assert safe_next(value) == value


def test_devices_are_named_for_people():
    assert device("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0") == "Firefox on Linux"
    assert device("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 "
                  "Mobile/15E148 Safari/604.1") == "Safari on iPhone"
    assert device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36 "
                  "Edg/140.0") == "Edge on Windows"
    assert device(None) == "unknown device" and device("curl/8.5.0") == "curl"


def test_on_an_https_site_the_session_cookie_is_secure_and_holds_only_the_secret(tmp_path):
    c = Container.build(Settings(data_dir=tmp_path / "data", base_url=BASE))
    web = TestClient(create_app(c, BASE), base_url=BASE, headers={"Origin": BASE})
    joined = web.post("/join", data={"csrf": csrf_of(web.get("/join").text), "username": "ada",
                                     "email": "ada@example.com", "password": PASSWORD}, follow_redirects=False)
    assert joined.status_code == 303
    cookies = joined.headers.get_list("set-cookie")
    session = next(v for v in cookies if v.startswith("registry_session="))
    assert all(flag in session.lower() for flag in ("secure", "httponly", "samesite=lax", "path=/"))
    secret = re.match(r"registry_session=([^;]+)", session).group(1)
    assert accounts_sessions.current(c, secret).user.name == "ada"  # the cookie is the session's secret, no more
    assert len(secret) == 43
    out = web.post("/logout", data={"csrf": csrf_of(web.get("/settings/account").text)}, follow_redirects=False)
    assert out.status_code == 303 and accounts_sessions.current(c, secret) is None
    again = web.post("/login", data={"csrf": csrf_of(web.get("/login").text), "user": "ada", "password": PASSWORD},
                     follow_redirects=False)
    fresh = re.search(r"registry_session=([^;]+)", again.headers["set-cookie"]).group(1)
    assert fresh != secret and accounts_sessions.current(c, fresh) is not None  # a new secret at sign-in
    c.close()
