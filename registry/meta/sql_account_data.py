"""A user's data (part of SqlAccountRepository): what they did, for their export; handing one of
their templates to another user; and erasing them, which keeps the record of what happened with a
pseudonym where their name stood."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import AlreadyExists, Conflict
from . import schema as s
from .records_accounts import Activity
from .sql_base import SqlRepository

ERASE_BATCH = 500  # events rewritten per statement batch (a long-lived user may have many)


class AccountDataMixin(SqlRepository):
    def activity(self, user_id: int, name: str) -> Activity:
        t = s.templates.c
        full = (t.owner + "/" + t.name).label("template")
        with self._read() as c:
            stars = c.execute(select(full, s.stars.c.created_at).join_from(s.stars, s.templates)
                              .where(s.stars.c.user_id == user_id).order_by(s.stars.c.created_at)).all()
            ratings = c.execute(select(full, s.ratings.c.score, s.ratings.c.review, s.ratings.c.created_at)
                                .join_from(s.ratings, s.templates).where(s.ratings.c.user_id == user_id)
                                .order_by(s.ratings.c.created_at)).all()
            p, r, m = s.pulls.c, s.reviews.c, s.comments.c
            pulls = c.execute(select(full, p.number, p.title, p.body, p.state, p.created_at)
                              .join_from(s.pulls, s.templates).where(p.author == name).order_by(p.created_at)).all()
            reviews = c.execute(select(full, r.number, r.event, r.body, r.sha, r.created_at)
                                .join_from(s.reviews, s.templates).where(r.author == name).order_by(r.created_at)).all()
            comments = c.execute(select(full, m.number, m.body, m.path, m.line, m.side, m.created_at)
                                 .join_from(s.comments, s.templates).where(m.author == name)
                                 .order_by(m.created_at)).all()
            roles = c.execute(select(full, s.collaborators.c.role).join_from(s.collaborators, s.templates)
                              .where(s.collaborators.c.user_id == user_id).order_by(full)).all()
        return Activity(as_dicts(stars), as_dicts(ratings), as_dicts(pulls), as_dicts(reviews), as_dicts(comments),
                        as_dicts(roles))

    def transfer_template(self, template_id: str, new_owner: str) -> None:
        t = s.templates.c
        try:
            with self._tx() as c:
                c.execute(update(s.templates).where(t.id == template_id).values(owner=new_owner, updated_at=time.time()))
                new_id = select(s.users.c.id).where(s.users.c.name == new_owner).scalar_subquery()
                c.execute(delete(s.collaborators).where(s.collaborators.c.template_id == template_id,
                                                        s.collaborators.c.user_id == new_id))
        except IntegrityError:
            raise AlreadyExists(f"{new_owner} has a template of that name already") from None

    def erase_user(self, user_id: int, name: str, pseudonym: str) -> None:
        with self._tx() as c:
            owned = c.execute(select(func.count()).where(s.templates.c.owner == name)).scalar_one()
            if owned:
                raise Conflict(f"{name} still owns {owned} templates: delete or transfer them first")
            _pseudonymise_events(c, name, pseudonym)
            for column in (s.pulls.c.author, s.reviews.c.author, s.comments.c.author, s.runs.c.requested_by,
                           s.hooks.c.created_by):
                c.execute(update(column.table).where(column == name).values({column.name: pseudonym}))
            c.execute(delete(s.users).where(s.users.c.id == user_id))  # tokens, stars, ratings, sessions, ... cascade


def as_dicts(rows: Sequence[Row[*tuple[Any, ...]]]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in rows]


def _pseudonymise_events(c: Connection, name: str, pseudonym: str) -> None:
    """Their name, wherever it stands in an event (actor, template owner, payload values), becomes
    the pseudonym; the client IP of the events they caused is dropped."""
    e = s.events.c
    mentions = or_(e.actor == name, e.template.startswith(name + "/", autoescape=True),
                   e.payload.contains(f'"{name}', autoescape=True))
    last = 0
    while True:
        rows = c.execute(select(e.id, e.actor, e.template, e.payload).where(mentions, e.id > last)
                         .order_by(e.id).limit(ERASE_BATCH)).all()
        for row in rows:
            values: dict[str, Any] = {"payload": json.dumps(_replace(json.loads(row.payload), name, pseudonym))}
            if row.actor == name:
                values.update(actor=pseudonym, client_ip=None)
            if row.template is not None:
                values["template"] = _replace(row.template, name, pseudonym)
            c.execute(update(s.events).where(e.id == row.id).values(**values))
        if len(rows) < ERASE_BATCH:
            return
        last = rows[-1].id


def _replace(value: Any, name: str, pseudonym: str) -> Any:
    """`value` with every string that is `name`, or starts with `name/`, naming the pseudonym."""
    if isinstance(value, str):
        if value == name:
            return pseudonym
        return pseudonym + value[len(name):] if value.startswith(name + "/") else value
    if isinstance(value, list):
        return [_replace(v, name, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, name, pseudonym) for k, v in value.items()}
    return value
