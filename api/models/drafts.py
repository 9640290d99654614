"""Shared drafts (live co-editing): opening one, what it holds, committing it."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .conflicts import MAX_HUNKS, ConflictFileOut, Pick
from .pulls import PullOut


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch: str = Field(min_length=1, max_length=255, description="the branch the draft changes")
    path: str | None = Field(default=None, min_length=1, max_length=1024,
                             description="a file to open in it at once (more join through the WebSocket)")


class DraftFileOut(BaseModel):
    path: str
    seq: int = Field(description="the number of its newest stored update")


class DraftConflictOut(BaseModel):
    path: str
    base_sha: str
    theirs_sha: str
    details: list[str] = Field(description="what conflicts: the path, or template.json:$.json.path")


class DraftOut(BaseModel):
    id: int
    branch: str
    base: str = Field(description="the commit the draft's text is a change of")
    url: str = Field(description="its page")
    ws: str = Field(description="its WebSocket, to which ?path=FILE is added")
    created_by: str
    created_at: float
    updated_at: float
    last_commit: str | None
    pull: int | None = Field(description="the pull request it was proposed as")
    rebased: dict[str, Any] | None = Field(description="the last time its branch moved under it: from, to, "
                                                       "merged and conflicting paths")


class DraftDetail(DraftOut):
    files: list[DraftFileOut]
    editors: list[str] = Field(description="who edited it, in the order they first did")
    conflicts: list[DraftConflictOut]
    behind: bool = Field(description="its branch has moved on since its base")


class DraftPull(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300, pattern=r"\S")
    body: str = Field(default="", max_length=65_536)
    base: str | None = Field(default=None, min_length=1, max_length=255)


class DraftCommitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=20_000, pattern=r"\S")
    create_pull: DraftPull | None = Field(default=None, description="commit to a new branch and open a pull "
                                                                    "request from it, which the draft follows")
    new_branch: str | None = Field(default=None, min_length=1, max_length=255,
                                   description="with create_pull: its branch (default USER-draft-ID)")


class DraftCommitOut(BaseModel):
    sha: str
    branch: str
    pull: PullOut | None = None


class DraftFileConflictOut(BaseModel):
    """One conflicted file of a draft as the conflict view shows it: "ours" is the draft's text
    now, "theirs" the branch's, "base" the branch where the draft started."""

    path: str
    base_sha: str
    theirs_sha: str
    shown: str = Field(description="the hunks' fingerprint: send it back so choices apply to these hunks only")
    can_resolve: bool
    why_not: str | None
    others: list[str] = Field(description="the draft's other conflicted files")
    file: ConflictFileOut


class DraftHunkChoice(BaseModel):
    hunk: int = Field(ge=0, lt=MAX_HUNKS, description="the hunk's index in the file")
    choice: Pick
    text: str | None = Field(default=None, description="the edited text for `edit` (JSON for template.json "
                                                       "paths and test cases)")


class DraftResolveIn(BaseModel):
    """Every hunk of `path` decided, or the whole file given as `content`."""

    path: str = Field(min_length=1, max_length=1024)
    resolutions: list[DraftHunkChoice] = Field(default_factory=list, max_length=MAX_HUNKS)
    content: str | None = Field(default=None, description="the whole file as resolved (replaces hunk choices)")
    shown: str | None = Field(default=None, max_length=64,
                              description="refuse (412 draft_moved) unless the hunks are still those shown")


class DraftResolvedOut(BaseModel):
    path: str
    text: str = Field(description="the file's text in the draft now")
