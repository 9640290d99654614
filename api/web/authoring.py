"""/new: a template from a form (or an example), or a fork of an existing one. The form is the
manifest form (registry/services/manifest_form.py); its buttons add, remove and move rows, and
"Create template" checks the files as a push would, then makes the repository and its first commit."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.errors import InvalidInput, PermissionDenied, RegistryError, StaleParent, Unauthenticated
from registry.services import browsing, editing, new_template, templates
from registry.services.commits import Change
from registry.services.manifest_form import ManifestForm, from_fields, from_manifest, parse_manifest, to_manifest

from .common import container, form_fields, signed_in
from .editing import commit_or_propose, require_branch
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
INDUSTRIES = ("other", "media-entertainment", "healthcare-life-science", "retail", "manufacturing", "automotive",
              "financial-services", "gaming")


creator = signed_in("create templates")


async def _fields(request: Request) -> dict[str, str]:
    return await form_fields(request, max_fields=2000)  # rows of four lists


def _page(request: Request, form: ManifestForm, status_code: int = 200, **context: Any) -> HTMLResponse:
    shown: dict[str, Any] = {"name": "", "visibility": "public", "error": None, "problems": [], "example": None}
    shown.update(context)
    return page(request, "new.html", status_code=status_code, title="New template", script="form", form=form,
                errors=form.errors, industries=INDUSTRIES, examples=list(new_template.EXAMPLES), **shown)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, example: str = Query("blank", max_length=40),
             actor: Actor = Depends(creator)) -> HTMLResponse:
    manifest = new_template.EXAMPLES.get(example)
    if manifest is None:
        raise InvalidInput(f"no example {example!r}")
    config = manifest["promptConfig"]
    return _page(request, from_manifest(manifest, config["systemPrompt"], config["userPromptTemplate"]), example=example)


@router.post("/new", response_class=HTMLResponse)
def create(request: Request, fields: dict[str, str] = Depends(_fields), actor: Actor = Depends(creator)) -> Any:
    name, visibility = fields.get("name", "").strip()[:63], fields.get("visibility", "public")
    form, action = from_fields(fields)
    if action is not None or fields.get("action") != "create":
        return _page(request, form, name=name, visibility=visibility)  # a row added, removed or moved
    try:
        template = new_template.create_from_form(container(request), actor, name, visibility, form)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        found = exc.details.get("problems")
        return _page(request, form, 422, name=name, visibility=visibility, error=exc.message if not found else
                     "The template has problems; nothing was created:", problems=found or [])
    return RedirectResponse(f"/{template.owner}/{template.name}", status_code=303, headers=HEADERS)


@router.post("/new/fork")
def fork(request: Request, fields: dict[str, str] = Depends(_fields), actor: Actor = Depends(creator)) -> Any:
    owner, _, name = fields.get("source", "").strip().strip("/").partition("/")
    if not owner or not name:
        raise InvalidInput("give the template to fork as owner/name", field="source")
    forked = templates.fork(container(request), actor, owner, name)
    return RedirectResponse(f"/{forked.owner}/{forked.name}", status_code=303, headers=HEADERS)



# -- template.json through the same form --------------------------------------------------------
def _manifest_at(request: Request, actor: Actor, owner: str, name: str, ref: str, at: str = ""
                 ) -> tuple[browsing.FileView, dict[str, Any], dict[str, str], dict[str, str]]:
    """template.json on a branch (as it was at commit `at`, the page's, when given), the prompts'
    text, and which prompts live in which file."""
    shown = browsing.file(container(request), actor, owner, name, f"{ref}/template.json")
    require_branch(shown.place)
    at = at or shown.place.commit
    if at != shown.place.commit:
        shown = browsing.FileView(shown.place, shown.sha, shown.size,
                                  browsing.file(container(request), actor, owner, name, f"{at}/template.json").text, None)
    manifest = parse_manifest(shown.text or "")
    config = manifest.get("promptConfig")
    config = config if isinstance(config, dict) else {}
    texts, files = {}, {}
    for key in ("systemPrompt", "userPromptTemplate"):
        value = config.get(key)
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            files[key] = value["file"]
            found = browsing.file(container(request), actor, owner, name, f"{at}/{value['file']}")
            texts[key] = found.text or ""
        else:
            texts[key] = value if isinstance(value, str) else ""
    return shown, manifest, texts, files


def _manifest_page(request: Request, actor: Actor, shown: browsing.FileView, form: ManifestForm,
                   status_code: int = 200, **context: Any) -> HTMLResponse:
    place = shown.place
    return page(request, "manifest_edit.html", status_code=status_code, script="form",
                title=f"Edit the manifest · {place.owner}/{place.name}", place=place, view="blob", form=form,
                errors=form.errors, industries=INDUSTRIES,
                options=editing.commit_options(container(request), actor, place.owner, place.name, place.ref),
                parent=context.pop("parent", place.commit), **context)


@router.get("/{owner}/{name}/manifest/{ref:path}", response_class=HTMLResponse)
def manifest_form_page(request: Request, owner: str, name: str, ref: str,
                       actor: Actor = Depends(creator)) -> HTMLResponse:
    shown, manifest, texts, _ = _manifest_at(request, actor, owner, name, ref)
    return _manifest_page(request, actor, shown, from_manifest(manifest, texts["systemPrompt"], texts["userPromptTemplate"]))


@router.post("/{owner}/{name}/manifest/{ref:path}", response_class=HTMLResponse)
def manifest_form_save(request: Request, owner: str, name: str, ref: str, fields: dict[str, str] = Depends(_fields),
                       actor: Actor = Depends(creator)) -> Any:
    parent = fields.get("parent", "")
    shown, manifest, texts, prompt_files = _manifest_at(request, actor, owner, name, ref, parent)
    form, action = from_fields(fields)
    kept = {"parent": parent, "message": fields.get("message", "")[:2000], "choice": fields.get("choice", "direct"),
            "new_branch": fields.get("new_branch", "")[:255]}
    if action is not None or fields.get("action") != "commit":
        return _manifest_page(request, actor, shown, form, 200, **kept)
    updated = to_manifest(form, manifest, prompt_files)
    if form.errors:
        return _manifest_page(request, actor, shown, form, 422, error="Some fields could not be read.", **kept)
    changes = [Change("template.json", (json.dumps(updated, indent=2, ensure_ascii=False) + "\n").encode())]
    for key, path in prompt_files.items():
        if form.get(key) != texts[key]:
            changes.append(Change(path, form.get(key).replace("\r\n", "\n").encode()))
    place = shown.place
    try:
        return commit_or_propose(request, actor, place, {**kept, "path": "template.json",
                                                         "message": kept["message"] or "Update the manifest"}, changes)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        return _manifest_page(request, actor, shown, form, 409 if isinstance(exc, StaleParent) else 422,
                              error=exc.message, **kept)
