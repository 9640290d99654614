"""Request-scoped dependencies: the Container and the calling Actor."""
from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Path, Query, Request, Security
from fastapi.openapi.models import HTTPBase, HTTPBearer
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from registry.access import ANONYMOUS, Actor
from registry.container import Container
from registry.errors import Unauthenticated
from registry.services import users

from .accesslog import note_user

# A pull request number or a token id in a path: what the databases' integer columns hold, so an
# out-of-range number is a 422 and never reaches SQL (where it overflowed into a 500).
RowNumber = Annotated[int, Path(ge=1, le=2_147_483_647)]


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


# The dependencies are coroutines where nothing blocks: FastAPI sends a plain function to the
# thread pool, a hop of its own for each (five of them per search request, with the schemes).
async def get_container(request: Request) -> Container:
    return container_of(request)


def actor_from_header(c: Container, header: str | None, allow_basic: bool = True) -> Actor:
    """Bearer TOKEN, or Basic user:token (git's credential helpers). No header: anonymous."""
    if not header:
        return ANONYMOUS
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme in ("bearer", "token"):
        actor = users.authenticate(c, value.strip())
        note_user(actor.name)
        return actor
    if scheme == "basic" and allow_basic:
        try:
            user, _, token = base64.b64decode(value.strip()).decode().partition(":")
        except ValueError:
            raise Unauthenticated("malformed Basic credentials") from None
        if not token:
            raise Unauthenticated("use an API token as the password")
        actor = users.authenticate(c, token)
        if user and user not in (actor.name, "token", "x-access-token"):
            raise Unauthenticated("the token does not belong to that user")
        note_user(actor.name)
        return actor
    raise Unauthenticated("unsupported Authorization scheme")


class _Scheme(SecurityBase):
    """Declares an authentication scheme in the OpenAPI document; reading the header is
    `actor_from_header`'s job, so this does nothing at request time."""

    def __init__(self, name: str, model: HTTPBase) -> None:
        self.scheme_name, self.model = name, model

    async def __call__(self) -> None:
        return None


BEARER = _Scheme("bearer", HTTPBearer(description="an API token: `Authorization: Bearer TOKEN`"))
BASIC = _Scheme("basic", HTTPBase(scheme="basic",
                                  description="user name and API token as password (git's credential helpers)"))
SIGNED_IN = "signed-in"  # a marker scope: the operation refuses anonymous callers (api.openapi reads it)


async def get_actor(request: Request, _bearer: None = Security(BEARER), _basic: None = Security(BASIC)) -> Actor:
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    return await run_in_threadpool(actor_from_header, container_of(request), header)  # reads the tokens


async def get_signed_in(request: Request, _marker: None = Security(BEARER, scopes=[SIGNED_IN])) -> Actor:
    """The caller of a write: authenticated before anything of the request body is validated
    (an anonymous write is a 401, never a 400 or 422 about its body)."""
    actor = await get_actor(request)
    if actor.user is None:
        raise Unauthenticated("authentication required")
    return actor


# Paging parameters, the same on every listing.
PAGE = Query(1, ge=1, le=100_000, description="1-based page number")
PER_PAGE = Query(30, ge=1, le=100, description="items per page")
