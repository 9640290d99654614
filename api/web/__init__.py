"""The web pages adapter: Jinja2 pages, forms, static files."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import admin, authoring, editing, files, forms, pages, reference, settings, uploads


def install(app: FastAPI) -> None:
    """Last, after the API and git routes: `/{owner}/{name}` would otherwise shadow them."""
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(reference.router)
    app.include_router(settings.router)  # before pages: /settings/tokens is no template
    app.include_router(admin.router)  # /admin is no template either
    app.include_router(authoring.router)  # /new, before /{owner}/{name}
    app.include_router(forms.router)
    app.include_router(files.router)
    app.include_router(editing.router)
    app.include_router(uploads.router)
    app.include_router(pages.router)
