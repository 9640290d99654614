"""POST /api/v1/validate: the push-time `validate` check on files not pushed yet."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from registry.access import Actor
from registry.container import Container
from registry.services import validation

from ..deps import get_actor, get_container
from ..models.common import FilesToValidate, ProblemOut, ValidationResult

router = APIRouter(prefix="/api/v1", tags=["validation"])


@router.post("/validate")
def validate(body: FilesToValidate, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> ValidationResult:
    problems = validation.validate(c, actor, body.files)
    return ValidationResult(valid=not problems, problems=[ProblemOut(path=p.path, message=p.message) for p in problems])
