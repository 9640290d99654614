"""Evaluation results of pull requests per (commit, case, parameters, provider, model), what
models cost an owner this month, and what they cost per day (sql_spend.py), over SQLAlchemy Core
(the EvalRepository)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select

from . import experiments_schema as x
from . import schema as s
from .engine import insert_ignore
from .records import EvalResult
from .sql_base import SqlRepository
from .sql_spend import per_day

DIGESTS_PER_QUERY = 500


def _result(row: Row[Any]) -> EvalResult:
    return EvalResult(row.template_id, row.sha, row.file, row.name, row.params, row.provider, row.model,
                      row.digest, json.loads(row.result), row.spent_usd, row.created_at)


class SqlEvals(SqlRepository):
    def results(self, template_id: str, sha: str, provider: str, model: str) -> list[EvalResult]:
        col = s.eval_results.c
        with self._read() as c:
            rows = c.execute(select(s.eval_results).where(col.template_id == template_id, col.sha == sha,
                                                          col.provider == provider, col.model == model)
                             .order_by(col.file, col.name, col.params)).all()
        return [_result(r) for r in rows]

    def by_digest(self, template_id: str, digests: Sequence[str], provider: str, model: str) -> dict[str, EvalResult]:
        col = s.eval_results.c
        found: dict[str, EvalResult] = {}
        wanted = sorted(set(digests))
        with self._read() as c:
            for i in range(0, len(wanted), DIGESTS_PER_QUERY):
                rows = c.execute(select(s.eval_results).where(
                    col.template_id == template_id, col.provider == provider, col.model == model,
                    col.digest.in_(wanted[i:i + DIGESTS_PER_QUERY])).order_by(col.created_at)).all()
                for row in rows:
                    found.setdefault(row.digest, _result(row))
        return found

    def spent_per_day(self, template_id: str | None, since: float, until: float) -> dict[str, float]:
        with self._read() as c:
            return per_day(c, self._db.engine.dialect.name, template_id, since, until)

    def add(self, results: Sequence[EvalResult]) -> int:
        added = 0
        with self._tx() as c:
            for r in results:
                added += insert_ignore(c, s.eval_results, {
                    "template_id": r.template_id, "sha": r.sha, "file": r.file, "name": r.name, "params": r.params,
                    "provider": r.provider, "model": r.model, "digest": r.digest, "result": json.dumps(r.result),
                    "spent_usd": r.spent_usd, "created_at": r.created_at})
        return added

    def spent_since(self, owner: str, since: float) -> float:
        ev, run, t = s.eval_results.c, s.runs.c, s.templates.c
        with self._read() as c:
            evals = c.execute(select(func.coalesce(func.sum(ev.spent_usd), 0.0))
                              .select_from(s.eval_results.join(s.templates, t.id == ev.template_id))
                              .where(t.owner == owner, ev.created_at >= since)).scalar_one()
            costs = c.execute(select(run.cost).select_from(s.runs.join(s.templates, t.id == run.template_id))
                              .where(t.owner == owner, run.created_at >= since)).scalars().all()
            unit, ex = x.experiment_units.c, x.experiments.c  # experiments' units (issue 34, part B)
            experiments = c.execute(
                select(func.coalesce(func.sum(unit.spent_usd), 0.0))
                .select_from(x.experiment_units.join(x.experiments, ex.id == unit.experiment_id)
                             .join(s.templates, t.id == ex.template_id))
                .where(t.owner == owner, unit.finished_at >= since)).scalar_one()
        runs = 0.0
        for text in costs:
            try:
                runs += float(json.loads(text or "{}").get("model_usd") or 0.0)
            except (ValueError, TypeError, AttributeError):
                continue
        return round(float(evals) + runs + float(experiments), 8)
