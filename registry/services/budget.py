"""The monthly model budget per owner (REGISTRY_RUN_BUDGET_USD): what the models cost an owner's
templates this calendar month (UTC) — sandbox runs and evaluations, whose results record it — and
the refusal, with its reason, of anything that would ask a model once it is spent."""
from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

from ..container import Container
from ..errors import OverBudget


def month_start(now: float | None = None) -> float:
    day = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return datetime(day.year, day.month, 1, tzinfo=UTC).timestamp()


def next_month(now: float | None = None) -> str:
    day = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    last = calendar.monthrange(day.year, day.month)[1]
    return datetime.fromtimestamp(month_start(now) + last * 86400, UTC).strftime("%Y-%m-%d")


def spent(c: Container, owner: str, now: float | None = None) -> float:
    return c.meta.evals.spent_since(owner, month_start(now))


def refusal(c: Container, owner: str, now: float | None = None) -> str | None:
    """Why `owner` may not ask a model now, or None (no budget set, or some of it left)."""
    limit = c.settings.run_budget_usd
    if limit is None:
        return None
    used = spent(c, owner, now)
    if used < limit:
        return None
    return (f"refused: {owner}'s model spend this month is ${used:.4f}, at or over the monthly budget of "
            f"${limit:.4f} (REGISTRY_RUN_BUDGET_USD); runs resume on {next_month(now)}")


def ensure(c: Container, owner: str) -> None:
    """Raise OverBudget (HTTP 402) when `owner`'s budget is spent."""
    reason = refusal(c, owner)
    if reason is not None:
        raise OverBudget(reason, owner=owner, budget_usd=c.settings.run_budget_usd)
