"""GET /api/v1/admin/stats: the site's figures, for admins (admin-scoped tokens)."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request

from registry.access import Actor
from registry.container import Container
from registry.services import admin_stats
from registry.services.admin_stats import SiteStats

from ..deps import get_container, get_signed_in
from ..models.admin import (
    DayStatsOut,
    FailingCheckOut,
    LatencyOut,
    RateLimitedOut,
    SiteStatsOut,
    StorageOut,
    TemplateCountsOut,
    TopTemplateOut,
    UserCountsOut,
    WebhookFailureOut,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def iso(at: float | None) -> str | None:
    return None if at is None else dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def site_stats(request: Request, c: Container, actor: Actor, days: int) -> SiteStats:
    """The figures, with the clients the rate limits refused (kept by the app's limiter)."""
    refusals = request.app.state.refusals
    return admin_stats.site_stats(c, actor, days, refusals.top(min(days, 8), admin_stats.TOP))


@router.get("/stats")
def stats(request: Request, days: int = Query(30, ge=1, le=admin_stats.MAX_DAYS, description="the window, in days"),
          actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> SiteStatsOut:
    """Users, templates, storage, pushes, usage and model spend per day, queue depth, check latency, failing
    checks, webhook failures, rate-limited clients and the most used templates."""
    return stats_out(site_stats(request, c, actor, days))


def stats_out(s: SiteStats) -> SiteStatsOut:
    st = s.storage
    return SiteStatsOut(
        generated_at=iso(s.generated_at) or "", days=s.days,
        users=UserCountsOut(**vars(s.users)), templates=TemplateCountsOut(**vars(s.templates)),
        storage=StorageOut(blob_count=st.blob_count, blob_bytes=st.blob_bytes, measured_at=iso(st.measured_at),
                           metadata_bytes=st.metadata_bytes, disk_free_bytes=st.disk_free_bytes,
                           disk_total_bytes=st.disk_total_bytes),
        per_day=[DayStatsOut(date=d.day, pushes=d.pushes, cost_usd=d.cost_usd,
                                 **{k: d.counts.get(k, 0) for k in _KINDS}) for d in s.per_day],
        queue_depth=s.queue_depth,
        check_latency=[LatencyOut(**vars(lat)) for lat in s.check_latency],
        failing_checks=s.failing_checks,
        recent_failing_checks=[FailingCheckOut(template=f.template, sha=f.sha, context=f.context, state=f.state,
                                               description=f.description, at=iso(f.at) or "") for f in s.failing],
        webhook_failures=s.webhook_failures,
        recent_webhook_failures=[WebhookFailureOut(template=w.template, url=w.url, event=w.event, status=w.status,
                                                   attempts=w.attempts, response_code=w.response_code,
                                                   error=w.error, at=iso(w.at) or "") for w in s.webhook_failed],
        rate_limited=[RateLimitedOut(client=r.client, refused=r.refused, last_at=iso(r.last_at) or "")
                      for r in s.rate_limited],
        top_templates=[TopTemplateOut(template=t.template, **{k: t.counts.get(k, 0) for k in _KINDS})
                       for t in s.top_templates])


_KINDS = ("views", "clones", "fetches", "api_reads", "runs", "stars", "forks")
