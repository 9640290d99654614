"""Sandbox runs: list a template's runs, read one (state, logs, metrics, cost), ask for one."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.meta.records import Run
from registry.services import runs

from ..deps import PAGE, PER_PAGE, get_actor, get_container, get_signed_in
from ..models.gallery import NewRun, RunOut
from ..openapi import PAGED, WRITE
from ..pagination import link_header

router = APIRouter(prefix="/api/v1")


def shape(run: Run, owner: str, name: str, full: bool = True) -> RunOut:
    body: dict[str, Any] = {
            "id": run.id, "template": f"{owner}/{name}", "sha": run.sha, "ref": run.ref, "trigger": run.trigger,
            "requested_by": run.requested_by, "state": run.state, "backend": run.backend, "task": run.task_arn,
            "attempts": run.attempts, "summary": run.summary, "cost": run.cost,
            "metrics": {**run.metrics, "estimated_cost_usd": run.cost.get("total_usd")},
            "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at}
    if full:
        body |= {"logs": run.logs, "report": run.report}
    return RunOut.model_validate(body)


@router.get("/templates/{owner}/{name}/runs", responses=PAGED)
def index(owner: str, name: str, request: Request, response: Response, page: int = PAGE, per_page: int = PER_PAGE,
          actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[RunOut]:
    items, total = views.runs(c, actor, owner, name, (page - 1) * per_page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [shape(r, owner, name, full=False) for r in items]


@router.post("/templates/{owner}/{name}/runs", status_code=202, responses=WRITE)
def create(owner: str, name: str, body: NewRun, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> RunOut:
    return shape(runs.request(c, actor, owner, name, body.ref), owner, name)


@router.get("/runs/{run_id}")
def show(run_id: str = Path(max_length=64), actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> RunOut:
    run, template = views.run(c, actor, run_id)
    return shape(run, template.owner, template.name)
