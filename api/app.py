"""The app factory: one Container, the error table, git smart HTTP and the JSON API."""
from __future__ import annotations

import collections
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter

from registry import telemetry
from registry.container import Container
from registry.drafts.bus import Bus, NoBus
from registry.drafts.limits import Limits as DraftLimits
from registry.drafts.rooms import Rooms

from . import drafts_socket, errors, git_http, graphql, openapi, ratestore, web
from .accesslog import AccessLog
from .limits import Limits
from .metrics import render, shared_registry
from .models.common import Health
from .refusals import open_refusals
from .requests import RequestContext
from .routes import (
    account,
    admin,
    contents,
    drafts,
    events,
    experiments,
    gallery,
    graphs,
    hooks,
    live,
    pulls,
    runs,
    templates,
    tokens,
    validation,
)
from .startup import Deferred, Gate

REQUESTS = Counter("registry_http_requests_total", "HTTP requests served", ["method", "status"])


def create_app(container: Container, base_url: str, processes: int = 1, bus: Bus | None = None,
               startup: Deferred | None = None) -> FastAPI:
    """`processes`: how many serve on the port (`serve --workers N`); more than one without Redis
    keeps the rate-limit counters in a file of the data dir that all of them share. `bus`: what
    carries drafts' notes to the other processes (none: this process's rooms only). `startup`:
    what the process must have done before it serves (api/startup.py): 503s until then."""
    rooms = _rooms(container, bus or NoBus(), processes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await rooms.stop()  # every draft room stores what it holds before the process ends

    app = FastAPI(title="Prompt template registry", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Prompt templates as git repositories: the JSON API. The reference is at /docs.",
                  generate_unique_id_function=openapi.operation_id, lifespan=lifespan)
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.state.container = container
    app.state.base_url = base_url.rstrip("/")
    app.state.rooms = rooms
    app.state.draft_connections = collections.Counter()  # open draft WebSockets per user (api/drafts_socket.py)
    errors.install(app)

    # request limits, sign-in throttling and GraphQL's cost budgets count in one store
    store = app.state.counters = ratestore.storage_for(container.settings, processes)
    app.state.refusals = open_refusals(container.settings, processes)
    if startup is not None:  # innermost: refused requests are limited, counted and logged as any
        app.add_middleware(Gate, deferred=startup)
    # inside the counter: refusals are counted too
    app.add_middleware(Limits, container=container, store=store, refusals=app.state.refusals, processes=processes)
    app.add_middleware(_CountRequests)
    app.add_middleware(AccessLog)  # one line per request, with its id, its trace id and its caller
    app.add_middleware(RequestContext, container=container)  # every request has its id
    if telemetry.enabled():  # outermost: the request's span holds everything else
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(OpenTelemetryMiddleware, exclude_spans=["receive", "send"])

    @app.get("/healthz")
    async def healthz() -> Health:  # async: never queued behind slow calls in the thread pool
        return Health(status="ok")

    @app.get("/metrics", response_class=PlainTextResponse,
             responses={200: {"description": "Prometheus text format",
                              "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
    def metrics(request: Request) -> Response:
        """Prometheus text; with REGISTRY_METRICS_TOKEN set, only for `Authorization: Bearer` with it."""
        if (expected := container.settings.metrics_token) and not _bearer_is(request, expected):
            return errors.error_response(401, "unauthenticated", "/metrics needs its bearer token",
                                         {"WWW-Authenticate": 'Bearer realm="metrics"'})
        return PlainTextResponse(render(shared).decode(), media_type=CONTENT_TYPE_LATEST)

    shared = shared_registry(container)

    app.include_router(templates.router)
    app.include_router(graphs.router)
    app.include_router(gallery.router)
    app.include_router(pulls.router)
    app.include_router(contents.router)
    app.include_router(runs.router)
    app.include_router(experiments.router)
    app.include_router(live.router)
    app.include_router(tokens.router)
    app.include_router(account.router)
    app.include_router(validation.router)
    app.include_router(events.router)
    app.include_router(admin.router)
    app.include_router(hooks.router)
    app.include_router(drafts.router)
    app.include_router(drafts_socket.router)
    app.include_router(git_http.router)
    graphql.install(app)  # /graphql, /graphiql: before the pages' /{owner}/{name}
    web.install(app, store)
    return app


def _rooms(container: Container, bus: Bus, processes: int) -> Rooms:
    """This process's draft rooms. They read what other processes stored every `poll` seconds:
    a safety net under Redis's notes, and the only way between processes without Redis."""
    s = container.settings
    poll = s.draft_poll_seconds or (2.0 if s.redis_url or processes == 1 else 0.5)
    return Rooms(container.meta.drafts, bus, DraftLimits(s.draft_max_message_bytes, s.draft_messages_per_second,
                                                         s.draft_bytes_per_second, s.draft_max_text_bytes),
                 poll_seconds=poll)


def _bearer_is(request: Request, expected: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


class _CountRequests:
    """Pure ASGI middleware (BaseHTTPMiddleware would buffer streamed git responses)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def counting_send(message) -> None:
            if message["type"] == "http.response.start":
                REQUESTS.labels(scope["method"], str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)
