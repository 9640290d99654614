"""Browser sessions: a signed cookie (HttpOnly, SameSite=Lax) holding the hash of the API token
the user logged in with (never the token itself, so the cookie is no bearer token) and a CSRF
token. Every form POST must carry that CSRF token and come from this site's own origin."""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from registry import access
from registry.access import ANONYMOUS, Actor
from registry.errors import PermissionDenied, Unauthenticated
from registry.services import users
from registry.settings import Settings, secret_key

from ..accesslog import note_user

COOKIE = "registry_session"
MAX_AGE = 14 * 86400


@dataclass(frozen=True)
class Session:
    token_hash: str | None
    csrf: str


def session_reader(settings: Settings) -> Callable[[str], str | None]:
    """Reads the token hash from a Cookie header (the rate limiter's view of who is asking)."""
    serializer = URLSafeTimedSerializer(secret_key(settings), "web-session")

    def read(cookie_header: str) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
            morsel = jar.get(COOKIE)
            data = serializer.loads(morsel.value, max_age=MAX_AGE) if morsel else None
        except (BadSignature, CookieError):
            return None
        token_hash = data.get("t") if isinstance(data, dict) else None
        return token_hash if isinstance(token_hash, str) else None
    return read


def _serializer(request: Request) -> URLSafeTimedSerializer:
    app = request.app
    if getattr(app.state, "session_serializer", None) is None:
        app.state.session_serializer = URLSafeTimedSerializer(secret_key(app.state.container.settings), "web-session")
    return app.state.session_serializer


def load(request: Request) -> Session:
    """This request's session, or a new anonymous one (so forms, login included, have a CSRF token)."""
    cached = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    session = None
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=MAX_AGE)
            session = Session(data.get("t"), data["c"])
        except (BadSignature, KeyError, TypeError):
            session = None
    session = session or Session(None, secrets.token_urlsafe(24))
    request.state.session = session
    return session


def actor(request: Request) -> Actor:
    """The signed-in user; a revoked or expired token ends the session (anonymous again)."""
    cached = getattr(request.state, "actor", None)
    if cached is None:
        session = load(request)
        cached = ANONYMOUS
        if session.token_hash:
            try:
                cached = users.authenticate_hash(request.app.state.container, session.token_hash)
            except Unauthenticated:
                pass
        request.state.actor = cached  # the route and the page it renders ask once
        note_user(cached.name)
    return cached


def sign_in(request: Request, user: str, token: str) -> Session:
    who = users.authenticate(request.app.state.container, token.strip())
    if who.name != user.strip():
        raise Unauthenticated("that token does not belong to that user")
    session = Session(access.hash_token(token.strip()), secrets.token_urlsafe(24))  # new CSRF token on login
    request.state.session, request.state.actor = session, who
    return session


def sign_out(request: Request) -> Session:
    session = Session(None, secrets.token_urlsafe(24))
    request.state.session, request.state.actor = session, ANONYMOUS
    return session


def cookie(request: Request, response, session: Session) -> None:
    value = _serializer(request).dumps({"t": session.token_hash, "c": session.csrf})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")


def check_post(request: Request, form_token: str | None) -> None:
    """Refuse a form POST from another origin, or without this session's CSRF token."""
    allowed = {_origin(str(request.base_url)), _origin(request.app.state.base_url)}
    origin = request.headers.get("origin") or _origin(request.headers.get("referer") or "")
    if not origin or origin == "null" or origin not in allowed:
        raise PermissionDenied("cross-origin form submission refused")
    expected = load(request).csrf
    if not form_token or not hmac.compare_digest(form_token, expected):
        raise PermissionDenied("missing or invalid CSRF token: reload the page and try again")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
