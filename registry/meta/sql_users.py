"""Users and their API tokens, over SQLAlchemy Core (the UserRepository)."""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import AlreadyExists, TokenNotFound, UserNotFound
from . import schema as s
from .records import Token, User
from .sql_base import SqlRepository


class SqlUsers(SqlRepository):
    def add(self, name: str, email: str | None, is_admin: bool) -> User:
        try:
            with self._tx() as c:
                result = c.execute(s.users.insert().values(name=name, email=email, is_admin=is_admin,
                                                           created_at=time.time()))
        except IntegrityError:
            raise AlreadyExists(f"user {name!r} already exists") from None
        assert result.inserted_primary_key is not None
        return User(int(result.inserted_primary_key[0]), name, email, is_admin)

    def get(self, name: str) -> User:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.name == name)).first()
        if row is None:
            raise UserNotFound(f"no user {name!r}")
        return _user(row)

    def get_by_id(self, user_id: int) -> User:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.id == user_id)).first()
        if row is None:
            raise UserNotFound(f"no user #{user_id}")
        return _user(row)

    # -- tokens -----------------------------------------------------------------------
    def add_token(self, user_id: int, token_hash: str, scope: str, expires_at: float | None) -> Token:
        with self._tx() as c:
            result = c.execute(s.tokens.insert().values(user_id=user_id, hash=token_hash, scope=scope,
                                                        created_at=time.time(), expires_at=expires_at))
        assert result.inserted_primary_key is not None
        return self.get_token(int(result.inserted_primary_key[0]))

    def get_token(self, token_id: int) -> Token:
        with self._read() as c:
            row = c.execute(select(s.tokens).where(s.tokens.c.id == token_id)).first()
        if row is None:
            raise TokenNotFound(f"no token #{token_id}")
        return _token(row)

    def list_tokens(self, user_id: int) -> list[Token]:
        with self._read() as c:
            rows = c.execute(select(s.tokens).where(s.tokens.c.user_id == user_id).order_by(s.tokens.c.id)).all()
        return [_token(r) for r in rows]

    def touch_token(self, token_id: int, at: float) -> None:
        with self._tx() as c:
            c.execute(update(s.tokens).where(s.tokens.c.id == token_id).values(last_used_at=at))

    def find_token(self, token_hash: str) -> tuple[Token, User] | None:
        t, u = s.tokens.c, s.users
        with self._read() as c:
            row = c.execute(select(t.id.label("tid"), t.scope, t.expires_at, t.revoked, t.created_at.label("tcreated"),
                                   t.last_used_at, u)
                            .join_from(s.tokens, u, t.user_id == u.c.id).where(t.hash == token_hash)).first()
        if row is None:
            return None
        return Token(row.tid, row.id, row.scope, row.expires_at, bool(row.revoked), row.tcreated,
                     row.last_used_at), _user(row)

    def revoke_token(self, token_id: int) -> None:
        with self._tx() as c:
            c.execute(update(s.tokens).where(s.tokens.c.id == token_id).values(revoked=True))


def _user(row: Row[Any]) -> User:
    return User(row.id, row.name, row.email, bool(row.is_admin), bool(row.disabled))


def _token(row: Row[Any]) -> Token:
    return Token(row.id, row.user_id, row.scope, row.expires_at, bool(row.revoked), row.created_at, row.last_used_at)
