"""Commit statuses (the durable list of owed checks the pipeline works from), sandbox runs, and how
long checks took, over SQLAlchemy Core (the CheckRepository)."""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any, Unpack

from sqlalchemy import Row, case, func, or_, select, update

from ..errors import RunNotFound
from . import schema as s
from .engine import insert_ignore, upsert
from .records import Run, RunChanges, Status
from .sql_base import SqlRepository

_JSON = ("report", "metrics", "cost")


class SqlChecks(SqlRepository):
    # -- statuses ---------------------------------------------------------------------
    def add_pending_statuses(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> list[str]:
        now, created = time.time(), []
        with self._tx() as c:
            for context in contexts:
                if insert_ignore(c, s.statuses, {
                        "template_id": template_id, "sha": sha, "context": context, "state": "pending",
                        "description": "queued", "problems": "[]", "target_url": None, "enqueued": 0,
                        "created_at": now, "updated_at": now}):
                    created.append(context)
        return created

    def set_status(self, status: Status) -> None:
        now = time.time()
        with self._tx() as c:
            upsert(c, s.statuses, {
                "template_id": status.template_id, "sha": status.sha, "context": status.context,
                "state": status.state, "description": status.description, "problems": json.dumps(status.problems),
                "target_url": status.target_url, "enqueued": 1, "created_at": now, "updated_at": now},
                ("template_id", "sha", "context"), ("state", "description", "problems", "target_url", "updated_at"))

    def mark_enqueued(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> None:
        col = s.statuses.c
        with self._tx() as c:
            c.execute(update(s.statuses).where(col.template_id == template_id, col.sha == sha,
                                               col.context.in_(contexts)).values(enqueued=1))

    def get_statuses(self, template_id: str, sha: str) -> list[Status]:
        col = s.statuses.c
        with self._read() as c:
            rows = c.execute(select(s.statuses).where(col.template_id == template_id, col.sha == sha)
                             .order_by(col.context)).all()
        return [_status(r) for r in rows]

    def waiting_statuses(self, older_than: float, limit: int = 500) -> list[Status]:
        """Pending checks never handed to the queue, or handed over before `older_than`."""
        col = s.statuses.c
        with self._read() as c:
            rows = c.execute(select(s.statuses).where(col.state == "pending",
                                                      or_(col.enqueued == 0, col.updated_at < older_than))
                             .order_by(col.updated_at).limit(limit)).all()
        return [_status(r) for r in rows]

    def has_statuses(self, template_id: str, sha: str) -> bool:
        col = s.statuses.c
        with self._read() as c:
            return c.execute(select(col.sha).where(col.template_id == template_id, col.sha == sha).limit(1)).first() \
                is not None

    def latencies(self, bounds: Sequence[float]) -> dict[str, tuple[list[int], float, int]]:
        """Per check context, final statuses by seconds from push (pending recorded) to final:
        (cumulative counts per bound, sum of seconds, count). An operators' metric, read from the
        statuses themselves, so every node and worker's work is in it, whichever process scrapes."""
        col = s.statuses.c
        took = col.updated_at - col.created_at
        buckets = [func.sum(case((took <= b, 1), else_=0)) for b in bounds]
        with self._read() as c:
            rows = c.execute(select(col.context, func.count(), func.coalesce(func.sum(took), 0.0), *buckets)
                             .where(col.state.in_(("success", "failure", "error"))).group_by(col.context)).all()
        return {r[0]: ([int(n or 0) for n in r[3:]], float(r[2]), int(r[1])) for r in rows}

    # -- sandbox runs ---------------------------------------------------------------------
    def add_run(self, template_id: str, sha: str, ref: str | None, trigger: str, requested_by: str | None,
                backend: str) -> Run:
        run = Run(secrets.token_hex(8), template_id, sha, ref, trigger, requested_by, "queued", backend,
                  summary="queued", created_at=time.time())
        with self._tx() as c:
            c.execute(s.runs.insert().values(
                id=run.id, template_id=template_id, sha=sha, ref=ref, trigger=trigger, requested_by=requested_by,
                state=run.state, backend=backend, summary=run.summary, logs="", metrics="{}", cost="{}",
                created_at=run.created_at))
        return run

    def get_run(self, run_id: str) -> Run:
        with self._read() as c:
            row = c.execute(select(s.runs).where(s.runs.c.id == run_id)).first()
        if row is None:
            raise RunNotFound(f"run {run_id} not found")
        return _run(row)

    def find_run(self, template_id: str, sha: str, trigger: str) -> Run | None:
        """The latest run of that commit by that trigger."""
        col = s.runs.c
        with self._read() as c:
            row = c.execute(select(s.runs).where(col.template_id == template_id, col.sha == sha,
                                                 col.trigger == trigger)
                            .order_by(col.created_at.desc()).limit(1)).first()
        return _run(row) if row else None

    def list_runs(self, template_id: str, offset: int, limit: int) -> tuple[list[Run], int]:
        col = s.runs.c
        rows, total = self._page(s.runs, [col.template_id == template_id], [col.created_at.desc()], offset, limit)
        return [_run(r) for r in rows], total

    def queued_runs(self, older_than: float, limit: int = 200) -> list[Run]:
        """Manual runs nobody has started since `older_than` (their queue hand-over was lost)."""
        col = s.runs.c
        with self._read() as c:
            rows = c.execute(select(s.runs).where(col.trigger == "manual", col.state == "queued",
                                                  col.created_at < older_than)
                             .order_by(col.created_at).limit(limit)).all()
        return [_run(r) for r in rows]

    def update_run(self, run_id: str, **changes: Unpack[RunChanges]) -> Run:
        if changes:
            values: dict[str, Any] = {n: json.dumps(v) if n in _JSON else v for n, v in changes.items()}
            with self._tx() as c:
                c.execute(update(s.runs).where(s.runs.c.id == run_id).values(**values))
        return self.get_run(run_id)


def _status(row: Row[Any]) -> Status:
    return Status(row.template_id, row.sha, row.context, row.state, row.description, json.loads(row.problems),
                  row.target_url, row.updated_at)


def _run(row: Row[Any]) -> Run:
    data = dict(row._mapping)
    for name in _JSON:
        data[name] = json.loads(data[name]) if data[name] else None
    data["metrics"] = data["metrics"] or {}
    data["cost"] = data["cost"] or {}
    return Run(**data)


