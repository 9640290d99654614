"""/api/v1/templates/{owner}/{name}/pulls/{n}/evaluation: each test case on the base and on the
head of a pull request, side by side, and what changed (computed by the `eval` check)."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from registry.access import Actor
from registry.container import Container
from registry.services import evaluation_view

from ..deps import RowNumber, get_actor, get_container
from ..models.evaluations import EvaluationOut

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/pulls")


@router.get("/{number}/evaluation")
def evaluation(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
               c: Container = Depends(get_container)) -> EvaluationOut:
    """Base and head per test case (prompt, answer, assertions, tokens, latency, cost) and the
    change: same, changed, regression (passes on the base, fails on the head) or fixed. Cases the
    `eval` check has not evaluated yet have no side, and their summary says `pending`."""
    return EvaluationOut.model_validate(evaluation_view.evaluation(c, actor, owner, name, number))
