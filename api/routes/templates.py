"""/api/v1/templates: create, read, delete templates and browse their repositories."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.meta.records import Protection, Template
from registry.services import templates
from registry.services.guard import page_args

from ..deps import get_actor, get_container, get_signed_in
from ..pagination import link_header

router = APIRouter(prefix="/api/v1")


class CreateTemplate(BaseModel):
    name: str
    owner: str | None = None
    visibility: Literal["public", "private"] = "public"
    description: str = Field(default="", max_length=2000)


class Collaborator(BaseModel):
    role: Literal["reader", "writer", "maintainer"]


class ProtectionRule(BaseModel):
    required_checks: list[str] = []
    required_approvals: int = Field(default=0, ge=0, le=20)
    allow_force_push: bool = False
    allow_deletion: bool = False


class TemplatePatch(BaseModel):
    description: str | None = Field(default=None, max_length=2000)
    visibility: Literal["public", "private"] | None = None
    default_branch: str | None = Field(default=None, min_length=1, max_length=255)


class ManifestChange(BaseModel):
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class VersionOut(BaseModel):
    version: str
    sha: str
    message: str
    tagger: str | None
    date: float
    changes: list[ManifestChange] = Field(description="template.json changes since the previous version")


class VersionDetail(VersionOut):
    manifest: dict[str, Any] | None = Field(description="the resolved manifest snapshot (extends merged)")
    problems: list[dict[str, str]]


class CompareOut(BaseModel):
    base_sha: str
    head_sha: str
    merge_base: str | None
    ahead_by: int = Field(description="commits the head has that the base has not")
    behind_by: int = Field(description="commits the base has that the head has not")
    commits: list[dict[str, Any]] = Field(description="the head's commits since the merge base (at most 250)")
    files: list[dict[str, Any]] = Field(description="as in a pull request's files, template.json by JSON path")


class Fork(BaseModel):
    owner: str | None = None
    name: str | None = None


def _summary(request: Request, c: Container, t: Template, parent: Template | None = None) -> dict[str, Any]:
    base = request.app.state.base_url
    parent = parent or views.parent_of(c, t)
    return {"id": t.id, "owner": t.owner, "name": t.name, "full_name": t.full_name,
            "visibility": t.visibility, "description": t.description,
            "clone_url": f"{base}/{t.owner}/{t.name}.git", "created_at": t.created_at,
            "updated_at": t.updated_at,
            "fork_parent": {"owner": parent.owner, "name": parent.name, "full_name": parent.full_name}
            if parent else None}


@router.post("/templates", status_code=201)
def create_template(body: CreateTemplate, request: Request, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> dict[str, Any]:
    t = templates.create(c, actor, body.name, body.owner, body.visibility, body.description)
    return _summary(request, c, t) | {"default_branch": "main"}


@router.post("/templates/{owner}/{name}/forks", status_code=201)
def fork_template(owner: str, name: str, request: Request, body: Fork | None = None,
                  actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> dict[str, Any]:
    body = body or Fork()
    return _summary(request, c, templates.fork(c, actor, owner, name, body.owner, body.name))


@router.get("/templates")
def list_templates(request: Request, response: Response, owner: str | None = None, page: int = 1,
                   per_page: int = 30, actor: Actor = Depends(get_actor),
                   c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    page, per_page = page_args(page, per_page)
    items, total = templates.list_visible(c, actor, owner, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    response.headers["X-Total-Count"] = str(total)
    return [_summary(request, c, t) for t in items]


@router.get("/templates/{owner}/{name}")
def get_template(owner: str, name: str, request: Request, actor: Actor = Depends(get_actor),
                 c: Container = Depends(get_container)) -> dict[str, Any]:
    d = views.template_detail(c, actor, owner, name)
    return _summary(request, c, d.template, d.parent) | {
        "default_branch": d.default_branch, "head_sha": d.head, "manifest": d.manifest,
        "versions": d.versions, "stars": d.stars, "rating": d.rating, "ratings": d.ratings,
        "checks": {s.context: {"state": s.state, "description": s.description} for s in d.statuses}}


@router.get("/templates/{owner}/{name}/mcp-config")
def mcp_config(owner: str, name: str, ref: str | None = None, actor: Actor = Depends(get_actor),
               c: Container = Depends(get_container)) -> dict[str, Any]:
    """The template's MCP servers as a client `mcpServers` block (secrets stay references)."""
    return views.mcp_config(c, actor, owner, name, ref)


