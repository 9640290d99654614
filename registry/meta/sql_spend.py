"""What models cost per UTC day, of one template (its analytics) or of the whole site (the admin
stats), summed from the rows that keep spend as they are written; no table of its own.

- `KEPT`: rows that keep their spend as a number, summed per day in SQL: evaluation results
  (`spent_usd` when made; 0 when reused) and experiments' units (`spent_usd` when finished). A
  later kind of row is one more line of KEPT.
- sandbox runs keep theirs inside their JSON `cost` (`model_usd`), read per template from the runs
  (by `runs_by_template`, on the day they were created: the budget's day) and, site-wide, from the
  `run.finished` events (by `events_by_time`: the runs table has no index on time alone), on the
  day they finished. Only rows whose JSON may hold a model cost other than 0 are read: most runs
  ask no model, and a cost written by json.dumps says `"model_usd": 0.0` then, nothing else.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Float, FromClause, Integer, and_, cast, func, select

from . import experiments_schema as x
from . import schema as s

DAY = 86400


@dataclass(frozen=True)
class Kept:
    """Rows keeping what their model calls cost: when, how much (USD), whose template, and from
    which table or join."""

    at: Column[Any]
    usd: Column[Any]
    template_id: Column[Any]
    rows: FromClause


_ev, _unit, _ex = s.eval_results.c, x.experiment_units.c, x.experiments.c
KEPT: tuple[Kept, ...] = (
    Kept(_ev.created_at, _ev.spent_usd, _ev.template_id, s.eval_results),
    Kept(_unit.finished_at, _unit.spent_usd, _ex.template_id,
         x.experiment_units.join(x.experiments, _ex.id == _unit.experiment_id)),
)


def day_number(dialect: str, column: ColumnElement[float]) -> ColumnElement[Any]:
    """Days since the epoch (UTC) of an epoch-seconds column, floored alike in both dialects."""
    if dialect == "postgresql":
        return cast(func.floor(column / DAY), Integer)
    return cast(column / DAY, Integer)  # SQLite's cast truncates: the floor of a positive number


def _may_have_spent(column: Column[Any]) -> ColumnElement[bool]:
    return and_(column.like('%"model_usd"%'), column.not_like('%"model_usd": 0.0,%'),
                column.not_like('%"model_usd": 0.0}%'))


def _usd(text: str | None, *path: str) -> float:
    """The number at `path` of a JSON text, or 0 where there is none (never raises)."""
    try:
        value: Any = json.loads(text or "{}")
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        number = float(value or 0.0)
    except (ValueError, TypeError, OverflowError):
        return 0.0
    return number if 0.0 < number < float("inf") else 0.0


def _day(when: float) -> int:
    return int(when // DAY)


def _runs(c: Connection, template_id: str | None, since: float, until: float) -> Iterable[tuple[int, float]]:
    if template_id is not None:
        run = s.runs.c
        rows = c.execute(select(run.created_at, run.cost).where(
            run.template_id == template_id, run.created_at >= since, run.created_at < until,
            _may_have_spent(run.cost))).all()
        return ((_day(r[0]), _usd(r[1], "model_usd")) for r in rows)
    ev = s.events.c
    rows = c.execute(select(ev.time, ev.payload).where(
        ev.time >= since, ev.time < until, ev.action == "run.finished", _may_have_spent(ev.payload))).all()
    return ((_day(r[0]), _usd(r[1], "run", "cost", "model_usd")) for r in rows)


def per_day(c: Connection, dialect: str, template_id: str | None, since: float, until: float) -> dict[str, float]:
    """USD spent on models per UTC day (YYYY-MM-DD) in [since, until), of one template or of
    every template (None); days without spend are left out."""
    totals: dict[int, float] = {}
    for kept in KEPT:
        day = day_number(dialect, kept.at)
        query = (select(day, func.sum(cast(kept.usd, Float))).select_from(kept.rows)
                 .where(kept.at >= since, kept.at < until, kept.usd > 0).group_by(day))
        if template_id is not None:
            query = query.where(kept.template_id == template_id)
        for number, usd in c.execute(query).all():
            totals[int(number)] = totals.get(int(number), 0.0) + float(usd or 0.0)
    for number, usd in _runs(c, template_id, since, until):
        if usd:
            totals[number] = totals.get(number, 0.0) + usd
    epoch = dt.date(1970, 1, 1)
    return {(epoch + dt.timedelta(days=n)).isoformat(): round(v, 8) for n, v in sorted(totals.items()) if v}
