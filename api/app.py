"""The app factory: one Container, the error table, git smart HTTP and the JSON API."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter

from registry.container import Container

from . import errors, git_http, openapi, web
from .limits import Limits
from .metrics import render, shared_registry
from .models.common import Health
from .refusals import open_refusals
from .requests import RequestContext
from .routes import admin, contents, events, gallery, graphs, hooks, pulls, runs, templates, tokens, validation

REQUESTS = Counter("registry_http_requests_total", "HTTP requests served", ["method", "status"])


def create_app(container: Container, base_url: str, processes: int = 1) -> FastAPI:
    """`processes`: how many serve on the port (`serve --workers N`); more than one without Redis
    keeps the rate-limit counters in a file of the data dir that all of them share."""
    app = FastAPI(title="Prompt template registry", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Prompt templates as git repositories: the JSON API. The reference is at /docs.",
                  generate_unique_id_function=openapi.operation_id)
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.state.container = container
    app.state.base_url = base_url.rstrip("/")
    errors.install(app)

    app.state.refusals = open_refusals(container.settings, processes)
    # inside the counter: refusals are counted too
    app.add_middleware(Limits, container=container, processes=processes, refusals=app.state.refusals)
    app.add_middleware(_CountRequests)
    app.add_middleware(RequestContext, container=container)  # outermost: every request has its id

    @app.get("/healthz")
    async def healthz() -> Health:  # async: never queued behind slow calls in the thread pool
        return Health(status="ok")

    @app.get("/metrics", response_class=PlainTextResponse,
             responses={200: {"description": "Prometheus text format",
                              "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(render(shared).decode(), media_type=CONTENT_TYPE_LATEST)

    shared = shared_registry(container)

    app.include_router(templates.router)
    app.include_router(graphs.router)
    app.include_router(gallery.router)
    app.include_router(pulls.router)
    app.include_router(contents.router)
    app.include_router(runs.router)
    app.include_router(tokens.router)
    app.include_router(validation.router)
    app.include_router(events.router)
    app.include_router(admin.router)
    app.include_router(hooks.router)
    app.include_router(git_http.router)
    web.install(app)
    return app


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
