"""Commit statuses (the durable list of owed checks), stars, ratings and sandbox runs."""
from __future__ import annotations

import json
import secrets
import time
from typing import Any, Unpack

from sqlalchemy import Row, delete, func, or_, select, update

from ..errors import RunNotFound
from . import schema as s
from .engine import insert_ignore, upsert
from .records import Rating, Run, RunChanges, Status
from .sql_base import SqlRepository

_JSON = ("report", "metrics", "cost")


class ActivityMixin(SqlRepository):
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

    # -- stars and ratings --------------------------------------------------------------
    def set_star(self, template_id: str, user_id: int, starred: bool) -> None:
        with self._tx() as c:
            if starred:
                insert_ignore(c, s.stars, {"template_id": template_id, "user_id": user_id, "created_at": time.time()})
            else:
                c.execute(delete(s.stars).where(s.stars.c.template_id == template_id, s.stars.c.user_id == user_id))

    def rate(self, template_id: str, user_id: int, score: int, review: str | None) -> None:
        with self._tx() as c:
            upsert(c, s.ratings, {"template_id": template_id, "user_id": user_id, "score": score, "review": review,
                                  "created_at": time.time()}, ("template_id", "user_id"),
                   ("score", "review", "created_at"))

    def has_star(self, template_id: str, user_id: int) -> bool:
        col = s.stars.c
        with self._read() as c:
            return c.execute(select(col.user_id).where(col.template_id == template_id, col.user_id == user_id)).first() \
                is not None

    def recent_ratings(self, template_id: str, limit: int = 10) -> list[Rating]:
        """The newest ratings that carry a written review, with their authors."""
        r, u = s.ratings.c, s.users.c
        with self._read() as c:
            rows = c.execute(select(u.name, r.score, r.review, r.created_at).join_from(s.ratings, s.users, r.user_id == u.id)
                             .where(r.template_id == template_id, r.review.is_not(None), r.review != "")
                             .order_by(r.created_at.desc()).limit(limit)).all()
        return [Rating(row.name, row.score, row.review, row.created_at) for row in rows]

    def social(self, template_id: str) -> tuple[int, float, int]:
        """(stars, mean rating or 0, number of ratings)."""
        with self._read() as c:
            stars = c.execute(select(func.count()).select_from(s.stars)
                              .where(s.stars.c.template_id == template_id)).scalar_one()
            mean, count = c.execute(select(func.avg(s.ratings.c.score), func.count())
                                    .where(s.ratings.c.template_id == template_id)).one()
        return int(stars), round(float(mean or 0.0), 2), int(count)

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


