"""Browser sessions, one-time links and ceremonies in progress (part of SqlAccountRepository).

A link is used by one UPDATE that only matches it unused and unexpired; a challenge is taken by
one DELETE that only matches it unexpired: whichever request's statement changes the row wins,
every other sees nothing.
"""
from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Row, delete, or_, select, update

from . import accounts_schema as a
from .records_accounts import Challenge, Link, Session
from .sql_base import SqlRepository


class SessionsMixin(SqlRepository):
    # -- sessions -------------------------------------------------------------------------
    def add_session(self, token_hash: str, user_id: int, ip: str | None, user_agent: str | None,
                    second_factor: bool, now: float, idle_until: float, expires_at: float,
                    token_id: int | None = None) -> Session:
        values = {"token_hash": token_hash, "user_id": user_id, "created_at": now, "last_seen_at": now,
                  "idle_until": idle_until, "expires_at": expires_at, "ip": ip, "user_agent": user_agent,
                  "second_factor": second_factor, "token_id": token_id}
        with self._tx() as c:
            result = c.execute(a.sessions.insert().values(**values))
        assert result.inserted_primary_key is not None
        return _session({**values, "id": int(result.inserted_primary_key[0])})

    def find_session(self, token_hash: str) -> Session | None:
        with self._read() as c:
            row = c.execute(select(a.sessions).where(a.sessions.c.token_hash == token_hash)).first()
        return _session(row._mapping) if row is not None else None

    def touch_session(self, session_id: int, now: float, idle_until: float) -> None:
        with self._tx() as c:
            c.execute(update(a.sessions).where(a.sessions.c.id == session_id)
                      .values(last_seen_at=now, idle_until=idle_until))

    def rotate_session(self, session_id: int, token_hash: str, second_factor: bool) -> bool:
        with self._tx() as c:
            return c.execute(update(a.sessions).where(a.sessions.c.id == session_id)
                             .values(token_hash=token_hash, second_factor=second_factor)).rowcount == 1

    def sessions(self, user_id: int) -> list[Session]:
        col = a.sessions.c
        with self._read() as c:
            rows = c.execute(select(a.sessions).where(col.user_id == user_id).order_by(col.last_seen_at.desc())).all()
        return [_session(r._mapping) for r in rows]

    def end_session(self, user_id: int, session_id: int) -> bool:
        col = a.sessions.c
        with self._tx() as c:
            return c.execute(delete(a.sessions).where(col.id == session_id, col.user_id == user_id)).rowcount == 1

    def end_sessions(self, user_id: int, keep: int | None = None) -> int:
        col = a.sessions.c
        where = [col.user_id == user_id] + ([col.id != keep] if keep is not None else [])
        with self._tx() as c:
            return int(c.execute(delete(a.sessions).where(*where)).rowcount)

    # -- one-time links ---------------------------------------------------------------------
    def add_link(self, kind: str, token_hash: str, user_id: int | None, email: str | None,
                 created_by: int | None, expires_at: float) -> Link:
        now = time.time()
        with self._tx() as c:
            c.execute(a.account_links.insert().values(token_hash=token_hash, kind=kind, user_id=user_id, email=email,
                                                      created_by=created_by, created_at=now, expires_at=expires_at))
        return Link(kind, user_id, email, created_by, now, expires_at)

    def peek_link(self, kind: str, token_hash: str, now: float) -> Link | None:
        col = a.account_links.c
        with self._read() as c:
            row = c.execute(select(a.account_links).where(col.token_hash == token_hash, col.kind == kind,
                                                          col.used_at.is_(None), col.expires_at > now)).first()
        return _link(row) if row is not None else None

    def take_link(self, kind: str, token_hash: str, now: float) -> Link | None:
        col = a.account_links.c
        with self._tx() as c:
            taken = c.execute(update(a.account_links).where(col.token_hash == token_hash, col.kind == kind,
                                                            col.used_at.is_(None), col.expires_at > now)
                              .values(used_at=now)).rowcount == 1
            row = c.execute(select(a.account_links).where(col.token_hash == token_hash)).first() if taken else None
        return _link(row) if row is not None else None

    def drop_links(self, user_id: int, kind: str) -> int:
        col = a.account_links.c
        with self._tx() as c:
            return int(c.execute(delete(a.account_links).where(col.user_id == user_id, col.kind == kind)).rowcount)

    # -- ceremonies in progress -----------------------------------------------------------------
    def put_challenge(self, handle_hash: str, kind: str, user_id: int | None, data: dict[str, Any],
                      expires_at: float) -> None:
        with self._tx() as c:
            c.execute(a.account_challenges.insert().values(handle_hash=handle_hash, kind=kind, user_id=user_id,
                                                           data=json.dumps(data), created_at=time.time(),
                                                           expires_at=expires_at))

    def take_challenge(self, handle_hash: str, kind: str, now: float) -> Challenge | None:
        col = a.account_challenges.c
        with self._tx() as c:
            row = c.execute(select(a.account_challenges).where(col.handle_hash == handle_hash)).first()
            if row is None or c.execute(delete(a.account_challenges).where(col.handle_hash == handle_hash)).rowcount != 1:
                return None  # unknown, or another request took it first
        if row.kind != kind or row.expires_at <= now:
            return None  # gone either way: a handle is tried once
        return Challenge(row.kind, row.user_id, json.loads(row.data), row.expires_at)

    def prune(self, now: float) -> int:
        """Expired sessions, links (used ones once expired too) and challenges."""
        gone = 0
        with self._tx() as c:
            gone += c.execute(delete(a.sessions).where(or_(a.sessions.c.expires_at <= now,
                                                           a.sessions.c.idle_until <= now))).rowcount
            gone += c.execute(delete(a.account_links).where(a.account_links.c.expires_at <= now)).rowcount
            gone += c.execute(delete(a.account_challenges).where(a.account_challenges.c.expires_at <= now)).rowcount
        return int(gone)


def _session(m: Any) -> Session:
    return Session(m["id"], m["user_id"], m["created_at"], m["last_seen_at"], m["idle_until"], m["expires_at"],
                   m["ip"], m["user_agent"], bool(m["second_factor"]), m["token_id"])


def _link(row: Row[Any]) -> Link:
    m = row._mapping
    return Link(m["kind"], m["user_id"], m["email"], m["created_by"], m["created_at"], m["expires_at"])
