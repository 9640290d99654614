"""Metadata records and the MetaStore protocol (SQLite now; DynamoDB later)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

ROLES = ("reader", "writer", "maintainer", "owner")
SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str | None
    is_admin: bool


@dataclass(frozen=True)
class Token:
    id: int
    user_id: int
    scope: str
    expires_at: float | None
    revoked: bool


@dataclass(frozen=True)
class Template:
    id: str  # also the repo id in blob storage
    owner: str
    name: str
    visibility: str
    description: str
    parent_id: str | None
    created_at: float
    updated_at: float

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Protection:
    branch: str
    allow_force_push: bool
    allow_deletion: bool
    required_checks: tuple[str, ...]
    required_approvals: int


@dataclass(frozen=True)
class Status:
    """A commit status: context validate|index|sandbox, state pending|success|failure|error."""

    template_id: str
    sha: str
    context: str
    state: str
    description: str
    problems: list = field(default_factory=list)  # [{"path": JSON path, "message": ...}]
    target_url: str | None = None
    updated_at: float = 0.0


class MetaStore(Protocol):
    def add_user(self, name: str, email: str | None, is_admin: bool) -> User: ...
    def get_user(self, name: str) -> User: ...
    def get_user_by_id(self, user_id: int) -> User: ...
    def add_token(self, user_id: int, token_hash: str, scope: str, expires_at: float | None) -> Token: ...
    def find_token(self, token_hash: str) -> tuple[Token, User] | None: ...
    def revoke_token(self, token_id: int) -> None: ...
    def add_template(self, template: Template) -> Template: ...
    def get_template(self, owner: str, name: str) -> Template: ...
    def get_template_by_id(self, template_id: str) -> Template: ...
    def list_templates(self, owner: str | None, offset: int, limit: int) -> tuple[list[Template], int]: ...
    def delete_template(self, template_id: str) -> None: ...
    def touch_template(self, template_id: str) -> None: ...
    def set_collaborator(self, template_id: str, user_id: int, role: str) -> None: ...
    def remove_collaborator(self, template_id: str, user_id: int) -> None: ...
    def collaborator_role(self, template_id: str, user_id: int) -> str | None: ...
    def set_protection(self, template_id: str, protection: Protection) -> None: ...
    def get_protection(self, template_id: str, branch: str) -> Protection | None: ...
    def delete_protection(self, template_id: str, branch: str) -> None: ...
    def add_pending_statuses(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> list[str]: ...
    def set_status(self, status: Status) -> None: ...
    def mark_enqueued(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> None: ...
    def get_statuses(self, template_id: str, sha: str) -> list[Status]: ...
    def waiting_statuses(self, older_than: float, limit: int = 500) -> list[Status]: ...
    def has_statuses(self, template_id: str, sha: str) -> bool: ...
    def set_star(self, template_id: str, user_id: int, starred: bool) -> None: ...
    def rate(self, template_id: str, user_id: int, score: int, review: str | None) -> None: ...
    def social(self, template_id: str) -> tuple[int, float, int]: ...
    def collaborator_names(self, template_id: str) -> list[str]: ...
