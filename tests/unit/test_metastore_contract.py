"""One contract for every MetaStore backend: SQLite here, PostgreSQL in
tests/integration/test_metastore_postgres.py (the same tests, another `meta` fixture).

Each test says what a use case relies on: uniqueness, not-found errors, cascades on template
deletion, paging totals, the status bookkeeping the checks pipeline depends on, upserts.
"""
from __future__ import annotations

import time

import pytest

from registry.errors import (
    AlreadyExists,
    NotFound,
    PullNotFound,
    RunNotFound,
    TemplateNotFound,
    TokenNotFound,
    UserNotFound,
)
from registry.meta import MetaStore, Protection, Status, Template
from registry.meta.db import open_store
from registry.settings import Settings

SHA = "a" * 40


@pytest.fixture
def meta(tmp_path) -> MetaStore:
    return open_store(Settings(data_dir=tmp_path))


def _template(meta: MetaStore, owner: str = "alice", name: str = "t", parent: str | None = None,
              tid: str | None = None) -> Template:
    return meta.templates.add(Template(tid or f"{owner}-{name}", owner, name, "public", "d", parent, 1.0, 1.0))


def test_users_are_unique_and_found_by_name_and_id(meta):
    alice = meta.users.add("alice", "a@example.com", False)
    assert meta.users.get("alice") == alice == meta.users.get_by_id(alice.id)
    with pytest.raises(AlreadyExists):
        meta.users.add("alice", None, True)
    with pytest.raises(UserNotFound):
        meta.users.get("nobody")
    with pytest.raises(UserNotFound):
        meta.users.get_by_id(alice.id + 1000)


def test_tokens_are_found_by_hash_and_revoked(meta):
    alice = meta.users.add("alice", None, True)
    token = meta.users.add_token(alice.id, "h1", "admin", time.time() + 60)
    found = meta.users.find_token("h1")
    assert found is not None and found[0] == token and found[1] == alice and not token.revoked
    meta.users.revoke_token(token.id)
    again = meta.users.find_token("h1")
    assert again is not None and again[0].revoked
    assert meta.users.find_token("h2") is None
    second = meta.users.add_token(alice.id, "h2", "read", None)
    assert [t.id for t in meta.users.list_tokens(alice.id)] == [token.id, second.id]
    assert second.created_at > 0 and second.last_used_at is None
    meta.users.touch_token(second.id, 123.0)
    assert meta.users.get_token(second.id).last_used_at == 123.0
    with pytest.raises(TokenNotFound):
        meta.users.get_token(second.id + 100)


def test_templates_are_unique_per_owner_listed_with_totals_and_filtered(meta):
    for owner, name in [("bob", "b"), ("alice", "z"), ("alice", "a")]:
        _template(meta, owner, name)
    with pytest.raises(AlreadyExists):
        _template(meta, "alice", "a", tid="other-id")
    items, total = meta.templates.page(None, 0, 2)
    assert total == 3 and [t.full_name for t in items] == ["alice/a", "alice/z"]
    items, total = meta.templates.page(None, 2, 2)
    assert total == 3 and [t.full_name for t in items] == ["bob/b"]
    items, total = meta.templates.page("alice", 0, 10)
    assert total == 2 and {t.owner for t in items} == {"alice"}
    assert meta.templates.get("alice", "a") == meta.templates.get_by_id("alice-a")
    with pytest.raises(TemplateNotFound):
        meta.templates.get("alice", "nope")
    with pytest.raises(TemplateNotFound):
        meta.templates.get_by_id("nope")


def test_touch_moves_updated_at_and_update_changes_only_what_is_given(meta):
    _template(meta)
    meta.templates.touch("alice-t")
    assert meta.templates.get_by_id("alice-t").updated_at > 1.0
    changed = meta.templates.update("alice-t", visibility="private")
    assert changed.visibility == "private" and changed.description == "d"
    assert meta.templates.update("alice-t", description="e").description == "e"


