"""What people do with a template, over SQLAlchemy Core (the ActivityRepository): stars, ratings
and reviews, and usage counted per template and UTC day (added to in one statement, so no update
is lost), from which trending is scored. `add_usage` joins the caller's transaction inside `atomic()`, so a star
and its count land together."""
from __future__ import annotations

import time

from sqlalchemy import ColumnElement, case, delete, func, literal, select

from . import schema as s
from .engine import insert_ignore, upsert, upsert_add
from .records import Rating
from .records_events import USAGE_KINDS, UsageDay
from .sql_base import SqlRepository


class SqlActivity(SqlRepository):
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

    # -- usage --------------------------------------------------------------------------
    def add_usage(self, template_id: str, day: str, counts: dict[str, int]) -> None:
        with self._tx() as c:
            upsert_add(c, s.usage, {"template_id": template_id, "day": day},
                       {k: v for k, v in counts.items() if k in USAGE_KINDS and v})

    def usage(self, template_id: str, first: str, last: str) -> list[UsageDay]:
        col = s.usage.c
        with self._read() as c:
            rows = c.execute(select(s.usage).where(col.template_id == template_id, col.day >= first,
                                                   col.day <= last).order_by(col.day)).all()
        return [UsageDay(r.day, {k: int(getattr(r, k)) for k in USAGE_KINDS}) for r in rows]

    def usage_scores(self, first: str, weights: dict[str, float], double_from: str | None = None) -> dict[str, float]:
        """Per template, the weighted sum of its usage since `first` (trending); days from
        `double_from` on count twice."""
        col = s.usage.c
        score: ColumnElement[float] = literal(0.0)
        for kind, weight in weights.items():
            score = score + col[kind] * weight
        if double_from is not None:
            score = score * case((col.day >= double_from, 2.0), else_=1.0)
        with self._read() as c:
            rows = c.execute(select(col.template_id, func.sum(score)).where(col.day >= first)
                             .group_by(col.template_id)).all()
        return {r[0]: float(r[1] or 0) for r in rows}
