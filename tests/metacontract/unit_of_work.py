"""MetaStore.atomic(): one transaction across every repository used inside it."""
from __future__ import annotations

import pytest

from registry.errors import AlreadyExists, PullNotFound, TemplateNotFound
from registry.meta import Event, EventFilter

from .support import SHA, add_template


class TestUnitOfWork:
    def test_atomic_commits_a_change_with_its_event_or_neither(self, meta):
        t = add_template(meta)
        user = meta.users.add("eve", None, False)
        with meta.atomic():
            meta.activity.set_star(t.id, user.id, True)
            meta.events.add(Event("star.created", "eve", t.id, t.full_name, {"n": 1}))
        with pytest.raises(RuntimeError), meta.atomic():
            meta.activity.set_star(t.id, user.id, False)
            meta.events.add(Event("star.deleted", "eve", t.id, t.full_name, {}))
            raise RuntimeError("the event's delivery could not be recorded")
        assert meta.activity.has_star(t.id, user.id)  # the second change went with its event
        events, total = meta.events.page(EventFilter(template_id=t.id), 0, 10)
        assert total == 1 and [e.action for e in events] == ["star.created"] and events[0].payload == {"n": 1}
        # a failed write inside (a constraint) rolls back to its savepoint, not the whole block
        with meta.atomic():
            with pytest.raises(AlreadyExists):
                meta.users.add("eve", None, False)
            meta.events.add(Event("user.retry", None))
        assert meta.events.page(EventFilter(action="user"), 0, 10)[1] == 1

    def test_repositories_read_what_the_block_wrote_and_roll_back_together(self, meta):
        with pytest.raises(RuntimeError, match="after both writes"), meta.atomic():
            t = add_template(meta)
            pull = meta.pulls.add(t.id, "one", "", "alice", t.id, "f", "main", SHA)  # needs the uncommitted row
            assert meta.templates.get_by_id(t.id) == t and meta.pulls.get(t.id, 1) == pull
            raise RuntimeError("the use case failed after both writes")
        with pytest.raises(TemplateNotFound):
            meta.templates.get_by_id(t.id)
        with pytest.raises(PullNotFound):
            meta.pulls.get(t.id, 1)
