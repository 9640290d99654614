"""/admin/users (the dashboard, /admin, is admin_dashboard.py): admins list and search accounts, disable and
enable them, make and unmake admins, and make invite and reset links (shown on the answer to the
form, once). Each change is an event (the use cases record it); others get 403, strangers 401."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from registry.access import Actor
from registry.errors import AlreadyExists, InvalidInput, Unauthenticated
from registry.services import accounts, accounts_data

from . import session as sessions
from .navigation import field_error, posted, redirect
from .pages import mark_web
from .render import page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
PER_PAGE = 50


def _actor(request: Request) -> Actor:
    actor = sessions.actor(request)
    if actor.user is None:
        raise Unauthenticated("sign in as an admin to see this page")
    return actor


def _posting(request: Request, _: None = Depends(posted)) -> Actor:
    return _actor(request)


def _users_page(request: Request, actor: Actor, q: str = "", page_no: int = 1, status: int = 200,
                error: tuple[str, str] | None = None, link: tuple[str, str] | None = None) -> HTMLResponse:
    found, total = accounts_data.list_users(sessions.container(request), actor, q or None, page_no, PER_PAGE)
    return page(request, "admin_users.html", status_code=status, title="Users · Admin", users=found, total=total,
                q=q, page_no=page_no, pages=max(1, -(-total // PER_PAGE)), error=error, link=link)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, q: str = Query("", max_length=254), page_no: int = Query(1, alias="page", ge=1,
               le=100_000), actor: Actor = Depends(_actor)) -> HTMLResponse:
    return _users_page(request, actor, q, page_no)


@router.post("/admin/users/{name}/disabled")
def set_disabled(request: Request, name: str, value: str = Form(max_length=5),
                 actor: Actor = Depends(_posting)) -> Response:
    accounts_data.set_disabled(sessions.container(request), actor, name[:64], value == "true")
    return redirect(request, f"/admin/users?q={quote(name[:64], safe='')}")


@router.post("/admin/users/{name}/admin")
def set_admin(request: Request, name: str, value: str = Form(max_length=5),
              actor: Actor = Depends(_posting)) -> Response:
    accounts_data.set_admin(sessions.container(request), actor, name[:64], value == "true")
    return redirect(request, f"/admin/users?q={quote(name[:64], safe='')}")


@router.post("/admin/users/{name}/reset-link", response_class=HTMLResponse)
def reset_link(request: Request, name: str, actor: Actor = Depends(_posting)) -> Response:
    url = accounts.make_reset_link(sessions.container(request), actor, name[:64], request.app.state.base_url)
    return _users_page(request, actor, name[:64], link=(f"A password reset link for {name[:64]}", url))


@router.post("/admin/invites", response_class=HTMLResponse)
def invite(request: Request, email: str = Form("", max_length=300), actor: Actor = Depends(_posting)) -> Response:
    c = sessions.container(request)
    try:
        url = accounts.make_invite(c, actor, email, request.app.state.base_url)
    except (InvalidInput, AlreadyExists) as exc:
        return _users_page(request, actor, status=409 if isinstance(exc, AlreadyExists) else 400,
                           error=field_error(exc))
    mailed = " (mailed to them too)" if accounts.mail_enabled(c) else ""
    return _users_page(request, actor, link=(f"An invite link for {email.strip().lower()}{mailed}", url))
