"""A real OpenID provider for the tests: npm's `oidc-provider` (OpenID-certified), run by
tests/oidc/provider.mjs on 127.0.0.1, and what a relying party in a test needs to use it:
PKCE pairs, the authorization URL, and signing in through the provider's own page with httpx.

The session's provider (fixture `oidc_provider`, tests/conftest.py) has one confidential client
made at start, whose redirect URI is a small page of the test process (`provider.landing`): it
records every arrival (a browser test reads the code from `landing.last()`; an httpx test reads
it off the redirect without following it). Playwright's router is no substitute: Chromium sent
a redirect's target past it (connection refused) and only its retry was routed. A relying party whose own
port is known only later (the registry under test) registers a client of its own with
`provider.register(redirect_uri)`: standard Dynamic Client Registration against the same process."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from tests.nodetools import node, node_modules

SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
PASSWORD = "correct horse"  # any username signs in with it
SCOPE = "openid email profile"
_READY = re.compile(r"^ready (http://127\.0\.0\.1:\d+)$", re.M)


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str
    redirect_uri: str


class Landing:
    """A relying party's redirect URI for tests that have none: every arrival is recorded and
    answered with a small page (heading "Signed in")."""

    PAGE = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back at the client</title></head>'
            b'<body><main><h1>Signed in</h1></main></body></html>')

    def __init__(self, path: str = "/oidc/callback") -> None:
        self.arrivals: list[str] = []
        landing = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                landing.arrivals.append(f"{landing.origin}{self.path}")
                self.send_response(200)
                for key, value in (("content-type", "text/html; charset=utf-8"), ("content-length", str(len(landing.PAGE))),
                                   ("content-security-policy", "default-src 'none'")):
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(landing.PAGE)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.origin + path
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def last(self) -> dict[str, str]:
        """The query of the latest arrival: code, state, iss (or error, error_description)."""
        assert self.arrivals, f"nothing arrived at {self.url}"
        return {k: v[0] for k, v in parse_qs(urlsplit(self.arrivals[-1]).query).items()}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    password: str
    registration_token: str
    log: Path
    landing: Landing | None  # what answers at redirect_uri, when run_provider made it

    @property
    def client(self) -> OidcClient:
        return OidcClient(self.client_id, self.client_secret, self.redirect_uri)

    def configuration(self) -> dict:
        resp = httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def register(self, redirect_uri: str, auth_method: str = "client_secret_basic") -> OidcClient:
        """A new confidential client (code flow, PKCE required like every client here)."""
        resp = httpx.post(self.issuer + "/reg", timeout=10, headers={"Authorization": f"Bearer {self.registration_token}"},
                          json={"redirect_uris": [redirect_uri], "response_types": ["code"],
                                "grant_types": ["authorization_code"], "token_endpoint_auth_method": auth_method})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        return OidcClient(body["client_id"], body["client_secret"], redirect_uri)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(provider: OidcProvider, client: OidcClient, *, state: str, nonce: str, challenge: str,
                  scope: str = SCOPE, **extra: str) -> str:
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
             "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
             "code_challenge_method": "S256", **extra}
    return f"{provider.issuer}/auth?{urlencode(query)}"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.action is None and (a.get("method") or "").lower() == "post":
            self.action = a.get("action") or ""
        elif tag == "input" and self.action is not None and a.get("name"):
            self.fields[a["name"] or ""] = a.get("value") or ""


def sign_in(http: httpx.Client, url: str, username: str, password: str = PASSWORD, *, leave_at: str) -> httpx.Response:
    """Follow `url` (an authorization request) through the provider as a browser would, posting its
    sign-in form with `username` and `password`, until a redirect points at `leave_at` (the
    client's redirect URI); that redirect is returned, not followed. `http` keeps the cookies."""
    resp = http.get(url)
    for _ in range(20):
        if resp.is_redirect:
            target = urljoin(str(resp.url), resp.headers["location"])
            if target.startswith(leave_at):
                return resp
            resp = http.get(target)
            continue
        form = _Form()
        form.feed(resp.text)
        assert form.action is not None, f"{resp.status_code} from {resp.url} is neither a redirect nor a form:\n{resp.text[:1500]}"
        resp = http.post(urljoin(str(resp.url), form.action), data={**form.fields, "login": username, "password": password})
    raise AssertionError(f"no redirect to {leave_at} after 20 steps; last: {resp.status_code} {resp.url}")


@contextmanager
def run_provider(log_dir: Path, redirect_uri: str | None = None, password: str = PASSWORD) -> Iterator[OidcProvider]:
    """`node tests/oidc/provider.mjs` on a port the system picks; ready once its discovery document answers."""
    node_modules()
    landing = Landing() if redirect_uri is None else None
    redirect_uri = landing.url if landing else redirect_uri
    assert redirect_uri is not None
    client_id, client_secret, token = "registry-tests", secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    log = log_dir / f"oidc-provider-{secrets.token_hex(4)}.log"
    with open(log, "ab") as out:  # --port 0: the provider binds a port the system picks and names it
        # --name=value: a random value may begin with "-", which node's parseArgs then takes for an option
        proc = subprocess.Popen([node(), str(SCRIPT), "--port=0", f"--client-id={client_id}",
                                 f"--client-secret={client_secret}", f"--redirect-uri={redirect_uri}",
                                 f"--password={password}", f"--registration-token={token}"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        issuer = None
        while True:
            if issuer is None and (ready := _READY.search(log.read_text(errors="replace"))):
                issuer = ready.group(1)
            try:
                if issuer and httpx.get(issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the OpenID provider did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield OidcProvider(issuer, client_id, client_secret, redirect_uri, password, token, log, landing)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if landing is not None:
            landing.close()
