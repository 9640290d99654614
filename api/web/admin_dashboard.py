"""/admin: the site at a glance, for admins. The page is `admin_dashboard.html`, a frame around
the self-contained include `_admin_dashboard.html` (it needs only `stats`, a SiteStats, and the
chart functions this module gives every page's templates), so another admin page can include it."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from registry.access import Actor
from registry.errors import Unauthenticated
from registry.services import accounts_data, admin_stats

from ..routes.admin import site_stats
from . import admin_charts, chart
from . import session as sessions
from .pages import mark_web
from .render import ENV, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
ENV.globals.update(admin_pushes_svg=admin_charts.pushes_svg, admin_usage_svg=admin_charts.site_usage_svg,
                   admin_latency_svg=admin_charts.latency_svg, admin_spend_svg=admin_charts.site_spend_svg)
ENV.filters.update(human_bytes=admin_charts.human_bytes, usd=chart.usd)


def _admin(request: Request) -> Actor:
    actor = sessions.actor(request)
    if actor.user is None:
        raise Unauthenticated("sign in as an admin to see this page")
    return actor


@router.get("/admin", response_class=HTMLResponse)
def dashboard(request: Request, days: int = Query(30, ge=1, le=admin_stats.MAX_DAYS),
              actor: Actor = Depends(_admin)) -> HTMLResponse:
    stats = site_stats(request, request.app.state.container, actor, days)
    counts = accounts_data.dashboard(request.app.state.container, actor)  # the accounts' own figures
    return page(request, "admin_dashboard.html", title="Admin", stats=stats, counts=counts)
