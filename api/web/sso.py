"""Single sign-on (/login/oidc): off to the OpenID provider, and back at /login/oidc/callback. A
known identity signs its account in (a second factor, where enrolled, still follows). A new one
either becomes a new account under a username the person chooses, or is linked to an account
they have, once they have signed in to it and confirmed (never by a matching address).

The new identity's handle waits in a cookie of this browser (HttpOnly, its path /login/oidc):
only the browser that came back from the provider can join or link with it, so no one can hand a
victim a link that ties the sender's identity to the victim's account. A sign-in through the
provider also leaves a short-lived signed mark bound to the new session (`recently`): an account
with no password and no second factor proves it is its owner that way before it is deleted."""
from __future__ import annotations

import hmac
import re
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from registry.errors import AlreadyExists, InvalidInput, InvalidLink, NotFound, SignupClosed, Unauthenticated
from registry.services import accounts_sessions as core_sessions
from registry.services import accounts_sso
from registry.settings import secret_key

from . import session as sessions
from . import throttle
from .navigation import field_error, posted, redirect, safe_next, signed_in, user_agent, with_next
from .pages import mark_web
from .render import page
from .signin import complete

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
STATE_COOKIE = "registry_sso_state"
PENDING_COOKIE = "registry_sso"
INVITE_COOKIE = "registry_sso_invite"
REAUTH_COOKIE = "registry_reauth"
COOKIE_PATH = "/login/oidc"
PENDING_SECONDS = 1800
REAUTH_SECONDS = 600
_NOT_NAME = re.compile(r"[^a-z0-9._-]+")


def _enabled(request: Request) -> None:
    if not accounts_sso.enabled(sessions.container(request)):
        raise NotFound("single sign-on is not configured on this registry")


def _callback_url(request: Request) -> str:
    return f"{request.app.state.base_url}{COOKIE_PATH}/callback"


def _set(request: Request, response: Response, name: str, value: str, seconds: int, path: str = COOKIE_PATH) -> None:
    response.set_cookie(name, value, max_age=seconds, path=path, httponly=True, samesite="lax",
                        secure=sessions.secure(request))


@router.get(COOKIE_PATH, dependencies=[Depends(_enabled)])
def sso_begin(request: Request) -> Response:
    """Off to the provider. A plain link starts it (a form's POST could not be redirected to
    another origin under `form-action 'self'`); what the provider sends back is bound to this
    browser by the state cookie, so a callback URL made in someone else's browser signs no one in."""
    throttle.of(request).require([throttle.Bucket("signin:ip", throttle.client_ip(request))])
    next_path = safe_next(request.query_params.get("next"))
    url = accounts_sso.sso_begin(sessions.container(request), _callback_url(request), next_path)
    response = redirect(request, url)
    state = parse_qs(urlsplit(url).query).get("state", [""])[0]
    _set(request, response, STATE_COOKIE, state, int(accounts_sso.LOGIN_SECONDS))
    invite = request.query_params.get("invite", "")[:300]
    if invite:
        _set(request, response, INVITE_COOKIE, invite, PENDING_SECONDS)
    return response


@router.get(f"{COOKIE_PATH}/callback", response_class=HTMLResponse, dependencies=[Depends(_enabled)])
def sso_callback(request: Request) -> Response:
    c = sessions.container(request)
    query = request.query_params
    if "error" in query:  # the person said no at the provider, or the provider refused
        raise Unauthenticated(f"single sign-on was not completed: {query.get('error', '')[:100]}")
    state = query.get("state", "")[:300]
    if not state or not hmac.compare_digest(state.encode(), request.cookies.get(STATE_COOKIE, "").encode()):
        raise InvalidLink("this single sign-on answer was not for this browser: start again")
    outcome = accounts_sso.sso_finish(c, state, query.get("code", "")[:2000])
    next_path = safe_next(outcome.next)
    if outcome.user is not None:
        secret, who = core_sessions.start(c, outcome.user, "sso", throttle.client_ip(request), user_agent(request))
        sessions.begin(request, secret, who)
        response = redirect(request, with_next("/login/2fa", next_path)) if who.needs_second_factor \
            else complete(request, who, next_path)
        _set(request, response, REAUTH_COOKIE, _marks(request).dumps(who.session.id), REAUTH_SECONDS, "/")
        return _forget(request, response)
    assert outcome.pending is not None
    claims = outcome.claims
    suggestion = _NOT_NAME.sub("-", (claims.preferred_username or (claims.email or "").partition("@")[0]).lower())
    response = _choose_page(request, suggestion.strip("-._")[:63], claims.email, claims.name)
    _set(request, response, PENDING_COOKIE, outcome.pending, PENDING_SECONDS)
    return response


