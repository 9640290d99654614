"""Users and API tokens: the caller's own tokens (list, create never broader than the calling
token, revoke), and operators' token commands (list, revoke, rotate). A revoked token fails on
the very next request: git, API and web sessions all authenticate every request."""
from __future__ import annotations

import time

from .. import access
from ..access import SCOPE_RANK, Actor
from ..container import Container
from ..errors import InvalidInput, PermissionDenied, TokenNotFound
from ..events import recording
from ..meta import Token, User
from ..names import check_username, normalize_email
from . import guard


def add_user(c: Container, name: str, email: str | None = None, is_admin: bool = False) -> User:
    """Operators only: the CLI calls this; no HTTP route does. The same username and address
    rules as joining at /join; the account has no password until a reset link sets one."""
    address = normalize_email(email) if email is not None else None
    with recording(c) as r:
        account = c.accounts.create_account(check_username(name), address, None, is_admin=is_admin)
        r.add(None, "user.created", None, {"user": account.name, "admin": is_admin, "via": "cli"})
    return account.user


def create_token(c: Container, user_name: str, scope: str = "write", expires_days: float | None = None) -> str:
    """A new token for `user_name`, returned this once (only its hash is kept)."""
    user = c.meta.users.get(user_name)
    with recording(c) as r:
        token, record = access.issue(c.meta, user, scope, expires_days)
        r.add(None, "token.created", None, _token_payload(record, user.name, via="cli"))
    return token


def _token_payload(token: Token, user: str, **extra: object) -> dict[str, object]:
    return {"token": {"id": token.id, "user": user, "scope": token.scope, "expires_at": token.expires_at}, **extra}


def authenticate(c: Container, token: str) -> Actor:
    return access.authenticate(c.meta, token)


def authenticate_hash(c: Container, token_hash: str) -> Actor:
    """As `authenticate`, from the stored hash a browser session keeps."""
    return access.authenticate_hash(c.meta, token_hash)


def actor_for(c: Container, user_name: str, scope: str = "write") -> Actor:
    """An operator acting as `user_name` (the CLI's import)."""
    return Actor(c.meta.users.get(user_name), scope)


def my_tokens(c: Container, actor: Actor) -> list[Token]:
    """The caller's tokens (never the tokens themselves: only their records)."""
    guard.signed_in(actor, "list your tokens")
    assert actor.user is not None
    return c.meta.users.list_tokens(actor.user.id)


def create_my_token(c: Container, actor: Actor, scope: str, expires_days: float | None) -> tuple[str, Token]:
    """A new token for the caller, at most as broad as the calling token; shown this once."""
    guard.signed_in(actor, "create tokens")
    assert actor.user is not None
    if scope not in SCOPE_RANK:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPE_RANK)}")
    if SCOPE_RANK[scope] > SCOPE_RANK[actor.scope]:
        raise PermissionDenied(f"a {actor.scope}-scoped token cannot create a {scope}-scoped token")
    with recording(c) as r:
        token, record = access.issue(c.meta, actor.user, scope, expires_days)
        r.add(actor.name, "token.created", None, _token_payload(record, actor.user.name))
    return token, record


def revoke_my_token(c: Container, actor: Actor, token_id: int) -> None:
    """Revoke one of the caller's tokens (admins: anyone's). Others' tokens are not found."""
    guard.signed_in(actor, "revoke tokens")
    assert actor.user is not None
    token = c.meta.users.get_token(token_id)
    if token.user_id != actor.user.id and not actor.is_admin:
        raise TokenNotFound(f"no token #{token_id}")
    with recording(c) as r:
        c.meta.users.revoke_token(token_id)
        r.add(actor.name, "token.revoked", None, _token_payload(token, c.meta.users.get_by_id(token.user_id).name))


def tokens_of(c: Container, user_name: str) -> list[Token]:
    """Operators (the CLI): every token of a user."""
    return c.meta.users.list_tokens(c.meta.users.get(user_name).id)


def revoke_token(c: Container, token_id: int) -> Token:
    """Operators (the CLI): revoke any token."""
    token = c.meta.users.get_token(token_id)
    with recording(c) as r:
        c.meta.users.revoke_token(token_id)
        r.add(None, "token.revoked", None, _token_payload(token, c.meta.users.get_by_id(token.user_id).name, via="cli"))
    return token


def rotate_token(c: Container, token_id: int) -> str:
    """Operators (the CLI): a new token with the old one's user, scope and remaining lifetime;
    the old one stops working at once."""
    old = c.meta.users.get_token(token_id)
    if old.revoked:
        raise InvalidInput(f"token #{token_id} is revoked: create a new one instead")
    days = None if old.expires_at is None else max((old.expires_at - time.time()) / 86400, 1 / 86400)
    user = c.meta.users.get_by_id(old.user_id)
    with recording(c) as r:
        token, record = access.issue(c.meta, user, old.scope, days)
        c.meta.users.revoke_token(token_id)
        r.add(None, "token.rotated", None, _token_payload(record, user.name, via="cli", replaces=token_id))
    return token
