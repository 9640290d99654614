"""Reading what happened: a template's events (maintainers and above), every event (admins, and
`registry audit`), usage per day (analytics, the template page's chart) and trending scores."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidInput, PermissionDenied
from ..events import REQUEST as REQUEST  # adapters say who asked, and from where
from ..events import RequestInfo as RequestInfo
from ..meta import USAGE_KINDS, Event, EventFilter, UsageDay
from . import guard

MAX_DAYS = 366
# trending: usage of the last TRENDING_DAYS days, weighted by how much each kind says about interest
TRENDING_DAYS = 14
TRENDING_WEIGHTS = {"views": 1.0, "api_reads": 0.5, "clones": 4.0, "fetches": 1.0, "runs": 2.0, "stars": 8.0,
                    "forks": 10.0}


def parse_time(value: str | None, name: str) -> float | None:
    """An ISO date or date-time (UTC unless it says otherwise) as epoch seconds."""
    if value is None or value == "":
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO date or date-time, like 2026-11-28 or 2026-11-28T10:00:00Z",
                           field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def template_events(c: Container, actor: Actor, owner: str, name: str, where: EventFilter, page: int,
                    per_page: int) -> tuple[list[Event], int]:
    template = guard.template(c, actor, owner, name, Level.MAINTAIN)
    return c.meta.events.page(replace(where, template_id=template.id, template=None), (page - 1) * per_page, per_page)


def all_events(c: Container, actor: Actor, where: EventFilter, page: int, per_page: int) -> tuple[list[Event], int]:
    guard.signed_in(actor, "read the audit log")
    if not actor.is_admin:
        raise PermissionDenied("only admins (with an admin-scoped token) may read every event")
    return c.meta.events.page(where, (page - 1) * per_page, per_page)


def operator_events(c: Container, where: EventFilter, limit: int) -> list[Event]:
    """Operators (`registry audit`): the newest `limit` events matching, oldest first."""
    return list(reversed(c.meta.events.page(where, 0, limit)[0]))


def prune(c: Container) -> int:
    """Drop events older than the retention setting (how many went), and the expired sessions,
    one-time links and sign-in ceremonies of accounts."""
    c.accounts.prune(time.time())
    return c.meta.events.prune(time.time() - c.settings.event_retention_days * 86400)


def _day(value: str | None, name: str, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date, YYYY-MM-DD", field=name) from None


def analytics(c: Container, actor: Actor, owner: str, name: str, first: str | None = None,
              last: str | None = None, flush: bool = True) -> list[UsageDay]:
    """Every day from `first` to `last` (default: the 30 days up to today, UTC), zeros included,
    with what models cost the template that day (sandbox runs and evaluations: `cost_usd`).
    `flush`: the reads this process counted are added first (exact figures, one write); beside other
    server processes (`serve --workers N`), theirs too, so every read made before this request is in."""
    template = guard.template(c, actor, owner, name, Level.READ)
    today = dt.datetime.now(dt.UTC).date()
    end = _day(last, "to", today)
    start = _day(first, "from", end - dt.timedelta(days=29) if end > dt.date.min + dt.timedelta(days=29) else end)
    if start > end:
        raise InvalidInput("from is after to", field="from")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at once", field="from")
    if flush:
        c.usage.flush(c.meta)
        if c.usage.peers is not None:  # beside other server processes: theirs too
            c.usage.peers.flush_others()
    found = {u.day: u.counts for u in c.meta.activity.usage(template.id, start.isoformat(), end.isoformat())}
    spent = c.meta.evals.spent_per_day(template.id, midnight(start), midnight(end) + 86400)
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    zero = dict.fromkeys(USAGE_KINDS, 0)
    return [UsageDay(d, found.get(d, zero), spent.get(d, 0.0)) for d in days]


def midnight(day: dt.date) -> float:
    """The start of a UTC day, as epoch seconds."""
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()


def trending_scores(c: Container) -> dict[str, float]:
    """template id -> weighted usage of the last 14 days (UTC), the last 3 counting double; what
    was counted in the database (reads are added every few seconds), kept for TRENDING_TTL."""
    cached = _trending.get(id(c))
    if cached is not None and time.monotonic() - cached[0] < TRENDING_TTL:
        return cached[1]
    today = dt.datetime.now(dt.UTC).date()
    scores = c.meta.activity.usage_scores((today - dt.timedelta(days=TRENDING_DAYS - 1)).isoformat(), TRENDING_WEIGHTS,
                                 double_from=(today - dt.timedelta(days=2)).isoformat())
    _trending[id(c)] = (time.monotonic(), scores)
    return scores


TRENDING_TTL = 5.0  # seconds: a busy gallery asks the database for trending scores once per this
_trending: dict[int, tuple[float, dict[str, float]]] = {}
