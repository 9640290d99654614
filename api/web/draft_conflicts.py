"""The conflict page of a draft, `/{owner}/{name}/drafts/{id}/conflicts?path=F`: one conflicted
file of a draft whose branch moved under it, with the pull requests' hunks and form
(`_conflict_file.html`, read by `conflicts.choices`): ours is the draft's text now, theirs the
branch's, the common ancestor the branch where the draft started. Without script a plain form;
"Use this in the draft" makes the choices the file's text in the draft (`drafts_resolving`),
then the draft page, from which it is committed. A refusal comes back as the page with the
choices kept and the reason beside the hunk it names; a draft typed into where it conflicts
meanwhile shows its hunks afresh."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.errors import PermissionDenied, RegistryError, StaleDraft, Unauthenticated
from registry.services import drafts_resolving

from ..deps import RowNumber
from .common import container, signed_in
from .conflicts import KINDS, PAGE_PICKS, choices, fields_of
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
editor = signed_in("resolve a draft's conflicts")


def url(owner: str, name: str, draft_id: int, path: str) -> str:
    """Where a draft's conflicted file is resolved hunk by hunk."""
    return f"/{owner}/{name}/drafts/{draft_id}/conflicts?path={quote(path, safe='/')}"


def _page(request: Request, actor: Actor, owner: str, name: str, draft_id: int, path: str, status_code: int = 200,
          **context: Any) -> HTMLResponse:
    shown = drafts_resolving.draft_conflict(container(request), actor, owner, name, draft_id, path)
    return page(request, "draft_conflicts.html", status_code=status_code, script=True,
                title=f"Conflict in {shown.file.path} · draft {draft_id} · {owner}/{name}", owner=owner, name=name,
                shown=shown, f=shown.file, fi=0, can=shown.why_not is None, picks=PAGE_PICKS, kinds=KINDS,
                ours_name="the draft", theirs_name=shown.draft.branch,
                others=[(p, url(owner, name, draft_id, p)) for p in shown.others],
                **{"kept": {}, "error": None, "error_at": None, "moved": False, **context})


@router.get("/{owner}/{name}/drafts/{draft_id}/conflicts", response_class=HTMLResponse)
def conflict_page(request: Request, owner: str, name: str, draft_id: RowNumber,
                  path: str = Query(..., min_length=1, max_length=1024), actor: Actor = Depends(editor)) -> HTMLResponse:
    return _page(request, actor, owner, name, draft_id, path)


@router.post("/{owner}/{name}/drafts/{draft_id}/conflicts", response_class=HTMLResponse)
def resolve(request: Request, owner: str, name: str, draft_id: RowNumber, fields: dict[str, str] = Depends(fields_of),
            actor: Actor = Depends(editor)) -> Any:
    path = fields.get("path:0", "")[:1024]
    kept, chosen = choices(fields)
    try:
        drafts_resolving.resolve_draft_conflict(container(request), actor, owner, name, draft_id, path, chosen,
                                                fields.get("shown") or None)
    except StaleDraft as exc:  # other hunks now: shown afresh, nothing kept
        return _page(request, actor, owner, name, draft_id, path, 409, error=exc.message, moved=True)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated) or not path:
            raise
        at = (exc.details.get("path"), exc.details.get("hunk"))
        return _page(request, actor, owner, name, draft_id, path, 422, error=exc.message, error_at=at, kept=kept)
    return RedirectResponse(f"/{owner}/{name}/drafts/{draft_id}?path={quote(path, safe='/')}#resolved",
                            status_code=303, headers=HEADERS)
