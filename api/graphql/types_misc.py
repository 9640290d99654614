"""Sandbox runs, events (the audit record) and search results."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from registry.meta.records import Run as RunRecord
from registry.meta.records_events import Event as EventRecord
from registry.services import guard

from .context import Context
from .paging import PageInfo, node_id
from .types_common import Node, js

if TYPE_CHECKING:
    from .types_template import Template

Info = strawberry.Info[Context, None]
LazyTemplate = Annotated["Template", strawberry.lazy("api.graphql.types_template")]


@strawberry.type(description="A sandbox run of a template's tests at a commit.")
class Run(Node):
    _run: strawberry.Private[RunRecord]
    run_id: str = strawberry.field(description="the run's own id, as REST's /runs/{id} takes it")
    template: str = strawberry.field(description="owner/name")
    sha: str
    ref: str | None
    trigger: str = strawberry.field(description="push | manual")
    requested_by: str | None
    state: str = strawberry.field(description="queued | running | success | failure | error")
    backend: str
    task: str | None
    attempts: int
    summary: str
    cost: JSON
    metrics: JSON = strawberry.field(description="duration_s, cpu_s, peak_memory_mb, estimated_cost_usd")
    created_at: float
    started_at: float | None
    finished_at: float | None
    logs: str
    report: JSON | None

    @staticmethod
    def of(r: RunRecord, owner: str, name: str) -> Run:
        return Run(_run=r, id=node_id("Run", r.id), run_id=r.id, template=f"{owner}/{name}", sha=r.sha, ref=r.ref,
                   trigger=r.trigger, requested_by=r.requested_by, state=r.state, backend=r.backend, task=r.task_arn,
                   attempts=r.attempts, summary=r.summary, cost=js(dict(r.cost)),
                   metrics=js({**r.metrics, "estimated_cost_usd": r.cost.get("total_usd")}), created_at=r.created_at,
                   started_at=r.started_at, finished_at=r.finished_at, logs=r.logs, report=js(r.report))


def iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@strawberry.type(description="One thing that happened, as the audit log records it.")
class Event:
    id: int
    time: str = strawberry.field(description="ISO 8601, UTC")
    actor: str | None
    action: str
    template: str | None = strawberry.field(description="owner/name when it happened")
    payload: JSON
    request_id: str | None

    @staticmethod
    def of(e: EventRecord) -> Event:
        return Event(id=e.id, time=iso(e.time), actor=e.actor, action=e.action, template=e.template,
                     payload=js(dict(e.payload)), request_id=e.request_id)


@strawberry.type
class FacetValue:
    value: str
    count: int


@strawberry.type(description="How many matches have each value of a field (industry, tags).")
class Facet:
    field: str
    values: list[FacetValue]


@strawberry.type
class SearchHit:
    owner: str
    name: str
    title: str
    description: str
    industry: str
    use_case: str
    tags: list[str]
    stars: int
    rating: float
    updated_at: float
    highlights: JSON = strawberry.field(description="field -> HTML-escaped text with matches in <mark>")
    status: str
    valid: bool

    @strawberry.field(description="The template itself (costs a read of it).")
    async def template(self, info: Info) -> LazyTemplate:
        from .types_template import Template

        c, actor = info.context.container, info.context.actor
        return Template.of(await info.context.run(guard.template, c, actor, self.owner, self.name))


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchHit


@strawberry.type(description="A page of search results, with the facets and the \"did you mean\" of the whole match.")
class SearchResults:
    total_count: int
    total_is_estimate: bool
    suggestion: str | None
    facets: list[Facet]
    page_info: PageInfo
    edges: list[SearchEdge]
    nodes: list[SearchHit]


def hit(h: Any) -> SearchHit:
    return SearchHit(owner=h.owner, name=h.name, title=h.title, description=h.description, industry=h.industry,
                     use_case=h.use_case, tags=list(h.tags), stars=h.stars, rating=h.rating, updated_at=h.updated_at,
                     highlights=js(dict(h.highlights)), status=h.status, valid=h.valid)
