"""What the account pages share: where a `next=` may lead (paths of this site only), redirects
that carry the session's cookies, the field and reason of a refused form, and the signed-in
caller each settings page needs. (The notices a redirect may ask a page to show, by name, are
render.NOTICES.)"""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse

from registry.errors import InvalidField, RegistryError, Unauthenticated
from registry.services.accounts_sessions import SignedIn

from . import session as sessions
from .render import HEADERS

MAX_NEXT = 2000
_SAFE_NEXT = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` when it is a path of this site ("/..."), else `default`: never another host
    ("//evil", "/\\evil", "https://evil"), a scheme, or control characters."""
    if not value or len(value) > MAX_NEXT or not _SAFE_NEXT.fullmatch(value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def with_next(path: str, next_path: str) -> str:
    return path if next_path == "/" else f"{path}?next={quote(next_path, safe='/')}"


def redirect(request: Request, url: str) -> RedirectResponse:
    """303 to `url` (a path of this site), with the session's cookies if they changed."""
    response = RedirectResponse(url, status_code=303, headers=HEADERS)
    sessions.cookie(request, response)
    return response


def field_error(exc: RegistryError) -> tuple[str, str]:
    """(field, reason) of a refused form: the field the core named, or "form" with the message."""
    if isinstance(exc, InvalidField):
        return exc.field, exc.reason
    field, reason = exc.details.get("field"), exc.details.get("reason")
    if isinstance(field, str):
        return field, str(reason or exc.message)
    return "form", exc.message


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def posted(request: Request, csrf: str | None = Form(None, max_length=200)) -> None:
    """Every form POST: this site's origin and this session's CSRF token."""
    sessions.check_post(request, csrf)


def signed_in(request: Request) -> SignedIn:
    """The caller of a settings page: signed in and past the second factor."""
    who = sessions.signed_in(request)
    if who is None or who.needs_second_factor:
        raise Unauthenticated("sign in to see this page")
    return who


def posting(request: Request, _: None = Depends(posted)) -> SignedIn:
    """The caller of a settings form: its POST checked first, then that it is signed in."""
    return signed_in(request)
