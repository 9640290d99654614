"""A/B experiments: start one, list them, read one (its verdict so far), cancel it."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response

from registry import views_experiments as views
from registry.access import Actor
from registry.container import Container
from registry.services import experiments

from ..deps import PAGE, PER_PAGE, get_actor, get_container, get_signed_in
from ..models.experiments import ExperimentOut, NewExperiment, Started
from ..openapi import PAGED, WRITE
from ..pagination import link_header

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/experiments")


def shape(view: views.ExperimentView) -> ExperimentOut:
    """SPEC's body; `winner` only where one variant is significantly better (the routes leave
    unset fields out)."""
    e, verdict = view.experiment, view.verdict
    body: dict[str, Any] = {
        "id": e.id, "template": view.template.full_name, "state": e.state, "summary": e.summary,
        "variants": [{"ref": v.ref, "sha": sha, "trials": v.trials, "passes": v.passes, "pass_rate": v.pass_rate,
                      "interval": list(v.interval) if v.interval else None, "latency_ms": v.latency_ms,
                      "latency_ms_interval": list(v.latency_interval) if v.latency_interval else None,
                      "cost": v.cost, "cost_interval": list(v.cost_interval) if v.cost_interval else None}
                     for v, (_ref, sha) in zip(verdict.variants, e.variants, strict=True)],
        "p_value": verdict.p_value, "cases": list(e.cases),
        "repetitions": e.repetitions, "provider": e.provider, "requested_by": e.requested_by,
        "progress": view.progress, "errors": view.errors,
        "created_at": e.created_at, "started_at": e.started_at, "finished_at": e.finished_at}
    if verdict.winner is not None:
        body["winner"] = verdict.winner
    return ExperimentOut.model_validate(body)


@router.post("", status_code=202, responses=WRITE)
def create(owner: str, name: str, body: NewExperiment, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> Started:
    found = experiments.start(c, actor, owner, name, body.variants, body.cases, body.repetitions, body.provider)
    return Started(id=found.id)


@router.get("", responses=PAGED, response_model_exclude_unset=True)
def index(owner: str, name: str, request: Request, response: Response, page: int = PAGE, per_page: int = PER_PAGE,
          actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[ExperimentOut]:
    _template, items, total = views.experiments(c, actor, owner, name, (page - 1) * per_page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [shape(views.experiment(c, actor, owner, name, e.id)) for e in items]


@router.get("/{experiment_id}", response_model_exclude_unset=True)
def show(owner: str, name: str, experiment_id: str = Path(max_length=64), actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> ExperimentOut:
    return shape(views.experiment(c, actor, owner, name, experiment_id))


@router.post("/{experiment_id}/cancel", responses=WRITE, response_model_exclude_unset=True)
def cancel(owner: str, name: str, experiment_id: str = Path(max_length=64), actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> ExperimentOut:
    experiments.cancel(c, actor, owner, name, experiment_id)
    return shape(views.experiment(c, actor, owner, name, experiment_id))
