"""meta.writes: refs writes journalled before they are made, until their follow-up is done."""
from __future__ import annotations

import time

import pytest

from registry.meta import Event, EventFilter, RefWrite

from .support import SHA, add_template


class TestWriteRepository:
    def test_a_write_is_recorded_once_with_its_events_and_forgotten_when_done(self, meta):
        t = add_template(meta)
        write = meta.writes.add(RefWrite("w1", t.id, "merge", "alice", (("refs/heads/main", "0" * 40, SHA),),
                                         {"number": 3, "method": "squash"}))
        assert write.state == "pending" and write.created_at > 0
        later = time.time() + 1
        assert meta.writes.owed(later) == [write]
        assert meta.writes.owed(write.created_at) == []  # only those journalled before the bound
        with pytest.raises(RuntimeError), meta.atomic():  # the events failed: nor is it recorded
            assert meta.writes.record("w1")
            meta.events.add(Event("push", "alice", t.id, t.full_name, {}))
            raise RuntimeError("the database went away before the commit")
        with meta.atomic():
            assert meta.writes.record("w1")
            meta.events.add(Event("push", "alice", t.id, t.full_name, {}))
        assert not meta.writes.record("w1")  # a second settler records nothing
        assert meta.events.page(EventFilter(template_id=t.id), 0, 10)[1] == 1
        owed, = meta.writes.owed(later)
        assert owed.state == "recorded" and owed.updates == write.updates and owed.details == write.details
        meta.writes.done("w1")
        meta.writes.done("w1")  # twice is harmless
        assert meta.writes.owed(later) == [] and not meta.writes.record("w1")

    def test_writes_go_with_their_template(self, meta):
        t = add_template(meta)
        meta.writes.add(RefWrite("w2", t.id, "push", None, ()))
        meta.templates.delete(t.id)
        assert meta.writes.owed(time.time() + 1) == []