def test_forks_of_follows_forks_of_forks(meta):
    _template(meta, "alice", "root")
    _template(meta, "bob", "root", parent="alice-root")
    _template(meta, "carol", "root", parent="bob-root")
    _template(meta, "dave", "other")
    assert {t.id for t in meta.templates.forks_of("alice-root")} == {"bob-root", "carol-root"}
    assert meta.templates.forks_of("dave-other") == []


def test_collaborators_upsert_and_names(meta):
    _template(meta)
    bob, carol = meta.users.add("bob", None, False), meta.users.add("carol", None, False)
    meta.templates.set_collaborator("alice-t", bob.id, "reader")
    meta.templates.set_collaborator("alice-t", bob.id, "writer")  # an upsert, not a second row
    meta.templates.set_collaborator("alice-t", carol.id, "maintainer")
    assert meta.templates.collaborator_role("alice-t", bob.id) == "writer"
    assert meta.templates.collaborator_names("alice-t") == ["bob", "carol"]
    assert meta.templates.collaborator_roles("alice-t") == {"bob": "writer", "carol": "maintainer"}
    meta.templates.remove_collaborator("alice-t", bob.id)
    assert meta.templates.collaborator_role("alice-t", bob.id) is None
    assert meta.templates.collaborator_names("alice-t") == ["carol"]


def test_protection_roundtrip_upsert_and_delete(meta):
    _template(meta)
    rule = Protection("main", False, False, ("validate",), 1)
    meta.templates.set_protection("alice-t", rule)
    assert meta.templates.get_protection("alice-t", "main") == rule
    meta.templates.set_protection("alice-t", Protection("main", True, True, (), 0))
    assert meta.templates.get_protection("alice-t", "main") == Protection("main", True, True, (), 0)
    assert meta.templates.get_protection("alice-t", "dev") is None
    meta.templates.delete_protection("alice-t", "main")
    assert meta.templates.get_protection("alice-t", "main") is None


def test_pending_statuses_are_created_once_and_drive_the_pipeline(meta):
    _template(meta)
    assert meta.checks.add_pending_statuses("alice-t", SHA, ("validate", "index")) == ["validate", "index"]
    assert meta.checks.add_pending_statuses("alice-t", SHA, ("validate", "index", "sandbox")) == ["sandbox"]
    assert meta.checks.has_statuses("alice-t", SHA) and not meta.checks.has_statuses("alice-t", "b" * 40)
    waiting = {(s.sha, s.context) for s in meta.checks.waiting_statuses(older_than=0)}
    assert waiting == {(SHA, "validate"), (SHA, "index"), (SHA, "sandbox")}  # never handed over
    meta.checks.mark_enqueued("alice-t", SHA, ("validate", "index", "sandbox"))
    assert meta.checks.waiting_statuses(older_than=0) == []  # handed over just now
    assert len(meta.checks.waiting_statuses(older_than=time.time() + 1)) == 3  # handed over long ago
    meta.checks.set_status(Status("alice-t", SHA, "validate", "failure", "bad", [{"path": "$.x", "message": "m"}], "u"))
    got = {s.context: s for s in meta.checks.get_statuses("alice-t", SHA)}
    assert got["validate"].state == "failure" and got["validate"].problems == [{"path": "$.x", "message": "m"}]
    assert got["validate"].target_url == "u" and got["index"].state == "pending"
    assert {s.context for s in meta.checks.waiting_statuses(older_than=time.time() + 1)} == {"index", "sandbox"}


