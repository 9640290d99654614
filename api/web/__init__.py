"""The web pages adapter: Jinja2 pages, forms, static files."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from limits.storage import Storage

from . import account, admin, files, forms, join, pages, reference, security, settings, signin, sso
from .render import HEADERS
from .session import ENROL_PAGE, EnrolFirst
from .throttle import Throttle


def install(app: FastAPI, store: Storage) -> None:
    """Last, after the API and git routes: `/{owner}/{name}` would otherwise shadow them.
    `store`: where the sign-in throttle counts (the request limits' store)."""
    app.state.throttle = Throttle(store)

    @app.exception_handler(EnrolFirst)
    async def enrol_first(request: Request, exc: EnrolFirst) -> RedirectResponse:
        return RedirectResponse(f"{ENROL_PAGE}?notice=enrol", status_code=303, headers=HEADERS)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(reference.router)
    # before pages: /settings/..., /login/..., /join/verify and /admin/users are no templates
    for module in (settings, signin, join, sso, account, security, admin):
        app.include_router(module.router)
    app.include_router(forms.router)
    app.include_router(files.router)
    app.include_router(pages.router)
