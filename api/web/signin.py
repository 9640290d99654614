"""Signing in and out: /login with a username or address and password, or (SPEC, as before) a
user and an API token; then, where the account has one, the second factor at /login/2fa (a code
from the authenticator app, a recovery code, or a passkey); or a passkey alone (with its user
verified it is two factors). Every failure counts in the throttle's buckets (throttle.py), and
`next=` leads only to paths of this site."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from registry.errors import InvalidField, InvalidInput, InvalidLink, Unauthenticated
from registry.services import accounts, accounts_factors, accounts_sso
from registry.services import accounts_sessions as core_sessions
from registry.services.accounts_sessions import SignedIn

from . import session as sessions
from . import throttle
from .navigation import field_error, posted, redirect, safe_next, user_agent, with_next
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
MAX_PASSWORD = 4096  # characters a form may carry; the core refuses past 1,024 bytes, naming the field


def _login_page(request: Request, status: int = 200, error: tuple[str, str] | None = None, user: str = "",
                next_path: str = "/", tab: str = "password") -> HTMLResponse:
    c = sessions.container(request)
    return page(request, "login.html", status_code=status, title="Sign in", error=error, user=user,
                next_path=next_path, tab=tab, sso=accounts_sso.enabled(c),
                sso_name=accounts_sso.button_name(c), signup=c.settings.signup, script="passkeys")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_page(request, next_path=safe_next(request.query_params.get("next")))


def _signed_in(request: Request, secret: str, who: SignedIn, next_path: str) -> Response:
    """A first factor passed: the session begins; the second factor follows where enrolled."""
    sessions.begin(request, secret, who)
    if who.needs_second_factor:
        return redirect(request, with_next("/login/2fa", next_path))
    return complete(request, who, next_path)


def complete(request: Request, who: SignedIn, next_path: str) -> Response:
    """Signed in for good: on to `next_path` (or to enrol a factor), and this browser remembered
    as one the account's owner uses (throttle.py)."""
    target = "/settings/security?notice=enrol" if who.must_enrol else next_path
    response = redirect(request, target)
    throttle.remember_device(request, response, who.user.name, who.user.email)
    return response


@router.post("/login")
def login(request: Request, user: str = Form("", max_length=254), password: str = Form("", max_length=MAX_PASSWORD),
          token: str = Form("", max_length=200), next_url: str = Form("/", alias="next", max_length=2000),
          _: None = Depends(posted)) -> Response:
    c = sessions.container(request)
    next_path = safe_next(next_url)
    tab = "token" if token else "password"
    buckets = throttle.signin_buckets(request, user)
    throttle.of(request).require(buckets)
    ip, agent = throttle.client_ip(request), user_agent(request)
    try:
        if not user.strip():
            raise InvalidField("user", "enter your username or email address")
        if token:
            secret, who = core_sessions.start_with_token(c, user, token, ip, agent)
        else:
            if not password:
                raise InvalidField("password", "enter your password")
            found = accounts.authenticate(c, user, password)
            secret, who = core_sessions.start(c, found, "password", ip, agent)
    except Unauthenticated as exc:
        throttle.of(request).spend(buckets)
        return _login_page(request, 401, ("form", exc.message), user, next_path, tab)
    except InvalidInput as exc:
        return _login_page(request, 400, field_error(exc), user, next_path, tab)
    return _signed_in(request, secret, who, next_path)


@router.post("/logout")
def logout(request: Request, _: None = Depends(posted)) -> Response:
    sessions.end(request)
    return redirect(request, "/?notice=signed_out")


# -- the second factor ---------------------------------------------------------------------------
def _pending(request: Request) -> SignedIn | None:
    who = sessions.signed_in(request)
    return who if who is not None and who.needs_second_factor else None


