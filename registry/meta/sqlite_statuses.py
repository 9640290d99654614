"""Commit statuses in SQLite (mixed into SqliteMetaStore)."""
from __future__ import annotations

import json
import sqlite3
import time
from typing import TYPE_CHECKING

from .records import Status

if TYPE_CHECKING:
    from .sqlite import _Tx

STATUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS statuses (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE, sha TEXT NOT NULL,
  context TEXT NOT NULL, state TEXT NOT NULL, description TEXT NOT NULL, problems TEXT NOT NULL,
  target_url TEXT, enqueued INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
  PRIMARY KEY (template_id, sha, context));
CREATE INDEX IF NOT EXISTS statuses_waiting ON statuses(state, enqueued, updated_at);
"""


class StatusMixin:
    """Commit statuses, one row per (template, sha, context); also the durable record of
    which checks a push still owes, so a queue outage loses nothing."""

    if TYPE_CHECKING:
        def _conn(self) -> _Tx: ...

    def add_pending_statuses(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> list[str]:
        now, created = time.time(), []
        with self._conn() as c:
            for context in contexts:
                cur = c.execute("INSERT OR IGNORE INTO statuses VALUES (?,?,?,?,?,?,?,?,?,?)",
                                (template_id, sha, context, "pending", "queued", "[]", None, 0, now, now))
                if cur.rowcount:
                    created.append(context)
        return created

    def set_status(self, status: Status) -> None:
        now = time.time()
        with self._conn() as c:
            c.execute(
                "INSERT INTO statuses VALUES (?,?,?,?,?,?,?,1,?,?) ON CONFLICT(template_id, sha, context) DO UPDATE "
                "SET state=excluded.state, description=excluded.description, problems=excluded.problems, "
                "target_url=excluded.target_url, updated_at=excluded.updated_at",
                (status.template_id, status.sha, status.context, status.state, status.description,
                 json.dumps(status.problems), status.target_url, now, now))

    def mark_enqueued(self, template_id: str, sha: str, contexts: tuple[str, ...]) -> None:
        with self._conn() as c:
            for context in contexts:
                c.execute("UPDATE statuses SET enqueued=1 WHERE template_id=? AND sha=? AND context=?",
                          (template_id, sha, context))

    def get_statuses(self, template_id: str, sha: str) -> list[Status]:
        rows = self._conn().execute("SELECT * FROM statuses WHERE template_id=? AND sha=? ORDER BY context",
                                    (template_id, sha)).fetchall()
        return [_status(r) for r in rows]

    def waiting_statuses(self, older_than: float, limit: int = 500) -> list[Status]:
        """Pending checks never handed to the queue, or handed over before `older_than`."""
        rows = self._conn().execute(
            "SELECT * FROM statuses WHERE state='pending' AND (enqueued=0 OR updated_at < ?) "
            "ORDER BY updated_at LIMIT ?", (older_than, limit)).fetchall()
        return [_status(r) for r in rows]

    def has_statuses(self, template_id: str, sha: str) -> bool:
        return self._conn().execute("SELECT 1 FROM statuses WHERE template_id=? AND sha=? LIMIT 1",
                                    (template_id, sha)).fetchone() is not None


def _status(row: sqlite3.Row) -> Status:
    return Status(row["template_id"], row["sha"], row["context"], row["state"], row["description"],
                  json.loads(row["problems"]), row["target_url"], row["updated_at"])


