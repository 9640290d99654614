"""Browser sessions. The cookie holds only the secret of a server-side session
(registry.services.accounts_sessions: revocable, idle and absolute lifetimes), HttpOnly,
SameSite=Lax, Secure when the base URL is https. A new secret at sign-in and at every change of
privilege (`replace`, after the core's `rotate`).

Forms: every POST must come from this site's own origin and carry a CSRF token, an HMAC (the
secret key) of the session's secret, or, for a visitor without a session, of a random value in
a cookie of its own. A token seen before sign-in is worth nothing after it.

A session still waiting for its second factor is no one to the pages (`actor` is anonymous) but
the second-factor step's; one that REGISTRY_REQUIRE_2FA sends to enrol may only enrol
(`EnrolFirst`, raised by `guard`, answers a redirect to /settings/security).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from registry.access import ANONYMOUS, Actor
from registry.container import Container
from registry.errors import PermissionDenied
from registry.services import accounts_sessions
from registry.services.accounts_sessions import SignedIn
from registry.settings import secret_key

from ..accesslog import note_user

COOKIE = "registry_session"
CSRF_COOKIE = "registry_csrf"
MAX_COOKIE = 256  # a secret is 43 characters; anything far longer is not ours
ENROL_PAGE = "/settings/security"
# What a session REGISTRY_REQUIRE_2FA sends to enrol may still reach.
WHILE_ENROLLING = (ENROL_PAGE, "/logout", "/static/", "/login")


class EnrolFirst(Exception):
    """This session must enrol a second factor before anything else (web.install answers 303)."""


@dataclass
class State:
    """This request's view of the browser's cookies, and what the answer must set."""

    secret: str | None  # a live session's secret
    signed_in: SignedIn | None
    seed: str | None  # a visitor's CSRF seed (their CSRF cookie)
    write_session: bool = False  # set (or, secret None, clear) the session cookie
    write_seed: bool = False


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def _key(request: Request) -> bytes:
    app = request.app
    if getattr(app.state, "csrf_key", None) is None:
        app.state.csrf_key = hashlib.sha256(b"web-csrf:" + secret_key(container(request).settings).encode()).digest()
    key: bytes = app.state.csrf_key
    return key


def _cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    return value if value and len(value) <= MAX_COOKIE else None


def load(request: Request) -> State:
    """This request's session (read once per request)."""
    cached: State | None = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    secret = _cookie(request, COOKIE)
    who = accounts_sessions.current(container(request), secret) if secret else None
    state = State(secret if who else None, who, _cookie(request, CSRF_COOKIE))
    if secret and who is None:
        state.write_session = True  # ended, expired or unknown: the cookie goes
    if who is None and state.seed is None:
        state.seed, state.write_seed = secrets.token_urlsafe(24), True
    request.state.web_session = state
    return state


def signed_in(request: Request) -> SignedIn | None:
    """The session, complete or still waiting for a factor; None when signed out."""
    return load(request).signed_in


def actor(request: Request) -> Actor:
    """Who the pages act for: the session's user with its scope, once past the second factor."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is None:
        who = signed_in(request)
        cached = Actor(who.user, who.scope) if who is not None and not who.needs_second_factor else ANONYMOUS
        request.state.actor = cached
        note_user(cached.name)
    return cached


def guard(request: Request) -> None:
    """A session REGISTRY_REQUIRE_2FA asks to enrol goes to the security page first."""
    who = signed_in(request)
    if who is not None and who.must_enrol and not who.needs_second_factor \
            and not request.url.path.startswith(WHILE_ENROLLING):
        raise EnrolFirst()


def csrf(request: Request) -> str:
    state = load(request)
    seed = f"s:{state.secret}" if state.secret else f"a:{state.seed}"
    return hmac.new(_key(request), seed.encode(), hashlib.sha256).hexdigest()


def begin(request: Request, secret: str, who: SignedIn) -> None:
    """A session has just begun (sign-in): it replaces whatever session the browser had."""
    state = load(request)
    if state.secret:
        accounts_sessions.sign_out(container(request), state.secret)
    replace(request, secret, who)


def replace(request: Request, secret: str, who: SignedIn) -> None:
    """The session's new secret (a rotation, at a change of privilege)."""
    state = load(request)
    state.secret, state.signed_in, state.write_session = secret, who, True
    request.state.actor = None


def end(request: Request) -> None:
    """Sign out: the session ends on the server, and the cookie goes."""
    state = load(request)
    if state.secret:
        accounts_sessions.sign_out(container(request), state.secret)
    forget(request)


def forget(request: Request) -> None:
    """The session is gone already (the account was deleted): only the cookie is left to drop."""
    state = load(request)
    state.secret, state.signed_in, state.write_session = None, None, True
    if state.seed is None:
        state.seed, state.write_seed = secrets.token_urlsafe(24), True
    request.state.actor = None


def secure(request: Request) -> bool:
    return str(request.app.state.base_url).startswith("https:")


def cookie(request: Request, response: Response) -> None:
    """Write the cookies this request changed onto its answer."""
    state = load(request)
    safe = {"httponly": True, "samesite": "lax", "path": "/", "secure": secure(request)}
    if state.write_session:
        if state.secret:
            days = container(request).settings.session_max_days
            response.set_cookie(COOKIE, state.secret, max_age=int(days * 86400), **safe)  # type: ignore[arg-type]
        else:
            response.delete_cookie(COOKIE, **safe)  # type: ignore[arg-type]
    if state.write_seed and state.seed:
        response.set_cookie(CSRF_COOKIE, state.seed, **safe)  # type: ignore[arg-type]


def check_post(request: Request, form_token: str | None) -> None:
    """Refuse a form POST from another origin, or without this session's CSRF token."""
    allowed = {_origin(str(request.base_url)), _origin(request.app.state.base_url)}
    origin = request.headers.get("origin") or _origin(request.headers.get("referer") or "")
    if not origin or origin == "null" or origin not in allowed:
        raise PermissionDenied("cross-origin form submission refused")
    state = load(request)
    if not form_token or (state.secret is None and state.write_seed) \
            or not hmac.compare_digest(form_token.encode(), csrf(request).encode()):
        raise PermissionDenied("missing or invalid CSRF token: reload the page and try again")


def session_secret(cookie_header: str) -> str | None:
    """The session secret a Cookie header carries (the rate limiter's view of who is asking)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and 0 < len(morsel.value) <= MAX_COOKIE else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
