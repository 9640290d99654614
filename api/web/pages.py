"""Server-rendered pages (readable without JavaScript): gallery, template, pull requests and their
evaluation, runs."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from registry import views
from registry.access import Actor, Level
from registry.container import Container
from registry.errors import InvalidInput, NotFound
from registry.meta.records import Template
from registry.services import audit, evaluation_view, gallery, graphs, merging, news, prompts, pulls
from registry.services.gallery import MAX_QUERY
from registry.services.graphs import Graph

from ..deps import RowNumber
from . import session as sessions
from .chart import spend_svg, usage_svg
from .render import page
from .timeline import run_timeline, slowest, versions_chart

FACETS = ("industry", "use_case", "tags")


def mark_web(request: Request) -> None:
    request.state.web = True  # errors on these routes are HTML pages (api/errors.py)
    sessions.guard(request)  # a session REGISTRY_REQUIRE_2FA asks to enrol goes to enrol first


router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)


def _actor(request: Request) -> Actor:
    return sessions.actor(request)


def _c(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@router.get("/", response_class=HTMLResponse)
def gallery_page(request: Request, q: str = Query("", max_length=MAX_QUERY), industry: str | None = None,
                 use_case: str | None = None, tags: str | None = Query(None, max_length=1000),
                 sort: str = "relevance", page_no: int = Query(1, alias="page", ge=1, le=500),
                 status: str | None = Query(None, max_length=10), owner: str | None = Query(None, max_length=64),
                 actor: Actor = Depends(_actor)):
    if sort not in ("relevance", "stars", "updated", "rating"):
        raise InvalidInput("sort must be relevance, stars, updated or rating")
    found = gallery.search(_c(request), actor, q=q, industry=industry or None,
                           use_case=use_case or None, tags=tags or None, owner=owner or None, sort=sort, page=page_no,
                           per_page=20, status=status or None)
    chosen = {"industry": industry or "", "use_case": use_case or "", "tags": tags or ""}
    return page(request, "gallery.html", q=q, sort=sort, found=found, chosen=chosen, page_no=page_no,
                title="Prompt template gallery")


@router.get("/{owner}/{name}", response_class=HTMLResponse)
def template_page(request: Request, owner: str, name: str, actor: Actor = Depends(_actor)):
    view = views.template_page(_c(request), actor, owner, name)
    fork = views.fork_status(_c(request), actor, view.detail.template)
    checked = view.checked
    manifest = checked.manifest if checked else None
    days = audit.analytics(_c(request), actor, owner, name, flush=False)  # a view never writes
    usage, spend = usage_svg(days), spend_svg([(d.day, d.cost_usd) for d in days])
    resolved = manifest if isinstance(manifest, dict) else None
    given = {k[2:]: v for k, v in request.query_params.items() if k.startswith("p:")}
    asked = "render" in request.query_params  # a click may start the confined renderer; a view does not
    rendered = prompts.render(resolved, given, child=asked) if resolved else None
    flow = graphs.flow_graph(resolved) if resolved else None
    by_version = graphs.version_runs(_c(request), actor, owner, name)
    return page(request, "template.html", title=f"{owner}/{name}", script=("copy", "news"), t=view.detail.template,
                news_since=news.since(_c(request)),
                info=view.detail, usage=usage, spend=spend,
                flow=flow, flow_svg=_svg(flow, "flow-svg"), deps=_dependency_view(request, actor, view.detail.template),
                by_version=by_version, by_version_svg=versions_chart([vars(r) for r in by_version]),
                prompts=prompts.prompts(resolved, view.detail.manifest if isinstance(view.detail.manifest, dict) else None),
                parameters=prompts.parameters(resolved), rendered=rendered,
                readme=view.readme, manifest=manifest if isinstance(manifest, dict) else None,
                problems=checked.problems if checked else [], history=view.history,
                statuses=view.detail.statuses, runs=view.runs, starred=view.starred, reviews=view.reviews, fork=fork)


@router.get("/{owner}/{name}/versions", response_class=HTMLResponse)
def versions_page(request: Request, owner: str, name: str, actor: Actor = Depends(_actor)) -> HTMLResponse:
    return page(request, "versions.html", title=f"Versions · {owner}/{name}", owner=owner, name=name,
                versions=views.versions(_c(request), actor, owner, name),
                kinds=graphs.version_kinds(_c(request), actor, owner, name))


def _svg(graph: Graph | None, css_id: str) -> Markup | None:
    drawn = graphs.svg(graph, css_id) if graph is not None else None
    return Markup(drawn) if drawn else None  # every text in it was escaped where it was drawn


def _dependency_view(request: Request, actor: Actor, t: Template) -> dict[str, Any]:
    c = _c(request)
    chain = graphs.dependencies(c, actor, t.owner, t.name)
    users = graphs.dependents(c, actor, t.owner, t.name)
    network = graphs.forks(c, actor, t.owner, t.name)
    deps = graphs.dependency_graph(t, chain, users)
    forks = graphs.fork_graph(t, network)
    return {"chain": chain, "dependents": users, "forks": network, "graph": deps,
            "svg": _svg(deps, "deps-svg") if chain or users else None,
            "fork_graph": forks, "fork_svg": _svg(forks, "forks-svg") if len(network) > 1 else None}


@router.get("/{owner}/{name}/graph", response_class=HTMLResponse)
def graph_page(request: Request, owner: str, name: str, actor: Actor = Depends(_actor)) -> HTMLResponse:
    """Dependencies (the extends chain), dependents and the fork network, drawn and listed."""
    t = views.template_detail(_c(request), actor, owner, name).template
    return page(request, "graph.html", title=f"Dependencies · {owner}/{name}", owner=owner, name=name, t=t,
                deps=_dependency_view(request, actor, t))


@router.get("/{owner}/{name}/compare/{spec:path}", response_class=HTMLResponse)
def compare_page(request: Request, owner: str, name: str, spec: str, actor: Actor = Depends(_actor)) -> HTMLResponse:
    return page(request, "compare.html", title=f"Compare {spec} · {owner}/{name}", owner=owner, name=name,
                spec=spec, result=views.compare(_c(request), actor, owner, name, spec))


@router.get("/{owner}/{name}/pulls", response_class=HTMLResponse)
def pulls_page(request: Request, owner: str, name: str, state: str = "open", actor: Actor = Depends(_actor)):
    c = _c(request)
    items, total = pulls.list_pulls(c, actor, owner, name, state, 1, 100)
    branches = [b["name"] for b in views.branches(c, actor, owner, name)]
    can_open = views.level_on(c, actor, owner, name) >= Level.WRITE
    return page(request, "pulls.html", title=f"Pull requests · {owner}/{name}", owner=owner, name=name,
                pulls=items, total=total, state=state, branches=branches, can_open=can_open)


@router.get("/{owner}/{name}/pulls/{number}", response_class=HTMLResponse)
def pull_page(request: Request, owner: str, name: str, number: RowNumber, view: str = "unified",
              actor: Actor = Depends(_actor)):
    v = views.pull_page(_c(request), actor, owner, name, number)
    return page(request, "pull.html", title=f"#{number} {v.pull.title} · {owner}/{name}", owner=owner, name=name,
                script="news", news_since=news.since(_c(request)),
                pull=v.pull, head=v.head, files=v.files, commits=v.commits,
                conversation=[cm for cm in v.comments if not cm["path"]], line_comments=v.line_comments,
                reviews=v.reviews, statuses=v.statuses, mergeability=v.mergeability,
                can_merge=v.level >= Level.MAINTAIN, can_review=actor.user is not None and actor.scope != "read",
                view="split" if view == "split" else "unified", methods=merging.METHODS)


@router.get("/{owner}/{name}/pulls/{number}/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, owner: str, name: str, number: RowNumber,
                    show: str = Query("all", max_length=20), actor: Actor = Depends(_actor)):
    """The Evaluation tab: base and head per test case with word diffs, a summary, and filters
    (all, changed, failing, regressions) as plain links; it reads what the `eval` check computed."""
    shown = evaluation_view.tab(_c(request), actor, owner, name, number, show)
    return page(request, "evaluation.html", title=f"Evaluation · #{number} {shown['pull'].title} · {owner}/{name}",
                owner=owner, name=name, show=show, filters=evaluation_view.FILTERS, **shown)


@router.get("/{owner}/{name}/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, owner: str, name: str, run_id: str, actor: Actor = Depends(_actor)):
    run, template = views.run(_c(request), actor, run_id)
    if (template.owner, template.name) != (owner, name):
        raise NotFound(f"run {run_id} not found in {owner}/{name}")
    return page(request, "run.html", script="live", title=f"Run {run.id} · {owner}/{name}", owner=owner, name=name, run=run,
                timeline=run_timeline(run.report), slowest=slowest(run.report))
