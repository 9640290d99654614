"""/api/v1/templates: create, read, delete templates and browse their repositories."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.meta.records import Protection, Template
from registry.services import graphs, templates

from ..deps import PAGE, PER_PAGE, get_actor, get_container, get_signed_in
from ..models.common import ProblemOut
from ..models.templates import (
    BranchOut,
    CollaboratorIn,
    CommitOut,
    CompareOut,
    CreateTemplate,
    ForkRequest,
    McpConfigOut,
    ProtectionOut,
    ProtectionRule,
    StatusOut,
    TagOut,
    TemplateDetailOut,
    TemplateOut,
    TemplatePatch,
    TreeOut,
    VersionDetail,
    VersionOut,
)
from ..openapi import BINARY, PAGED, WRITE
from ..pagination import link_header

router = APIRouter(prefix="/api/v1")


def _summary(request: Request, c: Container, t: Template, parent: Template | None = None) -> dict[str, Any]:
    base = request.app.state.base_url
    parent = parent or views.parent_of(c, t)
    return {"id": t.id, "owner": t.owner, "name": t.name, "full_name": t.full_name,
            "visibility": t.visibility, "description": t.description,
            "clone_url": f"{base}/{t.owner}/{t.name}.git", "created_at": t.created_at,
            "updated_at": t.updated_at, "update_pulls": t.update_pulls,
            "fork_parent": {"owner": parent.owner, "name": parent.name, "full_name": parent.full_name}
            if parent else None}


@router.post("/templates", status_code=201, responses=WRITE)
def create_template(body: CreateTemplate, request: Request, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> TemplateOut:
    t = templates.create(c, actor, body.name, body.owner, body.visibility, body.description)
    return TemplateOut.model_validate(_summary(request, c, t) | {"default_branch": "main"})


@router.post("/templates/{owner}/{name}/forks", status_code=201, responses=WRITE)
def fork_template(owner: str, name: str, request: Request, body: ForkRequest | None = None,
                  actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> TemplateOut:
    body = body or ForkRequest()
    return TemplateOut.model_validate(_summary(request, c, templates.fork(c, actor, owner, name, body.owner,
                                                                           body.name)))


@router.get("/templates", responses=PAGED)
def list_templates(request: Request, response: Response, owner: str | None = Query(None, max_length=63),
                   page: int = PAGE, per_page: int = PER_PAGE, actor: Actor = Depends(get_actor),
                   c: Container = Depends(get_container)) -> list[TemplateOut]:
    items, total = templates.list_visible(c, actor, owner, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    response.headers["X-Total-Count"] = str(total)
    return [TemplateOut.model_validate(_summary(request, c, t)) for t in items]


@router.get("/templates/{owner}/{name}")
def get_template(owner: str, name: str, request: Request, actor: Actor = Depends(get_actor),
                 c: Container = Depends(get_container)) -> TemplateDetailOut:
    d = views.template_detail(c, actor, owner, name)
    return TemplateDetailOut.model_validate(_summary(request, c, d.template, d.parent) | {
        "default_branch": d.default_branch, "head_sha": d.head, "manifest": d.manifest,
        "versions": d.versions, "stars": d.stars, "rating": d.rating, "ratings": d.ratings,
        "checks": {s.context: {"state": s.state, "description": s.description} for s in d.statuses}})


@router.get("/templates/{owner}/{name}/mcp-config")
def mcp_config(owner: str, name: str, ref: str | None = Query(None, max_length=255),
               actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> McpConfigOut:
    """The template's MCP servers as a client `mcpServers` block (secrets stay references)."""
    return McpConfigOut.model_validate(views.mcp_config(c, actor, owner, name, ref))


@router.get("/templates/{owner}/{name}/commits/{sha}/statuses")
def commit_statuses(owner: str, name: str, sha: str, actor: Actor = Depends(get_actor),
                    c: Container = Depends(get_container)) -> list[StatusOut]:
    return [StatusOut(context=s.context, state=s.state, description=s.description,  # type: ignore[arg-type]
                      target_url=s.target_url, problems=s.problems, updated_at=s.updated_at)
            for s in views.statuses(c, actor, owner, name, sha)]


