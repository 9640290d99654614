"""meta.stats: site-wide figures for operators (the admin dashboard, GET /api/v1/admin/stats).
Every query is bounded: by a time window on an indexed column, or by a LIMIT after an aggregate
whose input the window bounds, so their cost follows the recent activity, not the site's size."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, func, select, union_all

from . import schema as s
from .records import FINAL
from .records_events import USAGE_KINDS
from .records_stats import CheckOutcome, DeliveryFailure, TemplateCounts, TemplateUsage, UserCounts
from .sql_base import SqlRepository
from .sql_spend import day_number

DAY = 86400


class SqlStats(SqlRepository):
    def users(self, since: float) -> UserCounts:
        col = s.users.c
        with self._read() as c:
            row = c.execute(select(func.count(), _count(col.is_admin), _count(col.disabled),
                                   _count(col.created_at >= since))).one()
        return UserCounts(*(int(v or 0) for v in row))

    def templates(self, since: float) -> TemplateCounts:
        col = s.templates.c
        with self._read() as c:
            row = c.execute(select(func.count(), _count(col.visibility == "private"), _count(col.parent_id.is_not(None)),
                                   _count(col.created_at >= since))).one()
        return TemplateCounts(*(int(v or 0) for v in row))

    def events_per_day(self, action: str, since: float) -> dict[int, int]:
        """Events of `action` per UTC day (days since the epoch) from `since` on."""
        col = s.events.c
        day = self._day(col.time)
        with self._read() as c:
            rows = c.execute(select(day, func.count()).where(col.time >= since, col.action == action)
                             .group_by(day)).all()
        return {int(r[0]): int(r[1]) for r in rows}

    def usage_per_day(self, first: str) -> dict[str, dict[str, int]]:
        """Usage of every template summed per day, from the day `first` (YYYY-MM-DD) on."""
        col = s.usage.c
        with self._read() as c:
            rows = c.execute(select(col.day, *(func.sum(col[k]) for k in USAGE_KINDS)).where(col.day >= first)
                             .group_by(col.day)).all()
        return {r[0]: {k: int(v or 0) for k, v in zip(USAGE_KINDS, r[1:], strict=True)} for r in rows}

    def top_templates(self, first: str, weights: dict[str, float], limit: int) -> list[TemplateUsage]:
        """The templates most used from the day `first` on, by the weighted sum of their usage."""
        col = s.usage.c
        score: ColumnElement[Any] = sum((col[k] * w for k, w in weights.items()), cast(0, Float))
        ranked = (select(col.template_id, func.sum(score).label("score"), *(func.sum(col[k]).label(k) for k in USAGE_KINDS))
                  .where(col.day >= first).group_by(col.template_id).order_by(func.sum(score).desc()).limit(limit)
                  .subquery())
        t = s.templates.c
        with self._read() as c:
            rows = c.execute(select(t.owner, t.name, *(ranked.c[k] for k in USAGE_KINDS))
                             .join_from(ranked, s.templates, t.id == ranked.c.template_id)
                             .order_by(ranked.c.score.desc(), t.owner, t.name)).all()
        return [TemplateUsage(f"{r[0]}/{r[1]}", {k: int(v or 0) for k, v in zip(USAGE_KINDS, r[2:], strict=True)})
                for r in rows]

    def check_outcomes(self, since: float, limit: int, states: tuple[str, ...] = FINAL) -> list[CheckOutcome]:
        """Checks that reached one of `states` since `since`, newest first, at most `limit`. Read as
        one index range per (state, enqueued) of `statuses_waiting`, each newest first and cut at
        `limit`, then merged: never a sort of every status in the window."""
        col = s.statuses.c
        parts = [select(col.template_id, col.sha, col.context, col.state, col.description,
                        (col.updated_at - col.created_at).label("took"), col.updated_at)
                 .where(col.state == state, col.enqueued == enqueued, col.updated_at >= since)
                 .order_by(col.updated_at.desc()).limit(limit).subquery()
                 for state in states for enqueued in (0, 1)]
        merged = union_all(*(select(part) for part in parts)).subquery()
        newest = select(merged).order_by(merged.c.updated_at.desc()).limit(limit).subquery()
        t = s.templates.c
        with self._read() as c:
            rows = c.execute(select(t.owner, t.name, newest.c.sha, newest.c.context, newest.c.state,
                                    newest.c.description, newest.c.took, newest.c.updated_at)
                             .join_from(newest, s.templates, t.id == newest.c.template_id)
                             .order_by(newest.c.updated_at.desc())).all()
        return [CheckOutcome(f"{r[0]}/{r[1]}", r[2], r[3], r[4], r[5], max(0.0, float(r[6])), float(r[7])) for r in rows]

    def count_outcomes(self, since: float, states: tuple[str, ...]) -> int:
        """How many checks reached one of `states` since `since` (index ranges only)."""
        col = s.statuses.c
        with self._read() as c:
            return int(c.execute(select(func.count()).where(col.state.in_(states), col.enqueued.in_((0, 1)),
                                                            col.updated_at >= since)).scalar_one())

    def delivery_failures(self, since: float, limit: int) -> tuple[dict[str, int], list[DeliveryFailure]]:
        """Deliveries that ended failed or refused since `since`: how many of each, and the newest."""
        col, h, t = s.deliveries.c, s.hooks.c, s.templates.c
        failed = col.status.in_(("failed", "refused"))
        with self._read() as c:
            counts = c.execute(select(col.status, func.count()).where(failed, col.updated_at >= since)
                               .group_by(col.status)).all()
            rows = c.execute(select(t.owner, t.name, h.url, col.event, col.status, col.attempts, col.response_code,
                                    col.error, col.updated_at)
                             .join_from(s.deliveries, s.hooks, h.id == col.hook_id)
                             .join(s.templates, t.id == h.template_id)
                             .where(failed, col.updated_at >= since).order_by(col.updated_at.desc()).limit(limit)).all()
        return ({r[0]: int(r[1]) for r in counts},
                [DeliveryFailure(f"{r[0]}/{r[1]}", r[2], r[3], r[4], int(r[5]), r[6], r[7], float(r[8])) for r in rows])

    def database_bytes(self) -> int | None:
        """The metadata database's size on disk, where the database says (PostgreSQL); None else."""
        if self._db.engine.dialect.name != "postgresql":
            return None
        with self._read() as c:
            return int(c.execute(select(func.pg_database_size(func.current_database()))).scalar_one())

    def _day(self, column: ColumnElement[float]) -> ColumnElement[Any]:
        """Days since the epoch (UTC) of an epoch-seconds column, floored alike in both dialects."""
        return day_number(self._db.engine.dialect.name, column)


def _count(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))
