"""The audit log (a template's events for maintainers, every event for admins) and analytics."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from fastapi import APIRouter, Depends, Query, Request, Response

from registry.access import Actor
from registry.container import Container
from registry.meta.records_events import Event, EventFilter
from registry.services import audit

from ..deps import PAGE, PER_PAGE, get_actor, get_container, get_signed_in
from ..models.events import AnalyticsOut, DayOut, EventOut
from ..openapi import PAGED
from ..pagination import link_header

router = APIRouter(prefix="/api/v1", tags=["events"])


def event_out(event: Event, with_ip: bool = True) -> EventOut:
    """`with_ip`: client addresses are for admins; a template's maintainers see who, not from where."""
    return EventOut(id=event.id, time=iso(event.time), actor=event.actor, action=event.action,
                    template=event.template, payload=event.payload, request_id=event.request_id,
                    client_ip=event.client_ip if with_ip else None)


def iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Filters:
    """`action` (exact, or a family: `pull_request` or `pull_request.`), `actor`, `since`, `until`
    (ISO dates or date-times, UTC unless they say otherwise; `until` is exclusive)."""

    def __init__(self, action: str | None = Query(None, max_length=100), actor: str | None = Query(None, max_length=100),
                 since: str | None = Query(None, max_length=40), until: str | None = Query(None, max_length=40)) -> None:
        self.where = EventFilter(None, action, actor, audit.parse_time(since, "since"), audit.parse_time(until, "until"))


@router.get("/templates/{owner}/{name}/events", responses=PAGED)
def template_events(owner: str, name: str, request: Request, response: Response, filters: Filters = Depends(),
                    page: int = PAGE, per_page: int = PER_PAGE, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> list[EventOut]:
    """Newest first; maintainers and above."""
    items, total = audit.template_events(c, actor, owner, name, filters.where, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [event_out(e, with_ip=False) for e in items]


@router.get("/admin/events", responses=PAGED)
def all_events(request: Request, response: Response, filters: Filters = Depends(),
               template: str | None = Query(None, max_length=200, description="owner/name"),
               page: int = PAGE, per_page: int = PER_PAGE, actor: Actor = Depends(get_signed_in),
               c: Container = Depends(get_container)) -> list[EventOut]:
    """Every event, newest first; admins (with an admin-scoped token) only."""
    items, total = audit.all_events(c, actor, replace(filters.where, template=template), page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [event_out(e) for e in items]


@router.get("/templates/{owner}/{name}/analytics")
def analytics(owner: str, name: str,
              first: str | None = Query(None, alias="from", max_length=10,
                                        description="YYYY-MM-DD; default 29 days before `to`"),
              last: str | None = Query(None, alias="to", max_length=10, description="YYYY-MM-DD; default today (UTC)"),
              actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> AnalyticsOut:
    """Usage and model spend per day, every day of the range (zeros included), and the range's
    spend in all; anyone who may read the template."""
    days = audit.analytics(c, actor, owner, name, first, last)
    return AnalyticsOut(days=[DayOut(date=d.day, **d.counts, cost_usd=d.cost_usd) for d in days],
                        cost_usd=round(sum(d.cost_usd for d in days), 8))
