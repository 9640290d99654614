"""The Evaluation tab of a pull request, `/{owner}/{name}/pulls/{n}/evaluation`: per test case the
base and the head side by side — rendered prompts and the model's answers with a word diff, each
assertion's result, tokens, latency and cost — a summary (pass rate, cost, latency base -> head),
and filters (all, changed, failing, regressions) as plain links. No script: it reads what the
`eval` check computed (registry/services/evaluation_view.py)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from registry import worddiff
from registry.container import Container
from registry.errors import InvalidInput
from registry.services import evaluation_view, pulls

from ..deps import RowNumber
from . import session as sessions
from .pages import mark_web
from .render import page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)


def _c(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _diffs(case: dict[str, Any]) -> dict[str, dict[str, list[worddiff.Segment]]]:
    """Word diffs of the case's prompt and answer, base to head, per side (a side alone: all of it
    is new or gone)."""
    base, head = case["base"] or {}, case["head"] or {}
    shown: dict[str, dict[str, list[worddiff.Segment]]] = {"base": {}, "head": {}}
    for what in ("prompt", "output"):
        shown["base"][what], shown["head"][what] = worddiff.diff(base.get(what) or "", head.get(what) or "")
    return shown


@router.get("/{owner}/{name}/pulls/{number}/evaluation", response_class=HTMLResponse)
def evaluation_page(request: Request, owner: str, name: str, number: RowNumber,
                    show: str = Query("all", max_length=20)) -> HTMLResponse:
    if show not in evaluation_view.FILTERS:
        raise InvalidInput(f"show must be one of {', '.join(evaluation_view.FILTERS)}")
    c, actor = _c(request), sessions.actor(request)
    template, pull = pulls.get_pull(c, actor, owner, name, number)
    found = evaluation_view.compare(c, template, pull)
    counts = {which: len(evaluation_view.shown(found["cases"], which)) for which in evaluation_view.FILTERS}
    cases = [{**case, "diff": _diffs(case)} for case in evaluation_view.shown(found["cases"], show)]
    return page(request, "evaluation.html", title=f"Evaluation · #{number} {pull.title} · {owner}/{name}",
                owner=owner, name=name, pull=pull, summary=found["summary"], cases=cases, show=show, counts=counts,
                filters=evaluation_view.FILTERS)
