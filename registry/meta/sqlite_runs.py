"""Sandbox run records in SQLite (mixed into SqliteMetaStore)."""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from ..errors import RunNotFound
from .records import Run

if TYPE_CHECKING:
    from .sqlite import _Tx

RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  sha TEXT NOT NULL, ref TEXT, trigger TEXT NOT NULL, requested_by TEXT, state TEXT NOT NULL,
  backend TEXT NOT NULL, task_arn TEXT, attempts INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL,
  logs TEXT NOT NULL, report TEXT, metrics TEXT NOT NULL, cost TEXT NOT NULL,
  created_at REAL NOT NULL, started_at REAL, finished_at REAL);
CREATE INDEX IF NOT EXISTS runs_by_template ON runs(template_id, created_at);
CREATE INDEX IF NOT EXISTS runs_by_sha ON runs(template_id, sha, trigger);
"""
_JSON = ("report", "metrics", "cost")


class RunsMixin:
    if TYPE_CHECKING:
        def _conn(self) -> _Tx: ...

    def add_run(self, template_id: str, sha: str, ref: str | None, trigger: str, requested_by: str | None,
                backend: str) -> Run:
        run = Run(secrets.token_hex(8), template_id, sha, ref, trigger, requested_by, "queued", backend,
                  summary="queued", created_at=time.time())
        with self._conn() as c:
            c.execute("INSERT INTO runs (id, template_id, sha, ref, trigger, requested_by, state, backend, summary,"
                      " logs, metrics, cost, created_at) VALUES (?,?,?,?,?,?,?,?,?,'','{}','{}',?)",
                      (run.id, template_id, sha, ref, trigger, requested_by, run.state, backend, run.summary,
                       run.created_at))
        return run

    def get_run(self, run_id: str) -> Run:
        row = self._conn().execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(f"run {run_id} not found")
        return _run(row)

    def find_run(self, template_id: str, sha: str, trigger: str) -> Run | None:
        """The latest run of that commit by that trigger."""
        row = self._conn().execute("SELECT * FROM runs WHERE template_id=? AND sha=? AND trigger=? "
                                   "ORDER BY created_at DESC LIMIT 1", (template_id, sha, trigger)).fetchone()
        return _run(row) if row else None

    def list_runs(self, template_id: str, offset: int, limit: int) -> tuple[list[Run], int]:
        c = self._conn()
        rows = c.execute("SELECT * FROM runs WHERE template_id=? ORDER BY created_at DESC LIMIT ? OFFSET ?",
                         (template_id, limit, offset)).fetchall()
        total = c.execute("SELECT COUNT(*) FROM runs WHERE template_id=?", (template_id,)).fetchone()[0]
        return [_run(r) for r in rows], total

    def queued_runs(self, older_than: float, limit: int = 200) -> list[Run]:
        """Manual runs nobody has started since `older_than` (their queue hand-over was lost)."""
        rows = self._conn().execute("SELECT * FROM runs WHERE trigger='manual' AND state='queued' AND created_at < ? "
                                    "ORDER BY created_at LIMIT ?", (older_than, limit)).fetchall()
        return [_run(r) for r in rows]

    def update_run(self, run_id: str, **changes: Any) -> Run:
        if changes:
            names = sorted(changes)
            values = [json.dumps(changes[n]) if n in _JSON else changes[n] for n in names]
            with self._conn() as c:
                c.execute(f"UPDATE runs SET {', '.join(f'{n}=?' for n in names)} WHERE id=?", (*values, run_id))
        return self.get_run(run_id)


def _run(row: sqlite3.Row) -> Run:
    data = dict(row)
    for name in _JSON:
        data[name] = json.loads(data[name]) if data[name] else None
    data["metrics"] = data["metrics"] or {}
    data["cost"] = data["cost"] or {}
    return Run(**data)
