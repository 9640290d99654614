"""/settings/security: two factors and sessions. An authenticator app enrolled by a QR code drawn
on the server (SVG, no script) with its secret shown as text, and ten recovery codes shown once;
passkeys listed, added (the page's script runs the browser's ceremony) and removed; the sessions
with device, IP and last use, each signed out alone or all the others at once; single sign-on
identities linked. Removing a factor asks for proof (password, a code or a recovery code).
A session REGISTRY_REQUIRE_2FA sends here may do this and nothing else until it has a factor."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from registry.errors import InvalidInput
from registry.meta.records_accounts import Session
from registry.services import accounts, accounts_factors, accounts_sso
from registry.services import accounts_sessions as core_sessions
from registry.services.accounts_sessions import SignedIn

from ..deps import RowNumber
from . import session as sessions
from .navigation import field_error, posting, redirect, signed_in
from .pages import mark_web
from .render import HEADERS, page
from .signin import MAX_PASSWORD

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
PAGE = "/settings/security"
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Macintosh", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device(user_agent: str | None) -> str:
    """A person's name for the device a session's User-Agent describes ("Firefox on Linux")."""
    if not user_agent:
        return "unknown device"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or re.sub(r"\s+", " ", user_agent)[:60]


def _page(request: Request, who: SignedIn, status: int = 200, error: tuple[str, str] | None = None,
          **shown: object) -> HTMLResponse:
    c = sessions.container(request)
    account = accounts.account_of(c, who.user)
    listed: list[Session] = core_sessions.my_sessions(c, who.user)
    return page(request, "security.html", status_code=status, title="Security", error=error,
                who=who, totp=account.totp_secret is not None, has_password=account.has_password,
                passkeys=accounts_factors.my_passkeys(c, who.user),
                codes_left=accounts_factors.recovery_codes_left(c, who.user),
                sessions=[(s, device(s.user_agent)) for s in listed], this_session=who.session.id,
                identities=accounts_sso.my_identities(c, who.user), sso=accounts_sso.enabled(c),
                sso_name=accounts_sso.button_name(c), script="passkeys",
                **{"enrolment": None, "handle": None, "codes": None, **shown})


def _rotated(request: Request) -> SignedIn:
    """A factor was just added: the session counts as past it, under a new secret."""
    secret, now = core_sessions.rotate(sessions.container(request), sessions.load(request).secret or "",
                                       second_factor=True)
    sessions.replace(request, secret, now)
    return now


@router.get(PAGE, response_class=HTMLResponse)
def security_page(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return _page(request, who)


@router.post(f"{PAGE}/totp", response_class=HTMLResponse)
def begin_totp(request: Request, who: SignedIn = Depends(posting)) -> HTMLResponse:
    try:
        handle, enrolment = accounts_factors.begin_totp(sessions.container(request), who, request.app.state.base_url)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return _page(request, who, enrolment=enrolment, handle=handle)


@router.post(f"{PAGE}/totp/confirm", response_class=HTMLResponse)
def confirm_totp(request: Request, handle: str = Form("", max_length=300), code: str = Form("", max_length=64),
                 who: SignedIn = Depends(posting)) -> HTMLResponse:
    try:
        codes = accounts_factors.confirm_totp(sessions.container(request), who, handle, code)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return _page(request, _rotated(request), codes=codes)


@router.post(f"{PAGE}/totp/remove")
def remove_totp(request: Request, proof: str = Form("", max_length=MAX_PASSWORD),
                who: SignedIn = Depends(posting)) -> Response:
    try:
        accounts_factors.disable_totp(sessions.container(request), who, proof)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return redirect(request, f"{PAGE}?notice=totp_removed")


@router.post(f"{PAGE}/recovery-codes", response_class=HTMLResponse)
def new_codes(request: Request, proof: str = Form("", max_length=MAX_PASSWORD),
              who: SignedIn = Depends(posting)) -> HTMLResponse:
    try:
        codes = accounts_factors.new_recovery_codes(sessions.container(request), who, proof)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return _page(request, who, codes=codes)


@router.post(f"{PAGE}/passkeys/options")
def passkey_options(request: Request, who: SignedIn = Depends(posting)) -> Response:
    """The options for navigator.credentials.create (JSON, for the page's script)."""
    handle, options = accounts_factors.passkey_registration(sessions.container(request), who,
                                                            request.app.state.base_url)
    return JSONResponse({"handle": handle, "options": options}, headers=HEADERS)


@router.post(f"{PAGE}/passkeys", response_class=HTMLResponse)
def add_passkey(request: Request, handle: str = Form("", max_length=300), credential: str = Form("", max_length=70_000),
                name: str = Form("", max_length=200), who: SignedIn = Depends(posting)) -> HTMLResponse:
    try:
        _, codes = accounts_factors.add_passkey(sessions.container(request), who, handle, credential, name,
                                                request.app.state.base_url)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return _page(request, _rotated(request), codes=codes or None, added=True)


@router.post(PAGE + "/passkeys/{passkey_id}/remove")
def remove_passkey(request: Request, passkey_id: RowNumber, proof: str = Form("", max_length=MAX_PASSWORD),
                   who: SignedIn = Depends(posting)) -> Response:
    try:
        accounts_factors.remove_passkey(sessions.container(request), who, passkey_id, proof)
    except InvalidInput as exc:
        return _page(request, who, 400, field_error(exc))
    return redirect(request, f"{PAGE}?notice=passkey_removed")


@router.post(PAGE + "/sessions/{session_id}/end")
def end_session(request: Request, session_id: RowNumber, who: SignedIn = Depends(posting)) -> Response:
    if session_id == who.session.id:
        sessions.end(request)
        return redirect(request, "/?notice=signed_out")
    core_sessions.end(sessions.container(request), who.user, session_id)
    return redirect(request, f"{PAGE}?notice=session_ended#sessions")


@router.post(f"{PAGE}/sessions/end-others")
def end_others(request: Request, who: SignedIn = Depends(posting)) -> Response:
    core_sessions.end_others(sessions.container(request), who.user, sessions.load(request).secret)
    return redirect(request, f"{PAGE}?notice=sessions_ended#sessions")

