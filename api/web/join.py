"""Joining (/join, as REGISTRY_SIGNUP allows: open, with an admin's invite link, or closed), the
address verification link (/join/verify), and the password reset: asking for a link by mail and
setting a new password with it (/login/reset). A one-time link is used up by a POST from its page,
never by the GET that opens it (mail scanners open links)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from registry.errors import AlreadyExists, InvalidInput, InvalidLink, SignupClosed
from registry.services import accounts, accounts_sso
from registry.services import accounts_sessions as core_sessions

from . import session as sessions
from . import throttle
from .navigation import field_error, posted, redirect, user_agent
from .pages import mark_web
from .render import page
from .signin import MAX_PASSWORD

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
MAX_LINK_TOKEN = 300


def _join_page(request: Request, status: int = 200, error: tuple[str, str] | None = None,
               form: dict[str, str] | None = None, invite: str = "") -> HTMLResponse:
    c = sessions.container(request)
    mode = c.settings.signup
    invited = accounts.invite_email(c, invite) if invite else None
    values = {"username": "", "email": invited or "", "display_name": "", **(form or {})}
    return page(request, "join.html", status_code=status, title="Join", error=error, form=values, mode=mode,
                invite=invite, invite_ok=invited is not None, mail=accounts.mail_enabled(c),
                sso=accounts_sso.enabled(c), sso_name=accounts_sso.button_name(c))


@router.get("/join", response_class=HTMLResponse)
def join_page(request: Request) -> HTMLResponse:
    invite = request.query_params.get("invite", "")[:MAX_LINK_TOKEN]
    return _join_page(request, invite=invite)


@router.post("/join")
def join(request: Request, username: str = Form("", max_length=100), email: str = Form("", max_length=300),
         password: str = Form("", max_length=MAX_PASSWORD), display_name: str = Form("", max_length=200),
         invite: str = Form("", max_length=MAX_LINK_TOKEN), _: None = Depends(posted)) -> Response:
    c = sessions.container(request)
    form = {"username": username, "email": email, "display_name": display_name}
    limit = throttle.of(request)
    per_account = [throttle.Bucket("join:account", throttle.login_key(email) or throttle.login_key(username))]
    limit.require(per_account)
    limit.take([throttle.Bucket("join:ip", throttle.client_ip(request))])  # every attempt: accounts cost
    try:
        user = accounts.join(c, username.strip(), email, password, invite or None, display_name or None,
                             request.app.state.base_url)
    except SignupClosed as exc:
        return _join_page(request, 403, ("form", exc.message), form, invite)
    except (InvalidInput, AlreadyExists) as exc:
        limit.spend(per_account)  # tries at one address or name (a taken one, an invite guessed)
        return _join_page(request, 409 if isinstance(exc, AlreadyExists) else 400, field_error(exc), form, invite)
    secret, who = core_sessions.start(c, user, "password", throttle.client_ip(request), user_agent(request))
    sessions.begin(request, secret, who)
    target = "/settings/account?notice=" + ("verify_sent" if accounts.mail_enabled(c) else "joined")
    response = redirect(request, "/settings/security?notice=enrol" if who.must_enrol else target)
    throttle.remember_device(request, response, user.name, user.email)
    return response


@router.get("/join/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    token = request.query_params.get("token", "")[:MAX_LINK_TOKEN]
    return page(request, "link.html", title="Confirm your email address", kind="verify", token=token, error=None)


@router.post("/join/verify")
def verify(request: Request, token: str = Form("", max_length=MAX_LINK_TOKEN), _: None = Depends(posted)) -> Response:
    try:
        accounts.verify_email(sessions.container(request), token)
    except InvalidInput as exc:
        return page(request, "link.html", status_code=400, title="Confirm your email address", kind="verify",
                    token="", error=("token", exc.message))
    signed_in = sessions.signed_in(request) is not None
    return redirect(request, "/settings/account?notice=verified" if signed_in else "/login?notice=verified")


# -- password reset ---------------------------------------------------------------------------------
def _reset_page(request: Request, status: int = 200, error: tuple[str, str] | None = None, user: str = "",
                sent: bool = False) -> HTMLResponse:
    c = sessions.container(request)
    token = request.query_params.get("token", "")[:MAX_LINK_TOKEN]
    if token:
        return page(request, "link.html", status_code=status, title="Choose a new password", kind="reset",
                    token=token, error=error)
    return page(request, "reset.html", status_code=status, title="Reset your password", error=error, user=user,
                sent=sent, mail=accounts.mail_enabled(c))


@router.get("/login/reset", response_class=HTMLResponse)
def reset_page(request: Request) -> HTMLResponse:
    return _reset_page(request)


@router.post("/login/reset")
def request_reset(request: Request, user: str = Form("", max_length=254), _: None = Depends(posted)) -> Response:
    throttle.of(request).take([throttle.Bucket("reset:ip", throttle.client_ip(request)),
                               throttle.Bucket("reset:account", throttle.login_key(user))])
    try:
        accounts.request_reset(sessions.container(request), user, request.app.state.base_url)
    except InvalidInput as exc:
        return _reset_page(request, 400, field_error(exc), user)
    return _reset_page(request, 200, None, user, sent=True)


@router.post("/login/reset/set")
def reset(request: Request, token: str = Form("", max_length=MAX_LINK_TOKEN),
          password: str = Form("", max_length=MAX_PASSWORD), _: None = Depends(posted)) -> Response:
    per_ip = [throttle.Bucket("reset:ip", throttle.client_ip(request))]
    throttle.of(request).require(per_ip)
    try:
        accounts.reset_with_token(sessions.container(request), token, password)
    except InvalidInput as exc:
        if isinstance(exc, InvalidLink):
            throttle.of(request).spend(per_ip)  # a link guessed (a weak new password is no guess)
        return page(request, "link.html", status_code=400, title="Choose a new password", kind="reset",
                    token=token, error=field_error(exc))
    sessions.end(request)  # every session of the account ended; this browser's too, whoever it was
    return redirect(request, "/login?notice=password_reset")
