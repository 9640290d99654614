"""GET /api/v1/admin/stats: the site's figures (the admin dashboard shows the same)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class UserCountsOut(BaseModel):
    total: int
    admins: int
    disabled: int
    joined: int = Field(description="accounts made in the window")


class TemplateCountsOut(BaseModel):
    total: int
    private: int
    forks: int
    created: int = Field(description="templates made in the window")


class StorageOut(BaseModel):
    blob_count: int | None = Field(description="repository blobs (packs, indexes, refs documents) when last "
                                               "measured; null before the first measurement")
    blob_bytes: int | None
    measured_at: str | None = Field(description="ISO 8601, UTC; the measurement is redone hourly")
    metadata_bytes: int | None = Field(description="the metadata database on disk")
    disk_free_bytes: int | None = Field(description="free space of the data dir's file system")
    disk_total_bytes: int | None


class DayStatsOut(BaseModel):
    date: str = Field(examples=["2026-12-07"])
    pushes: int = Field(description="ref updates pushed (one per ref)")
    clones: int
    fetches: int
    views: int
    api_reads: int
    runs: int
    stars: int
    forks: int
    cost_usd: float = Field(ge=0, description="what models cost every template that day (USD): pull request "
                                               "evaluations, and sandbox runs on the day they finished")


class LatencyOut(BaseModel):
    context: str = Field(examples=["validate"])
    count: int = Field(description="checks of this kind that ended in the window (the newest 2,000 at most)")
    p50_seconds: float = Field(description="push to final status, median")
    p95_seconds: float
    max_seconds: float


class FailingCheckOut(BaseModel):
    template: str
    sha: str
    context: str
    state: str = Field(examples=["failure"])
    description: str
    at: str


class WebhookFailureOut(BaseModel):
    template: str
    url: str
    event: str
    status: str = Field(examples=["failed"])
    attempts: int
    response_code: int | None
    error: str | None
    at: str


class RateLimitedOut(BaseModel):
    client: str = Field(description="user:NAME, or ip:ADDRESS for requests without valid credentials")
    refused: int
    last_at: str


class TopTemplateOut(BaseModel):
    template: str
    views: int
    clones: int
    fetches: int
    api_reads: int
    runs: int
    stars: int
    forks: int


class SiteStatsOut(BaseModel):
    generated_at: str
    days: int = Field(description="the window: the last `days` UTC days, today included")
    users: UserCountsOut
    templates: TemplateCountsOut
    storage: StorageOut
    per_day: list[DayStatsOut]
    queue_depth: dict[str, int] = Field(description="jobs waiting per queue")
    check_latency: list[LatencyOut]
    failing_checks: int = Field(description="checks that ended failure or error in the window")
    recent_failing_checks: list[FailingCheckOut]
    webhook_failures: dict[str, int] = Field(description="deliveries that ended failed or refused in the window")
    recent_webhook_failures: list[WebhookFailureOut]
    rate_limited: list[RateLimitedOut] = Field(description="clients refused by a rate limit, most refused first "
                                                           "(the last 8 days at most)")
    top_templates: list[TopTemplateOut] = Field(description="most used in the window (weighted as trending)")
