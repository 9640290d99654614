"""One structured line per request (logger `registry.access`, REGISTRY_LOG_FORMAT): method, path
(never the query string), route, status, duration, bytes in and out, the user and template it
concerned, its request id and trace id. The trace id is also answered as `X-Trace-Id` while
traces are on. Pure ASGI (streamed git answers are never buffered): the line is written once the
last byte is sent."""
from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry import logs, telemetry
from registry.services.audit import REQUEST

log = logging.getLogger(logs.ACCESS)


@dataclass
class _Seen:
    """What the route learns about its request for the line: who asked."""

    user: str | None = None


_CURRENT: ContextVar[_Seen | None] = ContextVar("access-log", default=None)


def note_user(name: str | None) -> None:
    """The request's caller, once authenticated (the API's, git's and the pages' own deps say it)."""
    seen = _CURRENT.get()
    if seen is not None and name:
        seen.user = name


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        seen, token = _Seen(), None
        token = _CURRENT.set(seen)
        counts = {"in": 0, "out": 0, "status": 500}
        ids = telemetry.ids()

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
                if ids is not None:
                    message.setdefault("headers", []).append((b"x-trace-id", ids[0].encode()))
            elif message["type"] == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            _CURRENT.reset(token)
            self._line(scope, seen, counts, time.perf_counter() - started, ids)

    @staticmethod
    def _line(scope: Scope, seen: _Seen, counts: dict[str, int], took: float, ids: tuple[str, str] | None) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        route = getattr(scope.get("route"), "path_format", None) or getattr(scope.get("route"), "path", None)
        params = scope.get("path_params") or {}
        template = f"{params['owner']}/{params['name']}" if "owner" in params and "name" in params else None
        fields = {"request_id": REQUEST.get().request_id, "trace_id": ids[0] if ids else None,
                  "method": scope["method"], "path": scope["path"], "route": route, "status": counts["status"],
                  "duration_ms": round(took * 1000, 1), "bytes_in": counts["in"], "bytes_out": counts["out"],
                  "user": seen.user, "template": template}
        log.info("%s %s %s", scope["method"], scope["path"], counts["status"], extra={"fields": fields})
