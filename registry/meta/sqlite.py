"""MetaStore on SQLite: the embedded default. One connection per thread, WAL journal."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import AlreadyExists, TemplateNotFound, UserNotFound
from .records import Protection, Template, Token, User
from .sqlite_pulls import PULLS_SCHEMA, PullsMixin, ReviewsMixin
from .sqlite_runs import RUNS_SCHEMA, RunsMixin
from .sqlite_social import SOCIAL_SCHEMA, SocialMixin
from .sqlite_statuses import STATUS_SCHEMA, StatusMixin

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT, is_admin INTEGER NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, created_at REAL NOT NULL,
  expires_at REAL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS templates (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, visibility TEXT NOT NULL,
  description TEXT NOT NULL, parent_id TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
  UNIQUE(owner, name));
CREATE TABLE IF NOT EXISTS collaborators (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
  PRIMARY KEY (template_id, user_id));
CREATE TABLE IF NOT EXISTS protections (
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE, branch TEXT NOT NULL,
  rule TEXT NOT NULL, PRIMARY KEY (template_id, branch));
""" + STATUS_SCHEMA + SOCIAL_SCHEMA + PULLS_SCHEMA + RUNS_SCHEMA


class SqliteMetaStore(StatusMixin, SocialMixin, PullsMixin, ReviewsMixin, RunsMixin):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> _Tx:
        tx: _Tx | None = getattr(self._local, "conn", None)
        if tx is None or self._local.pid != os.getpid():  # never share a connection across fork
            self._local.pid = os.getpid()
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            tx = _Tx(conn)
            self._local.conn = tx
        return tx

    # -- users and tokens -----------------------------------------------------------
    def add_user(self, name: str, email: str | None, is_admin: bool) -> User:
        try:
            with self._conn() as c:
                cur = c.execute("INSERT INTO users(name, email, is_admin, created_at) VALUES (?,?,?,?)",
                                (name, email, int(is_admin), time.time()))
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"user {name!r} already exists") from None
        assert cur.lastrowid is not None  # set by the INSERT
        return User(cur.lastrowid, name, email, is_admin)

    def get_user(self, name: str) -> User:
        row = self._conn().execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
        if row is None:
            raise UserNotFound(f"no user {name!r}")
        return _user(row)

    def get_user_by_id(self, user_id: int) -> User:
        row = self._conn().execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
        if row is None:
            raise UserNotFound(f"no user #{user_id}")
        return _user(row)

    def add_token(self, user_id: int, token_hash: str, scope: str, expires_at: float | None) -> Token:
        with self._conn() as c:
            cur = c.execute("INSERT INTO tokens(user_id, hash, scope, created_at, expires_at) VALUES (?,?,?,?,?)",
                            (user_id, token_hash, scope, time.time(), expires_at))
        assert cur.lastrowid is not None  # set by the INSERT
        return Token(cur.lastrowid, user_id, scope, expires_at, False)

    def find_token(self, token_hash: str) -> tuple[Token, User] | None:
        row = self._conn().execute(
            "SELECT t.id AS tid, t.scope, t.expires_at, t.revoked, u.* FROM tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.hash=?", (token_hash,)).fetchone()
        if row is None:
            return None
        return Token(row["tid"], row["id"], row["scope"], row["expires_at"], bool(row["revoked"])), _user(row)

    def revoke_token(self, token_id: int) -> None:
        with self._conn() as c:
            c.execute("UPDATE tokens SET revoked=1 WHERE id=?", (token_id,))

    # -- templates ------------------------------------------------------------------
    def add_template(self, t: Template) -> Template:
        try:
            with self._conn() as c:
                c.execute("INSERT INTO templates VALUES (?,?,?,?,?,?,?,?)",
                          (t.id, t.owner, t.name, t.visibility, t.description, t.parent_id,
                           t.created_at, t.updated_at))
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"template {t.owner}/{t.name} already exists") from None
        return t

    def get_template(self, owner: str, name: str) -> Template:
        row = self._conn().execute("SELECT * FROM templates WHERE owner=? AND name=?", (owner, name)).fetchone()
        if row is None:
            raise TemplateNotFound(f"template {owner}/{name} not found")
        return Template(**dict(row))

    def get_template_by_id(self, template_id: str) -> Template:
        row = self._conn().execute("SELECT * FROM templates WHERE id=?", (template_id,)).fetchone()
        if row is None:
            raise TemplateNotFound(f"template {template_id} not found")
        return Template(**dict(row))

    def list_templates(self, owner: str | None, offset: int, limit: int) -> tuple[list[Template], int]:
        where, args = ("WHERE owner=?", (owner,)) if owner else ("", ())
        c = self._conn()
        total = c.execute(f"SELECT COUNT(*) FROM templates {where}", args).fetchone()[0]
        rows = c.execute(f"SELECT * FROM templates {where} ORDER BY owner, name LIMIT ? OFFSET ?",
                         (*args, limit, offset)).fetchall()
        return [Template(**dict(r)) for r in rows], total

    def forks_of(self, template_id: str) -> list[Template]:
        """Every template forked from this one, directly or through other forks."""
        rows = self._conn().execute(
            "WITH RECURSIVE tree(id) AS (SELECT id FROM templates WHERE parent_id=? UNION "
            "SELECT t.id FROM templates t JOIN tree ON t.parent_id = tree.id) "
            "SELECT * FROM templates WHERE id IN (SELECT id FROM tree)", (template_id,)).fetchall()
        return [Template(**dict(r)) for r in rows]

    def delete_template(self, template_id: str) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM templates WHERE id=?", (template_id,))

    def touch_template(self, template_id: str) -> None:
        with self._conn() as c:
            c.execute("UPDATE templates SET updated_at=? WHERE id=?", (time.time(), template_id))

    # -- collaborators and protection -------------------------------------------------
    def set_collaborator(self, template_id: str, user_id: int, role: str) -> None:
        with self._conn() as c:
            c.execute("INSERT INTO collaborators VALUES (?,?,?) ON CONFLICT(template_id, user_id) "
                      "DO UPDATE SET role=excluded.role", (template_id, user_id, role))

    def remove_collaborator(self, template_id: str, user_id: int) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM collaborators WHERE template_id=? AND user_id=?", (template_id, user_id))

    def collaborator_role(self, template_id: str, user_id: int) -> str | None:
        row = self._conn().execute("SELECT role FROM collaborators WHERE template_id=? AND user_id=?",
                                   (template_id, user_id)).fetchone()
        return row[0] if row else None

    def set_protection(self, template_id: str, p: Protection) -> None:
        rule = json.dumps({"allow_force_push": p.allow_force_push, "allow_deletion": p.allow_deletion,
                           "required_checks": list(p.required_checks), "required_approvals": p.required_approvals})
        with self._conn() as c:
            c.execute("INSERT INTO protections VALUES (?,?,?) ON CONFLICT(template_id, branch) "
                      "DO UPDATE SET rule=excluded.rule", (template_id, p.branch, rule))

    def get_protection(self, template_id: str, branch: str) -> Protection | None:
        row = self._conn().execute("SELECT rule FROM protections WHERE template_id=? AND branch=?",
                                   (template_id, branch)).fetchone()
        if row is None:
            return None
        rule = json.loads(row[0])
        return Protection(branch, rule["allow_force_push"], rule["allow_deletion"],
                          tuple(rule["required_checks"]), rule["required_approvals"])

    def delete_protection(self, template_id: str, branch: str) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM protections WHERE template_id=? AND branch=?", (template_id, branch))


class _Tx:
    """A connection whose `with` block is one IMMEDIATE transaction (autocommit otherwise)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        return self.conn.execute(sql, *parameters)

    def executescript(self, script: str) -> sqlite3.Cursor:
        return self.conn.executescript(script)

    def __enter__(self) -> _Tx:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _user(row: sqlite3.Row) -> User:
    return User(row["id"], row["name"], row["email"], bool(row["is_admin"]))
