"""Search, stars and ratings; sandbox runs."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5)
    review: str | None = Field(default=None, max_length=5000)


class SearchHitOut(BaseModel):
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
    highlights: dict[str, str] = Field(description="field -> HTML-escaped text with matches in <mark>")
    status: Literal["draft", "published", "archived"]
    valid: bool = Field(description="whether the default branch's head passes validate")
    excerpt: str = Field(default="", description=(
        "the start of the prompt (system, then user) as plain text, not escaped: whitespace collapsed, "
        "about 200 characters, cut with an ellipsis"))


class SearchOut(BaseModel):
    total: int
    results: list[SearchHitOut]
    facets: dict[str, dict[str, int]] = Field(description="industry and tags: value -> count of matches")
    suggestion: str | None = Field(default=None, description='"did you mean": a corrected query when nothing matched')
    total_is_estimate: bool = Field(default=False, description=(
        "true when more templates match than are counted exactly (2,000 on PostgreSQL): total and the facets "
        "are then estimates, and relevance pages end after the best-ranked candidates"))


class StarOut(BaseModel):
    starred: bool
    stars: int


class RatingOut(BaseModel):
    rating: float = Field(description="the mean score")
    ratings: int


class NewRun(BaseModel):
    ref: str = Field(default="main", min_length=1, max_length=255)


class RunOut(BaseModel):
    id: str
    template: str = Field(description="owner/name")
    sha: str
    ref: str | None
    trigger: Literal["push", "manual"]
    requested_by: str | None
    state: Literal["queued", "running", "success", "failure", "error"]
    backend: str = Field(examples=["local", "fargate"])
    task: str | None = Field(description="the Fargate task ARN, once started")
    attempts: int
    summary: str
    cost: dict[str, Any] = Field(description="compute_usd, calls_usd, model_usd (model calls, priced), total_usd")
    metrics: dict[str, Any] = Field(description="duration_s, cpu_s, peak_memory_mb, estimated_cost_usd")
    created_at: float
    started_at: float | None
    finished_at: float | None
    logs: str | None = Field(default=None, description="a single run only")
    report: dict[str, Any] | None = Field(default=None, description="a single run only: the sandbox report")
