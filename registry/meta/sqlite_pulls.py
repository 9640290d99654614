"""Pull requests in SQLite (mixed into SqliteMetaStore)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from ..errors import PullNotFound
from .records import Comment, Pull, Review

if TYPE_CHECKING:
    from .sqlite import _Tx

PULLS_SCHEMA = """
CREATE TABLE IF NOT EXISTS pulls (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE, number INTEGER NOT NULL,
  title TEXT NOT NULL, body TEXT NOT NULL, author TEXT NOT NULL,
  head_template_id TEXT NOT NULL, head_branch TEXT NOT NULL, base_branch TEXT NOT NULL,
  state TEXT NOT NULL, head_sha TEXT NOT NULL, merged_sha TEXT,
  created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (template_id, number));
CREATE INDEX IF NOT EXISTS pulls_by_head ON pulls(head_template_id, head_branch, state);
CREATE TABLE IF NOT EXISTS reviews (
  id INTEGER PRIMARY KEY, template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  number INTEGER NOT NULL, author TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL,
  sha TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS comments (
  id INTEGER PRIMARY KEY, template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  number INTEGER NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, path TEXT, line INTEGER,
  side TEXT, review_id INTEGER, sha TEXT NOT NULL, created_at REAL NOT NULL);
"""


class PullsMixin:
    if TYPE_CHECKING:
        def _conn(self) -> _Tx: ...

    def add_pull(self, template_id: str, title: str, body: str, author: str, head_template_id: str,
                 head_branch: str, base_branch: str, head_sha: str) -> Pull:
        now = time.time()
        with self._conn() as c:
            number = c.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM pulls WHERE template_id=?",
                               (template_id,)).fetchone()[0]
            c.execute("INSERT INTO pulls VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (template_id, number, title, body, author, head_template_id, head_branch, base_branch,
                       "open", head_sha, None, now, now))
        return self.get_pull(template_id, number)

    def get_pull(self, template_id: str, number: int) -> Pull:
        row = self._conn().execute("SELECT * FROM pulls WHERE template_id=? AND number=?",
                                   (template_id, number)).fetchone()
        if row is None:
            raise PullNotFound(f"no pull request #{number}")
        return Pull(**dict(row))

    def list_pulls(self, template_id: str, state: str, offset: int, limit: int) -> tuple[list[Pull], int]:
        where, args = ("template_id=?", [template_id])
        if state != "all":
            where, args = where + " AND state=?", args + [state]
        c = self._conn()
        total = c.execute(f"SELECT COUNT(*) FROM pulls WHERE {where}", args).fetchone()[0]
        rows = c.execute(f"SELECT * FROM pulls WHERE {where} ORDER BY number DESC LIMIT ? OFFSET ?",
                         (*args, limit, offset)).fetchall()
        return [Pull(**dict(r)) for r in rows], total

    def update_pull(self, template_id: str, number: int, *, title: str | None = None, body: str | None = None,
                    state: str | None = None, head_sha: str | None = None, merged_sha: str | None = None) -> Pull:
        fields = {"title": title, "body": body, "state": state, "head_sha": head_sha, "merged_sha": merged_sha}
        sets = {k: v for k, v in fields.items() if v is not None}
        if sets:
            assignments = ", ".join(f"{k}=?" for k in sets)
            with self._conn() as c:
                c.execute(f"UPDATE pulls SET {assignments}, updated_at=? WHERE template_id=? AND number=?",
                          (*sets.values(), time.time(), template_id, number))
        return self.get_pull(template_id, number)

    def open_pulls_from(self, head_template_id: str, head_branch: str) -> list[Pull]:
        rows = self._conn().execute("SELECT * FROM pulls WHERE head_template_id=? AND head_branch=? AND state='open'",
                                    (head_template_id, head_branch)).fetchall()
        return [Pull(**dict(r)) for r in rows]



class ReviewsMixin:
    if TYPE_CHECKING:
        def _conn(self) -> _Tx: ...

    def add_review(self, template_id: str, number: int, author: str, event: str, body: str, sha: str,
                   comments: list[dict[str, Any]]) -> int:
        now = time.time()
        with self._conn() as c:
            review_id = c.execute("INSERT INTO reviews(template_id, number, author, event, body, sha, created_at) "
                                  "VALUES (?,?,?,?,?,?,?)", (template_id, number, author, event, body, sha, now)).lastrowid
            assert review_id is not None  # set by the INSERT
            for cm in comments:
                c.execute("INSERT INTO comments(template_id, number, author, body, path, line, side, review_id, sha, "
                          "created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", (template_id, number, author, cm["body"],
                                                                      cm.get("path"), cm.get("line"), cm.get("side"),
                                                                      review_id, sha, now))
        return review_id

    def reviews(self, template_id: str, number: int) -> list[Review]:
        rows = self._conn().execute("SELECT * FROM reviews WHERE template_id=? AND number=? ORDER BY id",
                                    (template_id, number)).fetchall()
        return [cast(Review, dict(r)) for r in rows]

    def add_comment(self, template_id: str, number: int, author: str, body: str, path: str | None,
                    line: int | None, side: str | None, sha: str) -> Comment:
        with self._conn() as c:
            cid = c.execute("INSERT INTO comments(template_id, number, author, body, path, line, side, review_id, sha, "
                            "created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            (template_id, number, author, body, path, line, side, None, sha, time.time())).lastrowid
        return cast(Comment, dict(self._conn().execute("SELECT * FROM comments WHERE id=?", (cid,)).fetchone()))

    def comments(self, template_id: str, number: int) -> list[Comment]:
        rows = self._conn().execute("SELECT * FROM comments WHERE template_id=? AND number=? ORDER BY id",
                                    (template_id, number)).fetchall()
        return [cast(Comment, dict(r)) for r in rows]