@router.patch("/templates/{owner}/{name}", responses=WRITE)
def update_template(owner: str, name: str, body: TemplatePatch, request: Request, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> TemplateOut:
    """Description, visibility, default branch, update pull requests (maintainers and above)."""
    t = templates.update(c, actor, owner, name, body.description, body.visibility, body.default_branch,
                         body.update_pulls)
    return TemplateOut.model_validate(_summary(request, c, t))


@router.delete("/templates/{owner}/{name}", status_code=204, responses=WRITE)
def delete_template(owner: str, name: str, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> Response:
    templates.delete(c, actor, owner, name)
    return Response(status_code=204)


@router.get("/templates/{owner}/{name}/versions")
def versions(owner: str, name: str, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[VersionOut]:
    found = views.versions(c, actor, owner, name)
    kinds = graphs.version_kinds(c, actor, owner, name)
    return [VersionOut.model_validate(v, from_attributes=True).model_copy(
        update={"change_kind": kinds[v.version].kind if v.version in kinds else None}) for v in found]


@router.get("/templates/{owner}/{name}/versions/{version}")
def version(owner: str, name: str, version: str, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> VersionDetail:
    found, checked = views.version(c, actor, owner, name, version)
    return VersionDetail(**VersionOut.model_validate(found, from_attributes=True).model_dump(),
                         manifest=checked.manifest,
                         problems=[ProblemOut(path=p.path, message=p.message) for p in checked.problems])


@router.get("/templates/{owner}/{name}/compare/{spec:path}")
def compare(owner: str, name: str, spec: str, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> CompareOut:
    """`BASE...HEAD`: refs, versions or shas; `HEAD` may be `owner:ref` of a fork."""
    return CompareOut.model_validate(views.compare(c, actor, owner, name, spec), from_attributes=True)


@router.get("/templates/{owner}/{name}/branches")
def branches(owner: str, name: str, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[BranchOut]:
    return [BranchOut.model_validate(b) for b in views.branches(c, actor, owner, name)]


@router.get("/templates/{owner}/{name}/tags")
def tags(owner: str, name: str, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> list[TagOut]:
    return [TagOut.model_validate(t) for t in views.tags(c, actor, owner, name)]


@router.get("/templates/{owner}/{name}/commits", responses=PAGED)
def commits(owner: str, name: str, request: Request, response: Response,
            ref: str | None = Query(None, max_length=255), page: int = PAGE, per_page: int = PER_PAGE,
            actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[CommitOut]:
    items = views.commits(c, actor, owner, name, ref, (page - 1) * per_page, per_page + 1)
    response.headers["Link"] = link_header(request, page, per_page, None, has_next=len(items) > per_page)
    return [CommitOut.model_validate(i) for i in items[:per_page]]


@router.get("/templates/{owner}/{name}/tree/{rest:path}")
def tree(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> TreeOut:
    return TreeOut.model_validate(views.tree(c, actor, owner, name, rest))


@router.get("/templates/{owner}/{name}/raw/{rest:path}", response_class=Response, responses=BINARY)
def raw(owner: str, name: str, rest: str, actor: Actor = Depends(get_actor),
        c: Container = Depends(get_container)) -> Response:
    data = views.raw(c, actor, owner, name, rest)
    # Served as plain bytes, never as HTML: repository content is hostile.
    return Response(data, media_type="application/octet-stream",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.put("/templates/{owner}/{name}/collaborators/{user}", status_code=204, responses=WRITE)
def put_collaborator(owner: str, name: str, user: str, body: CollaboratorIn, actor: Actor = Depends(get_signed_in),
                     c: Container = Depends(get_container)) -> Response:
    templates.set_collaborator(c, actor, owner, name, user, body.role)
    return Response(status_code=204)


@router.delete("/templates/{owner}/{name}/collaborators/{user}", status_code=204, responses=WRITE)
def delete_collaborator(owner: str, name: str, user: str, actor: Actor = Depends(get_signed_in),
                        c: Container = Depends(get_container)) -> Response:
    templates.remove_collaborator(c, actor, owner, name, user)
    return Response(status_code=204)


@router.put("/templates/{owner}/{name}/protection/{branch:path}", responses=WRITE)
def put_protection(owner: str, name: str, branch: str, body: ProtectionRule, actor: Actor = Depends(get_signed_in),
                   c: Container = Depends(get_container)) -> ProtectionOut:
    templates.set_protection(c, actor, owner, name, Protection(
        branch, body.allow_force_push, body.allow_deletion, tuple(body.required_checks), body.required_approvals))
    return ProtectionOut(branch=branch, **body.model_dump())


@router.delete("/templates/{owner}/{name}/protection/{branch:path}", status_code=204, responses=WRITE)
def delete_protection(owner: str, name: str, branch: str, actor: Actor = Depends(get_signed_in),
                      c: Container = Depends(get_container)) -> Response:
    templates.remove_protection(c, actor, owner, name, branch)
    return Response(status_code=204)
