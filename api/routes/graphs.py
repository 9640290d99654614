"""/api/v1/templates/{owner}/{name}: dependencies, dependents, forks and the flow as Mermaid."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from registry.access import Actor
from registry.container import Container
from registry.meta.records import Template
from registry.services import graphs

from ..deps import PAGE, PER_PAGE, get_actor, get_container
from ..models.common import TemplateRef
from ..models.graphs import DependencyOut, DependentOut, ForkOut, ResolvedOut
from ..openapi import PAGED
from ..pagination import link_header

router = APIRouter(prefix="/api/v1")
MERMAID: dict[int | str, dict[str, Any]] = {200: {
    "description": "Mermaid flowchart source", "content": {"text/vnd.mermaid": {"schema": {"type": "string"}}}}}


def _ref(t: Template) -> TemplateRef:
    return TemplateRef(owner=t.owner, name=t.name, full_name=t.full_name)


def _resolved(found: graphs.Resolved | None) -> ResolvedOut | None:
    return ResolvedOut(ref=found.ref, sha=found.sha) if found else None


@router.get("/templates/{owner}/{name}/dependencies")
def dependencies(owner: str, name: str, ref: str | None = Query(None, max_length=255),
                 actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[DependencyOut]:
    """The `extends` chain at `ref` (default branch), nearest parent first; it stops before a
    template the caller may not read."""
    return [DependencyOut(template=_ref(link.template), asked=link.asked, resolved=_resolved(link.resolved))
            for link in graphs.dependencies(c, actor, owner, name, ref)]


@router.get("/templates/{owner}/{name}/dependents", responses=PAGED)
def dependents(owner: str, name: str, request: Request, response: Response, page: int = PAGE,
               per_page: int = PER_PAGE, actor: Actor = Depends(get_actor),
               c: Container = Depends(get_container)) -> list[DependentOut]:
    """Templates whose default branch extends this one (those the caller may read)."""
    found = graphs.dependents(c, actor, owner, name)
    response.headers["Link"] = link_header(request, page, per_page, len(found))
    response.headers["X-Total-Count"] = str(len(found))
    return [DependentOut(template=_ref(d.template), asked=d.asked, resolved=_resolved(d.resolved),
                         satisfied_by_latest=d.satisfied_by_latest)
            for d in found[(page - 1) * per_page:page * per_page]]


@router.get("/templates/{owner}/{name}/forks", responses=PAGED)
def forks(owner: str, name: str, request: Request, response: Response, page: int = PAGE, per_page: int = PER_PAGE,
          actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[ForkOut]:
    """The fork network the template is in, from its root, oldest first."""
    found = graphs.forks(c, actor, owner, name)
    response.headers["Link"] = link_header(request, page, per_page, len(found))
    response.headers["X-Total-Count"] = str(len(found))
    return [ForkOut(template=_ref(f.template), parent=_ref(f.parent) if f.parent else None,
                    created_at=f.template.created_at) for f in found[(page - 1) * per_page:page * per_page]]


@router.get("/templates/{owner}/{name}/diagram.mmd", response_class=Response, responses=MERMAID)
def diagram(owner: str, name: str, ref: str | None = Query(None, max_length=255), actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> Response:
    """The template's flow (parameters, prompts, model, MCP servers and tools, SaaS, agent
    steps) as Mermaid source, for people's own documents."""
    return Response(graphs.diagram(c, actor, owner, name, ref), media_type="text/vnd.mermaid; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": f'inline; filename="{name}.mmd"'})