def test_stars_are_idempotent_and_ratings_upsert(meta):
    _template(meta)
    a, b = meta.users.add("a", None, False), meta.users.add("b", None, False)
    for _ in range(2):
        meta.activity.set_star("alice-t", a.id, True)
    meta.activity.set_star("alice-t", b.id, True)
    meta.activity.rate("alice-t", a.id, 5, "great")
    meta.activity.rate("alice-t", a.id, 3, None)  # a user's second rating replaces the first
    meta.activity.rate("alice-t", b.id, 4, None)
    assert meta.activity.social("alice-t") == (2, 3.5, 2)
    assert meta.activity.has_star("alice-t", a.id) and not meta.activity.has_star("alice-t", a.id + 100)
    meta.activity.set_star("alice-t", a.id, False)
    assert meta.activity.social("alice-t")[0] == 1 and not meta.activity.has_star("alice-t", a.id)
    meta.activity.rate("alice-t", b.id, 4, "short and clear")
    assert [(r.user, r.score, r.review) for r in meta.activity.recent_ratings("alice-t")] == [("b", 4, "short and clear")]


def test_pulls_are_numbered_per_template_listed_by_state_and_updated(meta):
    _template(meta, "alice", "t")
    _template(meta, "bob", "t", parent="alice-t")
    first = meta.pulls.add("alice-t", "one", "", "bob", "bob-t", "feature", "main", SHA)
    second = meta.pulls.add("alice-t", "two", "", "alice", "alice-t", "fix", "main", SHA)
    other = meta.pulls.add("bob-t", "elsewhere", "", "bob", "bob-t", "x", "main", SHA)
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert meta.pulls.get("alice-t", 1) == first
    with pytest.raises(PullNotFound):
        meta.pulls.get("alice-t", 3)
    closed = meta.pulls.update("alice-t", 2, state="closed", title="two!")
    assert closed.state == "closed" and closed.title == "two!" and closed.body == ""
    assert [p.number for p in meta.pulls.page("alice-t", "open", 0, 10)[0]] == [1]
    items, total = meta.pulls.page("alice-t", "all", 0, 1)
    assert total == 2 and [p.number for p in items] == [2]  # newest first
    assert [p.number for p in meta.pulls.open_from("bob-t", "feature")] == [1]
    meta.pulls.update("alice-t", 1, head_sha="b" * 40)
    assert meta.pulls.get("alice-t", 1).head_sha == "b" * 40


def test_reviews_and_comments_keep_order_and_the_head_they_saw(meta):
    _template(meta)
    meta.pulls.add("alice-t", "one", "", "bob", "alice-t", "feature", "main", SHA)
    rid = meta.pulls.add_review("alice-t", 1, "carol", "APPROVE", "lgtm", SHA,
                          [{"body": "nit", "path": "a.txt", "line": 2, "side": "RIGHT"}])
    cm = meta.pulls.add_comment("alice-t", 1, "dave", "hello", None, None, None, SHA)
    reviews = meta.pulls.reviews("alice-t", 1)
    assert [(r["id"], r["author"], r["event"], r["sha"]) for r in reviews] == [(rid, "carol", "APPROVE", SHA)]
    comments = meta.pulls.comments("alice-t", 1)
    assert [(c["body"], c["review_id"], c["path"], c["line"]) for c in comments] == [
        ("nit", rid, "a.txt", 2), ("hello", None, None, None)]
    assert cm["id"] == comments[1]["id"] and cm["author"] == "dave"


def test_runs_record_their_life_and_are_found_latest_first(meta):
    _template(meta)
    first = meta.checks.add_run("alice-t", SHA, None, "push", None, "local")
    assert first.state == "queued" and not first.final and first.metrics == {} and first.cost == {}
    manual = meta.checks.add_run("alice-t", SHA, "main", "manual", "alice", "local")
    assert meta.checks.get_run(first.id) == first
    with pytest.raises(RunNotFound):
        meta.checks.get_run("nope")
    done = meta.checks.update_run(first.id, state="success", report={"passed": 1}, metrics={"duration_s": 1.5},
                           cost={"total_usd": 0.1}, finished_at=2.0)
    assert done.final and done.report == {"passed": 1} and done.metrics == {"duration_s": 1.5}
    assert meta.checks.find_run("alice-t", SHA, "push") == done
    assert meta.checks.find_run("alice-t", "b" * 40, "push") is None
    assert [r.id for r in meta.checks.queued_runs(older_than=time.time() + 1)] == [manual.id]
    items, total = meta.checks.list_runs("alice-t", 0, 1)
    assert total == 2 and len(items) == 1


