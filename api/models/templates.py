"""Templates, their repositories (branches, tags, commits, trees), versions and comparisons."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ProblemOut, TemplateRef

# SPEC's name rule, whole: lookarounds need Python's re (pydantic's default engine has none).
NAME_PATTERN = r"^(?!.*\.\.)(?!.*\.git$)[a-z0-9][a-z0-9._-]{0,62}$"
Visibility = Literal["public", "private"]


class CreateTemplate(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")
    name: str = Field(pattern=NAME_PATTERN, description="lower case; must not end in .git")
    owner: str | None = Field(default=None, min_length=1, max_length=63,
                              description="defaults to the caller; another user needs admin")
    visibility: Visibility = "public"
    description: str = Field(default="", max_length=2000)


class ForkRequest(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")
    owner: str | None = Field(default=None, min_length=1, max_length=63, description="defaults to the caller")
    name: str | None = Field(default=None, pattern=NAME_PATTERN, description="defaults to the parent's name")


class TemplatePatch(BaseModel):
    description: str | None = Field(default=None, max_length=2000)
    visibility: Visibility | None = None
    default_branch: str | None = Field(default=None, min_length=1, max_length=255)
    update_pulls: bool | None = Field(default=None, description="whether the registry opens update pull requests "
                                      "when the template this one extends publishes a version")


class CollaboratorIn(BaseModel):
    role: Literal["reader", "writer", "maintainer"]


class ProtectionRule(BaseModel):
    required_checks: list[str] = Field(default=[], max_length=50)
    required_approvals: int = Field(default=0, ge=0, le=20)
    allow_force_push: bool = False
    allow_deletion: bool = False


class ProtectionOut(ProtectionRule):
    branch: str


class TemplateOut(BaseModel):
    id: str
    owner: str
    name: str
    full_name: str
    visibility: Visibility
    description: str
    clone_url: str
    created_at: float
    updated_at: float
    fork_parent: TemplateRef | None
    default_branch: str | None = None
    update_pulls: bool = Field(default=True, description="update pull requests from registry-bot (PATCH to change)")


class CheckOut(BaseModel):
    state: Literal["pending", "success", "failure", "error"]
    description: str


class TemplateDetailOut(TemplateOut):
    head_sha: str | None = Field(description="the default branch's commit; null while empty")
    manifest: dict[str, Any] | None = Field(description="template.json at the head, as stored")
    versions: list[str] = Field(description="tag names")
    stars: int
    rating: float
    ratings: int
    checks: dict[str, CheckOut] = Field(description="the head's commit statuses by context")


class StatusOut(BaseModel):
    context: str = Field(examples=["validate"])
    state: Literal["pending", "success", "failure", "error"]
    description: str
    target_url: str | None
    problems: list[dict[str, Any]]
    updated_at: float


class BranchOut(BaseModel):
    name: str
    sha: str
    default: bool


class TagOut(BaseModel):
    name: str
    sha: str = Field(description="the tag object, or the commit of a lightweight tag")
    commit: str


class CommitOut(BaseModel):
    sha: str
    message: str
    author: str
    committer: str
    authored_at: int
    committed_at: int
    parents: list[str]


class TreeEntry(BaseModel):
    name: str
    path: str
    type: Literal["dir", "file", "submodule"]
    sha: str
    mode: str


class TreeOut(BaseModel):
    type: Literal["dir", "file"]
    path: str
    sha: str
    size: int | None = Field(default=None, description="files only")
    entries: list[TreeEntry] | None = Field(default=None, description="directories only")


class McpConfigOut(BaseModel):
    mcpServers: dict[str, dict[str, Any]] = Field(
        description="serverId -> {command, args, env} or {url, headers}; secrets stay ${secrets.NAME}")


class ManifestChange(BaseModel):
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class FileChange(BaseModel):
    path: str
    previous_path: str | None
    status: Literal["added", "removed", "modified", "renamed", "copied"]
    binary: bool = False
    patch: str | None
    manifest_changes: list[ManifestChange] | None = Field(
        default=None, description="template.json only: its changes by JSON path")


class VersionOut(BaseModel):
    version: str
    sha: str
    message: str
    tagger: str | None
    date: float
    changes: list[ManifestChange] = Field(description="template.json changes since the previous version")
    change_kind: Literal["initial", "none", "patch", "minor", "major"] | None = Field(
        default=None, description="the kind of change from the release before it, as its semver check judges")


class VersionDetail(VersionOut):
    manifest: dict[str, Any] | None = Field(description="the resolved manifest snapshot (extends merged)")
    problems: list[ProblemOut]


class CompareOut(BaseModel):
    base_sha: str
    head_sha: str
    merge_base: str | None
    ahead_by: int = Field(description="commits the head has that the base has not")
    behind_by: int = Field(description="commits the base has that the head has not")
    commits: list[CommitOut] = Field(description="the head's commits since the merge base (at most 250)")
    files: list[FileChange] = Field(description="as in a pull request's files, template.json by JSON path")
