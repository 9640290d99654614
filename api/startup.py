"""What a server process must have done before it serves, when a dependency is down as it starts.

`registry serve` migrates the schema (and rebuilds a search index a schema change made anew)
before it serves. A node started, or a server process restarted by its supervisor, while
PostgreSQL is down or out of reach would have died of it (and a supervisor whose processes keep
dying stops the node). Instead that work is tried once, at once (a database that is up is
migrated before the first request, as ever), and while it fails with a StorageError (the
database is unavailable) it is tried again in the background, and meanwhile every request is
answered as during an outage: a 503 with Retry-After (`Gate`), git a reason it prints. Once it
is done the process serves, with no restart. /healthz answers all along: the process is alive.
The first reconcile is the pipeline's own first pass (workers/pipeline.py), retried likewise.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.errors import StorageError, Unavailable

from . import errors

log = logging.getLogger(__name__)
FIRST_RETRY = 0.5  # seconds before the first retry; doubled after each failure, up to MAX_RETRY
MAX_RETRY = 5.0
TRY_AGAIN_LATER = 1013  # the WebSocket close code (RFC 6455's registry): try again later


class Deferred:
    """`work` (idempotent), done now or, while a dependency is down, as soon as it is back."""

    def __init__(self, work: Callable[[], object]) -> None:
        self._work = work
        self.ready = threading.Event()
        self.refusal: StorageError = Unavailable("the database is unavailable; try again shortly")
        self._stop = threading.Event()

    def run(self) -> bool:
        """Try once now; if a dependency is down, go on trying in the background. Whether done.
        Any other error (a configuration the database refuses) is raised: the process ends."""
        if self.attempt():
            return True
        threading.Thread(target=self._retry, name="startup", daemon=True).start()
        return False

    def stop(self) -> None:
        self._stop.set()

    def attempt(self) -> bool:
        """Try once, in this thread: whether done (a dependency that is down: not yet)."""
        try:
            self._work()
        except StorageError as exc:
            self.refusal = exc
            log.warning("start-up postponed, answering 503 until it is done: %s", exc.message)
            return False
        self.ready.set()
        return True

    def _retry(self) -> None:
        delay = FIRST_RETRY
        while not self._stop.wait(delay):
            try:
                if self.attempt():
                    log.warning("start-up done: serving")
                    return
            except Exception:  # already serving 503s: say why, and go on trying
                log.exception("start-up failed; trying again in %.0f s", MAX_RETRY)
            delay = min(2 * delay, MAX_RETRY)


def when_up(work: Callable[[], object]) -> None:
    """Do `work` now or, while a dependency is down, as soon as it is back, waiting here for it
    (`registry worker` started while PostgreSQL is down: it takes no job before its schema)."""
    deferred, delay = Deferred(work), FIRST_RETRY
    while not deferred.attempt():
        time.sleep(delay)
        delay = min(2 * delay, MAX_RETRY)


class Gate:
    """Pure ASGI middleware: until `deferred` is done, every request but /healthz gets the 503 a
    request gets while the database is down (JSON, a page, or text git prints); a WebSocket is
    closed with "try again later"."""

    def __init__(self, app: ASGIApp, deferred: Deferred) -> None:
        self.app = app
        self.deferred = deferred

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.deferred.ready.is_set() or scope["type"] not in ("http", "websocket") or scope["path"] == "/healthz":
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": ""})
            return
        response = errors.refusal(self.deferred.refusal, Headers(scope=scope), scope["path"])
        await response(scope, receive, send)
