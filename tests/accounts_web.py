"""A browser's part in the account pages, over plain HTTP (httpx): its own cookies, its own client
address (X-Forwarded-For, which `registry serve` trusts from the loopback as uvicorn does, so the
per-IP throttles and limits of one test do not touch another's), forms posted with the CSRF token
of the page they are on. Shared by the integration and browser tests of accounts."""
from __future__ import annotations

import itertools
import os
import re
from urllib.parse import urljoin

import httpx

PASSWORD = "violet-lantern-orbit-57"
OTHER_PASSWORD = "copper-meadow-tundra-91"
_IPS = itertools.count(1)


def new_ip() -> str:
    """A client address no other client of this test process has had (TEST-NET and 10/8)."""
    n = next(_IPS) + (os.getpid() % 200) * 1000
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, f"no CSRF token on the page:\n{html[:2000]}"
    return found.group(1)


def error_of(html: str) -> str:
    """The text of the page's error box (the field and reason of a refused form)."""
    found = re.search(r'id="error-message">(?:<p>)?(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


class WebClient:
    def __init__(self, url: str, ip: str | None = None) -> None:
        self.url = url
        self.ip = ip or new_ip()
        self.http = httpx.Client(base_url=url, timeout=30,
                                 headers={"Origin": url, "X-Forwarded-For": self.ip, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"})

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict, page: str | None = None, **kwargs) -> httpx.Response:
        """POST a form as the page `page` (default: `path` itself) would, with its CSRF token (the
        sign-in page's, when that page has no form: the token is the session's, not the page's)."""
        html = self.http.get(page or path.split("?")[0]).text
        if 'name="csrf"' not in html:
            html = self.http.get("/login").text
        return self.http.post(path, data={"csrf": csrf_of(html), **data}, **kwargs)

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:500]}"
        return self.http.get(urljoin(self.url, response.headers["location"]))

    def join(self, username: str, email: str, password: str = PASSWORD) -> httpx.Response:
        resp = self.post("/join", {"username": username, "email": email, "password": password})
        assert resp.status_code == 303, error_of(resp.text) or resp.text[:500]
        return resp

    def sign_in(self, user: str, password: str = PASSWORD, next_path: str = "/") -> httpx.Response:
        return self.post("/login", {"user": user, "password": password, "next": next_path})

    def who(self) -> str | None:
        """The signed-in user the header names, None when signed out."""
        found = re.search(r'class="who" href="/settings/account"[^>]*>([^<]+)</a>', self.get("/").text)
        return found.group(1) if found else None
