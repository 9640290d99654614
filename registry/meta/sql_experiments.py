"""A/B experiments and their units over SQLAlchemy Core (the ExperimentRepository).

Every move of a unit is a compare-and-swap on its state (pending -> queued -> running -> done),
so two workers handed the same unit (a retry, a reconciler's resubmit) never both run it, and a
cancel between two moves wins over the later one."""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update

from ..errors import ExperimentNotFound
from . import experiments_schema as x
from .records_experiments import EXPERIMENT_FINAL, UNIT_FINAL, Experiment, Unit
from .sql_base import SqlRepository

E, U = x.experiments, x.experiment_units


class SqlExperiments(SqlRepository):
    def add(self, template_id: str, requested_by: str | None, variants: Sequence[tuple[str, str]],
            cases: Sequence[str], repetitions: int, provider: str | None, part_size: int = 0) -> Experiment:
        now = time.time()
        parts = max(1, -(-len(cases) // part_size)) if part_size > 0 else 1
        experiment = Experiment(secrets.token_hex(8), template_id, requested_by, tuple((r, s) for r, s in variants),
                                tuple(cases), repetitions, provider, "queued", len(variants) * repetitions * parts,
                                0, "queued", now, part_size=part_size)
        with self._tx() as c:
            c.execute(E.insert().values(
                id=experiment.id, template_id=template_id, requested_by=requested_by,
                variants=json.dumps([list(v) for v in variants]),
                cases=json.dumps(list(cases)), part_size=part_size, repetitions=repetitions,
                provider=provider, state="queued", units=experiment.units, summary="queued", created_at=now))
            # Numbered so that the variants take turns: early results cover every variant.
            order = [(rep, part, v) for rep in range(repetitions) for part in range(parts) for v in range(len(variants))]
            c.execute(U.insert(), [{"experiment_id": experiment.id, "seq": seq, "variant": v, "repetition": rep,
                                    "part": part, "state": "pending", "trials": "[]"}
                                   for seq, (rep, part, v) in enumerate(order)])
        return experiment

    def get(self, experiment_id: str) -> Experiment:
        with self._read() as c:
            row = c.execute(select(E).where(E.c.id == experiment_id)).first()
            done = self._done(c, [experiment_id]) if row else {}
        if row is None:
            raise ExperimentNotFound(f"experiment {experiment_id} not found")
        return _experiment(row, done.get(experiment_id, 0))

    def page(self, template_id: str, offset: int, limit: int) -> tuple[list[Experiment], int]:
        rows, total = self._page(E, [E.c.template_id == template_id], [E.c.created_at.desc(), E.c.id], offset, limit)
        with self._read() as c:
            done = self._done(c, [r.id for r in rows])
        return [_experiment(r, done.get(r.id, 0)) for r in rows], total

    @staticmethod
    def _done(c: Any, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = c.execute(select(U.c.experiment_id, func.count()).where(U.c.experiment_id.in_(ids),
                                                                        U.c.state.in_(UNIT_FINAL))
                         .group_by(U.c.experiment_id)).all()
        return {r[0]: int(r[1]) for r in rows}

    def update(self, experiment_id: str, *, state: str | None = None, summary: str | None = None,
               started_at: float | None = None, finished_at: float | None = None,
               expect: Sequence[str] | None = None) -> bool:
        """Change what is given; with `expect`, only while the state is one of those (whether it changed)."""
        values = {k: v for k, v in (("state", state), ("summary", summary), ("started_at", started_at),
                                    ("finished_at", finished_at)) if v is not None}
        if not values:
            return True
        where = [E.c.id == experiment_id] + ([E.c.state.in_(list(expect))] if expect is not None else [])
        with self._tx() as c:
            return bool(c.execute(update(E).where(*where).values(**values)).rowcount == 1)

    def cancel(self, experiment_id: str) -> bool:
        """Cancel it and every unit not yet running; False when it had already ended."""
        now = time.time()
        with self._tx() as c:
            if c.execute(update(E).where(E.c.id == experiment_id, E.c.state.notin_(EXPERIMENT_FINAL))
                         .values(state="cancelled", summary="cancelled", finished_at=now)).rowcount != 1:
                return False
            c.execute(update(U).where(U.c.experiment_id == experiment_id, U.c.state.in_(("pending", "queued")))
                      .values(state="cancelled", finished_at=now))
        return True

    def hand_out(self, experiment_id: str, limit: int) -> list[int]:
        """Move up to `limit` pending units to queued, lowest first, keeping at most `limit`
        queued or running: the units the caller must hand to the queue."""
        now, taken = time.time(), []
        with self._tx() as c:
            busy = c.execute(select(func.count()).where(U.c.experiment_id == experiment_id,
                                                         U.c.state.in_(("queued", "running")))).scalar_one()
            room = max(0, limit - int(busy))
            seqs = c.execute(select(U.c.seq).where(U.c.experiment_id == experiment_id, U.c.state == "pending")
                             .order_by(U.c.seq).limit(room)).scalars().all() if room else []
            for seq in seqs:
                if c.execute(update(U).where(U.c.experiment_id == experiment_id, U.c.seq == seq,
                                             U.c.state == "pending")
                             .values(state="queued", queued_at=now)).rowcount == 1:
                    taken.append(int(seq))
        return taken

    def start_unit(self, experiment_id: str, seq: int, max_attempts: int, lost_before: float) -> Unit | None:
        """Take a queued unit to run, or a running one taken before `lost_before` (its worker
        died): None when it is final, cancelled, running elsewhere, or out of attempts."""
        taken = or_(U.c.state == "queued", and_(U.c.state == "running", U.c.queued_at < lost_before))
        with self._tx() as c:
            moved = c.execute(update(U).where(U.c.experiment_id == experiment_id, U.c.seq == seq,
                                               taken, U.c.attempts < max_attempts)
                              .values(state="running", attempts=U.c.attempts + 1, queued_at=time.time())).rowcount
            row = c.execute(select(U).where(U.c.experiment_id == experiment_id, U.c.seq == seq)).first() if moved else None
        return _unit(row) if row is not None else None

    def finish_unit(self, experiment_id: str, seq: int, state: str, trials: list[dict[str, Any]],
                    error: str | None = None, spent_usd: float = 0.0) -> bool:
        """Record a running unit's end; False when it was no longer running (cancelled meanwhile)."""
        with self._tx() as c:
            return bool(c.execute(update(U).where(U.c.experiment_id == experiment_id, U.c.seq == seq,
                                                  U.c.state == "running")
                                  .values(state=state, trials=json.dumps(trials), error=error,
                                          spent_usd=spent_usd, finished_at=time.time())).rowcount == 1)

    def units(self, experiment_id: str) -> list[Unit]:
        with self._read() as c:
            rows = c.execute(select(U).where(U.c.experiment_id == experiment_id).order_by(U.c.seq)).all()
        return [_unit(r) for r in rows]

    def stalled_units(self, older_than: float, limit: int = 200) -> list[tuple[str, int]]:
        """Units queued or running since before `older_than`: their hand-over or worker was lost."""
        with self._read() as c:
            rows = c.execute(select(U.c.experiment_id, U.c.seq).where(U.c.state.in_(("queued", "running")),
                                                                      U.c.queued_at < older_than)
                             .order_by(U.c.queued_at).limit(limit)).all()
        return [(r[0], int(r[1])) for r in rows]


def _experiment(row: Row[Any], done: int) -> Experiment:
    return Experiment(row.id, row.template_id, row.requested_by, tuple((v[0], v[1]) for v in json.loads(row.variants)),
                      tuple(json.loads(row.cases)), row.repetitions, row.provider, row.state, row.units, done,
                      row.summary, row.created_at, row.started_at, row.finished_at, row.part_size)


def _unit(row: Row[Any]) -> Unit:
    return Unit(row.experiment_id, row.seq, row.variant, row.repetition, row.state, row.attempts, row.part,
                json.loads(row.trials), row.error, row.queued_at, row.finished_at)
