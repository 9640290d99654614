"""Events (append-only), webhooks and their deliveries (the outbox), over SQLAlchemy Core (the
EventRepository).

`add` and `add_deliveries` join the caller's transaction when called inside `atomic()`, so an
event is written with the change it records or not at all, and each delivery with its event.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Row, delete, func, or_, select, update

from ..errors import DeliveryNotFound, HookNotFound
from . import schema as s
from .records_events import Delivery, Event, EventFilter, Hook, HookChanges, Outgoing
from .sql_base import SqlRepository


class SqlEvents(SqlRepository):
    # -- events -------------------------------------------------------------------------
    def add(self, event: Event) -> Event:
        at = event.time or time.time()
        values = {"time": at, "actor": event.actor, "action": event.action, "template_id": event.template_id,
                  "template": event.template, "payload": json.dumps(event.payload, default=str),
                  "request_id": event.request_id, "client_ip": event.client_ip}
        with self._tx() as c:
            result = c.execute(s.events.insert().values(**values))
        assert result.inserted_primary_key is not None
        return _event_row({**values, "id": int(result.inserted_primary_key[0])})

    def page(self, where: EventFilter, offset: int, limit: int) -> tuple[list[Event], int]:
        """Newest first."""
        col = s.events.c
        conds: list[ColumnElement[bool]] = []
        if where.template_id is not None:
            conds.append(col.template_id == where.template_id)
        if where.action:
            conds.append(col.action.startswith(where.action, autoescape=True) if where.action.endswith(".")
                         else or_(col.action == where.action, col.action.startswith(where.action + ".",
                                                                                     autoescape=True)))
        if where.template:
            conds.append(col.template == where.template)
        if where.actor:
            conds.append(col.actor == where.actor)
        if where.since is not None:
            conds.append(col.time >= where.since)
        if where.until is not None:
            conds.append(col.time < where.until)
        rows, total = self._page(s.events, conds, [col.id.desc()], offset, limit)
        return [_event_row(r._mapping) for r in rows], total

    def after(self, event_id: int, limit: int) -> list[Event]:
        """Events recorded after `event_id`, oldest first (what a live feed has not seen yet)."""
        col = s.events.c
        with self._read() as c:
            rows = c.execute(select(s.events).where(col.id > event_id).order_by(col.id).limit(limit)).all()
        return [_event_row(r._mapping) for r in rows]

    def last_id(self) -> int:
        """The newest event's id (0 when there is none): where a live feed starts."""
        with self._read() as c:
            return int(c.execute(select(func.max(s.events.c.id))).scalar() or 0)

    def prune(self, before: float) -> int:
        """Drop events, and finished deliveries, older than `before`; how many events went."""
        col = s.deliveries.c
        with self._tx() as c:
            c.execute(delete(s.deliveries).where(col.status != "pending", col.updated_at < before))
            return int(c.execute(delete(s.events).where(s.events.c.time < before)).rowcount or 0)

    # -- hooks --------------------------------------------------------------------------
    def add_hook(self, template_id: str, url: str, events: Sequence[str], secret: str, active: bool,
                 created_by: str | None) -> Hook:
        now = time.time()
        with self._tx() as c:
            result = c.execute(s.hooks.insert().values(
                template_id=template_id, url=url, events=json.dumps(list(events)), secret=secret, active=active,
                created_by=created_by, created_at=now, updated_at=now))
        assert result.inserted_primary_key is not None
        return self.get_hook(template_id, int(result.inserted_primary_key[0]))

    def get_hook(self, template_id: str | None, hook_id: int) -> Hook:
        """The hook, on that template unless `template_id` is None."""
        cond = [s.hooks.c.id == hook_id] + ([s.hooks.c.template_id == template_id] if template_id else [])
        with self._read() as c:
            row = c.execute(select(s.hooks).where(*cond)).first()
        if row is None:
            raise HookNotFound(f"no hook #{hook_id} on this template")
        return _hook(row)

    def list_hooks(self, template_id: str) -> list[Hook]:
        with self._read() as c:
            rows = c.execute(select(s.hooks).where(s.hooks.c.template_id == template_id)
                             .order_by(s.hooks.c.id)).all()
        return [_hook(r) for r in rows]

    def update_hook(self, template_id: str, hook_id: int, **changes: Unpack[HookChanges]) -> Hook:
        values: dict[str, Any] = dict(changes)
        if "events" in changes:
            values["events"] = json.dumps(list(changes["events"]))
        self.get_hook(template_id, hook_id)
        with self._tx() as c:
            c.execute(update(s.hooks).where(s.hooks.c.id == hook_id).values(**values, updated_at=time.time()))
        return self.get_hook(template_id, hook_id)

    def delete_hook(self, template_id: str, hook_id: int) -> None:
        self.get_hook(template_id, hook_id)
        with self._tx() as c:
            c.execute(delete(s.deliveries).where(s.deliveries.c.hook_id == hook_id))
            c.execute(delete(s.hooks).where(s.hooks.c.id == hook_id))

    # -- deliveries -----------------------------------------------------------------------
    def add_deliveries(self, event_id: int | None, outgoing: Sequence[Outgoing]) -> list[str]:
        now, ids = time.time(), []
        with self._tx() as c:
            for out in outgoing:
                ids.append(uuid.uuid4().hex)
                c.execute(s.deliveries.insert().values(
                    id=ids[-1], hook_id=out.hook_id, event_id=event_id, event=out.event, body=out.body,
                    status="pending", attempts=0, next_attempt_at=now, created_at=now, updated_at=now))
        return ids

    def get_delivery(self, delivery_id: str, hook_id: int | None = None) -> Delivery:
        cond = [s.deliveries.c.id == delivery_id] + ([s.deliveries.c.hook_id == hook_id] if hook_id else [])
        with self._read() as c:
            row = c.execute(select(s.deliveries).where(*cond)).first()
        if row is None:
            raise DeliveryNotFound(f"no delivery {delivery_id!r}")
        return _delivery(row)

    def list_deliveries(self, hook_id: int, offset: int, limit: int) -> tuple[list[Delivery], int]:
        col = s.deliveries.c
        rows, total = self._page(s.deliveries, [col.hook_id == hook_id], [col.created_at.desc(), col.id], offset, limit)
        return [_delivery(r) for r in rows], total

    def claim_delivery(self, delivery_id: str, now: float, lease_seconds: float,
                       max_attempts: int = 1_000_000) -> Delivery | None:
        """Take a due delivery for one attempt (counted now); None when it is not due, done, or
        leased by a live attempt. At most one attempt holds a delivery at a time. One whose
        attempts are used up (its last attempt's worker died) becomes `failed` instead."""
        col = s.deliveries.c
        due = (col.id == delivery_id, col.status == "pending", col.next_attempt_at <= now,
               or_(col.lease_until.is_(None), col.lease_until < now))
        with self._tx() as c:
            c.execute(update(s.deliveries).where(*due, col.attempts >= max_attempts).values(
                status="failed", error="no attempt left", lease_until=None, updated_at=now))
            taken = c.execute(update(s.deliveries).where(*due).values(
                attempts=col.attempts + 1, lease_until=now + lease_seconds, updated_at=now)).rowcount
        return self.get_delivery(delivery_id) if taken else None

    def finish_delivery(self, delivery_id: str, attempt: int, status: str, response_code: int | None,
                        error: str | None, duration_ms: int | None, next_attempt_at: float | None = None) -> bool:
        """Record how attempt number `attempt` ended, unless a later attempt has claimed the
        delivery since (its outcome is the one that counts); whether it was recorded."""
        values: dict[str, Any] = {"status": status, "response_code": response_code, "error": error,
                                  "duration_ms": duration_ms, "lease_until": None, "updated_at": time.time()}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        col = s.deliveries.c
        with self._tx() as c:
            done = c.execute(update(s.deliveries).where(col.id == delivery_id, col.attempts == attempt)
                             .values(**values)).rowcount
        return bool(done)

    def due_deliveries(self, now: float, limit: int = 200) -> list[Delivery]:
        """Pending deliveries due now and not leased by a live attempt (retries, lost jobs)."""
        col = s.deliveries.c
        with self._read() as c:
            rows = c.execute(select(s.deliveries).where(
                col.status == "pending", col.next_attempt_at <= now,
                or_(col.lease_until.is_(None), col.lease_until < now)).order_by(col.next_attempt_at).limit(limit)).all()
        return [_delivery(r) for r in rows]

    def delivery_counts(self) -> dict[str, int]:
        """Deliveries by status (an operators' metric, read from the rows: every process's work)."""
        col = s.deliveries.c
        with self._read() as c:
            rows = c.execute(select(col.status, func.count()).group_by(col.status)).all()
        return {r[0]: int(r[1]) for r in rows}


def _event_row(r: Any) -> Event:
    return Event(action=r["action"], actor=r["actor"], template_id=r["template_id"], template=r["template"],
                 payload=json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"],
                 request_id=r["request_id"], client_ip=r["client_ip"], time=float(r["time"]), id=int(r["id"]))


def _hook(r: Row[Any]) -> Hook:
    return Hook(r.id, r.template_id, r.url, tuple(json.loads(r.events)), r.secret, bool(r.active), r.created_by,
                r.created_at, r.updated_at)


def _delivery(r: Row[Any]) -> Delivery:
    return Delivery(r.id, r.hook_id, r.event_id, r.event, r.body, r.status, r.attempts, r.response_code, r.error,
                    r.duration_ms, r.next_attempt_at, r.created_at, r.updated_at)
