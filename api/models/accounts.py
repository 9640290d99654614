"""The caller's account (`GET /api/v1/user`), everything the registry holds about them
(`GET /api/v1/user/export`), and the admins' list of accounts (`GET /api/v1/admin/users`).
Times in the export are ISO 8601 date-times in UTC, as the export is meant to be read by people
and kept."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

WHEN = "an ISO 8601 date-time, UTC"


class AccountOut(BaseModel):
    """An account as admins see it."""

    username: str
    display_name: str | None
    email: str | None
    email_verified: bool
    is_admin: bool
    disabled: bool
    created_at: float = Field(description="seconds since the epoch")


class UserOut(AccountOut):
    """The caller's own account: what admins see, and its sign-in methods."""

    has_password: bool
    two_factor: bool = Field(description="an authenticator app or a passkey is enrolled")


class ExportProfile(BaseModel):
    username: str
    display_name: str | None
    email: str | None
    email_verified: bool
    is_admin: bool
    disabled: bool
    created_at: str | None = Field(description=WHEN)
    has_password: bool


class ExportPasskey(BaseModel):
    name: str
    transports: list[str]
    created_at: str | None = Field(description=WHEN)
    last_used_at: str | None = Field(description=WHEN)


class ExportTwoFactor(BaseModel):
    totp: bool
    recovery_codes_left: int
    passkeys: list[ExportPasskey]


class ExportIdentity(BaseModel):
    issuer: str
    subject: str
    email: str | None
    created_at: str | None
    last_used_at: str | None


class ExportSession(BaseModel):
    id: int
    created_at: str | None
    last_seen_at: str | None
    ip: str | None
    user_agent: str | None


class ExportToken(BaseModel):
    id: int
    scope: str
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None
    revoked: bool


class ExportTemplate(BaseModel):
    name: str = Field(description="owner/name")
    visibility: str
    description: str | None
    clone_url: str
    created_at: str | None
    updated_at: str | None


class ExportCollaboration(BaseModel):
    template: str
    role: str


class ExportStar(BaseModel):
    template: str
    created_at: str | None


class ExportRating(BaseModel):
    template: str
    score: int
    review: str | None
    created_at: str | None


class ExportPull(BaseModel):
    template: str
    number: int
    title: str
    body: str | None
    state: str
    created_at: str | None


class ExportReview(BaseModel):
    template: str
    number: int
    event: str
    body: str | None
    sha: str | None
    created_at: str | None


class ExportComment(BaseModel):
    template: str
    number: int
    body: str
    path: str | None
    line: int | None
    side: str | None
    created_at: str | None


class ExportEvent(BaseModel):
    id: int
    time: str | None = Field(description=WHEN)
    action: str
    template: str | None
    payload: dict[str, Any]
    request_id: str | None
    client_ip: str | None


class UserExport(BaseModel):
    """Everything the registry holds about the caller."""

    profile: ExportProfile
    two_factor: ExportTwoFactor
    sso_identities: list[ExportIdentity]
    sessions: list[ExportSession]
    tokens: list[ExportToken]
    templates: list[ExportTemplate] = Field(description="the templates they own, with their clone URLs")
    collaborations: list[ExportCollaboration]
    stars: list[ExportStar]
    ratings: list[ExportRating]
    pull_requests: list[ExportPull]
    reviews: list[ExportReview]
    comments: list[ExportComment]
    events: list[ExportEvent] = Field(description="the events they caused")