@router.get("/templates/{owner}/{name}/commits/{sha}/statuses")
def commit_statuses(owner: str, name: str, sha: str, actor: Actor = Depends(get_actor),
                    c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    return [{"context": s.context, "state": s.state, "description": s.description, "target_url": s.target_url,
             "problems": s.problems, "updated_at": s.updated_at}
            for s in views.statuses(c, actor, owner, name, sha)]


@router.patch("/templates/{owner}/{name}")
def update_template(owner: str, name: str, body: TemplatePatch, request: Request, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> dict[str, Any]:
    """Description, visibility and default branch (maintainers and above)."""
    t = templates.update(c, actor, owner, name, body.description, body.visibility, body.default_branch)
    return _summary(request, c, t)


@router.delete("/templates/{owner}/{name}", status_code=204)
def delete_template(owner: str, name: str, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> Response:
    templates.delete(c, actor, owner, name)
    return Response(status_code=204)


@router.get("/templates/{owner}/{name}/versions")
def versions(owner: str, name: str, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[VersionOut]:
    return [VersionOut.model_validate(v, from_attributes=True) for v in views.versions(c, actor, owner, name)]


@router.get("/templates/{owner}/{name}/versions/{version}")
def version(owner: str, name: str, version: str, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> VersionDetail:
    found, checked = views.version(c, actor, owner, name, version)
    return VersionDetail(**VersionOut.model_validate(found, from_attributes=True).model_dump(),
                         manifest=checked.manifest, problems=[p.as_dict() for p in checked.problems])


@router.get("/templates/{owner}/{name}/compare/{spec:path}")
def compare(owner: str, name: str, spec: str, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> CompareOut:
    """`BASE...HEAD`: refs, versions or shas; `HEAD` may be `owner:ref` of a fork."""
    return CompareOut.model_validate(views.compare(c, actor, owner, name, spec), from_attributes=True)


@router.get("/templates/{owner}/{name}/branches")
def branches(owner: str, name: str, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    return views.branches(c, actor, owner, name)


@router.get("/templates/{owner}/{name}/tags")
def tags(owner: str, name: str, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    return views.tags(c, actor, owner, name)


@router.get("/templates/{owner}/{name}/commits")
def commits(owner: str, name: str, request: Request, response: Response, ref: str | None = None,
            page: int = 1, per_page: int = 30, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> list[dict[str, Any]]:
    page, per_page = page_args(page, per_page)
    items = views.commits(c, actor, owner, name, ref, (page - 1) * per_page, per_page + 1)
    response.headers["Link"] = link_header(request, page, per_page, None, has_next=len(items) > per_page)
    return items[:per_page]


@router.get("/templates/{owner}/{name}/tree/{rest:path}")
def tree(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> dict[str, Any]:
    return views.tree(c, actor, owner, name, rest)


@router.get("/templates/{owner}/{name}/raw/{rest:path}")
def raw(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
        c: Container = Depends(get_container)) -> Response:
    data = views.raw(c, actor, owner, name, rest)
    # Served as plain bytes, never as HTML: repository content is hostile.
    return Response(data, media_type="application/octet-stream",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.put("/templates/{owner}/{name}/collaborators/{user}", status_code=204)
def put_collaborator(owner: str, name: str, user: str, body: Collaborator, actor: Actor = Depends(get_signed_in),
                     c: Container = Depends(get_container)) -> Response:
    templates.set_collaborator(c, actor, owner, name, user, body.role)
    return Response(status_code=204)


@router.delete("/templates/{owner}/{name}/collaborators/{user}", status_code=204)
def delete_collaborator(owner: str, name: str, user: str, actor: Actor = Depends(get_signed_in),
                        c: Container = Depends(get_container)) -> Response:
    templates.remove_collaborator(c, actor, owner, name, user)
    return Response(status_code=204)


@router.put("/templates/{owner}/{name}/protection/{branch:path}")
def put_protection(owner: str, name: str, branch: str, body: ProtectionRule, actor: Actor = Depends(get_signed_in),
                   c: Container = Depends(get_container)) -> dict[str, Any]:
    templates.set_protection(c, actor, owner, name, Protection(
        branch, body.allow_force_push, body.allow_deletion, tuple(body.required_checks), body.required_approvals))
    return {"branch": branch} | body.model_dump()


@router.delete("/templates/{owner}/{name}/protection/{branch:path}", status_code=204)
def delete_protection(owner: str, name: str, branch: str, actor: Actor = Depends(get_signed_in),
                      c: Container = Depends(get_container)) -> Response:
    templates.remove_protection(c, actor, owner, name, branch)
    return Response(status_code=204)
