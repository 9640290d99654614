"""Stars and ratings in SQLite (mixed into SqliteMetaStore)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sqlite import _Tx

SOCIAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS stars (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at REAL NOT NULL,
  PRIMARY KEY (template_id, user_id));
CREATE TABLE IF NOT EXISTS ratings (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, score INTEGER NOT NULL,
  review TEXT, created_at REAL NOT NULL, PRIMARY KEY (template_id, user_id));
"""


class SocialMixin:
    if TYPE_CHECKING:
        def _conn(self) -> _Tx: ...

    def set_star(self, template_id: str, user_id: int, starred: bool) -> None:
        with self._conn() as c:
            if starred:
                c.execute("INSERT OR IGNORE INTO stars VALUES (?,?,?)", (template_id, user_id, time.time()))
            else:
                c.execute("DELETE FROM stars WHERE template_id=? AND user_id=?", (template_id, user_id))

    def rate(self, template_id: str, user_id: int, score: int, review: str | None) -> None:
        with self._conn() as c:
            c.execute("INSERT INTO ratings VALUES (?,?,?,?,?) ON CONFLICT(template_id, user_id) DO UPDATE SET "
                      "score=excluded.score, review=excluded.review, created_at=excluded.created_at",
                      (template_id, user_id, score, review, time.time()))

    def social(self, template_id: str) -> tuple[int, float, int]:
        """(stars, mean rating or 0, number of ratings)."""
        c = self._conn()
        stars = c.execute("SELECT COUNT(*) FROM stars WHERE template_id=?", (template_id,)).fetchone()[0]
        mean, count = c.execute("SELECT AVG(score), COUNT(*) FROM ratings WHERE template_id=?",
                                (template_id,)).fetchone()
        return stars, round(mean or 0.0, 2), count

    def collaborator_names(self, template_id: str) -> list[str]:
        rows = self._conn().execute("SELECT u.name FROM collaborators c JOIN users u ON u.id=c.user_id "
                                    "WHERE c.template_id=? ORDER BY u.name", (template_id,)).fetchall()
        return [r[0] for r in rows]
