"""Chromium's virtual authenticator makes and uses a passkey on a page of http://localhost, and
WebAuthn is refused on http://127.0.0.1 whatever the rp id (tests/webauthn.py says what follows)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.webauthn import RP_ID, add_virtual_authenticator, as_localhost

CREATE = """async (rpId) => {
  const rp = {name: 'Prompt registry'};
  if (rpId !== null) rp.id = rpId;
  try {
    const made = await navigator.credentials.create({publicKey: {
      rp, user: {id: new Uint8Array([7, 7, 7]), name: 'mona', displayName: 'Mona'},
      challenge: crypto.getRandomValues(new Uint8Array(32)), pubKeyCredParams: [{type: 'public-key', alg: -7}],
      authenticatorSelection: {residentKey: 'required', userVerification: 'required'}}});
    return {id: made.id, secure: isSecureContext};
  } catch (e) { return {error: `${e.name}: ${e.message}`, secure: isSecureContext}; }
}"""
GET = """async () => {
  try {
    const got = await navigator.credentials.get({publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)), rpId: 'localhost', userVerification: 'required'}});
    return {id: got.id, user: [...new Uint8Array(got.response.userHandle)]};
  } catch (e) { return {error: `${e.name}: ${e.message}`}; }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b'<!doctype html><html lang="en"><title>Passkeys</title><main><h1>Passkeys</h1></main></html>'
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_passkey_made_and_used_on_localhost_not_on_127_0_0_1(open_page, site):
    page = open_page()
    authenticator = add_virtual_authenticator(page)
    page.goto(site + "/")
    for rp_id in ("127.0.0.1", None):  # a secure context, but an IP address is no WebAuthn domain
        refused = page.evaluate(CREATE, rp_id)
        assert refused == {"error": "SecurityError: This is an invalid domain.", "secure": True}

    page.goto(as_localhost(site) + "/")
    assert page.url.startswith("http://localhost:")
    made = page.evaluate(CREATE, RP_ID)
    assert made["secure"] is True and "id" in made, made
    held = authenticator.credentials()
    assert [(c["rpId"], c["isResidentCredential"]) for c in held] == [("localhost", True)]

    page.goto(as_localhost(site) + "/sign-in")  # another page: the tab keeps its authenticator
    used = page.evaluate(GET)
    assert used == {"id": made["id"], "user": [7, 7, 7]}
    assert authenticator.credentials()[0]["signCount"] >= 1

    authenticator.set_user_verified(False)  # the fingerprint does not match: the ceremony fails
    assert "NotAllowedError" in page.evaluate(GET)["error"]
    authenticator.remove()


def test_as_localhost():
    assert as_localhost("http://127.0.0.1:8123/a?b=1") == "http://localhost:8123/a?b=1"
    assert as_localhost("http://127.0.0.1/") == "http://localhost/"
