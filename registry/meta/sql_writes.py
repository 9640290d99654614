"""Writes of refs journalled before they are made, over SQLAlchemy Core (the WriteRepository):
a row per write whose follow-up is not done, moved from `pending` to `recorded` by the one
transaction that writes its events (so two settlers never both record them), deleted when
everything after it is done."""
from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Row, delete, select, update

from . import schema as s
from .records import RefWrite
from .sql_base import SqlRepository


def _write(row: Row[Any]) -> RefWrite:
    return RefWrite(row.id, row.template_id, row.kind, row.actor,
                    tuple((ref, old, new) for ref, old, new in json.loads(row.updates)),
                    json.loads(row.details), row.state, row.created_at)


class SqlWrites(SqlRepository):
    def add(self, write: RefWrite) -> RefWrite:
        now = time.time()
        with self._tx() as c:
            c.execute(s.ref_writes.insert().values(
                id=write.id, template_id=write.template_id, kind=write.kind, actor=write.actor,
                updates=json.dumps([list(u) for u in write.updates]), details=json.dumps(write.details),
                state="pending", created_at=now))
        return RefWrite(write.id, write.template_id, write.kind, write.actor, write.updates, write.details,
                        "pending", now)

    def record(self, write_id: str) -> bool:
        col = s.ref_writes.c
        with self._tx() as c:
            done = c.execute(update(s.ref_writes).where(col.id == write_id, col.state == "pending")
                             .values(state="recorded"))
        return done.rowcount == 1

    def done(self, write_id: str) -> None:
        with self._tx() as c:
            c.execute(delete(s.ref_writes).where(s.ref_writes.c.id == write_id))

    def owed(self, older_than: float, limit: int = 200) -> list[RefWrite]:
        col = s.ref_writes.c
        with self._read() as c:
            rows = c.execute(select(s.ref_writes).where(col.created_at < older_than)
                             .order_by(col.created_at).limit(limit)).all()
        return [_write(r) for r in rows]
