"""Records of what happened and who hears of it: events, webhooks, deliveries, usage per day."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

USAGE_KINDS = ("views", "clones", "fetches", "api_reads", "runs", "stars", "forks")
DELIVERY_STATES = ("pending", "delivered", "failed", "refused")


@dataclass(frozen=True)
class Event:
    """One thing that happened, as the audit log shows it. `template` is owner/name then."""

    action: str
    actor: str | None
    template_id: str | None = None
    template: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    client_ip: str | None = None
    time: float = 0.0
    id: int = 0


@dataclass(frozen=True)
class EventFilter:
    template_id: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("pull_request.")
    actor: str | None = None
    since: float | None = None
    until: float | None = None
    template: str | None = None  # owner/name as it was (finds a deleted template's events too)


@dataclass(frozen=True)
class Hook:
    id: int
    template_id: str
    url: str
    events: tuple[str, ...]  # push, pull_request, ... or "*"
    secret: str
    active: bool
    created_by: str | None
    created_at: float
    updated_at: float


class HookChanges(TypedDict, total=False):
    """What `meta.events.update_hook` may change of a hook: each key given is written."""

    url: str
    events: Sequence[str]
    secret: str
    active: bool


@dataclass(frozen=True)
class Outgoing:
    """A delivery to make, decided in the transaction that records its event."""

    hook_id: int
    event: str
    body: str


@dataclass(frozen=True)
class Delivery:
    id: str
    hook_id: int
    event_id: int | None
    event: str
    body: str
    status: str  # pending | delivered | failed | refused
    attempts: int
    response_code: int | None
    error: str | None
    duration_ms: int | None
    next_attempt_at: float
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class UsageDay:
    day: str  # YYYY-MM-DD (UTC)
    counts: dict[str, int]  # USAGE_KINDS
    cost_usd: float = 0.0  # what models cost the template that day (meta.evals.spent_per_day)
