"""The web pages adapter: Jinja2 pages, forms, static files."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from limits.storage import Storage
from starlette.middleware.gzip import GZipMiddleware

from . import (
    account,
    admin,
    admin_dashboard,
    authoring,
    conflicts,
    draft_conflicts,
    drafts,
    editing,
    experiments,
    files,
    forms,
    join,
    news,
    pages,
    reference,
    security,
    settings,
    signin,
    sso,
    uploads,
)
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

    # gzip for the static files only (the editor script is 414 KB, 138 KB gzipped); never around the
    # whole app, whose git responses stream packs
    app.mount("/static", GZipMiddleware(StaticFiles(directory=Path(__file__).parent / "static"), minimum_size=1024),
              name="static")
    app.include_router(reference.router)
    # before pages: /settings/..., /login/..., /join/verify and /admin/users are no templates
    for module in (settings, signin, join, sso, account, security, admin, admin_dashboard):
        app.include_router(module.router)
    app.include_router(authoring.router)  # /new, before /{owner}/{name}
    app.include_router(forms.router)
    app.include_router(experiments.router)
    app.include_router(conflicts.router)
    app.include_router(files.router)
    app.include_router(editing.router)
    app.include_router(drafts.router)
    app.include_router(draft_conflicts.router)
    app.include_router(news.router)
    app.include_router(uploads.router)
    app.include_router(pages.router)
