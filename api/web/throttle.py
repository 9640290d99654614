"""Throttling of sign-in, password reset and joining, per account and per client IP, with the
`limits` library on the same store as the request limits (Redis when REGISTRY_REDIS_URL is set,
so every node counts together; else memory, or the data dir's file for `serve --workers N`).
Past a limit: TooManyAttempts, a 429 with Retry-After.

Failures count, successes do not. A guesser cannot lock an account against its owner: a browser
that has signed in to the account before carries a signed device cookie naming it, and its
attempts for that account count in a bucket of that device's own, neither in the account's
bucket nor in its IP's. So the owner's own browser signs in while strangers are refused (OWASP's
"device cookies").
"""
from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, strategies
from limits.storage import Storage

from registry.errors import TooManyAttempts
from registry.settings import secret_key

from . import session as sessions

log = logging.getLogger(__name__)

DEVICE_COOKIE = "registry_device"
DEVICE_DAYS = 365
MAX_DEVICE_COOKIE = 512
# What each bucket allows before it refuses (failed attempts, or requests where each one costs).
RULES: dict[str, RateLimitItem] = {
    "signin:ip": RateLimitItemPerMinute(30, 10),  # failed sign-ins from one IP, any account
    "signin:account": RateLimitItemPerMinute(10, 15),  # failed sign-ins for one account, strangers' devices
    "signin:device": RateLimitItemPerMinute(10, 15),  # failed sign-ins of a known device for its account
    "reset:ip": RateLimitItemPerHour(10),  # reset requests, and reset links refused, from one IP
    "reset:account": RateLimitItemPerHour(3),  # reset mails for one account
    "join:ip": RateLimitItemPerHour(20),  # join attempts from one IP
    "join:account": RateLimitItemPerHour(10),  # refused join attempts for one address or username
}
WHAT = {"signin": "sign-in attempts", "reset": "password reset requests", "join": "attempts to join"}


@dataclass(frozen=True)
class Bucket:
    rule: str
    key: str


class Throttle:
    def __init__(self, store: Storage) -> None:
        self.limiter = strategies.SlidingWindowCounterRateLimiter(store)

    def require(self, buckets: list[Bucket]) -> None:
        """Refuse (TooManyAttempts) when any bucket is spent; the store being down lets it pass."""
        try:
            spent = [b for b in buckets if not self.limiter.test(RULES[b.rule], b.rule, b.key)]
            if spent:
                reset = max(self.limiter.get_window_stats(RULES[b.rule], b.rule, b.key).reset_time for b in spent)
        except Exception as exc:  # the limiter's store is down: serve rather than fail
            log.warning("sign-in throttle unavailable: %s", exc)
            return
        if spent:
            wait = max(1, math.ceil(reset - time.time()))
            what = WHAT[spent[0].rule.partition(":")[0]]
            raise TooManyAttempts(f"too many {what}: try again in {_minutes(wait)}", retry_after=wait)

    def spend(self, buckets: list[Bucket]) -> None:
        """Count one attempt against each bucket."""
        try:
            for b in buckets:
                self.limiter.hit(RULES[b.rule], b.rule, b.key)
        except Exception as exc:
            log.warning("sign-in throttle unavailable: %s", exc)

    def take(self, buckets: list[Bucket]) -> None:
        """`require` then `spend`: for requests that each cost (a mail, a new account)."""
        self.require(buckets)
        self.spend(buckets)


def _minutes(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def of(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.throttle
    return throttle


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login_key(login: str) -> str:
    """An account as a sign-in names it (username or address), as the core compares it."""
    return login.strip().lower()[:254]


# -- device cookies ---------------------------------------------------------------------------
def _devices(request: Request) -> URLSafeSerializer:
    app = request.app
    if getattr(app.state, "device_serializer", None) is None:
        app.state.device_serializer = URLSafeSerializer(secret_key(sessions.container(request).settings), "device")
    serializer: URLSafeSerializer = app.state.device_serializer
    return serializer


def _device(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > MAX_DEVICE_COOKIE:
        return None
    try:
        data = _devices(request).loads(raw)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("d"), str) else None


def signin_buckets(request: Request, login: str) -> list[Bucket]:
    """The buckets a sign-in attempt for `login` counts in: the device's own when this browser
    has signed in to that account before, else the IP's and the account's."""
    key = login_key(login)
    device = _device(request)
    if device is not None and key and key in (device.get("u"), device.get("e")):
        return [Bucket("signin:device", f"{device['d']}:{device.get('u')}")]
    return [Bucket("signin:ip", client_ip(request)), Bucket("signin:account", key)]


def remember_device(request: Request, response: Response, name: str, email: str | None) -> None:
    """This browser has signed in to `name`: its later attempts count in a bucket of its own."""
    device = _device(request)
    nonce = device["d"] if device is not None else secrets.token_urlsafe(16)
    value = _devices(request).dumps({"d": nonce, "u": name, "e": (email or "").lower()})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="lax", path="/",
                        secure=sessions.secure(request))
