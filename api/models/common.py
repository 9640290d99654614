"""Shapes every part of the API shares: the error body and a template's short reference."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.services.validation import MAX_FILES


class ErrorDetail(BaseModel):
    """`code` is stable and machine-readable; `message` is one line for a person. Some errors add
    fields (a stale head's `head_sha`, a blocked merge's `blocked_by`)."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no template alice/demo"])


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx answer of the API."""

    error: ErrorDetail


class TemplateRef(BaseModel):
    owner: str
    name: str
    full_name: str = Field(description="owner/name")


class ProblemOut(BaseModel):
    path: str = Field(description="a JSON path into template.json, or a file path")
    message: str


class FilesToValidate(BaseModel):
    files: dict[str, str] = Field(description="path in the repository -> its text; template.json at least",
                                  max_length=MAX_FILES)


class ValidationResult(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class Health(BaseModel):
    status: Literal["ok"]
