"""Users and API tokens."""
from __future__ import annotations

from .. import access
from ..access import Actor
from ..container import Container
from ..meta import User
from ..names import check_name


def add_user(c: Container, name: str, email: str | None = None, is_admin: bool = False) -> User:
    """Operators only: the CLI calls this; no HTTP route does."""
    return c.meta.add_user(check_name(name, "user name"), email, is_admin)


def create_token(c: Container, user_name: str, scope: str = "write", expires_days: float | None = None) -> str:
    """A new token for `user_name`, returned this once (only its hash is kept)."""
    return access.issue_token(c.meta, c.meta.get_user(user_name), scope, expires_days)


def authenticate(c: Container, token: str) -> Actor:
    return access.authenticate(c.meta, token)


def authenticate_hash(c: Container, token_hash: str) -> Actor:
    """As `authenticate`, from the stored hash a browser session keeps."""
    return access.authenticate_hash(c.meta, token_hash)


def actor_for(c: Container, user_name: str, scope: str = "write") -> Actor:
    """An operator acting as `user_name` (the CLI's import)."""
    return Actor(c.meta.get_user(user_name), scope)
