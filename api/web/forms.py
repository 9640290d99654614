"""Form POSTs of the pages. Each checks origin and CSRF token first, calls one use case and
redirects (303) back to the page, so a reload never re-submits."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from registry.access import Actor
from registry.errors import InvalidInput
from registry.services import gallery, merging, pulls, templates

from ..deps import RowNumber
from . import session as sessions
from .navigation import redirect
from .pages import mark_web

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)


def _posting(request: Request, csrf: str | None = Form(None)) -> Actor:
    sessions.check_post(request, csrf)
    return sessions.actor(request)


def _back(request: Request, url: str) -> RedirectResponse:
    return redirect(request, url)


@router.post("/{owner}/{name}/pulls")
def open_pull(request: Request, owner: str, name: str, title: str = Form(max_length=300),
              head: str = Form(max_length=300), base: str = Form("main", max_length=255),
              body: str = Form("", max_length=65_536), actor: Actor = Depends(_posting)):
    pull = pulls.open_pull(request.app.state.container, actor, owner, name, title, body, head, base)
    return _back(request, f"/{owner}/{name}/pulls/{pull.number}")


@router.post("/{owner}/{name}/pulls/{number}/comments")
def comment(request: Request, owner: str, name: str, number: RowNumber, body: str = Form(max_length=65_536),
            path: str | None = Form(None, max_length=1000), line: str | None = Form(None),
            side: str | None = Form(None), actor: Actor = Depends(_posting)):
    if line not in (None, "") and not line.isdigit():
        raise InvalidInput("line must be a number")
    at = int(line) if line else None
    merging.comment(request.app.state.container, actor, owner, name, number, body, path or None, at,
                    (side or "RIGHT") if at else None)
    anchor = "#files" if at else "#conversation"
    return _back(request, f"/{owner}/{name}/pulls/{number}{anchor}")


@router.post("/{owner}/{name}/pulls/{number}/reviews")
def review(request: Request, owner: str, name: str, number: RowNumber, event: str = Form(),
           body: str = Form("", max_length=65_536), actor: Actor = Depends(_posting)):
    merging.review(request.app.state.container, actor, owner, name, number, event, body, [])
    return _back(request, f"/{owner}/{name}/pulls/{number}#reviews")


@router.post("/{owner}/{name}/pulls/{number}/merge")
def merge(request: Request, owner: str, name: str, number: RowNumber, method: str = Form("merge"),
          expected_head_sha: str | None = Form(None), actor: Actor = Depends(_posting)):
    merging.merge(request.app.state.container, actor, owner, name, number, method, expected_head_sha or None)
    return _back(request, f"/{owner}/{name}/pulls/{number}")


@router.post("/{owner}/{name}/star")
def star(request: Request, owner: str, name: str, action: str = Form("star", max_length=10),
         actor: Actor = Depends(_posting)) -> RedirectResponse:
    gallery.star(request.app.state.container, actor, owner, name, action != "unstar")
    return _back(request, f"/{owner}/{name}#social")


@router.post("/{owner}/{name}/ratings")
def rate(request: Request, owner: str, name: str, score: str = Form(max_length=2),
         review: str = Form("", max_length=5000), actor: Actor = Depends(_posting)) -> RedirectResponse:
    if not score.isdigit():
        raise InvalidInput("score must be a number from 1 to 5")
    gallery.rate(request.app.state.container, actor, owner, name, int(score), review.strip() or None)
    return _back(request, f"/{owner}/{name}#social")


@router.post("/{owner}/{name}/forks")
def fork(request: Request, owner: str, name: str, new_name: str = Form("", max_length=64),
         actor: Actor = Depends(_posting)) -> RedirectResponse:
    child = templates.fork(request.app.state.container, actor, owner, name, None, new_name.strip() or None)
    return _back(request, f"/{child.owner}/{child.name}")
