"""Shared drafts over SQLAlchemy Core (the DraftRepository): the drafts, their files' documents
as a snapshot plus the updates appended since, who edited, and what a rebase left in conflict.

Appending takes the file's row first (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE holds
the database), so update numbers are handed out in commit order: a reader that has seen up to n
and reads "after n" misses nothing, on any node. Compaction replaces the snapshot and deletes
the updates it took in, in one transaction under the same row lock."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import DraftNotFound, TemplateNotFound
from . import drafts_schema as d
from . import schema as s
from .engine import insert_ignore, upsert
from .records_drafts import Draft, DraftConflict, DraftFile, StoredDoc
from .sql_base import SqlRepository

_UNSET: Any = object()


class SqlDrafts(SqlRepository):
    def add(self, template_id: str, branch: str, base: str, created_by: str) -> Draft:
        now = time.time()
        try:
            with self._tx() as c:
                new_id = c.execute(d.drafts.insert().values(
                    template_id=template_id, branch=branch, base=base, created_by=created_by, created_at=now,
                    updated_at=now).returning(d.drafts.c.id)).scalar_one()
        except IntegrityError:
            raise TemplateNotFound(f"no template {template_id}") from None
        return self.get(int(new_id))

    def get(self, draft_id: int) -> Draft:
        with self._read() as c:
            row = c.execute(select(d.drafts).where(d.drafts.c.id == draft_id)).first()
        if row is None:
            raise DraftNotFound(f"no draft {draft_id}")
        return _draft(row)

    def of_template(self, template_id: str, branch: str | None = None) -> list[Draft]:
        where = [d.drafts.c.template_id == template_id] + ([d.drafts.c.branch == branch] if branch is not None else [])
        with self._read() as c:
            rows = c.execute(select(d.drafts).where(*where).order_by(d.drafts.c.id)).all()
        return [_draft(r) for r in rows]

    def delete(self, draft_id: int) -> None:
        with self._tx() as c:
            c.execute(delete(d.drafts).where(d.drafts.c.id == draft_id))

    def move(self, draft_id: int, expected_base: str, base: str, *, branch: str | None = None,
             last_commit: str | None = _UNSET, pull_number: int | None = _UNSET,
             rebased: dict[str, Any] | None = _UNSET) -> Draft | None:
        """Set the draft's base (and what else is given) if its base is still `expected_base`:
        the moved draft, or None when someone else moved it first."""
        values: dict[str, Any] = {"base": base, "updated_at": time.time()}
        if branch is not None:
            values["branch"] = branch
        if last_commit is not _UNSET:
            values["last_commit"] = last_commit
        if pull_number is not _UNSET:
            values["pull_number"] = pull_number
        if rebased is not _UNSET:
            values["rebased"] = None if rebased is None else json.dumps(rebased)
        with self._tx() as c:
            done = c.execute(update(d.drafts).where(d.drafts.c.id == draft_id, d.drafts.c.base == expected_base)
                             .values(**values).returning(d.drafts.c.id)).first()
        return self.get(draft_id) if done is not None else None

    # -- files and their documents -------------------------------------------------------
    def add_file(self, draft_id: int, path: str, seed: bytes) -> DraftFile:
        """The file's document, made from `seed` unless it exists already (then left as it is)."""
        try:
            with self._tx() as c:
                insert_ignore(c, d.draft_files, {"draft_id": draft_id, "path": path, "seq": 0, "snapshot": seed,
                                                 "snapshot_seq": 0, "created_at": time.time()})
        except IntegrityError:
            raise DraftNotFound(f"no draft {draft_id}") from None
        return self._file(draft_id, path)

    def _file(self, draft_id: int, path: str) -> DraftFile:
        with self._read() as c:
            row = c.execute(select(d.draft_files.c.draft_id, d.draft_files.c.path, d.draft_files.c.seq,
                                   d.draft_files.c.snapshot_seq, d.draft_files.c.created_at)
                            .where(d.draft_files.c.draft_id == draft_id, d.draft_files.c.path == path)).first()
        if row is None:
            raise DraftNotFound(f"draft {draft_id} has no file {path!r}", path=path)
        return DraftFile(row.draft_id, row.path, row.seq, row.snapshot_seq, row.created_at)

    def files(self, draft_id: int) -> list[DraftFile]:
        with self._read() as c:
            rows = c.execute(select(d.draft_files.c.draft_id, d.draft_files.c.path, d.draft_files.c.seq,
                                    d.draft_files.c.snapshot_seq, d.draft_files.c.created_at)
                             .where(d.draft_files.c.draft_id == draft_id).order_by(d.draft_files.c.path)).all()
        return [DraftFile(r.draft_id, r.path, r.seq, r.snapshot_seq, r.created_at) for r in rows]

    def load(self, draft_id: int, path: str, after: int | None = None) -> StoredDoc:
        """The file's document as stored; with `after`, only what a reader who has every update
        up to `after` lacks: the updates after it, and the snapshot (else empty) only when a
        compaction has taken updates it lacks into the snapshot."""
        files = d.draft_files.c
        with self._read() as c:
            row = c.execute(select(files.snapshot_seq).where(files.draft_id == draft_id, files.path == path)).first()
            if row is None:
                raise DraftNotFound(f"draft {draft_id} has no file {path!r}", path=path)
            snapshot_seq = int(row.snapshot_seq)
            snapshot = b""
            if after is None or after < snapshot_seq:
                snapshot = bytes(c.execute(select(files.snapshot).where(files.draft_id == draft_id,
                                                                        files.path == path)).scalar_one())
            since = snapshot_seq if after is None else max(after, snapshot_seq)
            updates = _after(c, draft_id, path, since)
        return StoredDoc(snapshot, snapshot_seq, updates)

    def append(self, draft_id: int, path: str, updates: Sequence[bytes], user_id: int | None) -> list[int]:
        """Store `updates` after the file's newest, numbered in order; `user_id` made them."""
        if not updates:
            return []
        now = time.time()
        with self._tx() as c:
            last = c.execute(update(d.draft_files).where(d.draft_files.c.draft_id == draft_id,
                                                         d.draft_files.c.path == path)
                             .values(seq=d.draft_files.c.seq + len(updates)).returning(d.draft_files.c.seq)).first()
            if last is None:
                raise DraftNotFound(f"draft {draft_id} has no file {path!r}", path=path)
            first = int(last.seq) - len(updates) + 1
            c.execute(d.draft_updates.insert(), [{"draft_id": draft_id, "path": path, "seq": first + i, "data": data,
                                                  "created_at": now} for i, data in enumerate(updates)])
            if user_id is not None:
                insert_ignore(c, d.draft_editors, {"draft_id": draft_id, "user_id": user_id, "first_at": now})
            c.execute(update(d.drafts).where(d.drafts.c.id == draft_id).values(updated_at=now))
        return list(range(first, first + len(updates)))

    def compact(self, draft_id: int, path: str, merge: Callable[[StoredDoc], bytes]) -> int:
        """Replace the snapshot by `merge` of it and every update stored, and drop those updates
        (one transaction, the file's row held); the stored size after."""
        with self._tx() as c:
            row = c.execute(select(d.draft_files.c.snapshot, d.draft_files.c.snapshot_seq)
                            .where(d.draft_files.c.draft_id == draft_id, d.draft_files.c.path == path)
                            .with_for_update()).first()
            if row is None:
                raise DraftNotFound(f"draft {draft_id} has no file {path!r}", path=path)
            stored = StoredDoc(bytes(row.snapshot), row.snapshot_seq, _after(c, draft_id, path, row.snapshot_seq))
            if not stored.updates:
                return stored.size
            snapshot = merge(stored)
            c.execute(update(d.draft_files).where(d.draft_files.c.draft_id == draft_id, d.draft_files.c.path == path)
                      .values(snapshot=snapshot, snapshot_seq=stored.seq))
            c.execute(delete(d.draft_updates).where(d.draft_updates.c.draft_id == draft_id,
                                                    d.draft_updates.c.path == path,
                                                    d.draft_updates.c.seq <= stored.seq))
        return len(snapshot)

    def stored_size(self, draft_id: int) -> int:
        """Bytes the draft's documents take: snapshots and updates."""
        with self._read() as c:
            snapshots = c.execute(select(func.coalesce(func.sum(func.length(d.draft_files.c.snapshot)), 0))
                                  .where(d.draft_files.c.draft_id == draft_id)).scalar_one()
            updates = c.execute(select(func.coalesce(func.sum(func.length(d.draft_updates.c.data)), 0))
                                .where(d.draft_updates.c.draft_id == draft_id)).scalar_one()
        return int(snapshots) + int(updates)

    def editors(self, draft_id: int) -> list[str]:
        """Who edited the draft, by name, in the order they first did."""
        with self._read() as c:
            rows = c.execute(select(s.users.c.name).join(d.draft_editors, d.draft_editors.c.user_id == s.users.c.id)
                             .where(d.draft_editors.c.draft_id == draft_id)
                             .order_by(d.draft_editors.c.first_at, s.users.c.name)).all()
        return [r.name for r in rows]

    # -- conflicts left by a rebase ---------------------------------------------------------
    def set_conflicts(self, draft_id: int, conflicts: Sequence[DraftConflict]) -> None:
        with self._tx() as c:
            for k in conflicts:
                upsert(c, d.draft_conflicts, {"draft_id": draft_id, "path": k.path, "base_sha": k.base_sha,
                                              "theirs_sha": k.theirs_sha, "base": k.base, "theirs": k.theirs,
                                              "ours": k.ours, "details": json.dumps(k.details),
                                              "created_at": k.created_at},
                       ("draft_id", "path"), ("base_sha", "theirs_sha", "base", "theirs", "ours", "details",
                                              "created_at"))

    def conflicts(self, draft_id: int) -> list[DraftConflict]:
        with self._read() as c:
            rows = c.execute(select(d.draft_conflicts).where(d.draft_conflicts.c.draft_id == draft_id)
                             .order_by(d.draft_conflicts.c.path)).all()
        return [DraftConflict(r.draft_id, r.path, r.base_sha, r.theirs_sha, _bytes(r.base), _bytes(r.theirs),
                              bytes(r.ours), list(json.loads(r.details)), r.created_at) for r in rows]

    def resolve(self, draft_id: int, path: str) -> bool:
        """The conflict of `path` is settled (its text is what the draft holds now); whether there was one."""
        with self._tx() as c:
            gone = c.execute(delete(d.draft_conflicts).where(d.draft_conflicts.c.draft_id == draft_id,
                                                             d.draft_conflicts.c.path == path)
                             .returning(d.draft_conflicts.c.path)).first()
        return gone is not None


def _after(c: Any, draft_id: int, path: str, seq: int) -> list[tuple[int, bytes]]:
    query = (select(d.draft_updates.c.seq, d.draft_updates.c.data)
             .where(d.draft_updates.c.draft_id == draft_id, d.draft_updates.c.path == path,
                    d.draft_updates.c.seq > seq).order_by(d.draft_updates.c.seq))
    return [(int(r.seq), bytes(r.data)) for r in c.execute(query).all()]


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _draft(row: Row[Any]) -> Draft:
    return Draft(row.id, row.template_id, row.branch, row.base, row.created_by, row.created_at, row.updated_at,
                 row.last_commit, row.pull_number, json.loads(row.rebased) if row.rebased else None)
