"""POST /api/v1/validate: the push-time `validate` check on files not pushed yet."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from registry.access import Actor
from registry.container import Container
from registry.services import validation

from ..deps import get_actor, get_container

router = APIRouter(prefix="/api/v1", tags=["validation"])


class FilesToValidate(BaseModel):
    files: dict[str, str] = Field(description="path in the repository -> its text; template.json at least",
                                  max_length=validation.MAX_FILES)


class ProblemOut(BaseModel):
    path: str = Field(description="a JSON path into template.json, or a file path")
    message: str


class ValidationResult(BaseModel):
    valid: bool
    problems: list[ProblemOut]


@router.post("/validate")
def validate(body: FilesToValidate, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> ValidationResult:
    problems = validation.validate(c, actor, body.files)
    return ValidationResult(valid=not problems, problems=[ProblemOut(path=p.path, message=p.message) for p in problems])
