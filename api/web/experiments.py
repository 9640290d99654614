"""The experiments' pages: a template's experiments with the form that starts one, and an
experiment's page (per variant pass rate with its interval, latency, cost, an SVG chart, the
winner or "no significant difference", cancel and promote as plain POST forms). The experiment
and run pages follow their server-sent events with static/live.js; without script, a reload
shows the progress."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from registry import views, views_experiments
from registry.access import Actor, Level, level
from registry.errors import InvalidInput
from registry.services import experiment_promotion, experiments

from . import session as sessions
from .experiment_chart import pass_rates_svg
from .forms import _posting
from .navigation import redirect
from .pages import mark_web
from .render import page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
SPLIT = re.compile(r"[\s,]+")


def _list(request: Request, owner: str, name: str, actor: Actor, status_code: int = 200,
          error: str | None = None, asked: dict[str, str] | None = None) -> HTMLResponse:
    c = request.app.state.container
    template, items, total = views_experiments.experiments(c, actor, owner, name, 0, 50)
    can_start = actor.user is not None and actor.scope != "read" and level(c.meta, actor, template) >= Level.WRITE
    branches = [b["name"] for b in views.branches(c, actor, owner, name)] if can_start else []
    return page(request, "experiments.html", status_code=status_code, title=f"Experiments · {owner}/{name}",
                owner=owner, name=name, items=items, total=total, can_start=can_start, branches=branches,
                error=error, asked=asked or {}, limits=c.settings)


@router.get("/{owner}/{name}/experiments", response_class=HTMLResponse)
def experiments_page(request: Request, owner: str, name: str, actor: Actor = Depends(sessions.actor)):
    return _list(request, owner, name, actor)


@router.post("/{owner}/{name}/experiments")
def start(request: Request, owner: str, name: str, variants: str = Form(max_length=2000),
          repetitions: str = Form("5", max_length=4), cases: str = Form("", max_length=20_000),
          provider: str = Form("", max_length=100), actor: Actor = Depends(_posting)):
    asked = {"variants": variants, "repetitions": repetitions, "cases": cases, "provider": provider}
    try:
        if not repetitions.strip().isdigit():
            raise InvalidInput("repetitions: a whole number")
        found = experiments.start(request.app.state.container, actor, owner, name,
                                  [v for v in SPLIT.split(variants) if v], [x for x in SPLIT.split(cases) if x] or None,
                                  int(repetitions), provider.strip() or None)
    except InvalidInput as exc:
        return _list(request, owner, name, actor, 400, exc.message, asked)
    return redirect(request, f"/{owner}/{name}/experiments/{found.id}")


@router.get("/{owner}/{name}/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment_page(request: Request, owner: str, name: str, experiment_id: str,
                    actor: Actor = Depends(sessions.actor)):
    c = request.app.state.container
    view = views_experiments.experiment(c, actor, owner, name, experiment_id[:64])
    can_act = actor.user is not None and actor.scope != "read" and level(c.meta, actor, view.template) >= Level.WRITE
    rows = list(zip(view.verdict.variants, view.experiment.variants, strict=True))
    return page(request, "experiment.html", script="live", title=f"Experiment {view.experiment.id} · {owner}/{name}",
                owner=owner, name=name, view=view, e=view.experiment, verdict=view.verdict, rows=rows,
                chart=pass_rates_svg(view.verdict.variants, view.verdict.winner), can_act=can_act,
                events=f"/api/v1/templates/{owner}/{name}/experiments/{view.experiment.id}/events")


@router.post("/{owner}/{name}/experiments/{experiment_id}/cancel")
def cancel(request: Request, owner: str, name: str, experiment_id: str,
           actor: Actor = Depends(_posting)) -> RedirectResponse:
    experiments.cancel(request.app.state.container, actor, owner, name, experiment_id[:64])
    return redirect(request, f"/{owner}/{name}/experiments/{experiment_id[:64]}")


@router.post("/{owner}/{name}/experiments/{experiment_id}/promote")
def promote(request: Request, owner: str, name: str, experiment_id: str,
            actor: Actor = Depends(_posting)) -> RedirectResponse:
    pull = experiment_promotion.promote(request.app.state.container, actor, owner, name, experiment_id[:64])
    return redirect(request, f"/{owner}/{name}/pulls/{pull.number}")
