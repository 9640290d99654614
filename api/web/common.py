"""What the page modules share: the container, the viewer, a dependency that asks for a signed-in
user, and a posted form's text fields read after the origin and CSRF checks."""
from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from registry.access import Actor
from registry.container import Container
from registry.errors import Unauthenticated

from . import session as sessions


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def viewer(request: Request) -> Actor:
    """Whoever is asking: the signed-in user, or anonymous."""
    return sessions.actor(request)


def signed_in(doing: str) -> Callable[[Request], Actor]:
    """A dependency: the signed-in user, or 401 "sign in to DOING"."""
    def dependency(request: Request) -> Actor:
        actor = sessions.actor(request)
        if actor.user is None:
            raise Unauthenticated(f"sign in to {doing}")
        return actor
    return dependency


async def form_fields(request: Request, max_fields: int = 400) -> dict[str, str]:
    """The posted form's text fields, after the origin and CSRF checks (files are left out)."""
    form = await request.form(max_fields=max_fields)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    sessions.check_post(request, fields.get("csrf"))
    return fields