def _factor_page(request: Request, who: SignedIn, next_path: str, status: int = 200,
                 error: tuple[str, str] | None = None) -> HTMLResponse:
    c = sessions.container(request)
    account = accounts.account_of(c, who.user)
    return page(request, "login_2fa.html", status_code=status, title="Second factor", next_path=next_path,
                error=error, totp=account.totp_secret is not None,
                passkeys=bool(accounts_factors.my_passkeys(c, who.user)), script="passkeys")


@router.get("/login/2fa", response_class=HTMLResponse)
def factor_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    who = _pending(request)
    if who is None:  # nothing to finish: signed out, or signed in already
        return redirect(request, with_next("/login", next_path) if sessions.signed_in(request) is None else next_path)
    return _factor_page(request, who, next_path)


def _passed(request: Request, who: SignedIn, next_path: str) -> Response:
    secret, now = core_sessions.rotate(sessions.container(request), sessions.load(request).secret or "",
                                       second_factor=True)
    sessions.replace(request, secret, now)
    return complete(request, now, next_path)


@router.post("/login/2fa")
def second_factor(request: Request, code: str = Form("", max_length=64), kind: str = Form("totp", max_length=10),
                  next_url: str = Form("/", alias="next", max_length=2000), _: None = Depends(posted)) -> Response:
    """A code from the authenticator app (`kind=totp`) or a recovery code (`kind=recovery`)."""
    next_path = safe_next(next_url)
    who = _pending(request)
    if who is None:
        return redirect(request, with_next("/login", next_path))
    buckets = throttle.signin_buckets(request, who.user.name)
    throttle.of(request).require(buckets)
    field = "recovery_code" if kind == "recovery" else "code"
    if not code.strip():
        return _factor_page(request, who, next_path, 400, (field, "enter a code"))
    c = sessions.container(request)
    try:
        if kind == "recovery":
            accounts_factors.use_recovery_code(c, who.user, code)
        else:
            accounts_factors.check_totp(c, who.user, code)
    except Unauthenticated as exc:
        throttle.of(request).spend(buckets)
        return _factor_page(request, who, next_path, 401, (field, exc.message))
    return _passed(request, who, next_path)


# -- passkeys: the options for the browser, then its answer ------------------------------------
@router.post("/login/passkey/options")
def passkey_options(request: Request, _: None = Depends(posted)) -> Response:
    """The challenge for navigator.credentials.get: for the pending session's user (a second
    factor), or for any passkey of this site (passwordless). JSON, for the page's script."""
    throttle.of(request).require([throttle.Bucket("signin:ip", throttle.client_ip(request))])
    who = _pending(request)
    c = sessions.container(request)
    handle, options = accounts_factors.passkey_challenge(c, who.user if who else None, request.app.state.base_url)
    return JSONResponse({"handle": handle, "options": options}, headers=HEADERS)


@router.post("/login/passkey")
def passkey_sign_in(request: Request, handle: str = Form("", max_length=300),
                    credential: str = Form("", max_length=70_000),
                    next_url: str = Form("/", alias="next", max_length=2000), _: None = Depends(posted)) -> Response:
    next_path = safe_next(next_url)
    c = sessions.container(request)
    who = _pending(request)
    buckets = throttle.signin_buckets(request, who.user.name) if who else \
        [throttle.Bucket("signin:ip", throttle.client_ip(request))]
    throttle.of(request).require(buckets)
    try:
        user = accounts_factors.passkey_sign_in(c, handle, credential, who.user if who else None,
                                                request.app.state.base_url)
    except (Unauthenticated, InvalidLink, InvalidField) as exc:
        throttle.of(request).spend(buckets)
        error = ("passkey", exc.reason if isinstance(exc, InvalidField) else exc.message)
        if who is not None:
            return _factor_page(request, who, next_path, 401, error)
        return _login_page(request, 401, error, next_path=next_path, tab="passkey")
    if who is not None:
        return _passed(request, who, next_path)
    secret, started = core_sessions.start(c, user, "passkey", throttle.client_ip(request), user_agent(request),
                                          second_factor=True)
    return _signed_in(request, secret, started, next_path)
