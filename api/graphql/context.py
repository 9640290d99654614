"""Who asks, per GraphQL request: the same credentials as REST and the pages, read the same way.

- `Authorization: Bearer TOKEN` (or Basic user:token) through `deps.actor_from_header`;
- the web session cookie through `session.actor(request)` only, so whatever that session is made
  of (a signed cookie now, server-side sessions later) reaches this endpoint unchanged;
- over WebSocket, the `connection_init` payload may carry `{"Authorization": "Bearer TOKEN"}`
  (browsers cannot set headers on a WebSocket handshake); the handshake's own header or cookie
  serves otherwise. Strawberry refuses handshakes from another origin before any of this.

A cookie is ambient: a page elsewhere could make the browser send it. So a cookie-authenticated
POST must be JSON (a cross-site form can only send form or text bodies, and JSON needs a CORS
preflight nobody answers) and, when it names an Origin, ours; GET carries queries only (Strawberry
refuses a mutation over GET, for every caller).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Request, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from registry.access import ANONYMOUS, Actor
from registry.container import Container
from registry.errors import InvalidInput, PermissionDenied, Unauthenticated

from ..deps import actor_from_header
from ..limits import header_token_hash
from ..web import session as sessions
from .loaders import Loaders

T = TypeVar("T")


@dataclass(eq=False)
class Context(BaseContext):
    container: Container
    actor: Actor
    base_url: str
    bucket: str  # whose cost budget a query draws on: "token:<hash>" or "ip:<address>"
    cookie: bool = False  # authenticated by the session cookie (not a header)
    request: Request | WebSocket | None = None
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init payload
    counters: Any = None  # the rate limiter's store (api.ratestore.storage_for): cost budgets count there
    credentials: str | None = None  # the Authorization the actor came from (re-checked by subscriptions)
    loaders: Loaders = field(init=False)
    cost: dict[str, int] = field(default_factory=dict)  # what the limits extension measured

    background_tasks: Any = None  # what Strawberry's FastAPI integration sets on its context
    response: Any = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.container, lambda: self.actor)

    def reauthenticate(self) -> Actor:
        """The caller as of now (a subscription lives for hours: a token revoked or a session ended
        meanwhile ends it, as it refuses the next request). Blocking: run it in a thread."""
        if self.credentials:
            self.actor = actor_from_header(self.container, self.credentials)
        elif self.cookie and self.request is not None:
            self.request.state.actor = None  # session.actor caches its answer on the connection
            self.actor = sessions.actor(self.request)  # type: ignore[arg-type]
            if self.actor.user is None:
                raise Unauthenticated("the session has ended")
        return self.actor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """A use case or view, off the event loop (they block on the database and the blobs)."""
        return await run_in_threadpool(fn, *args)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _bucket(header: str, client: str) -> str:
    token = header_token_hash(header)
    return f"token:{token[:32]}" if token else f"ip:{client}"


async def http_context(request: HTTPConnection) -> Context:
    """A FastAPI dependency of the /graphql routes (HTTP requests and WebSocket handshakes)."""
    return await _context(request)  # type: ignore[arg-type]


async def _context(request: Request | WebSocket) -> Context:
    container: Container = request.app.state.container
    base_url: str = request.app.state.base_url
    client = request.client.host if request.client else "unknown"
    counters = getattr(request.app.state, "counters", None)
    header = request.headers.get("authorization")
    if header:
        actor = await run_in_threadpool(actor_from_header, container, header)
        return Context(container, actor, base_url, _bucket(header, client), request=request, counters=counters,
                       credentials=header)
    actor = ANONYMOUS
    if sessions.COOKIE in request.cookies:
        actor = await run_in_threadpool(sessions.actor, request)  # type: ignore[arg-type]
    cookie = actor.user is not None
    if cookie and isinstance(request, Request) and request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise InvalidInput("a request signed in by the session cookie must be application/json")
        origin = request.headers.get("origin")
        if origin and origin not in {_origin(str(request.base_url)), _origin(base_url)}:
            raise PermissionDenied("cross-origin request refused")
    bucket = f"session:{actor.user.id}" if cookie and actor.user else f"ip:{client}"
    return Context(container, actor, base_url, bucket, cookie=cookie, request=request, counters=counters)


async def connect(context: Context) -> None:
    """graphql-transport-ws `connection_init`: a token in the payload replaces the handshake's actor."""
    params = context.connection_params or {}
    if not isinstance(params, dict):
        raise PermissionDenied("connection_init payload must be an object")
    header = params.get("Authorization") or params.get("authorization")
    if header is None and isinstance(params.get("token"), str):
        header = f"Bearer {params['token']}"
    if header is None:
        return
    if not isinstance(header, str) or len(header) > 4096:
        raise PermissionDenied("Authorization must be a string")
    actor = await run_in_threadpool(actor_from_header, context.container, header)
    context.actor, context.cookie, context.credentials = actor, False, header
    client = context.request.client.host if context.request and context.request.client else "unknown"
    context.bucket = _bucket(header, client)
