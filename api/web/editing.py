"""Editing files on the web (the editor page and its buttons, all plain forms; the editor script
only adds): edit, add and delete a file, check and preview changes, then commit directly or
propose a pull request (from the reader's fork when they may not write). The page carries the
commit it was rendered from: a branch that moved since is never overwritten; the change is merged
onto the new tip when that is clean, and the person decides."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from registry.access import Actor
from registry.errors import InvalidInput, PermissionDenied, RegistryError, StaleParent, Unauthenticated
from registry.services import browsing, commits, drafts, editing, prompts, proposals
from registry.services.commits import Change, PullSpec
from registry.services.edit_preview import diff_of

from . import session as sessions
from .common import container, form_fields, signed_in
from .pages import mark_web
from .render import HEADERS, page
from .render import editor_language as _language

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
MAX_CHECK_BYTES = 1024 * 1024


editor = signed_in("edit templates")


def _params(fields: dict[str, str]) -> dict[str, str]:
    return {k[2:]: v for k, v in fields.items() if k.startswith("p:")}


def _editor(request: Request, actor: Actor, place: browsing.Place, **context: Any) -> HTMLResponse:
    """The editor page; `context` overrides what the form shows (a POST keeps what was typed)."""
    c = container(request)
    path = context.get("path", place.path)
    shown: dict[str, Any] = {"path": path, "original": place.path, "content": "", "parent": place.commit,
                             "message": f"Update {path}" if place.path else "Add a file", "choice": "direct",
                             "new_branch": "", "problems": None, "diff": None, "stale": None, "error": None,
                             "creating": not place.path, "language": _language(path)}
    shown.update(context)
    resolved = shown.pop("resolved", None)
    parameters = prompts.parameters(resolved) if isinstance(resolved, dict) else []
    preview = shown.pop("preview", None)
    if preview is None and isinstance(resolved, dict):
        preview = prompts.render(resolved, shown.pop("given", {}), child=False)
    shown.pop("given", None)
    options = editing.commit_options(c, actor, place.owner, place.name, place.ref)
    together = drafts.list_drafts(c, actor, place.owner, place.name, place.ref) if not options.via_fork else []
    return page(request, "edit.html", status_code=shown.pop("status_code", 200), script=True,
                title=f"Edit {path or 'a new file'} · {place.owner}/{place.name}", place=place, view="blob",
                options=options, parameters=parameters, preview=preview, together=together, **shown)


def require_branch(place: browsing.Place) -> None:
    if place.ref not in place.branches:
        raise InvalidInput(f"{place.ref} is not a branch: files are edited on a branch")


def _resolved(request: Request, actor: Actor, place: browsing.Place) -> dict[str, Any] | None:
    _, manifest = editing.checked_changes(container(request), actor, place.owner, place.name, place.commit, [])
    return manifest


@router.get("/{owner}/{name}/edit/{rest:path}", response_class=HTMLResponse)
def edit_page(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(editor)) -> HTMLResponse:
    shown = browsing.file(container(request), actor, owner, name, rest)
    require_branch(shown.place)
    if shown.text is None:
        raise InvalidInput(f"{shown.place.path}: {shown.why_not_shown}, and cannot be edited here")
    return _editor(request, actor, shown.place, content=shown.text, resolved=_resolved(request, actor, shown.place))


@router.get("/{owner}/{name}/new/{rest:path}", response_class=HTMLResponse)
def new_file_page(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(editor)) -> HTMLResponse:
    listing = browsing.listing(container(request), actor, owner, name, rest)
    require_branch(listing.place)
    folder = f"{listing.place.path}/" if listing.place.path else ""
    place = browsing.Place(owner, name, listing.place.ref, "", listing.place.commit, listing.place.branches,
                           listing.place.tags)
    return _editor(request, actor, place, path=folder, resolved=_resolved(request, actor, place))


@router.post("/{owner}/{name}/edit/{rest:path}", response_class=HTMLResponse)
@router.post("/{owner}/{name}/new/{rest:path}", response_class=HTMLResponse)
def save(request: Request, owner: str, name: str, rest: str, fields: dict[str, str] = Depends(form_fields),
         actor: Actor = Depends(editor)) -> Any:
    c = container(request)
    branch, parent, original = fields.get("branch", ""), fields.get("parent", ""), fields.get("original", "")
    place = _place_at(request, actor, owner, name, branch, original)
    path, content = fields.get("path", "").strip().strip("/"), fields.get("content", "").replace("\r\n", "\n")
    changes = [Change(path, content.encode())] + ([Change(original, None)] if original and original != path else [])
    kept = {"path": path, "content": content, "parent": parent, "original": original,
            "message": fields.get("message", "")[:2000], "choice": fields.get("choice", "direct"),
            "new_branch": fields.get("new_branch", "")[:255], "given": _params(fields)}
    action = fields.get("action", "check")
    try:
        if not path:
            raise InvalidInput("a file path is needed", field="path")
        if action == "commit":
            return commit_or_propose(request, actor, place, kept, changes)
        problems, resolved = editing.checked_changes(c, actor, owner, name, parent or None, changes)
        diff = None
        if action == "preview":
            diff = [diff_of(path, _old_text(request, actor, place, original, parent) if original else None, content,
                            original if original and original != path else None)]
        return _editor(request, actor, place, problems=problems, diff=diff, resolved=resolved, **kept)
    except StaleParent as exc:
        return _stale(request, actor, place, kept, changes, str(exc.details.get("tip", "")))
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        return _editor(request, actor, place, error=exc.message, status_code=422, **kept)


def _place_at(request: Request, actor: Actor, owner: str, name: str, branch: str, path: str) -> browsing.Place:
    found = browsing.listing(container(request), actor, owner, name, branch)
    require_branch(found.place)
    return browsing.Place(owner, name, found.place.ref, path, found.place.commit, found.place.branches,
                          found.place.tags)


def _old_text(request: Request, actor: Actor, place: browsing.Place, path: str, at: str) -> str | None:
    try:
        shown = browsing.file(container(request), actor, place.owner, place.name, f"{at or place.ref}/{path}")
    except RegistryError:
        return None
    return shown.text


def commit_or_propose(request: Request, actor: Actor, place: browsing.Place, kept: dict[str, Any],
            changes: list[Change]) -> RedirectResponse:
    c, message = container(request), kept["message"] or f"Update {kept['path']}"
    new_branch = kept["new_branch"].strip() or None
    if kept["choice"] == "direct":
        done = commits.commit_changes(c, actor, place.owner, place.name, place.ref, kept["parent"] or None, message,
                                      changes, new_branch)
        target = f"/{done.template.owner}/{done.template.name}/blob/{done.branch}/{kept['path']}"
    else:
        done = proposals.propose_changes(c, actor, place.owner, place.name, place.ref, kept["parent"] or None, message,
                                         changes, PullSpec(message.splitlines()[0][:300]), new_branch)
        assert done.pull is not None
        target = f"/{place.owner}/{place.name}/pulls/{done.pull.number}"
    return RedirectResponse(target, status_code=303, headers=HEADERS)


def _stale(request: Request, actor: Actor, place: browsing.Place, kept: dict[str, Any], changes: list[Change],
           tip: str) -> HTMLResponse:
    """The branch moved while the page was open: nothing is overwritten. A clean three-way merge
    is offered as the new text (on the new tip); otherwise the person's text stays as typed."""
    c = container(request)
    rebased = editing.rebase_changes(c, actor, place.owner, place.name, place.ref, kept["parent"], changes)
    stale = {"parent": kept["parent"], "tip": rebased.tip, "conflicts": rebased.conflicts}
    if not rebased.conflicts:
        merged = rebased.files.get(kept["path"])
        kept = {**kept, "parent": rebased.tip, "content": merged.decode("utf-8", "replace") if merged is not None
                else kept["content"]}
    return _editor(request, actor, place, stale=stale, status_code=409, **kept)


