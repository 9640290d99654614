"""Events (the audit log), webhooks and their deliveries, and usage per day (analytics)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

HookEvent = Literal["push", "pull_request", "review", "status", "run", "star", "fork", "template", "*"]


class EventOut(BaseModel):
    id: int
    time: str = Field(description="when, ISO 8601 in UTC")
    actor: str | None = Field(description="who; null for the registry itself (checks) and operators' commands")
    action: str = Field(examples=["pull_request.merged"])
    template: str | None = Field(description="owner/name when it happened; null for account events")
    payload: dict[str, Any]
    request_id: str | None
    client_ip: str | None = Field(description="shown to admins only (GET /admin/events)")


class NewHook(BaseModel):
    url: str = Field(max_length=2000, examples=["https://example.com/hooks/registry"])
    events: list[HookEvent] = Field(default=["push"], min_length=1, max_length=9)
    secret: str = Field(default="", max_length=256,
                        description="signs each body: X-Registry-Signature-256 = sha256=HMAC-SHA256(secret, body)")
    active: bool = True


class HookChange(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    events: list[HookEvent] | None = Field(default=None, min_length=1, max_length=9)
    secret: str | None = Field(default=None, max_length=256)
    active: bool | None = None


class HookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    has_secret: bool = Field(description="the secret itself is never shown")
    created_by: str | None
    created_at: float
    updated_at: float


class DeliveryOut(BaseModel):
    id: str
    event: str
    status: Literal["pending", "delivered", "failed", "refused"]
    attempts: int
    response_code: int | None
    error: str | None
    duration_ms: int | None
    created_at: float
    updated_at: float
    next_attempt_at: float | None = Field(description="when a pending delivery is tried next")


class DayOut(BaseModel):
    date: str = Field(examples=["2026-11-28"])
    views: int
    clones: int = Field(description="git clones and fetches of the whole history")
    fetches: int = Field(description="incremental git fetches")
    api_reads: int
    runs: int
    stars: int
    forks: int
    cost_usd: float = Field(ge=0, examples=[0.0123],
                            description="what models cost the template that day (USD at the price table's prices): "
                                        "its sandbox runs (on the day they were created) and pull request evaluations")


class AnalyticsOut(BaseModel):
    days: list[DayOut]
    cost_usd: float = Field(ge=0, description="the days' model spend in all (USD)")
