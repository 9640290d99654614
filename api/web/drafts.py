"""The draft page (/{owner}/{name}/drafts/{id}): live co-editing with script (static/drafts.js:
CodeMirror bound to the file's Yjs document over the draft's WebSocket, with cursors, presence
and "saved"), and without script plain forms: the file's text in a textarea saved into the
draft (merged three ways with what others typed), commit or propose, settle a conflict, add a
file, delete the draft. "Edit together" on the editor page posts to /{owner}/{name}/drafts."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.errors import DraftConflicted, InvalidInput, PermissionDenied, RegistryError, Unauthenticated
from registry.services import drafts, drafts_resolving
from registry.services.commits import PullSpec

from ..deps import RowNumber
from . import draft_conflicts
from .common import container, form_fields, signed_in
from .editing import _language
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
editor = signed_in("edit drafts")


def _to(owner: str, name: str, draft_id: int, path: str | None = None, anchor: str = "") -> RedirectResponse:
    query = f"?path={path}" if path else ""
    return RedirectResponse(f"/{owner}/{name}/drafts/{draft_id}{query}{anchor}", status_code=303, headers=HEADERS)


@router.post("/{owner}/{name}/drafts")
def start(request: Request, owner: str, name: str, fields: dict[str, str] = Depends(form_fields),
          actor: Actor = Depends(editor)) -> RedirectResponse:
    """"Edit together" on the editor page: a new draft of the branch with the file open."""
    path = fields.get("path", "").strip().strip("/") or None
    draft = drafts.open_draft(container(request), actor, owner, name, fields.get("branch", ""), path)
    return _to(owner, name, draft.id, path)


@router.get("/{owner}/{name}/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(request: Request, owner: str, name: str, draft_id: RowNumber,
               path: str | None = Query(None, max_length=1024), actor: Actor = Depends(editor)) -> HTMLResponse:
    return _page(request, actor, owner, name, draft_id, path)


def _page(request: Request, actor: Actor, owner: str, name: str, draft_id: int, path: str | None,
          status_code: int = 200, **shown: Any) -> HTMLResponse:
    c = container(request)
    view = drafts.get_draft(c, actor, owner, name, draft_id)
    files = [f.path for f in view.files]
    path = path or (files[0] if files else None)
    text = None
    if path is not None and path in files:
        text = drafts.text(c, actor, owner, name, draft_id, path)
    conflicts = [{"path": k.path, "base": _show(k.base), "theirs": _show(k.theirs), "ours": _show(k.ours),
                  "details": k.details, "theirs_sha": k.theirs_sha,
                  "view": draft_conflicts.url(owner, name, draft_id, k.path)}
                 for k in view.conflicts]
    ws = f"/api/v1/templates/{owner}/{name}/drafts/{draft_id}/ws"
    resolving = None  # the open file's conflict, resolved under its editor
    if view.can_write and path is not None and any(k.path == path for k in view.conflicts):
        resolving = drafts_resolving.draft_conflict(c, actor, owner, name, draft_id, path)
    return page(request, "draft.html", status_code=status_code, script="drafts",
                resolving=resolving, picks=draft_conflicts.PAGE_PICKS, kinds=draft_conflicts.KINDS,
                title=f"Draft {draft_id} · {owner}/{name}", owner=owner, name=name, view=view, d=view.draft,
                files=files, path=path, text=text if shown.get("text") is None else shown["text"],
                shown=text, conflicts=conflicts, ws=ws, language=_language(path or ""),
                error=shown.get("error"), mine=shown.get("mine"), message=shown.get("message", ""))


def _show(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


@router.post("/{owner}/{name}/drafts/{draft_id}/save", response_class=HTMLResponse)
def save(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(form_fields),
         actor: Actor = Depends(editor)) -> Any:
    """A page without script: what was typed into the textarea, merged into the draft."""
    path = fields.get("path", "")
    typed, shown = fields.get("content", "").replace("\r\n", "\n"), fields.get("shown", "").replace("\r\n", "\n")
    try:
        drafts.save_text(container(request), actor, owner, name, draft_id, path, shown, typed)
    except DraftConflicted as exc:
        return _page(request, actor, owner, name, draft_id, path, 409, error=exc.message, mine=typed)
    return _to(owner, name, draft_id, path, "#saved")


@router.post("/{owner}/{name}/drafts/{draft_id}/files")
def add_file(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(form_fields),
             actor: Actor = Depends(editor)) -> RedirectResponse:
    path = fields.get("path", "").strip().strip("/")
    access = drafts.connect(container(request), actor, owner, name, draft_id, path)  # a writer's join makes the document
    return _to(owner, name, draft_id, access.path)


@router.post("/{owner}/{name}/drafts/{draft_id}/commit", response_class=HTMLResponse)
def commit(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(form_fields),
           actor: Actor = Depends(editor)) -> Any:
    message = fields.get("message", "")[:2000]
    pull = None
    if fields.get("choice") == "pull":
        title = (fields.get("title") or message).strip() or "Changes from a draft"
        pull = PullSpec(title.splitlines()[0][:300])
    try:
        done = drafts.commit_draft(container(request), actor, owner, name, draft_id, message, pull,
                                   fields.get("new_branch", "").strip() or None)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        return _page(request, actor, owner, name, draft_id, fields.get("path") or None,
                     409 if isinstance(exc, DraftConflicted) else 422, error=exc.message, message=message)
    if done.pull is not None:
        return RedirectResponse(f"/{owner}/{name}/pulls/{done.pull.number}", status_code=303, headers=HEADERS)
    return _to(owner, name, draft_id, fields.get("path") or None, "#committed")


@router.post("/{owner}/{name}/drafts/{draft_id}/resolve")
def resolve(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(form_fields),
            actor: Actor = Depends(editor)) -> RedirectResponse:
    path = fields.get("path", "")
    drafts.resolve_conflict(container(request), actor, owner, name, draft_id, path, fields.get("take", ""))
    return _to(owner, name, draft_id, path)


@router.post("/{owner}/{name}/drafts/{draft_id}/delete")
def delete(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(form_fields),
           actor: Actor = Depends(editor)) -> RedirectResponse:
    view = drafts.get_draft(container(request), actor, owner, name, draft_id)
    if fields.get("confirm") != "yes":
        raise InvalidInput("tick the box to confirm the draft is to be discarded")
    drafts.delete_draft(container(request), actor, owner, name, draft_id)
    return RedirectResponse(f"/{owner}/{name}/tree/{view.draft.branch}/", status_code=303, headers=HEADERS)