@router.post("/{owner}/{name}/delete/{rest:path}")
def delete_file(request: Request, owner: str, name: str, rest: str, fields: dict[str, str] = Depends(form_fields),
                actor: Actor = Depends(editor)) -> RedirectResponse:
    shown = browsing.file(container(request), actor, owner, name, rest)
    require_branch(shown.place)
    kept = {"path": shown.place.path, "parent": fields.get("parent", shown.place.commit),
            "message": fields.get("message", "") or f"Delete {shown.place.path}", "choice": fields.get("choice", "direct"),
            "new_branch": fields.get("new_branch", "")}
    response = commit_or_propose(request, actor, shown.place, kept, [Change(shown.place.path, None)])
    if kept["choice"] == "direct":
        response.headers["location"] = f"/{owner}/{name}/tree/{shown.place.ref}/"
    return response


async def _json_body(request: Request) -> bytes:
    """The editor script's JSON (bounded), after the same origin and CSRF checks as a form."""
    sessions.check_post(request, request.headers.get("x-csrf-token"))
    body = await request.body()
    if len(body) > MAX_CHECK_BYTES:
        raise InvalidInput(f"at most {MAX_CHECK_BYTES} bytes")
    return body


@router.post("/{owner}/{name}/-/check")
def live_check(request: Request, owner: str, name: str, body: bytes = Depends(_json_body)) -> JSONResponse:
    """The editor script's debounced check: JSON in (content, path, parent or ref, params), the
    push checks' problems and the prompts rendered with the change applied out."""
    try:
        data = json.loads(body)
        assert isinstance(data, dict)
        path, content = str(data.get("path", "")).strip("/"), str(data.get("content", ""))
        at = str(data.get("parent") or data.get("ref") or "") or None
        given = {str(k): str(v) for k, v in (data.get("params") or {}).items()}
    except (ValueError, AssertionError, AttributeError):
        raise InvalidInput("a JSON object with content, path and parent is expected") from None
    actor = sessions.actor(request)
    problems, resolved = editing.checked_changes(container(request), actor, owner, name, at,
                                                 [Change(path, content.encode())] if path else [])
    preview = prompts.render(resolved, given, child=False) if isinstance(resolved, dict) else None
    return JSONResponse({"problems": [{"path": p.path, "line": p.line, "message": p.message} for p in problems],
                         "preview": None if preview is None else {"system": preview.system, "user": preview.user,
                                                                  "error": preview.error, "deferred": preview.deferred,
                                                                  "missing": list(preview.missing)}},
                        headers=HEADERS)
