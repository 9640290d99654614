"""/new: a template from a form (or an example), or a fork of an existing one. The form is the
manifest form (registry/services/manifest_form.py); its buttons add, remove and move rows, and
"Create template" checks the files as a push would, then makes the repository and its first commit."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.container import Container
from registry.errors import InvalidInput, PermissionDenied, RegistryError, Unauthenticated
from registry.services import new_template, templates
from registry.services.manifest_form import ManifestForm, from_fields, from_manifest

from . import session as sessions
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
INDUSTRIES = ("other", "media-entertainment", "healthcare-life-science", "retail", "manufacturing", "automotive",
              "financial-services", "gaming")


def _c(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _signed_in(request: Request) -> Actor:
    actor = sessions.actor(request)
    if actor.user is None:
        raise Unauthenticated("sign in to create templates")
    return actor


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=2000)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    sessions.check_post(request, fields.get("csrf"))
    return fields


def _page(request: Request, form: ManifestForm, status_code: int = 200, **context: Any) -> HTMLResponse:
    shown: dict[str, Any] = {"name": "", "visibility": "public", "error": None, "problems": [], "example": None}
    shown.update(context)
    return page(request, "new.html", status_code=status_code, title="New template", form=form, errors=form.errors,
                industries=INDUSTRIES, examples=list(new_template.EXAMPLES), **shown)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, example: str = Query("blank", max_length=40),
             actor: Actor = Depends(_signed_in)) -> HTMLResponse:
    manifest = new_template.EXAMPLES.get(example)
    if manifest is None:
        raise InvalidInput(f"no example {example!r}")
    config = manifest["promptConfig"]
    return _page(request, from_manifest(manifest, config["systemPrompt"], config["userPromptTemplate"]), example=example)


@router.post("/new", response_class=HTMLResponse)
def create(request: Request, fields: dict[str, str] = Depends(_fields), actor: Actor = Depends(_signed_in)) -> Any:
    name, visibility = fields.get("name", "").strip()[:63], fields.get("visibility", "public")
    form, action = from_fields(fields)
    if action is not None or fields.get("action") != "create":
        return _page(request, form, name=name, visibility=visibility)  # a row added, removed or moved
    try:
        template = new_template.create_from_form(_c(request), actor, name, visibility, form)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        found = exc.details.get("problems")
        return _page(request, form, 422, name=name, visibility=visibility, error=exc.message if not found else
                     "The template has problems; nothing was created:", problems=found or [])
    return RedirectResponse(f"/{template.owner}/{template.name}", status_code=303, headers=HEADERS)


@router.post("/new/fork")
def fork(request: Request, fields: dict[str, str] = Depends(_fields), actor: Actor = Depends(_signed_in)) -> Any:
    owner, _, name = fields.get("source", "").strip().strip("/").partition("/")
    if not owner or not name:
        raise InvalidInput("give the template to fork as owner/name", field="source")
    forked = templates.fork(_c(request), actor, owner, name)
    return RedirectResponse(f"/{forked.owner}/{forked.name}", status_code=303, headers=HEADERS)

