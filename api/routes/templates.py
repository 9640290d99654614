"""/api/v1/templates: create, read, delete templates and browse their repositories."""
from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from registry.access import Actor
from registry.errors import InvalidInput, NotFound
from registry.git import browse
from registry.mcp import client_config
from registry.meta import Protection, Template
from registry.services import Registry, page_args

from ..deps import get_actor, get_registry
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


class Fork(BaseModel):
    owner: str | None = None
    name: str | None = None


def _summary(request: Request, t: Template) -> dict[str, Any]:
    base = request.app.state.base_url
    parent = None
    if t.parent_id:
        try:
            p = request.app.state.registry.meta.get_template_by_id(t.parent_id)
            parent = {"owner": p.owner, "name": p.name, "full_name": p.full_name}
        except NotFound:  # the parent was deleted; the fork lives on
            parent = None
    return {"id": t.id, "owner": t.owner, "name": t.name, "full_name": t.full_name,
            "visibility": t.visibility, "description": t.description,
            "clone_url": f"{base}/{t.owner}/{t.name}.git", "created_at": t.created_at,
            "updated_at": t.updated_at, "fork_parent": parent}


@router.post("/templates", status_code=201)
def create_template(body: CreateTemplate, request: Request, actor: Actor = Depends(get_actor),
                    registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    t = registry.create_template(actor, body.name, body.owner, body.visibility, body.description)
    return _summary(request, t) | {"default_branch": "main"}


@router.post("/templates/{owner}/{name}/forks", status_code=201)
def fork_template(owner: str, name: str, request: Request, body: Fork | None = None,
                  actor: Actor = Depends(get_actor), registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    body = body or Fork()
    return _summary(request, registry.fork_template(actor, owner, name, body.owner, body.name))


@router.get("/templates")
def list_templates(request: Request, response: Response, owner: str | None = None, page: int = 1,
                   per_page: int = 30, actor: Actor = Depends(get_actor),
                   registry: Registry = Depends(get_registry)) -> list[dict[str, Any]]:
    page, per_page = page_args(page, per_page)
    items, total = registry.list_templates(actor, owner, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    response.headers["X-Total-Count"] = str(total)
    return [_summary(request, t) for t in items]


@router.get("/templates/{owner}/{name}")
def get_template(owner: str, name: str, request: Request, actor: Actor = Depends(get_actor),
                 registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    info = registry.describe(actor, owner, name)
    manifest = None
    if info["head"]:
        with _repo(registry, actor, owner, name) as repo:
            try:
                manifest = json.loads(browse.raw(repo, info["head"], "template.json"))
            except (browse.PathNotFound, ValueError):
                manifest = None
    statuses = registry.statuses(actor, owner, name, info["head"]) if info["head"] else []
    stars, rating, ratings = registry.meta.social(info["template"].id)
    return _summary(request, info["template"]) | {
        "default_branch": info["default_branch"], "head_sha": info["head"], "manifest": manifest,
        "versions": info["versions"], "stars": stars, "rating": rating, "ratings": ratings,
        "checks": {s.context: {"state": s.state, "description": s.description} for s in statuses}}


@router.get("/templates/{owner}/{name}/mcp-config")
def mcp_config(owner: str, name: str, ref: str | None = None, actor: Actor = Depends(get_actor),
               registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    """The template's MCP servers as a client `mcpServers` block (secrets stay references)."""
    result = registry.resolved_manifest(actor, owner, name, ref)
    if result.manifest is None or not result.ok:
        first = result.problems[0]
        raise InvalidInput(f"the manifest is invalid at {first.path}: {first.message}")
    return client_config(result.manifest)


@router.get("/templates/{owner}/{name}/commits/{sha}/statuses")
def commit_statuses(owner: str, name: str, sha: str, actor: Actor = Depends(get_actor),
                    registry: Registry = Depends(get_registry)) -> list[dict[str, Any]]:
    return [{"context": s.context, "state": s.state, "description": s.description, "target_url": s.target_url,
             "problems": s.problems, "updated_at": s.updated_at}
            for s in registry.statuses(actor, owner, name, sha)]


@router.delete("/templates/{owner}/{name}", status_code=204)
def delete_template(owner: str, name: str, actor: Actor = Depends(get_actor),
                    registry: Registry = Depends(get_registry)) -> Response:
    registry.delete_template(actor, owner, name)
    return Response(status_code=204)


class _repo:
    """Open a template's repo for reading, closed when the block ends."""

    def __init__(self, registry: Registry, actor: Actor, owner: str, name: str) -> None:
        self.repo = registry.open_repo(registry.get_template(actor, owner, name))

    def __enter__(self):
        return self.repo

    def __exit__(self, *exc) -> None:
        self.repo.close()


@router.get("/templates/{owner}/{name}/branches")
def branches(owner: str, name: str, actor: Actor = Depends(get_actor),
             registry: Registry = Depends(get_registry)) -> list[dict[str, Any]]:
    with _repo(registry, actor, owner, name) as repo:
        return browse.branches(repo)


@router.get("/templates/{owner}/{name}/tags")
def tags(owner: str, name: str, actor: Actor = Depends(get_actor),
         registry: Registry = Depends(get_registry)) -> list[dict[str, Any]]:
    with _repo(registry, actor, owner, name) as repo:
        return browse.tags(repo)


@router.get("/templates/{owner}/{name}/commits")
def commits(owner: str, name: str, request: Request, response: Response, ref: str | None = None,
            page: int = 1, per_page: int = 30, actor: Actor = Depends(get_actor),
            registry: Registry = Depends(get_registry)) -> list[dict[str, Any]]:
    page, per_page = page_args(page, per_page)
    with _repo(registry, actor, owner, name) as repo:
        items = list(browse.commits(repo, ref or repo.default_branch, (page - 1) * per_page, per_page + 1))
    response.headers["Link"] = link_header(request, page, per_page, None, has_next=len(items) > per_page)
    return items[:per_page]


@router.get("/templates/{owner}/{name}/tree/{rest:path}")
def tree(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
         registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    with _repo(registry, actor, owner, name) as repo:
        ref, path = browse.split_ref_path(repo, rest)
        return browse.tree(repo, ref, path)


@router.get("/templates/{owner}/{name}/raw/{rest:path}")
def raw(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
        registry: Registry = Depends(get_registry)) -> Response:
    with _repo(registry, actor, owner, name) as repo:
        ref, path = browse.split_ref_path(repo, rest)
        data = browse.raw(repo, ref, path)
    # Served as plain bytes, never as HTML: repository content is hostile.
    return Response(data, media_type="application/octet-stream",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.put("/templates/{owner}/{name}/collaborators/{user}", status_code=204)
def put_collaborator(owner: str, name: str, user: str, body: Collaborator, actor: Actor = Depends(get_actor),
                     registry: Registry = Depends(get_registry)) -> Response:
    registry.set_collaborator(actor, owner, name, user, body.role)
    return Response(status_code=204)


@router.delete("/templates/{owner}/{name}/collaborators/{user}", status_code=204)
def delete_collaborator(owner: str, name: str, user: str, actor: Actor = Depends(get_actor),
                        registry: Registry = Depends(get_registry)) -> Response:
    registry.remove_collaborator(actor, owner, name, user)
    return Response(status_code=204)


@router.put("/templates/{owner}/{name}/protection/{branch:path}")
def put_protection(owner: str, name: str, branch: str, body: ProtectionRule, actor: Actor = Depends(get_actor),
                   registry: Registry = Depends(get_registry)) -> dict[str, Any]:
    registry.set_protection(actor, owner, name, Protection(
        branch, body.allow_force_push, body.allow_deletion, tuple(body.required_checks), body.required_approvals))
    return {"branch": branch} | body.model_dump()


@router.delete("/templates/{owner}/{name}/protection/{branch:path}", status_code=204)
def delete_protection(owner: str, name: str, branch: str, actor: Actor = Depends(get_actor),
                      registry: Registry = Depends(get_registry)) -> Response:
    registry.remove_protection(actor, owner, name, branch)
    return Response(status_code=204)

