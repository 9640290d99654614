"""The web pages adapter: Jinja2 pages, forms, static files."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from . import authoring, conflicts, editing, files, forms, pages, reference, settings, uploads


def install(app: FastAPI) -> None:
    """Last, after the API and git routes: `/{owner}/{name}` would otherwise shadow them."""
    # gzip for the static files only (the editor script is 414 KB, 138 KB gzipped); never around the
    # whole app, whose git responses stream packs
    app.mount("/static", GZipMiddleware(StaticFiles(directory=Path(__file__).parent / "static"), minimum_size=1024),
              name="static")
    app.include_router(reference.router)
    app.include_router(settings.router)  # before pages: /settings/tokens is no template
    app.include_router(authoring.router)  # /new, before /{owner}/{name}
    app.include_router(forms.router)
    app.include_router(conflicts.router)
    app.include_router(files.router)
    app.include_router(editing.router)
    app.include_router(uploads.router)
    app.include_router(pages.router)
