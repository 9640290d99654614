"""Per request: its id and client address for the events it causes, and usage counts of the
reads it served (the template page's views, API reads of a template)."""
from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.container import Container
from registry.services.audit import REQUEST, RequestInfo

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
API_READ = re.compile(r"^/api/v1/templates/([a-z0-9][a-z0-9._-]{0,62})/([a-z0-9][a-z0-9._-]{0,62})(?:/|$)")
PAGE_VIEW = re.compile(r"^/([a-z0-9][a-z0-9._-]{0,62})/([a-z0-9][a-z0-9._-]{0,62})/?$")
NOT_TEMPLATES = ("api", "static", "settings", "login", "logout", "docs", "admin", "search", "join")


class RequestContext:
    """Pure ASGI middleware (BaseHTTPMiddleware would buffer streamed git responses)."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app, self.container = app, container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        client = scope.get("client")
        token = REQUEST.set(RequestInfo(request_id, client[0] if client else None))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
                if scope["method"] == "GET" and 200 <= message["status"] < 300:
                    self._count(scope["path"], dict(message["headers"]).get(b"content-type", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            REQUEST.reset(token)

    def _count(self, path: str, content_type: bytes) -> None:
        if match := API_READ.match(path):
            self.container.usage.count_named(match[1], match[2], "api_reads")
        elif (match := PAGE_VIEW.match(path)) and match[1] not in NOT_TEMPLATES and content_type.startswith(b"text/html"):
            self.container.usage.count_named(match[1], match[2], "views")
