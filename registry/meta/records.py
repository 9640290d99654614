"""The records the MetaStore keeps and returns: plain frozen values, no behaviour but derived
properties. Everything outside `meta/` (use cases, views, adapters) speaks in these."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict  # pydantic (response models) needs it before 3.12

ROLES = ("reader", "writer", "maintainer", "owner")
SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str | None
    is_admin: bool
    disabled: bool = False  # no sign-in, no token works (registry user disable)


@dataclass(frozen=True)
class Token:
    id: int
    user_id: int
    scope: str
    expires_at: float | None
    revoked: bool
    created_at: float = 0.0
    last_used_at: float | None = None  # updated at most once a minute (see access.authenticate)


@dataclass(frozen=True)
class Template:
    id: str  # also the repo id in blob storage
    owner: str
    name: str
    visibility: str
    description: str
    parent_id: str | None
    created_at: float
    updated_at: float
    update_pulls: bool = True  # the registry may open update pull requests when its parent publishes

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Visibility:
    """Whose view a listing is for: a user's (public, own, and collaborations), or all (admins)."""

    user: str | None
    all: bool = False


@dataclass(frozen=True)
class Protection:
    branch: str
    allow_force_push: bool
    allow_deletion: bool
    required_checks: tuple[str, ...]
    required_approvals: int


@dataclass(frozen=True)
class Status:
    """A commit status: context validate|index|sandbox, state pending|success|failure|error."""

    template_id: str
    sha: str
    context: str
    state: str
    description: str
    problems: list[dict[str, Any]] = field(default_factory=list)  # [{"path": JSON path, "message": ...}]
    target_url: str | None = None
    updated_at: float = 0.0


@dataclass(frozen=True)
class Rating:
    """A user's score (1-5) of a template and the short review that came with it."""

    user: str
    score: int
    review: str | None
    created_at: float


@dataclass(frozen=True)
class Pull:
    template_id: str
    number: int
    title: str
    body: str
    author: str
    head_template_id: str
    head_branch: str
    base_branch: str
    state: str  # open | closed | merged
    head_sha: str
    merged_sha: str | None
    created_at: float
    updated_at: float


class Review(TypedDict):
    id: int
    template_id: str
    number: int
    author: str
    event: str  # APPROVE | REQUEST_CHANGES | COMMENT
    body: str
    sha: str  # the head it looked at: a new push makes approvals stale
    created_at: float


class Comment(TypedDict):
    id: int
    template_id: str
    number: int
    author: str
    body: str
    path: str | None
    line: int | None
    side: str | None  # LEFT | RIGHT for a line comment
    review_id: int | None
    sha: str
    created_at: float


FINAL = ("success", "failure", "error")


@dataclass(frozen=True)
class Run:
    """One sandbox run of a template at a commit: `push` (the sandbox check) or `manual`."""

    id: str
    template_id: str
    sha: str
    ref: str | None
    trigger: str
    requested_by: str | None
    state: str  # queued | running | success | failure | error
    backend: str  # local | fargate
    task_arn: str | None = None  # recorded before waiting, so a re-run adopts or stops the task
    attempts: int = 0
    summary: str = ""
    logs: str = ""
    report: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # duration_s, cpu_s, peak_memory_mb
    cost: dict[str, Any] = field(default_factory=dict)  # compute_usd, calls_usd, model_usd, total_usd
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


class RunChanges(TypedDict, total=False):
    """What `meta.checks.update_run` may change of a run: each key given is written, None included."""

    state: str
    summary: str
    attempts: int
    task_arn: str | None
    logs: str
    report: dict[str, Any] | None
    metrics: dict[str, Any]
    cost: dict[str, Any]
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class RefWrite:
    """A write of a template's refs journalled before it was made (meta.writes), with what must
    follow it: `kind` "push" (the updates' push events) or "merge" (`details`: the pull request's
    number and method), by `actor`. `state` "pending": whether it landed is not known here (the refs
    document knows: RefsDocument.wrote); "recorded": its events are written, the rest may be owed."""

    id: str  # the write id the refs document carries
    template_id: str
    kind: str
    actor: str | None
    updates: tuple[tuple[str, str, str], ...]  # (ref, old sha, new sha)
    details: dict[str, Any] = field(default_factory=dict)
    state: str = "pending"
    created_at: float = 0.0


@dataclass(frozen=True)
class EvalResult:
    """A test case's result at a commit for a provider and model (meta.evals): `params` is the
    digest of its parameters, `digest` that of its whole input; `spent_usd` what its model calls
    cost when they were made (0 when the result was reused from another commit)."""

    template_id: str
    sha: str
    file: str
    name: str
    params: str
    provider: str
    model: str
    digest: str
    result: dict[str, Any]
    spent_usd: float = 0.0
    created_at: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return self.file, self.name, self.params
