"""The conflict page of a pull request, `/{owner}/{name}/pulls/{n}/conflicts`: each conflicted
file's hunks with ours, theirs and the common ancestor side by side, and a plain form (no script
needed; static/conflicts.js only makes each edit box follow the side picked) choosing per hunk
ours, theirs, both (line hunks) or an edited text, then "Commit merge":
the base branch merged into the head branch (`services/resolving`). A refused resolution comes
back as the page with the person's choices kept and the reason beside the hunk it names."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry.access import Actor
from registry.container import Container
from registry.errors import PermissionDenied, RegistryError, StaleBase, StaleHead, StaleParent, Unauthenticated
from registry.services import resolving
from registry.services.resolving import MAX_FILES, MAX_HUNKS, Choice, Resolution

from ..deps import RowNumber
from . import session as sessions
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
PAGE_PICKS = ("ours", "theirs", "both", "edit")  # the API also takes `base`
KINDS = {"lines": "by lines", "json": "by JSON path", "cases": "by test case", "file": "the whole file"}


def _c(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def fields_of(request: Request) -> dict[str, str]:
    """The posted form's text fields (after the origin and CSRF checks), bounded in number."""
    form = await request.form(max_fields=2 * (MAX_HUNKS + MAX_FILES) + 10)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    sessions.check_post(request, fields.get("csrf"))
    return fields


def _page(request: Request, actor: Actor, owner: str, name: str, number: int, status_code: int = 200,
          **context: Any) -> HTMLResponse:
    shown = resolving.pull_conflicts(_c(request), actor, owner, name, number)
    context.setdefault("message", shown.message)
    return page(request, "conflicts.html", status_code=status_code, script=True,
                title=f"Conflicts · #{number} {shown.pull.title} · {owner}/{name}", owner=owner, name=name,
                shown=shown, picks=PAGE_PICKS, kinds=KINDS, **{"kept": {}, "error": None, "error_at": None,
                                                                  "moved": False, **context})


@router.get("/{owner}/{name}/pulls/{number}/conflicts", response_class=HTMLResponse)
def conflicts_page(request: Request, owner: str, name: str, number: RowNumber) -> HTMLResponse:
    return _page(request, sessions.actor(request), owner, name, number)


@router.post("/{owner}/{name}/pulls/{number}/conflicts", response_class=HTMLResponse)
def resolve(request: Request, owner: str, name: str, number: RowNumber,
            fields: dict[str, str] = Depends(fields_of)) -> Any:
    actor = sessions.actor(request)
    kept, chosen = choices(fields)
    message = fields.get("message", "")[:2000]
    try:
        resolving.resolve_pull(_c(request), actor, owner, name, number, chosen, message or None,
                               fields.get("expected_head_sha") or None, fields.get("expected_base_sha") or None)
    except (StaleHead, StaleBase, StaleParent) as exc:  # other conflicts now: shown afresh, nothing kept
        return _page(request, actor, owner, name, number, 409, error=exc.message, moved=True, message=message)
    except RegistryError as exc:
        if isinstance(exc, PermissionDenied | Unauthenticated):
            raise
        at = (exc.details.get("path"), exc.details.get("hunk"))
        return _page(request, actor, owner, name, number, 422, error=exc.message, error_at=at, kept=kept,
                     message=message)
    return RedirectResponse(f"/{owner}/{name}/pulls/{number}#merge", status_code=303, headers=HEADERS)


def choices(fields: dict[str, str]) -> tuple[dict[str, tuple[str, str]], Resolution]:
    """The form's `choice:F:H` radios and `text:F:H` textareas (file F is named by `path:F`):
    what to show again ("F:H" -> (pick, text)), and the resolution."""
    kept: dict[str, tuple[str, str]] = {}
    hunks: dict[str, dict[int, Choice]] = {}
    for key in fields:
        kind, _, at = key.partition(":")
        file_, _, hunk = at.partition(":")
        if kind not in ("choice", "text") or not (file_.isdigit() and hunk.isdigit()):
            continue
        pick, text = fields.get(f"choice:{at}", ""), fields.get(f"text:{at}", "")
        kept[at] = (pick, text)
        path = fields.get(f"path:{file_}", "")
        if kind == "choice" and path:
            hunks.setdefault(path, {})[int(hunk)] = Choice(pick, text if pick == "edit" else None)
    return kept, Resolution(hunks)
