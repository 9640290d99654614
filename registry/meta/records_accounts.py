"""The records of accounts the AccountRepository keeps and returns: plain frozen values. The
web layer speaks in these too (sessions listed, passkeys named, what a sign-in needs next)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import User

LINK_KINDS = ("invite", "reset", "verify")


@dataclass(frozen=True)
class Account:
    """A user with what signing in needs. `totp_secret` set = TOTP enrolled."""

    user: User
    created_at: float
    password_hash: str | None = field(default=None, repr=False)  # never shown, never logged
    email_verified: bool = False
    disabled: bool = False
    totp_secret: str | None = field(default=None, repr=False)
    totp_last_step: int | None = None
    display_name: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None


@dataclass(frozen=True)
class Session:
    """A browser's signed-in session (its secret id is the cookie's; only the hash is kept).
    `id` is a public handle, for the sessions page's "sign out" buttons."""

    id: int
    user_id: int
    created_at: float
    last_seen_at: float
    idle_until: float
    expires_at: float
    ip: str | None
    user_agent: str | None
    second_factor: bool  # a second factor (or a passkey) was passed in it
    token_id: int | None = None  # begun with this API token: its scope, and ends with it

    def alive(self, now: float) -> bool:
        return now < self.idle_until and now < self.expires_at


@dataclass(frozen=True)
class Link:
    """A one-time link: an invite (`email`, made by `created_by`), a password reset or an address
    verification (`user_id`, and for a verification the `email` it proves)."""

    kind: str
    user_id: int | None
    email: str | None
    created_by: int | None
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class Passkey:
    id: int
    user_id: int
    credential_id: str  # base64url
    public_key: str  # base64url COSE key
    sign_count: int
    user_handle: str  # base64url, the same for every passkey of one user
    name: str
    transports: tuple[str, ...]
    created_at: float
    last_used_at: float | None = None


@dataclass(frozen=True)
class Identity:
    """A single sign-on identity linked to an account."""

    issuer: str
    subject: str
    user_id: int
    email: str | None
    created_at: float
    last_used_at: float | None = None


@dataclass(frozen=True)
class Challenge:
    """Server-side state of a ceremony in progress (an OpenID Connect login's state, nonce and
    PKCE verifier; a WebAuthn challenge; a TOTP secret being enrolled), taken once."""

    kind: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: float = 0.0


@dataclass(frozen=True)
class Activity:
    """What a user did on others' templates and their own, for their data export."""

    stars: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    pulls: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    collaborations: list[dict[str, Any]] = field(default_factory=list)
