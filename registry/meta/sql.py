"""The MetaStore over SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Users, tokens, templates, collaborators and protection rules are here; statuses, stars,
ratings and runs in sql_activity.py; pull requests, reviews and comments in sql_pulls.py; events,
hooks, deliveries and usage in sql_events.py; transactions and paging in sql_base.py.
Every change of several rows is one transaction; uniqueness is the database's (constraints
and upserts), never check-then-insert.
"""
from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import AlreadyExists, TemplateNotFound, TokenNotFound, UserNotFound
from . import schema as s
from .engine import upsert
from .records import Protection, Template, Token, User, Visibility
from .sql_activity import ActivityMixin
from .sql_events import EventsMixin, OpsMixin
from .sql_pulls import PullsMixin


class SqlMetaStore(ActivityMixin, PullsMixin, EventsMixin, OpsMixin):
    """The engine, `atomic` and the transactions every part uses are SqlBase's (sql_base.py)."""

    # -- users and tokens -----------------------------------------------------------
    def add_user(self, name: str, email: str | None, is_admin: bool) -> User:
        try:
            with self._tx() as c:
                result = c.execute(s.users.insert().values(name=name, email=email, is_admin=is_admin,
                                                           created_at=time.time()))
        except IntegrityError:
            raise AlreadyExists(f"user {name!r} already exists") from None
        assert result.inserted_primary_key is not None
        return User(int(result.inserted_primary_key[0]), name, email, is_admin)

    def get_user(self, name: str) -> User:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.name == name)).first()
        if row is None:
            raise UserNotFound(f"no user {name!r}")
        return _user(row)

    def get_user_by_id(self, user_id: int) -> User:
        with self._read() as c:
            row = c.execute(select(s.users).where(s.users.c.id == user_id)).first()
        if row is None:
            raise UserNotFound(f"no user #{user_id}")
        return _user(row)

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

    # -- templates ------------------------------------------------------------------
    def add_template(self, t: Template) -> Template:
        try:
            with self._tx() as c:
                c.execute(s.templates.insert().values(
                    id=t.id, owner=t.owner, name=t.name, visibility=t.visibility, description=t.description,
                    parent_id=t.parent_id, created_at=t.created_at, updated_at=t.updated_at))
        except IntegrityError:
            raise AlreadyExists(f"template {t.owner}/{t.name} already exists") from None
        return t

    def get_template(self, owner: str, name: str) -> Template:
        with self._read() as c:
            row = c.execute(select(s.templates).where(s.templates.c.owner == owner,
                                                      s.templates.c.name == name)).first()
        if row is None:
            raise TemplateNotFound(f"template {owner}/{name} not found")
        return _template(row)

    def get_template_by_id(self, template_id: str) -> Template:
        with self._read() as c:
            row = c.execute(select(s.templates).where(s.templates.c.id == template_id)).first()
        if row is None:
            raise TemplateNotFound(f"template {template_id} not found")
        return _template(row)

    def list_templates(self, owner: str | None, offset: int, limit: int,
                       visible_to: Visibility | None = None) -> tuple[list[Template], int]:
        """A page of templates and the total; with `visible_to`, only those that reader may read
        (filtered in the query, so totals and pages are exact for every reader)."""
        t = s.templates.c
        where: list[ColumnElement[bool]] = [t.owner == owner] if owner else []
        if visible_to is not None and not visible_to.all:
            readable: list[ColumnElement[bool]] = [t.visibility == "public"]
            if visible_to.user is not None:
                col, u = s.collaborators.c, s.users.c
                readable += [t.owner == visible_to.user, t.id.in_(
                    select(col.template_id).join_from(s.collaborators, s.users, col.user_id == u.id)
                    .where(u.name == visible_to.user))]
            where.append(or_(*readable))
        rows, total = self._page(s.templates, where, (t.owner, t.name), offset, limit)
        return [_template(r) for r in rows], total

    def forks_of(self, template_id: str) -> list[Template]:
        """Every template forked from this one, directly or through other forks."""
        t = s.templates
        tree = select(t.c.id).where(t.c.parent_id == template_id).cte("tree", recursive=True)
        tree = tree.union(select(t.c.id).join(tree, t.c.parent_id == tree.c.id))
        with self._read() as c:
            rows = c.execute(select(t).where(t.c.id.in_(select(tree.c.id)))).all()
        return [_template(r) for r in rows]

    def delete_template(self, template_id: str) -> None:
        with self._tx() as c:
            c.execute(delete(s.templates).where(s.templates.c.id == template_id))

    def update_template(self, template_id: str, *, description: str | None = None,
                        visibility: str | None = None) -> Template:
        values: dict[str, Any] = {k: v for k, v in (("description", description), ("visibility", visibility))
                                  if v is not None}
        if values:
            with self._tx() as c:
                c.execute(update(s.templates).where(s.templates.c.id == template_id)
                          .values(**values, updated_at=time.time()))
        return self.get_template_by_id(template_id)

    def touch_template(self, template_id: str) -> None:
        with self._tx() as c:
            c.execute(update(s.templates).where(s.templates.c.id == template_id).values(updated_at=time.time()))

    # -- collaborators and protection -------------------------------------------------
    def set_collaborator(self, template_id: str, user_id: int, role: str) -> None:
        with self._tx() as c:
            upsert(c, s.collaborators, {"template_id": template_id, "user_id": user_id, "role": role},
                   ("template_id", "user_id"), ("role",))

    def remove_collaborator(self, template_id: str, user_id: int) -> None:
        col = s.collaborators.c
        with self._tx() as c:
            c.execute(delete(s.collaborators).where(col.template_id == template_id, col.user_id == user_id))

    def collaborator_role(self, template_id: str, user_id: int) -> str | None:
        col = s.collaborators.c
        with self._read() as c:
            role = c.execute(select(col.role).where(col.template_id == template_id, col.user_id == user_id)).scalar()
        return str(role) if role is not None else None

    def collaborator_roles(self, template_id: str) -> dict[str, str]:
        """Collaborators' names and roles."""
        col, u = s.collaborators.c, s.users.c
        with self._read() as c:
            rows = c.execute(select(u.name, col.role).join_from(s.collaborators, s.users, col.user_id == u.id)
                             .where(col.template_id == template_id)).all()
        return {r.name: r.role for r in rows}

    def collaborator_names(self, template_id: str) -> list[str]:
        col, u = s.collaborators.c, s.users.c
        with self._read() as c:
            rows = c.execute(select(u.name).join_from(s.collaborators, s.users, col.user_id == u.id)
                             .where(col.template_id == template_id).order_by(u.name)).all()
        return [r.name for r in rows]

    def set_protection(self, template_id: str, p: Protection) -> None:
        rule = json.dumps({"allow_force_push": p.allow_force_push, "allow_deletion": p.allow_deletion,
                           "required_checks": list(p.required_checks), "required_approvals": p.required_approvals})
        with self._tx() as c:
            upsert(c, s.protections, {"template_id": template_id, "branch": p.branch, "rule": rule},
                   ("template_id", "branch"), ("rule",))

    def get_protection(self, template_id: str, branch: str) -> Protection | None:
        col = s.protections.c
        with self._read() as c:
            raw = c.execute(select(col.rule).where(col.template_id == template_id, col.branch == branch)).scalar()
        if raw is None:
            return None
        rule: dict[str, Any] = json.loads(raw)
        return Protection(branch, rule["allow_force_push"], rule["allow_deletion"],
                          tuple(rule["required_checks"]), rule["required_approvals"])

    def delete_protection(self, template_id: str, branch: str) -> None:
        col = s.protections.c
        with self._tx() as c:
            c.execute(delete(s.protections).where(col.template_id == template_id, col.branch == branch))


def _user(row: Row[Any]) -> User:
    return User(row.id, row.name, row.email, bool(row.is_admin), bool(row.disabled))


def _token(row: Row[Any]) -> Token:
    return Token(row.id, row.user_id, row.scope, row.expires_at, bool(row.revoked), row.created_at, row.last_used_at)


def _template(row: Row[Any]) -> Template:
    m = row._mapping
    return Template(m["id"], m["owner"], m["name"], m["visibility"], m["description"], m["parent_id"],
                    m["created_at"], m["updated_at"])
