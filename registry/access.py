"""Who may do what: API tokens (stored hashed, scoped, expiring) and per-template roles."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum

from .errors import AccountDisabled, InvalidInput, PermissionDenied, TemplateNotFound, Unauthenticated
from .meta import SCOPES, MetaStore, Template, Token, User

TOKEN_PREFIX = "rgt_"
LAST_USED_EVERY = 60.0  # seconds between two updates of a token's last use


class Level(IntEnum):
    NONE = 0
    READ = 1  # reader: clone, comment
    WRITE = 2  # writer: push branches, open pull requests
    MAINTAIN = 3  # maintainer: merge, protection
    OWN = 4  # owner: collaborators, delete


ROLE_LEVEL = {"reader": Level.READ, "writer": Level.WRITE, "maintainer": Level.MAINTAIN, "owner": Level.OWN}
SCOPE_CAP = {"read": Level.READ, "write": Level.OWN, "admin": Level.OWN}
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}  # a token may only make tokens of its rank or lower


@dataclass(frozen=True)
class Actor:
    """The caller of a use case: a user acting through a token of some scope, or anonymous."""

    user: User | None
    scope: str = "read"

    @property
    def name(self) -> str | None:
        return self.user.name if self.user else None

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.is_admin and self.scope == "admin")


ANONYMOUS = Actor(None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(meta: MetaStore, user: User, scope: str = "write", expires_days: float | None = None) -> str:
    """Create a token for `user`; only its hash is stored, so this is the one time it is seen."""
    return issue(meta, user, scope, expires_days)[0]


def issue(meta: MetaStore, user: User, scope: str = "write",
          expires_days: float | None = None) -> tuple[str, Token]:
    """As `issue_token`, with the stored record of the new token."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}")
    if expires_days is not None and expires_days <= 0:
        raise InvalidInput("--expires-days must be positive")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = time.time() + expires_days * 86400 if expires_days is not None else None
    return token, meta.users.add_token(user.id, hash_token(token), scope, expires_at)


def authenticate(meta: MetaStore, token: str) -> Actor:
    return authenticate_hash(meta, hash_token(token))


def authenticate_hash(meta: MetaStore, token_hash: str) -> Actor:
    """As `authenticate`, from the stored hash (what a browser session keeps instead of the token)."""
    found = meta.users.find_token(token_hash)
    if found is None:
        raise Unauthenticated("invalid token")
    tok, user = found
    if user.disabled:
        raise AccountDisabled(f"the account {user.name} is disabled")
    if tok.revoked:
        raise Unauthenticated("token revoked")
    now = time.time()
    if tok.expires_at is not None and tok.expires_at < now:
        raise Unauthenticated("token expired")
    if tok.last_used_at is None or now - tok.last_used_at > LAST_USED_EVERY:
        meta.users.touch_token(tok.id, now)  # at most one write a minute per token, not one per request
    return Actor(user, tok.scope)


def level(meta: MetaStore, actor: Actor, template: Template) -> Level:
    """The actor's effective level on a template: role (or ownership) capped by token scope."""
    if actor.user is None:
        return Level.READ if template.visibility == "public" else Level.NONE
    if actor.is_admin:
        return Level.OWN
    if template.owner == actor.user.name:
        role = Level.OWN
    else:
        role = ROLE_LEVEL.get(meta.templates.collaborator_role(template.id, actor.user.id) or "", Level.NONE)
        if template.visibility == "public":
            role = max(role, Level.READ)
    return min(role, SCOPE_CAP[actor.scope])


def require(meta: MetaStore, actor: Actor, template: Template, needed: Level) -> None:
    """Raise unless the actor has `needed`; those who cannot read a private template get 404."""
    have = level(meta, actor, template)
    if have >= needed:
        return
    if have == Level.NONE:
        raise TemplateNotFound(f"template {template.full_name} not found")
    if actor.user is None:
        raise Unauthenticated("authentication required")
    raise PermissionDenied(f"{actor.name} may not {needed.name.lower()} {template.full_name}")
