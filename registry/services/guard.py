"""The one access guard every use case and view starts with."""
from __future__ import annotations

from ..access import Actor, Level, require
from ..container import Container
from ..errors import PermissionDenied, Unauthenticated
from ..meta import Template


def signed_in(actor: Actor, doing: str) -> None:
    if actor.user is None:
        raise Unauthenticated(f"sign in to {doing}")


def writer(actor: Actor, doing: str) -> None:
    """Signed in, with a token that may write: the floor for any change by a user."""
    if actor.user is None:
        raise Unauthenticated(f"sign in to {doing}")
    if actor.scope == "read":
        raise PermissionDenied(f"a read-scoped token cannot {doing}")


def template(c: Container, actor: Actor, owner: str, name: str, needed: Level = Level.READ) -> Template:
    """The template, if `actor` has `needed` on it; those who may not read it get 404."""
    found = c.meta.templates.get(owner, name)
    require(c.meta, actor, found, needed)
    return found


def template_by_id(c: Container, actor: Actor, template_id: str, needed: Level = Level.READ) -> Template:
    found = c.meta.templates.get_by_id(template_id)
    require(c.meta, actor, found, needed)
    return found


def with_more(first: str, total: int) -> str:
    """One line for a list of `total` problems: the first one, then '(+N more)'."""
    return f"{first} (+{total - 1} more)" if total > 1 else first
