"""/api/v1/user (the caller), /api/v1/user/export (everything the registry holds about them) and
/api/v1/admin/users (admins). The caller's own reads take an API token or, for a browser, the
web session's cookie (a complete one: past its second factor, with nothing left to enrol)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from starlette.concurrency import run_in_threadpool

from registry.access import Actor
from registry.container import Container
from registry.errors import Unauthenticated
from registry.meta.records_accounts import Account
from registry.services import accounts, accounts_data
from registry.services.accounts_sessions import has_second_factor

from ..deps import BEARER, PAGE, PER_PAGE, SIGNED_IN, container_of, get_actor, get_container, get_signed_in
from ..models.accounts import AccountOut, UserExport, UserOut
from ..openapi import PAGED
from ..pagination import link_header
from ..web import session as sessions

router = APIRouter(prefix="/api/v1", tags=["accounts"])


async def get_caller(request: Request, _marker: None = Security(BEARER, scopes=[SIGNED_IN])) -> Actor:
    """A token's user, or without one the browser session's (complete) user."""
    if request.headers.get("authorization"):
        actor = await get_actor(request)
    else:
        who = await run_in_threadpool(sessions.signed_in, request)
        actor = Actor(who.user, who.scope) if who is not None and who.complete else Actor(None)
    if actor.user is None:
        raise Unauthenticated("authentication required: an API token, or a signed-in browser session")
    return actor


def _user(c: Container, actor: Actor) -> UserOut:
    assert actor.user is not None
    account = accounts.account_of(c, actor.user)
    return UserOut(**_account(account).model_dump(), has_password=account.has_password,
                   two_factor=has_second_factor(c, account))


@router.get("/user")
def me(actor: Actor = Depends(get_caller), c: Container = Depends(get_container)) -> UserOut:
    """The caller's account."""
    return _user(c, actor)


@router.get("/user/export")
def export(request: Request, actor: Actor = Depends(get_caller)) -> UserExport:
    """Everything the registry holds about the caller: profile, factors (never their secrets),
    sessions, tokens (never the tokens), owned templates with clone URLs, collaborations, stars,
    ratings, pull requests, reviews, comments and the events they caused."""
    assert actor.user is not None
    data = accounts_data.export_user_data(container_of(request), actor.user, request.app.state.base_url)
    return UserExport.model_validate(data)


def _account(account: Account) -> AccountOut:
    return AccountOut(username=account.name, display_name=account.display_name, email=account.user.email,
                      email_verified=account.email_verified, is_admin=account.user.is_admin,
                      disabled=account.disabled, created_at=account.created_at)


@router.get("/admin/users", responses=PAGED)
def admin_users(request: Request, response: Response, q: str | None = Query(None, max_length=254,
                description="part of a username or address"), page: int = PAGE, per_page: int = PER_PAGE,
                actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> list[AccountOut]:
    """Every account, by username; admins (with an admin-scoped token) only."""
    found, total = accounts_data.list_users(c, actor, q, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    response.headers["X-Total-Count"] = str(total)
    return [_account(a) for a in found]
