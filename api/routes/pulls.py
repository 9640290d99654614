"""/api/v1/templates/{owner}/{name}/pulls: open, list, read, edit; files and commits."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.meta.records import Comment, Pull
from registry.services import merging, pulls
from registry.services.guard import page_args

from ..deps import RowNumber, get_actor, get_container, get_signed_in
from ..pagination import link_header

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/pulls")


class NewPull(BaseModel):
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=65_536)
    head: str = Field(max_length=300)
    base: str = Field(default="main", max_length=255)


class NewComment(BaseModel):
    body: str = Field(max_length=65_536)
    path: str | None = Field(default=None, max_length=1000)
    line: int | None = None
    side: str | None = None


class NewReview(BaseModel):
    event: str
    body: str = Field(default="", max_length=65_536)
    comments: list[NewComment] = Field(default_factory=list, max_length=200)


class Merge(BaseModel):
    method: str = "merge"
    expected_head_sha: str | None = None


class PullEdit(BaseModel):
    title: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=65_536)
    state: str | None = None


def _shape(c: Container, pull: Pull) -> dict[str, Any]:
    head = views.pull_head(c, pull)
    return {"number": pull.number, "title": pull.title, "body": pull.body, "state": pull.state,
            "author": pull.author, "head": {"owner": head.owner, "name": head.name, "branch": pull.head_branch,
                                            "sha": pull.head_sha, "ref": f"refs/pull/{pull.number}/head"},
            "base": {"branch": pull.base_branch}, "merged_sha": pull.merged_sha,
            "created_at": pull.created_at, "updated_at": pull.updated_at}


@router.post("", status_code=201)
def create(owner: str, name: str, body: NewPull, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> dict[str, Any]:
    return _shape(c, pulls.open_pull(c, actor, owner, name, body.title, body.body, body.head, body.base))


@router.get("")
def index(owner: str, name: str, request: Request, response: Response, state: str = "open", page: int = 1,
          per_page: int = 30, actor: Actor = Depends(get_actor),
          c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    page, per_page = page_args(page, per_page)
    items, total = pulls.list_pulls(c, actor, owner, name, state, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [_shape(c, p) for p in items]


@router.get("/{number}")
def show(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> dict[str, Any]:
    return _shape(c, pulls.get_pull(c, actor, owner, name, number)[1])


@router.patch("/{number}")
def edit(owner: str, name: str, number: RowNumber, body: PullEdit, actor: Actor = Depends(get_signed_in),
         c: Container = Depends(get_container)) -> dict[str, Any]:
    return _shape(c, pulls.update_pull(c, actor, owner, name, number, body.title, body.body, body.state))


@router.get("/{number}/files")
def files(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
          c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    return pulls.files(c, actor, owner, name, number)


@router.get("/{number}/commits")
def commits(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    return pulls.commits(c, actor, owner, name, number)


@router.get("/{number}/comments")
def comments(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[Comment]:
    return views.pull_comments(c, actor, owner, name, number)


@router.post("/{number}/comments", status_code=201)
def add_comment(owner: str, name: str, number: RowNumber, body: NewComment, actor: Actor = Depends(get_signed_in),
                c: Container = Depends(get_container)) -> Comment:
    return merging.comment(c, actor, owner, name, number, body.body, body.path, body.line, body.side)


@router.post("/{number}/reviews", status_code=201)
def add_review(owner: str, name: str, number: RowNumber, body: NewReview, actor: Actor = Depends(get_signed_in),
               c: Container = Depends(get_container)) -> dict[str, Any]:
    review_id = merging.review(c, actor, owner, name, number, body.event, body.body,
                               [c.model_dump() for c in body.comments])
    return {"id": review_id, "event": body.event}


@router.get("/{number}/mergeability")
def mergeability(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
                 c: Container = Depends(get_container)) -> dict[str, Any]:
    return merging.mergeability(c, actor, owner, name, number)


@router.post("/{number}/merge")
def merge(owner: str, name: str, number: RowNumber, body: Merge, actor: Actor = Depends(get_signed_in),
          c: Container = Depends(get_container)) -> dict[str, Any]:
    return {"sha": merging.merge(c, actor, owner, name, number, body.method, body.expected_head_sha),
            "merged": True}
