"""Request limits, enforced before any work: body size while it is read, and requests per minute.

Pure ASGI middleware (streamed git responses are never buffered):
- A JSON or form body larger than REGISTRY_MAX_BODY_BYTES gets 413: at once when Content-Length
  says so, else as soon as the bytes read pass the limit (nothing is buffered past it). Git
  requests are bounded by the push limit in git_http instead.
- Every request counts against a sliding one-minute window (the `limits` library): per token or
  session when it carries valid credentials (bearer, basic or a web session), else per client IP. Above the
  limit: 429 with Retry-After; every answer carries RateLimit-Limit/-Remaining/-Reset. With
  REGISTRY_REDIS_URL the counters live in Redis, so the limits hold across API nodes; without it,
  in memory, or in a file of the data dir that the processes of `serve --workers N` share.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItemPerMinute, strategies
from limits.storage import Storage
from prometheus_client import Counter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from registry.container import Container
from registry.errors import Unauthenticated
from registry.services import accounts_sessions, users

from .refusals import Refusals, open_refusals, safely
from .web.session import session_secret

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)
EXEMPT = ("/healthz", "/metrics", "/static/")
REFUSED = Counter("registry_rate_limited_total", "Requests refused by a rate limit", ["kind"])
KNOWN_TTL = 30.0  # how long a token hash that authenticated is trusted for choosing its bucket


def _is_git(path: str) -> bool:
    return ".git/" in path


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class Limits:
    def __init__(self, app: ASGIApp, container: Container, store: Storage, refusals: Refusals | None = None,
                 processes: int = 1) -> None:
        self.app = app
        self.container = container
        settings = container.settings
        self.max_body = settings.max_body_bytes
        self.per_ip = RateLimitItemPerMinute(settings.rate_limit_anonymous) if settings.rate_limit_anonymous else None
        self.per_token = RateLimitItemPerMinute(settings.rate_limit_token) if settings.rate_limit_token else None
        self.limiter = strategies.SlidingWindowCounterRateLimiter(store)
        # token or session hash -> (until when it counts as valid, its user)
        self._known: dict[str, tuple[float, str]] = {}
        self.refusals = refusals or open_refusals(settings, processes)  # who was refused, for the admin dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key, item, client = await self._bucket(scope, headers)
        limit_headers: list[tuple[bytes, bytes]] = []
        if item is not None:
            try:
                allowed = self.limiter.hit(item, key)
                stats = self.limiter.get_window_stats(item, key)
            except Exception as exc:  # the limiter's store is down: serve rather than fail
                log.warning("rate limiter unavailable: %s", exc)
            else:
                reset = max(1, math.ceil(stats.reset_time - time.time()))
                limit_headers = [(b"ratelimit-limit", str(item.amount).encode()),
                                 (b"ratelimit-remaining", str(max(0, stats.remaining)).encode()),
                                 (b"ratelimit-reset", str(reset).encode())]
                if not allowed:
                    REFUSED.labels(key.partition(":")[0]).inc()
                    safely(self.refusals, client)
                    return await _answer(send, 429, "rate_limited",
                                         f"too many requests: at most {item.amount} per minute; "
                                         f"try again in {reset} s", limit_headers + [(b"retry-after", str(reset).encode())],
                                         plain=_is_git(scope["path"]))
        if not _is_git(scope["path"]):
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body:
                return await _answer(send, 413, "too_large", f"request body is larger than {self.max_body} bytes",
                                     limit_headers)
            receive = self._bounded(receive)
        await self.app(scope, receive, self._adding(send, limit_headers))

    async def _bucket(self, scope: Scope, headers: dict[str, str]) -> tuple[str, Any, str]:
        """(the counter's key, its limit, who the client is for people: user:NAME or ip:ADDRESS)."""
        token_hash = _token_hash(headers)
        secret = None if token_hash else session_secret(headers.get("cookie", ""))
        if self.per_token is not None:
            if token_hash and (user := await self._valid(token_hash, None)) is not None:
                return f"token:{token_hash[:32]}", self.per_token, f"user:{user}"
            if secret:
                session_hash = hashlib.sha256(secret.encode()).hexdigest()
                if (user := await self._valid(session_hash, secret)) is not None:
                    return f"session:{session_hash[:32]}", self.per_token, f"user:{user}"
        client = scope.get("client") or ("unknown", 0)
        return f"ip:{client[0]}", self.per_ip, f"ip:{client[0]}"

    async def _valid(self, credential_hash: str, session: str | None) -> str | None:
        """The user whose live credential this is (a token by its hash, or a session by its
        secret), or None."""
        now = time.monotonic()
        until, user = self._known.get(credential_hash, (0.0, ""))
        if until > now:
            return user
        if session is not None:
            signed_in = await run_in_threadpool(accounts_sessions.current, self.container, session)
            if signed_in is None:
                return None
            user = signed_in.user.name
        else:
            try:
                actor = await run_in_threadpool(users.authenticate_hash, self.container, credential_hash)
            except Unauthenticated:
                return None  # bad credentials count against the IP (and the route answers 401)
            user = actor.name or ""
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[credential_hash] = (now + KNOWN_TTL, user)
        return user

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message
        return bounded

    @staticmethod
    def _adding(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
        if not extra:
            return send

        async def adding(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)
        return adding


def _token_hash(headers: dict[str, str]) -> str | None:
    """The hash of the API token a request carries, if any."""
    return header_token_hash(headers.get("authorization", ""))


def header_token_hash(authorization: str) -> str | None:
    """The hash of the API token in an Authorization header (Bearer, or Basic's password)."""
    scheme, _, value = authorization.partition(" ")
    token = ""
    if scheme.lower() in ("bearer", "token"):
        token = value.strip()
    elif scheme.lower() == "basic":
        try:
            token = base64.b64decode(value.strip()).decode().partition(":")[2]
        except ValueError:
            token = ""
    return hashlib.sha256(token.encode()).hexdigest() if token else None


async def _answer(send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]],
                  plain: bool = False) -> None:
    if plain:  # git prints a text body to its user
        body, kind = (message + "\n").encode(), b"text/plain; charset=utf-8"
    else:
        body, kind = json.dumps({"error": {"code": code, "message": message}}).encode(), b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
