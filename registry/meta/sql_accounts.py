"""The AccountRepository over SQLAlchemy Core (registry/accounts/store.py says what it promises).

Accounts (the users table's sign-in columns), recovery codes, passkeys and single sign-on
identities are here; sessions, one-time links and ceremonies in sql_account_sessions.py; a
user's data (export, transfer, erasure) in sql_account_data.py. Single use is one conditional
UPDATE or DELETE whose row count says who won, never a read and then a write.

A repository like the MetaStore's others (`meta.accounts`): on the same Database, so its writes
join `meta.atomic()` and an event lands with the change it records.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import AlreadyExists, UserNotFound
from . import accounts_schema as a
from . import schema as s
from .records import User
from .records_accounts import Account, Identity, Passkey
from .sql_account_data import AccountDataMixin
from .sql_account_sessions import SessionsMixin


class SqlAccountRepository(SessionsMixin, AccountDataMixin):
    # -- accounts ---------------------------------------------------------------------
    def create_account(self, name: str, email: str | None, password_hash: str | None, *,
                       email_verified: bool = False, display_name: str | None = None,
                       is_admin: bool = False) -> Account:
        try:
            with self._tx() as c:
                result = c.execute(s.users.insert().values(
                    name=name, email=email, is_admin=is_admin, created_at=time.time(), password_hash=password_hash,
                    email_verified=email_verified, display_name=display_name))
        except IntegrityError:
            with self._read() as c:
                taken = c.execute(select(s.users.c.id).where(s.users.c.name == name)).first() is not None
            if taken or email is None:
                raise AlreadyExists(f"user {name!r} already exists", field="username",
                                    reason="this username is taken") from None
            raise AlreadyExists("an account with this email address exists", field="email",
                                reason="an account with this email address exists") from None
        assert result.inserted_primary_key is not None
        return self.account(int(result.inserted_primary_key[0]))

    def account(self, user_id: int) -> Account:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.id == user_id)).first()
        if row is None:
            raise UserNotFound(f"no user #{user_id}")
        return _account(row)

    def account_by_name(self, name: str) -> Account:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.name == name)).first()
        if row is None:
            raise UserNotFound(f"no user {name!r}")
        return _account(row)

    def account_by_login(self, login: str) -> Account | None:
        login = login.strip().lower()
        col = s.users.c.email if "@" in login else s.users.c.name
        with self._read() as c:
            row = c.execute(select(s.users).where(col == login)).first()
        return _account(row) if row is not None else None

    def list_accounts(self, query: str | None, offset: int, limit: int) -> tuple[list[Account], int]:
        u = s.users.c
        where = [or_(u.name.contains(query.lower(), autoescape=True),
                     u.email.contains(query.lower(), autoescape=True))] if query else []
        rows, total = self._page(s.users, where, [u.name], offset, limit)
        return [_account(r) for r in rows], total

    def _set(self, user_id: int, **values: Any) -> None:
        with self._tx() as c:
            if c.execute(update(s.users).where(s.users.c.id == user_id).values(**values)).rowcount != 1:
                raise UserNotFound(f"no user #{user_id}")

    def set_password(self, user_id: int, password_hash: str | None) -> None:
        self._set(user_id, password_hash=password_hash)

    def set_email(self, user_id: int, email: str | None, verified: bool) -> None:
        try:
            self._set(user_id, email=email, email_verified=verified and email is not None)
        except IntegrityError:
            raise AlreadyExists("an account with this email address exists", field="email",
                                reason="an account with this email address exists") from None

    def mark_email_verified(self, user_id: int, email: str) -> bool:
        u = s.users.c
        with self._tx() as c:
            return c.execute(update(s.users).where(u.id == user_id, u.email == email)
                             .values(email_verified=True)).rowcount == 1

    def set_profile(self, user_id: int, display_name: str | None) -> None:
        self._set(user_id, display_name=display_name)

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        self._set(user_id, disabled=disabled)

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        self._set(user_id, is_admin=is_admin)

    def set_totp(self, user_id: int, secret: str | None) -> None:
        self._set(user_id, totp_secret=secret, totp_last_step=None)

    def advance_totp_step(self, user_id: int, step: int) -> bool:
        u = s.users.c
        with self._tx() as c:
            return c.execute(update(s.users).where(u.id == user_id, u.totp_secret.is_not(None),
                                                   or_(u.totp_last_step.is_(None), u.totp_last_step < step))
                             .values(totp_last_step=step)).rowcount == 1

    # -- recovery codes -------------------------------------------------------------------
    def replace_recovery_codes(self, user_id: int, code_hashes: Sequence[str]) -> None:
        now = time.time()
        with self._tx() as c:
            c.execute(delete(a.recovery_codes).where(a.recovery_codes.c.user_id == user_id))
            if code_hashes:
                c.execute(a.recovery_codes.insert(), [{"user_id": user_id, "code_hash": h, "created_at": now}
                                                      for h in code_hashes])

    def use_recovery_code(self, user_id: int, code_hash: str, now: float) -> bool:
        r = a.recovery_codes.c
        with self._tx() as c:
            return c.execute(update(a.recovery_codes).where(r.user_id == user_id, r.code_hash == code_hash,
                                                            r.used_at.is_(None)).values(used_at=now)).rowcount == 1

    def recovery_codes_left(self, user_id: int) -> int:
        r = a.recovery_codes.c
        with self._read() as c:
            return int(c.execute(select(func.count()).where(r.user_id == user_id, r.used_at.is_(None))).scalar_one())

    # -- passkeys -------------------------------------------------------------------------
    def add_passkey(self, user_id: int, credential_id: str, public_key: str, sign_count: int, user_handle: str,
                    name: str, transports: Sequence[str]) -> Passkey:
        try:
            with self._tx() as c:
                result = c.execute(a.passkeys.insert().values(
                    user_id=user_id, credential_id=credential_id, public_key=public_key, sign_count=sign_count,
                    user_handle=user_handle, name=name, transports=json.dumps(list(transports)),
                    created_at=time.time()))
        except IntegrityError:
            raise AlreadyExists("this passkey is registered already", field="passkey",
                                reason="this passkey is registered already") from None
        assert result.inserted_primary_key is not None
        with self._read() as c:
            row = c.execute(select(a.passkeys).where(a.passkeys.c.id == result.inserted_primary_key[0])).one()
        return _passkey(row)

    def passkeys(self, user_id: int) -> list[Passkey]:
        p = a.passkeys.c
        with self._read() as c:
            rows = c.execute(select(a.passkeys).where(p.user_id == user_id).order_by(p.id)).all()
        return [_passkey(r) for r in rows]

    def passkey_by_credential(self, credential_id: str) -> Passkey | None:
        with self._read() as c:
            row = c.execute(select(a.passkeys).where(a.passkeys.c.credential_id == credential_id)).first()
        return _passkey(row) if row is not None else None

    def use_passkey(self, passkey_id: int, old_count: int, new_count: int, now: float) -> bool:
        p = a.passkeys.c
        with self._tx() as c:
            return c.execute(update(a.passkeys).where(p.id == passkey_id, p.sign_count == old_count)
                             .values(sign_count=new_count, last_used_at=now)).rowcount == 1

    def remove_passkey(self, user_id: int, passkey_id: int) -> bool:
        p = a.passkeys.c
        with self._tx() as c:
            return c.execute(delete(a.passkeys).where(p.id == passkey_id, p.user_id == user_id)).rowcount == 1

    # -- single sign-on identities ------------------------------------------------------------
    def link_identity(self, user_id: int, issuer: str, subject: str, email: str | None) -> Identity:
        now = time.time()
        try:
            with self._tx() as c:
                c.execute(a.oidc_identities.insert().values(issuer=issuer, subject=subject, user_id=user_id,
                                                            email=email, created_at=now))
        except IntegrityError:
            raise AlreadyExists("this single sign-on identity is linked to an account already") from None
        return Identity(issuer, subject, user_id, email, now)

    def identity(self, issuer: str, subject: str) -> Identity | None:
        i = a.oidc_identities.c
        with self._read() as c:
            row = c.execute(select(a.oidc_identities).where(i.issuer == issuer, i.subject == subject)).first()
        return _identity(row) if row is not None else None

    def identities(self, user_id: int) -> list[Identity]:
        i = a.oidc_identities.c
        with self._read() as c:
            rows = c.execute(select(a.oidc_identities).where(i.user_id == user_id).order_by(i.created_at)).all()
        return [_identity(r) for r in rows]

    def touch_identity(self, issuer: str, subject: str, now: float) -> None:
        i = a.oidc_identities.c
        with self._tx() as c:
            c.execute(update(a.oidc_identities).where(i.issuer == issuer, i.subject == subject)
                      .values(last_used_at=now))


def _account(row: Row[Any]) -> Account:
    m = row._mapping
    user = User(m["id"], m["name"], m["email"], bool(m["is_admin"]), bool(m["disabled"]))
    return Account(user, m["created_at"], m["password_hash"], bool(m["email_verified"]), bool(m["disabled"]),
                   m["totp_secret"], m["totp_last_step"], m["display_name"])


def _passkey(row: Row[Any]) -> Passkey:
    m = row._mapping
    return Passkey(m["id"], m["user_id"], m["credential_id"], m["public_key"], m["sign_count"], m["user_handle"],
                   m["name"], tuple(json.loads(m["transports"])), m["created_at"], m["last_used_at"])


def _identity(row: Row[Any]) -> Identity:
    m = row._mapping
    return Identity(m["issuer"], m["subject"], m["user_id"], m["email"], m["created_at"], m["last_used_at"])
