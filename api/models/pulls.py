"""Pull requests: opening, editing, reviews, comments, mergeability and merging."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ReviewEvent = Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"]


class NewPull(BaseModel):
    title: str = Field(min_length=1, max_length=300, pattern=r"\S")
    body: str = Field(default="", max_length=65_536)
    head: str = Field(min_length=1, max_length=300, description="a branch, or owner:branch of a fork")
    base: str = Field(default="main", min_length=1, max_length=255)


class PullEdit(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300, pattern=r"\S")
    body: str | None = Field(default=None, max_length=65_536)
    state: Literal["open", "closed"] | None = Field(default=None, description="merging is POST .../merge")


class NewComment(BaseModel):
    body: str = Field(min_length=1, max_length=65_536, pattern=r"\S")
    path: str | None = Field(default=None, min_length=1, max_length=1000)
    line: int | None = Field(default=None, ge=1, le=10_000_000)
    side: Literal["LEFT", "RIGHT"] | None = None


class ReviewComment(NewComment):
    """A line comment of a review: path, line and side are all needed."""

    path: str = Field(min_length=1, max_length=1000)
    line: int = Field(ge=1, le=10_000_000)
    side: Literal["LEFT", "RIGHT"] = "RIGHT"


class NewReview(BaseModel):
    event: ReviewEvent
    body: str = Field(default="", max_length=65_536)
    comments: list[ReviewComment] = Field(default_factory=list, max_length=200)


class MergeRequest(BaseModel):
    method: Literal["merge", "squash", "fast-forward"] = "merge"
    expected_head_sha: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$",
                                          description="refuse (412) if the head has moved since")


class PullHead(BaseModel):
    owner: str
    name: str
    branch: str
    sha: str
    ref: str = Field(description="refs/pull/N/head, fetchable from the base template")


class PullBase(BaseModel):
    branch: str


class PullOut(BaseModel):
    number: int
    title: str
    body: str
    state: Literal["open", "closed", "merged"]
    author: str
    head: PullHead
    base: PullBase
    merged_sha: str | None
    created_at: float
    updated_at: float


class CommentOut(BaseModel):
    id: int
    template_id: str
    number: int
    author: str
    body: str
    path: str | None
    line: int | None
    side: Literal["LEFT", "RIGHT"] | None
    review_id: int | None
    sha: str
    created_at: float


class ReviewOut(BaseModel):
    id: int
    event: ReviewEvent


class MergeabilityOut(BaseModel):
    mergeable: bool
    conflicts: list[str] = Field(description="paths that conflict (template.json by JSON path)")
    blocked_by: list[str] = Field(description="why branch protection refuses the merge now")


class MergeOut(BaseModel):
    sha: str
    merged: bool
