"""meta.events: the event log, hooks and the delivery outbox."""
from __future__ import annotations

import time

import pytest

from registry.errors import NotFound
from registry.meta import Event, EventFilter, Outgoing

from .support import add_template


class TestEventRepository:
    def test_events_filter_by_action_family_actor_time_and_template_name(self, meta):
        t = add_template(meta)
        for action, actor in (("pull_request.opened", "a"), ("pull_request.merged", "b"), ("pull_requests.x", "a"),
                              ("push", "a")):
            meta.events.add(Event(action, actor, t.id, t.full_name))
        names = lambda where: [e.action for e in meta.events.page(where, 0, 50)[0]]  # noqa: E731
        assert names(EventFilter(action="pull_request")) == ["pull_request.merged", "pull_request.opened"]
        assert names(EventFilter(action="pull_request.merged")) == ["pull_request.merged"]
        assert names(EventFilter(actor="b")) == ["pull_request.merged"]
        assert names(EventFilter(template="alice/t", action="push")) == ["push"]
        assert names(EventFilter(since=time.time() + 60)) == []
        assert meta.events.prune(time.time() + 1) == 4 and names(EventFilter()) == []

    def test_events_after_an_id_come_oldest_first_from_where_a_feed_left_off(self, meta):
        t = add_template(meta)
        start = meta.events.last_id()
        ids = [meta.events.add(Event(action, "a", t.id, t.full_name)).id for action in ("push", "star.created", "push")]
        assert meta.events.last_id() == ids[-1] and ids == sorted(ids) and ids[0] > start
        assert [e.id for e in meta.events.after(start, 10)] == ids
        assert [(e.id, e.action) for e in meta.events.after(ids[0], 1)] == [(ids[1], "star.created")]
        assert meta.events.after(ids[-1], 10) == []

    def test_a_delivery_is_claimed_by_one_attempt_at_a_time(self, meta):
        t = add_template(meta)
        hook = meta.events.add_hook(t.id, "http://example.com/h", ["push"], "s", True, "alice")
        (did,) = meta.events.add_deliveries(None, [Outgoing(hook.id, "push", "{}")])
        now = time.time()
        first = meta.events.claim_delivery(did, now, 30)
        assert first is not None and first.attempts == 1
        assert meta.events.claim_delivery(did, now, 30) is None  # leased
        assert [d.id for d in meta.events.due_deliveries(now)] == []
        assert [d.id for d in meta.events.due_deliveries(now + 31)] == [did]  # its attempt died: due again
        assert meta.events.claim_delivery(did, now + 31, 30).attempts == 2
        assert not meta.events.finish_delivery(did, 1, "failed", 500, "late", 9, now + 40)  # the first attempt came back late
        assert meta.events.finish_delivery(did, 2, "delivered", 200, None, 12)
        assert meta.events.claim_delivery(did, now + 100, 30) is None and meta.events.get_delivery(did).status == "delivered"
        (used,) = meta.events.add_deliveries(None, [Outgoing(hook.id, "push", "{}")])
        later = time.time() + 1
        assert meta.events.claim_delivery(used, later, 1, max_attempts=1).attempts == 1  # its worker dies: no attempt left
        assert meta.events.claim_delivery(used, later + 2, 1, max_attempts=1) is None
        assert meta.events.get_delivery(used).status == "failed"
        meta.events.delete_hook(t.id, hook.id)
        with pytest.raises(NotFound):
            meta.events.get_delivery(did)

    def test_hooks_are_listed_and_changed_and_deliveries_counted_by_status(self, meta):
        t = add_template(meta)
        hook = meta.events.add_hook(t.id, "http://example.com/h", ["push"], "s", True, "alice")
        changed = meta.events.update_hook(t.id, hook.id, active=False, events=["push", "star"])
        assert not changed.active and changed.events == ("push", "star") and changed.url == hook.url
        assert meta.events.list_hooks(t.id) == [changed]
        first, _ = meta.events.add_deliveries(None, [Outgoing(hook.id, "push", "{}")] * 2)
        claimed = meta.events.claim_delivery(first, time.time(), 30)
        assert meta.events.finish_delivery(first, claimed.attempts, "delivered", 200, None, 5)
        assert meta.events.delivery_counts() == {"delivered": 1, "pending": 1}
        page, total = meta.events.list_deliveries(hook.id, 0, 1)
        assert total == 2 and len(page) == 1
