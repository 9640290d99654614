"""Templates, their forks, collaborators and branch protection, over SQLAlchemy Core (the
TemplateRepository). Uniqueness is the database's (constraints and upserts), never
check-then-insert; deleting a template cascades to everything it owns."""
from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import AlreadyExists, TemplateNotFound
from . import schema as s
from .engine import upsert
from .records import Protection, Template, Visibility
from .sql_base import SqlRepository


class SqlTemplates(SqlRepository):
    def add(self, t: Template) -> Template:
        try:
            with self._tx() as c:
                c.execute(s.templates.insert().values(
                    id=t.id, owner=t.owner, name=t.name, visibility=t.visibility, description=t.description,
                    parent_id=t.parent_id, created_at=t.created_at, updated_at=t.updated_at))
        except IntegrityError:
            raise AlreadyExists(f"template {t.owner}/{t.name} already exists") from None
        return t

    def get(self, owner: str, name: str) -> Template:
        with self._read() as c:
            row = c.execute(select(s.templates).where(s.templates.c.owner == owner,
                                                      s.templates.c.name == name)).first()
        if row is None:
            raise TemplateNotFound(f"template {owner}/{name} not found")
        return _template(row)

    def get_by_id(self, template_id: str) -> Template:
        with self._read() as c:
            row = c.execute(select(s.templates).where(s.templates.c.id == template_id)).first()
        if row is None:
            raise TemplateNotFound(f"template {template_id} not found")
        return _template(row)

    def page(self, owner: str | None, offset: int, limit: int,
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

    def delete(self, template_id: str) -> None:
        with self._tx() as c:
            c.execute(delete(s.templates).where(s.templates.c.id == template_id))

    def update(self, template_id: str, *, description: str | None = None,
               visibility: str | None = None, update_pulls: bool | None = None) -> Template:
        values: dict[str, Any] = {k: v for k, v in (("description", description), ("visibility", visibility),
                                                    ("update_pulls", update_pulls)) if v is not None}
        if values:
            with self._tx() as c:
                c.execute(update(s.templates).where(s.templates.c.id == template_id)
                          .values(**values, updated_at=time.time()))
        return self.get_by_id(template_id)

    def touch(self, template_id: str) -> None:
        with self._tx() as c:
            c.execute(update(s.templates).where(s.templates.c.id == template_id).values(updated_at=time.time()))

    # -- what each template extends -----------------------------------------------------
    def set_extends(self, template_id: str, parent: str | None, ref: str, sha: str) -> None:
        with self._tx() as c:
            if parent is None:
                c.execute(delete(s.dependencies).where(s.dependencies.c.template_id == template_id))
                return
            upsert(c, s.dependencies, {"template_id": template_id, "parent": parent, "ref": ref, "sha": sha,
                                       "updated_at": time.time()}, ("template_id",), ("parent", "ref", "sha", "updated_at"))

    def dependents(self, parent: str) -> list[tuple[Template, str]]:
        d, t = s.dependencies.c, s.templates.c
        with self._read() as c:
            rows = c.execute(select(s.templates, d.ref.label("asked")).join_from(
                s.dependencies, s.templates, d.template_id == t.id).where(d.parent == parent)
                .order_by(t.owner, t.name)).all()
        return [(_template(r), r.asked) for r in rows]

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



def _template(row: Row[Any]) -> Template:
    m = row._mapping
    return Template(m["id"], m["owner"], m["name"], m["visibility"], m["description"], m["parent_id"],
                    m["created_at"], m["updated_at"], bool(m["update_pulls"]))