def test_deleting_a_template_removes_everything_it_owns(meta):
    _template(meta)
    bob = meta.users.add("bob", None, False)
    meta.templates.set_collaborator("alice-t", bob.id, "writer")
    meta.templates.set_protection("alice-t", Protection("main", False, False, (), 0))
    meta.checks.add_pending_statuses("alice-t", SHA, ("validate",))
    meta.activity.set_star("alice-t", bob.id, True)
    meta.pulls.add("alice-t", "one", "", "bob", "alice-t", "f", "main", SHA)
    run = meta.checks.add_run("alice-t", SHA, None, "push", None, "local")
    meta.templates.delete("alice-t")
    with pytest.raises(TemplateNotFound):
        meta.templates.get_by_id("alice-t")
    _template(meta)  # the same name and id again start from nothing
    assert meta.templates.collaborator_role("alice-t", bob.id) is None
    assert meta.templates.get_protection("alice-t", "main") is None
    assert meta.checks.get_statuses("alice-t", SHA) == [] and meta.activity.social("alice-t") == (0, 0.0, 0)
    with pytest.raises(PullNotFound):
        meta.pulls.get("alice-t", 1)
    with pytest.raises(RunNotFound):
        meta.checks.get_run(run.id)


def test_listings_are_filtered_by_who_may_read_them(meta):
    from registry.meta import Visibility

    bob = meta.users.add("bob", None, False)
    meta.users.add("alice", None, False)
    for name, visibility in (("a", "public"), ("b", "private"), ("c", "private"), ("d", "public")):
        meta.templates.add(Template(f"alice-{name}", "alice", name, visibility, "", None, 1.0, 1.0))
    meta.templates.set_collaborator("alice-c", bob.id, "reader")
    seen = lambda who, **kw: [t.name for t in meta.templates.page(None, 0, 10, who)[0]]  # noqa: E731
    assert seen(Visibility(None)) == ["a", "d"] and meta.templates.page(None, 0, 10, Visibility(None))[1] == 2
    assert seen(Visibility("bob")) == ["a", "c", "d"]
    assert seen(Visibility("alice")) == ["a", "b", "c", "d"] == seen(Visibility(None, all=True))
    page, total = meta.templates.page(None, 1, 1, Visibility(None))
    assert [t.name for t in page] == ["d"] and total == 2  # pages and totals count only what is visible


# -- events, hooks, deliveries, usage (issue 19) -------------------------------------------
def test_atomic_commits_a_change_with_its_event_or_neither(meta):
    from registry.meta import Event, EventFilter

    t = _template(meta)
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


def test_events_filter_by_action_family_actor_time_and_template_name(meta):
    from registry.meta import Event, EventFilter

    t = _template(meta)
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


def test_a_delivery_is_claimed_by_one_attempt_at_a_time(meta):
    from registry.meta import Outgoing

    t = _template(meta)
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


def test_usage_adds_up_per_day_without_lost_updates(meta):
    t = _template(meta)
    meta.activity.add_usage(t.id, "2026-11-27", {"views": 2, "stars": 1})
    meta.activity.add_usage(t.id, "2026-11-27", {"views": 3})
    meta.activity.add_usage(t.id, "2026-11-28", {"clones": 1})
    days = meta.activity.usage(t.id, "2026-11-01", "2026-11-30")
    assert [(d.day, d.counts["views"], d.counts["stars"], d.counts["clones"]) for d in days] == [
        ("2026-11-27", 5, 1, 0), ("2026-11-28", 0, 0, 1)]
    assert meta.activity.usage_scores("2026-11-28", {"clones": 4.0, "views": 1.0}) == {t.id: 4.0}
    assert meta.activity.usage_scores("2026-11-01", {"clones": 4.0, "views": 1.0, "stars": 8.0},
                             double_from="2026-11-28") == {t.id: 5 + 8 + 2 * 4.0}