def _choose_page(request: Request, username: str = "", email: str | None = None, name: str | None = None,
                 status: int = 200, error: tuple[str, str] | None = None) -> HTMLResponse:
    c = sessions.container(request)
    who = sessions.signed_in(request)
    return page(request, "sso.html", status_code=status, title="Single sign-on", step="choose",
                sso_name=accounts_sso.button_name(c), username=username, email=email, name=name, error=error,
                mode=c.settings.signup, linkable=who is not None and who.complete, next_path="/",
                invite=request.cookies.get(INVITE_COOKIE, "")[:300])


def _pending(request: Request) -> str:
    handle = request.cookies.get(PENDING_COOKIE, "")
    if not handle or len(handle) > 300:
        raise InvalidLink("this single sign-on attempt has expired or was already used: start again")
    return handle


def _forget(request: Request, response: Response) -> Response:
    for name in (PENDING_COOKIE, INVITE_COOKIE, STATE_COOKIE):
        response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=sessions.secure(request))
    return response


@router.post(f"{COOKIE_PATH}/join", dependencies=[Depends(_enabled)])
def sso_join(request: Request, username: str = Form("", max_length=100), invite: str = Form("", max_length=300),
             _: None = Depends(posted)) -> Response:
    c = sessions.container(request)
    throttle.of(request).take([throttle.Bucket("join:ip", throttle.client_ip(request))])
    try:
        user = accounts_sso.sso_join(c, _pending(request), username.strip(), invite or None)
    except (InvalidInput, SignupClosed, AlreadyExists) as exc:  # the identity waits for another try
        status = 403 if isinstance(exc, SignupClosed) else 409 if isinstance(exc, AlreadyExists) else 400
        return _choose_page(request, username, status=status, error=field_error(exc))
    secret, who = core_sessions.start(c, user, "sso", throttle.client_ip(request), user_agent(request))
    sessions.begin(request, secret, who)
    response = complete(request, who, "/settings/account?notice=joined")
    _set(request, response, REAUTH_COOKIE, _marks(request).dumps(who.session.id), REAUTH_SECONDS, "/")
    return _forget(request, response)


@router.get(f"{COOKIE_PATH}/link", response_class=HTMLResponse, dependencies=[Depends(_enabled)])
def link_page(request: Request) -> Response:
    _pending(request)
    who = sessions.signed_in(request)
    if who is None or not who.complete:
        return redirect(request, with_next("/login", f"{COOKIE_PATH}/link"))
    c = sessions.container(request)
    return page(request, "sso.html", title="Link single sign-on", step="link", sso_name=accounts_sso.button_name(c),
                next_path="/", invite="")


@router.post(f"{COOKIE_PATH}/link", dependencies=[Depends(_enabled)])
def sso_link(request: Request, _: None = Depends(posted)) -> Response:
    who = signed_in(request)
    accounts_sso.sso_link(sessions.container(request), who.user, _pending(request))
    return _forget(request, redirect(request, "/settings/security?notice=linked"))


# -- "you signed in through the provider just now" ------------------------------------------------
def _marks(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(sessions.container(request).settings), "sso-reauth")


def recently(request: Request) -> bool:
    """Whether this session began by a round trip through the provider within ten minutes."""
    who = sessions.signed_in(request)
    raw = request.cookies.get(REAUTH_COOKIE, "")
    if who is None or not raw or len(raw) > 200:
        return False
    try:
        return bool(_marks(request).loads(raw, max_age=REAUTH_SECONDS) == who.session.id)
    except BadSignature:
        return False
