"""/settings/tokens: the signed-in user's API tokens. Create (the token is shown this once, on
the answer to the form), see last use, revoke. Forms carry the CSRF token like every other."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.container import Container
from registry.errors import Unauthenticated
from registry.services import users

from ..deps import RowNumber
from . import session as sessions
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)


def _c(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _me(request: Request) -> Actor:
    actor = sessions.actor(request)
    if actor.user is None:
        raise Unauthenticated("sign in to manage your tokens")
    return actor


def _posting(request: Request, csrf: str | None = Form(None)) -> Actor:
    sessions.check_post(request, csrf)
    return _me(request)


def _page(request: Request, actor: Actor, new_token: str | None = None, status_code: int = 200) -> HTMLResponse:
    return page(request, "tokens.html", status_code=status_code, title="API tokens",
                tokens=sorted(users.my_tokens(_c(request), actor), key=lambda t: -t.id), new_token=new_token)


@router.get("/settings/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, actor: Actor = Depends(_me)) -> HTMLResponse:
    return _page(request, actor)


@router.post("/settings/tokens", response_class=HTMLResponse)
def create_token(request: Request, scope: str = Form("read", max_length=10), expires_days: str = Form("", max_length=10),
                 actor: Actor = Depends(_posting)) -> HTMLResponse:
    days = float(expires_days) if expires_days.strip().replace(".", "", 1).isdigit() else None
    token, _ = users.create_my_token(_c(request), actor, scope, days)
    return _page(request, actor, new_token=token, status_code=201)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: RowNumber, actor: Actor = Depends(_posting)) -> RedirectResponse:
    users.revoke_my_token(_c(request), actor, token_id)
    return RedirectResponse("/settings/tokens", status_code=303, headers=HEADERS)
