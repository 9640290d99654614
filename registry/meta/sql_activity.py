"""Stars and ratings."""
from __future__ import annotations

import time

from sqlalchemy import delete, func, select

from . import schema as s
from .engine import insert_ignore, upsert
from .records import Rating
from .sql_base import SqlRepository


class ActivityMixin(SqlRepository):
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
