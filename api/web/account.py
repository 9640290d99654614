"""/settings/account: the profile (display name, address and its verification), the password,
the export of everything the registry holds about the caller, and deleting the account (each
owned template deleted or handed on, as the page asks; proof that it is the owner first: the
password or a second factor's code, or for an account with neither a fresh single sign-on)."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from registry.errors import AlreadyExists, InvalidField, InvalidInput, PermissionDenied
from registry.services import accounts, accounts_data, accounts_sso
from registry.services import accounts_sessions as core_sessions
from registry.services.accounts_sessions import SignedIn, has_second_factor

from . import session as sessions
from . import sso
from .navigation import field_error, posting, redirect, signed_in
from .pages import mark_web
from .render import HEADERS, page
from .signin import MAX_PASSWORD

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
MAX_TEMPLATES = 10_000


def _page(request: Request, who: SignedIn, status: int = 200, error: tuple[str, str] | None = None,
          form: dict[str, str] | None = None) -> HTMLResponse:
    c = sessions.container(request)
    account = accounts.account_of(c, who.user)
    needs_proof = account.has_password or has_second_factor(c, account)
    values = {"display_name": account.display_name or "", "email": account.user.email or "", **(form or {})}
    return page(request, "account.html", status_code=status, title="Account settings", account=account,
                form=values, error=error, mail=accounts.mail_enabled(c),
                owned=accounts_data.owned_templates(c, who.user), needs_proof=needs_proof,
                reauthenticated=sso.recently(request), sso=accounts_sso.enabled(c),
                sso_name=accounts_sso.button_name(c))


@router.get("/settings/account", response_class=HTMLResponse)
def account_page(request: Request, who: SignedIn = Depends(signed_in)) -> HTMLResponse:
    return _page(request, who)


@router.post("/settings/account/profile")
def profile(request: Request, display_name: str = Form("", max_length=200), email: str = Form("", max_length=300),
            who: SignedIn = Depends(posting)) -> Response:
    c = sessions.container(request)
    before = who.user.email
    try:
        account = accounts.update_profile(c, who, display_name, email, request.app.state.base_url)
    except (InvalidInput, AlreadyExists) as exc:
        return _page(request, who, 409 if isinstance(exc, AlreadyExists) else 400, field_error(exc),
                     {"display_name": display_name, "email": email})
    sent = account.user.email != before and accounts.mail_enabled(c)
    return redirect(request, "/settings/account?notice=" + ("verify_sent" if sent else "profile_saved"))


@router.post("/settings/account/verify")
def resend_verification(request: Request, who: SignedIn = Depends(posting)) -> Response:
    accounts.send_verification(sessions.container(request), who.user, request.app.state.base_url)
    return redirect(request, "/settings/account?notice=verify_sent")


@router.post("/settings/account/password")
def password(request: Request, current_password: str = Form("", max_length=MAX_PASSWORD),
             new_password: str = Form("", max_length=MAX_PASSWORD), who: SignedIn = Depends(posting)) -> Response:
    c = sessions.container(request)
    try:
        accounts.change_password(c, who, current_password, new_password)
    except InvalidInput as exc:
        field, reason = field_error(exc)
        return _page(request, who, 400, ("new_password" if field == "password" else field, reason))
    secret, now = core_sessions.rotate(c, sessions.load(request).secret or "")
    sessions.replace(request, secret, now)
    return redirect(request, "/settings/account?notice=password_changed")


@router.get("/settings/account/export")
def export(request: Request, who: SignedIn = Depends(signed_in)) -> Response:
    data = accounts_data.export_user_data(sessions.container(request), who.user, request.app.state.base_url)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{who.user.name}-registry-data.json"'}
    return Response(body, media_type="application/json", headers=headers)


@router.post("/settings/account/delete")
def delete(request: Request, proof: str = Form("", max_length=MAX_PASSWORD), confirm: str = Form("", max_length=100),
           template: list[str] = Form([], max_length=MAX_TEMPLATES),
           action: list[str] = Form([], max_length=MAX_TEMPLATES), heir: list[str] = Form([], max_length=MAX_TEMPLATES),
           who: SignedIn = Depends(posting)) -> Response:
    """Each owned template comes as a row of three fields: `template` (owner/name), `action`
    (delete or transfer) and `heir` (who it goes to)."""
    c = sessions.container(request)
    try:
        if confirm.strip() != who.user.name:
            raise InvalidField("confirm", "type your username to confirm")
        if not (len(template) == len(action) == len(heir)):
            raise InvalidField("templates", "say for each of your templates whether it is deleted or to whom it goes")
        fates: dict[str, str | None] = {}
        for full_name, what, to in zip(template, action, heir, strict=True):
            if what not in ("delete", "transfer"):
                raise InvalidField("templates", f"{full_name[:130]}: choose delete or transfer")
            if what == "transfer" and not to.strip():
                raise InvalidField("templates", f"{full_name[:130]}: name the user it goes to")
            fates[full_name] = to.strip() if what == "transfer" else None
        accounts_data.delete_account(c, who, proof or None, fates, reauthenticated=sso.recently(request))
    except (InvalidInput, PermissionDenied, AlreadyExists) as exc:
        return _page(request, who, 400 if isinstance(exc, InvalidInput) else 409, field_error(exc))
    sessions.forget(request)  # the session went with the account
    response = redirect(request, "/?notice=deleted")
    response.delete_cookie(sso.REAUTH_COOKIE, path="/", httponly=True, samesite="lax", secure=sessions.secure(request))
    return response
