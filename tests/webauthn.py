"""Chromium's virtual authenticator (CDP `WebAuthn` domain) for passkey tests.

What works, found on Chromium 156 (tests/e2e/test_webauthn_virtual.py keeps it true):
- http://localhost:PORT is a secure context and WebAuthn works there with rp id "localhost" (or
  none given, which means the same).
- http://127.0.0.1:PORT is a secure context too, but Chromium refuses WebAuthn on an IP address
  whatever the rp id: `SecurityError: This is an invalid domain.` So a passkey test opens the
  registry at `as_localhost(env.url)` (uvicorn bound to 127.0.0.1 answers; Chromium resolves
  localhost to the loopback itself), and the server's rp id is "localhost", its expected origin
  http://localhost:PORT (REGISTRY_BASE_URL with localhost, so links and origin checks agree).
- a resident credential made for the same rp id and user handle replaces the earlier one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from playwright.sync_api import CDPSession, Page

RP_ID = "localhost"


def as_localhost(url: str) -> str:
    """The same URL with host localhost (WebAuthn refuses IP addresses)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"localhost:{parts.port}" if parts.port else "localhost"))


@dataclass
class VirtualAuthenticator:
    """A platform authenticator (ctap2, internal transport: Touch ID or Windows Hello) attached to
    one page's tab; it keeps its credentials across the tab's navigations."""

    session: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """The credentials it holds: credentialId, rpId, userHandle, signCount, isResidentCredential, ..."""
        return self.session.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})["credentials"]

    def clear(self) -> None:
        self.session.send("WebAuthn.clearCredentials", {"authenticatorId": self.authenticator_id})

    def set_user_verified(self, verified: bool) -> None:
        """Whether the next ceremonies pass user verification (the fingerprint matches)."""
        self.session.send("WebAuthn.setUserVerified", {"authenticatorId": self.authenticator_id, "isUserVerified": verified})

    def remove(self) -> None:
        self.session.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id})


def add_virtual_authenticator(page: Page, *, resident_key: bool = True, user_verification: bool = True,
                              user_verified: bool = True) -> VirtualAuthenticator:
    """A virtual authenticator on `page`'s tab: protocol ctap2, transport internal, with resident keys
    (passkeys) and user verification, presence simulated (no prompt). Create it before the ceremony."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable", {"enableUI": False})
    found = session.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": resident_key,
        "hasUserVerification": user_verification, "isUserVerified": user_verified,
        "automaticPresenceSimulation": True}})
    return VirtualAuthenticator(session, found["authenticatorId"])
