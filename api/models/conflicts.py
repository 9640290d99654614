"""A pull request's conflicts and their resolution (the base branch merged into the head)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from registry.services.resolving import MAX_FILES, MAX_HUNKS

Pick = Literal["ours", "theirs", "both", "base", "edit"]
Side = Literal["base", "ours", "theirs"]
SHA = r"^[0-9a-f]{40}$"


class HunkOut(BaseModel):
    """One decision, with each side's text there (JSON for template.json paths and test cases);
    null where the side has nothing (the file, key or case is absent)."""

    index: int
    where: str = Field(description="`lines 3–5` of ours, a JSON path of template.json, `test case 'name'`, "
                                   "or `the whole file`")
    base: str | None
    ours: str | None
    theirs: str | None


class ConflictFileOut(BaseModel):
    path: str
    kind: Literal["lines", "json", "cases", "file"] = Field(
        description="lines: diff3 hunks; json: template.json by JSON path; cases: tests/*.json by test case; "
                    "file: the file chosen whole (deleted on one side, binary, or too large)")
    base: str | None = Field(description="the whole file at the merge base; null where absent or binary")
    ours: str | None = Field(description="the whole file on the head branch")
    theirs: str | None = Field(description="the whole file on the base branch")
    absent: list[Side] = Field(description="the sides that do not have the file")
    binary: bool
    picks: list[Pick] = Field(description="the choices each hunk of this file takes")
    hunks: list[HunkOut]
    why_not: str | None = Field(description="set when this conflict can be resolved with git only")


class BranchTip(BaseModel):
    owner: str
    name: str
    branch: str
    sha: str


class ConflictsOut(BaseModel):
    """"ours" is the head branch, where the merge commit lands; "theirs" the base branch."""

    head: BranchTip
    base: BranchTip
    merge_base: str | None
    files: list[ConflictFileOut] = Field(description="empty when nothing conflicts")
    truncated: bool = Field(description="more files conflict than are listed: merge with git")
    can_resolve: bool
    why_not: str | None = Field(description="why the caller cannot resolve here")
    message: str = Field(description="the merge commit's message unless one is given")


class HunkChoice(BaseModel):
    path: str = Field(min_length=1, max_length=1000)
    hunk: int = Field(ge=0, lt=MAX_HUNKS, description="the hunk's index in its file")
    choice: Pick
    text: str | None = Field(default=None, description="the edited text for `edit` (JSON for template.json "
                                                       "paths and test cases)")


class ResolveRequest(BaseModel):
    """Every hunk of every conflicted file is decided: by a choice, or by the whole file in `files`."""

    files: dict[str, str] = Field(default_factory=dict, max_length=MAX_FILES,
                                  description="path -> the whole file as resolved (replaces its hunk choices)")
    resolutions: list[HunkChoice] = Field(default_factory=list, max_length=MAX_HUNKS)
    message: str | None = Field(default=None, max_length=20_000)
    expected_head_sha: str | None = Field(default=None, pattern=SHA,
                                          description="refuse (412) if the head has moved since")
    expected_base_sha: str | None = Field(default=None, pattern=SHA,
                                          description="refuse (412) if the base branch has moved since")


class ResolvedOut(BaseModel):
    sha: str = Field(description="the merge commit, now the head branch's tip")
    owner: str = Field(description="where it landed: the template, or the fork holding the head branch")
    name: str
    branch: str
    parents: list[str] = Field(description="the head's tip, then the base's")
