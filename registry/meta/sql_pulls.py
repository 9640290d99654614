"""Pull requests, reviews and comments, over SQLAlchemy Core (the PullRepository). A pull
request's number is the next one of its base template, taken in the same transaction as its
insert while that template's row is locked (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
serialises writers anyway)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import PullNotFound
from . import schema as s
from .records import Comment, Pull, Review
from .sql_base import SqlRepository

NUMBER_ATTEMPTS = 20


class SqlPulls(SqlRepository):
    def add(self, template_id: str, title: str, body: str, author: str, head_template_id: str,
            head_branch: str, base_branch: str, head_sha: str) -> Pull:
        now = time.time()
        for _ in range(NUMBER_ATTEMPTS):
            try:
                with self._tx() as c:
                    c.execute(select(s.templates.c.id).where(s.templates.c.id == template_id).with_for_update())
                    number = int(c.execute(select(func.coalesce(func.max(s.pulls.c.number), 0) + 1)
                                           .where(s.pulls.c.template_id == template_id)).scalar_one())
                    c.execute(s.pulls.insert().values(
                        template_id=template_id, number=number, title=title, body=body, author=author,
                        head_template_id=head_template_id, head_branch=head_branch, base_branch=base_branch,
                        state="open", head_sha=head_sha, merged_sha=None, created_at=now, updated_at=now))
                return self.get(template_id, number)
            except IntegrityError:  # the base template vanished meanwhile, or a race the lock missed
                time.sleep(0.01)
                continue
        raise RuntimeError("could not number the pull request: too much contention")

    def get(self, template_id: str, number: int) -> Pull:
        with self._read() as c:
            row = c.execute(select(s.pulls).where(s.pulls.c.template_id == template_id,
                                                  s.pulls.c.number == number)).first()
        if row is None:
            raise PullNotFound(f"no pull request #{number}")
        return _pull(row)

    def page(self, template_id: str, state: str, offset: int, limit: int) -> tuple[list[Pull], int]:
        where = [s.pulls.c.template_id == template_id] + ([s.pulls.c.state == state] if state != "all" else [])
        rows, total = self._page(s.pulls, where, [s.pulls.c.number.desc()], offset, limit)
        return [_pull(r) for r in rows], total

    def update(self, template_id: str, number: int, *, title: str | None = None, body: str | None = None,
               state: str | None = None, head_sha: str | None = None, merged_sha: str | None = None) -> Pull:
        fields = {"title": title, "body": body, "state": state, "head_sha": head_sha, "merged_sha": merged_sha}
        sets = {k: v for k, v in fields.items() if v is not None}
        if sets:
            with self._tx() as c:
                c.execute(update(s.pulls).where(s.pulls.c.template_id == template_id, s.pulls.c.number == number)
                          .values(**sets, updated_at=time.time()))
        return self.get(template_id, number)

    def open_from(self, head_template_id: str, head_branch: str) -> list[Pull]:
        col = s.pulls.c
        with self._read() as c:
            rows = c.execute(select(s.pulls).where(col.head_template_id == head_template_id,
                                                   col.head_branch == head_branch, col.state == "open")).all()
        return [_pull(r) for r in rows]

    def add_review(self, template_id: str, number: int, author: str, event: str, body: str, sha: str,
                   comments: list[dict[str, Any]]) -> int:
        now = time.time()
        with self._tx() as c:
            result = c.execute(s.reviews.insert().values(template_id=template_id, number=number, author=author,
                                                         event=event, body=body, sha=sha, created_at=now))
            assert result.inserted_primary_key is not None
            review_id = int(result.inserted_primary_key[0])
            for cm in comments:
                c.execute(s.comments.insert().values(
                    template_id=template_id, number=number, author=author, body=cm["body"], path=cm.get("path"),
                    line=cm.get("line"), side=cm.get("side"), review_id=review_id, sha=sha, created_at=now))
        return review_id

    def reviews(self, template_id: str, number: int) -> list[Review]:
        col = s.reviews.c
        with self._read() as c:
            rows = c.execute(select(s.reviews).where(col.template_id == template_id, col.number == number)
                             .order_by(col.id)).all()
        return [cast(Review, dict(r._mapping)) for r in rows]

    def reviews_of(self, template_id: str, numbers: Sequence[int]) -> dict[int, list[Review]]:
        """The reviews of several pull requests of a template in one statement (GraphQL's loaders)."""
        col = s.reviews.c
        found: dict[int, list[Review]] = {n: [] for n in numbers}
        if not numbers:
            return found
        with self._read() as c:
            rows = c.execute(select(s.reviews).where(col.template_id == template_id, col.number.in_(list(numbers)))
                             .order_by(col.id)).all()
        for r in rows:
            found[r.number].append(cast(Review, dict(r._mapping)))
        return found

    def add_comment(self, template_id: str, number: int, author: str, body: str, path: str | None,
                    line: int | None, side: str | None, sha: str) -> Comment:
        with self._tx() as c:
            result = c.execute(s.comments.insert().values(
                template_id=template_id, number=number, author=author, body=body, path=path, line=line, side=side,
                review_id=None, sha=sha, created_at=time.time()))
            assert result.inserted_primary_key is not None
            row = c.execute(select(s.comments).where(s.comments.c.id == result.inserted_primary_key[0])).one()
        return cast(Comment, dict(row._mapping))

    def comments(self, template_id: str, number: int) -> list[Comment]:
        col = s.comments.c
        with self._read() as c:
            rows = c.execute(select(s.comments).where(col.template_id == template_id, col.number == number)
                             .order_by(col.id)).all()
        return [cast(Comment, dict(r._mapping)) for r in rows]

    def comments_of(self, template_id: str, numbers: Sequence[int]) -> dict[int, list[Comment]]:
        """The comments of several pull requests of a template in one statement."""
        col = s.comments.c
        found: dict[int, list[Comment]] = {n: [] for n in numbers}
        if not numbers:
            return found
        with self._read() as c:
            rows = c.execute(select(s.comments).where(col.template_id == template_id, col.number.in_(list(numbers)))
                             .order_by(col.id)).all()
        for r in rows:
            found[r.number].append(cast(Comment, dict(r._mapping)))
        return found


def _pull(row: Row[Any]) -> Pull:
    return Pull(**row._mapping)
