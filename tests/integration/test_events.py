"""Events (issue 19): one record of what happened, read as an audit log (per template for
maintainers, all of it for admins, `registry audit`), counted as usage per day (analytics, the
template page's chart, sort=trending), against a real `registry serve`."""
from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from tests.gitcli import commit_file, git
from tests.integration.conftest import Env, _start
from tests.integration.test_pipeline import MINIMAL

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    yield from _start(tmp_path_factory.mktemp("events"), "local", None)


def _admin(ev: Env) -> str:
    if "root" not in ev.tokens:
        ev.tokens["root"] = ev.server.user("root", "admin", admin=True)
    return ev.tokens["root"]


def _events(ev: Env, user: str, path: str, **params) -> list[dict]:
    with ev.api(user) as c:
        resp = c.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _push(ev: Env, work, name: str, content: str) -> str:
    sha = commit_file(work, name, content)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return sha


def test_each_change_is_an_event_with_actor_request_and_address(ev, tmp_path):
    created = ev.create("audited")
    work = ev.clone(created["clone_url"], "alice", tmp_path / "w")
    first = _push(ev, work, "template.json", MINIMAL)
    git("checkout", "-q", "-b", "feature", cwd=work)
    head = commit_file(work, "README.md", "# changed\n")
    git("push", "-q", "origin", "feature", cwd=work)
    with ev.api("alice") as a, ev.api("bob") as b:
        assert a.put("/templates/alice/audited/collaborators/bob", json={"role": "writer"}).status_code in (200, 204)
        assert a.put("/templates/alice/audited/protection/main",
                     json={"required_checks": [], "required_approvals": 0}).status_code in (200, 204)
        pr = a.post("/templates/alice/audited/pulls", json={"title": "t", "body": "", "head": "feature", "base": "main"})
        assert pr.status_code == 201, pr.text
        number = pr.json()["number"]
        assert b.post(f"/templates/alice/audited/pulls/{number}/reviews",
                      json={"event": "APPROVE", "body": "fine"}).status_code in (200, 201)
        assert b.post(f"/templates/alice/audited/pulls/{number}/comments", json={"body": "nit"}).status_code == 201
        merged = a.post(f"/templates/alice/audited/pulls/{number}/merge", json={"method": "merge"})
        assert merged.status_code == 200, merged.text
        assert b.put("/templates/alice/audited/star", headers={"X-Request-Id": "req-star-1"}).status_code in (200, 204)
        assert b.post("/templates/alice/audited/ratings", json={"score": 4}).status_code in (200, 201)

    events = _events(ev, "alice", "/templates/alice/audited/events", per_page=100)
    actions = [e["action"] for e in reversed(events)]  # oldest first
    for wanted in ("template.created", "push", "collaborator.added", "protection.updated", "pull_request.opened",
                   "review.submitted", "comment.created", "pull_request.merged", "star.created", "rating.created"):
        assert wanted in actions, (wanted, actions)
    assert actions.index("template.created") < actions.index("pull_request.opened") < actions.index("pull_request.merged")
    pushes = [e for e in events if e["action"] == "push"]
    assert {(p["payload"]["ref"], p["payload"]["after"]) for p in pushes} >= {
        ("refs/heads/main", first), ("refs/heads/feature", head)}
    assert all(p["actor"] == "alice" and p["template"] == "alice/audited" for p in pushes)
    star = next(e for e in events if e["action"] == "star.created")
    assert star["actor"] == "bob" and star["request_id"] == "req-star-1"
    assert star["client_ip"] is None  # addresses are for admins
    with httpx.Client(base_url=ev.url + "/api/v1", headers={"Authorization": f"Bearer {_admin(ev)}"}) as r:
        seen = r.get("/admin/events", params={"template": "alice/audited", "action": "star"}).json()
        assert [e["client_ip"] for e in seen] == ["127.0.0.1"]
    assert dt.datetime.fromisoformat(star["time"].replace("Z", "+00:00")) <= dt.datetime.now(dt.UTC)
    merge = next(e for e in events if e["action"] == "pull_request.merged")
    assert merge["payload"]["pull_request"]["merged"] is True and merge["payload"]["number"] == number
    # every status change of the checks is recorded, by the registry itself (no actor)
    deadline = time.monotonic() + 30
    while not any(e["action"] == "status.changed" and e["payload"]["sha"] == first for e in events):
        assert time.monotonic() < deadline, "no status.changed event"
        time.sleep(0.3)
        events = _events(ev, "alice", "/templates/alice/audited/events", action="status", per_page=100)
    assert all(e["actor"] is None for e in events if e["action"] == "status.changed")


def test_filters_pages_and_who_may_read(ev):
    ev.create("filtered")
    with ev.api("alice") as a:
        a.put("/templates/alice/filtered/collaborators/bob", json={"role": "maintainer"})
        a.put("/templates/alice/filtered/collaborators/carol", json={"role": "writer"})
        a.put("/templates/alice/filtered/star")
    with ev.api("bob") as b:
        b.put("/templates/alice/filtered/star")
    path = "/templates/alice/filtered/events"
    assert [e["action"] for e in _events(ev, "alice", path, action="collaborator")] == ["collaborator.added"] * 2
    assert [e["actor"] for e in _events(ev, "alice", path, action="star.created")] == ["bob", "alice"]
    assert [e["actor"] for e in _events(ev, "alice", path, actor="bob")] == ["bob"]
    assert _events(ev, "bob", path, since="2999-01-01") == []
    assert len(_events(ev, "alice", path, until="2000-01-01")) == 0
    assert len(_events(ev, "alice", path, since=dt.date.today().isoformat())) == 5
    page = _events(ev, "alice", path, per_page=2, page=2)
    assert len(page) == 2
    with ev.api("alice") as a:
        assert 'rel="next"' in a.get(path, params={"per_page": 2}).headers["link"]
        assert a.get(path, params={"since": "yesterday"}).status_code == 400
    with ev.api("carol") as c:  # a writer, not a maintainer
        assert c.get(path).status_code == 403
    with ev.api(None) as anon:
        assert anon.get(path).status_code == 401
        assert anon.get("/admin/events").status_code == 401
    with ev.api("alice") as a:  # not an admin
        assert a.get("/admin/events").status_code == 403


def test_admins_read_every_event_and_operators_use_registry_audit(ev):
    root = _admin(ev)
    ev.create("admin-seen", user="bob")
    with httpx.Client(base_url=ev.url + "/api/v1", headers={"Authorization": f"Bearer {root}"}) as r:
        tokens = r.get("/admin/events", params={"action": "token"}).json()
        assert any(e["action"] == "token.created" and e["payload"]["token"]["user"] == "root" for e in tokens)
        assert all("hash" not in str(e["payload"]) and "rgt_" not in str(e["payload"]) for e in tokens)
        mine = r.get("/admin/events", params={"template": "bob/admin-seen"}).json()
        assert [e["action"] for e in mine] == ["template.created"]
    out = ev.server.cli("audit", "--template", "bob/admin-seen").stdout.strip().splitlines()
    assert len(out) == 1 and " bob template.created bob/admin-seen " in out[0]
    assert ev.server.cli("audit", "--action", "token.created", "--actor", "nobody").stdout == ""
    bad = ev.server.cli("audit", "--since", "not-a-date", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "--since" in bad.stderr


def test_events_survive_the_templates_deletion_and_a_failed_change_leaves_none(ev):
    ev.create("short-lived")
    with ev.api("alice") as a:
        assert a.delete("/templates/alice/short-lived").status_code == 204
        # refused changes record nothing
        assert a.put("/templates/alice/audited/collaborators/nobody", json={"role": "writer"}).status_code == 404
    root = _admin(ev)
    with httpx.Client(base_url=ev.url + "/api/v1", headers={"Authorization": f"Bearer {root}"}) as r:
        gone = r.get("/admin/events", params={"template": "alice/short-lived"}).json()
        assert [e["action"] for e in gone] == ["template.deleted", "template.created"]
        assert not [e for e in r.get("/admin/events", params={"action": "collaborator"}).json()
                    if e["payload"].get("user") == "nobody"]


def _day(ev: Env, owner: str, name: str) -> dict:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with ev.api("alice") as a:
        resp = a.get(f"/templates/{owner}/{name}/analytics", params={"from": today, "to": today})
    assert resp.status_code == 200, resp.text
    (day,) = resp.json()["days"]
    assert day["date"] == today
    return day


def test_analytics_count_views_clones_fetches_reads_stars_forks_and_runs(ev, tmp_path):
    created = ev.create("counted")
    work = ev.clone(created["clone_url"], "alice", tmp_path / "w")
    _push(ev, work, "template.json", MINIMAL)
    before = _day(ev, "alice", "counted")
    assert before["clones"] == 0 and before["fetches"] == 0  # an empty repo's clone asks for no pack
    ev.clone(created["clone_url"], "bob", tmp_path / "b1")
    ev.clone(created["clone_url"], "bob", tmp_path / "b2")
    _push(ev, work, "README.md", "# more\n")
    git("pull", "-q", "origin", "main", cwd=tmp_path / "b1")
    httpx.get(f"{ev.url}/alice/counted")
    httpx.get(f"{ev.url}/alice/counted")
    with ev.api("bob") as b:
        b.put("/templates/alice/counted/star")
        assert b.post("/templates/alice/counted/forks", json={}).status_code == 201
    with ev.api("alice") as a:
        assert a.post("/templates/alice/counted/runs", json={"ref": "main"}).status_code == 202
    deadline = time.monotonic() + 90
    while (day := _day(ev, "alice", "counted"))["runs"] < 3:  # the sandbox check of both pushes, and this one
        assert time.monotonic() < deadline, day
        time.sleep(0.5)
    assert day["clones"] == 2 and day["fetches"] == 1
    assert day["views"] == 2 and day["stars"] == 1 and day["forks"] == 1
    assert day["api_reads"] >= 1  # the analytics reads themselves are API reads of the template
    with ev.api("alice") as a:
        month = a.get("/templates/alice/counted/analytics").json()["days"]
        assert len(month) == 30 and month[-1]["date"] == day["date"]
        assert a.get("/templates/alice/counted/analytics", params={"from": "2026-13-01"}).status_code == 400
        assert a.get("/templates/alice/counted/analytics", params={"from": "2020-01-01",
                                                                    "to": "2026-01-01"}).status_code == 400
        early = a.get("/templates/alice/counted/analytics", params={"to": "0001-01-05"})
        assert early.status_code == 200 and len(early.json()["days"]) == 1
    page = httpx.get(f"{ev.url}/alice/counted").text
    assert "<svg" in page and 'class="usage"' in page and "page views" in page and page.count("<script") == sum(
        page.count(f'<script src="/static/{b}.js" defer>') for b in ("copy", "news"))  # only ours


def test_trending_puts_recent_usage_first(ev, tmp_path):
    for name in ("quiet", "busy"):
        created = ev.create(name, user="carol")
        work = ev.clone(created["clone_url"], "carol", tmp_path / name)
        commit_file(work, "template.json", MINIMAL.replace('"title"', '"x_title_unused"', 0))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        ev.check(name, git("rev-parse", "HEAD", cwd=work).stdout.strip(), "index", user="carol")
    for _ in range(3):
        httpx.get(f"{ev.url}/carol/busy")
    with ev.api("alice") as a:
        a.put("/templates/carol/busy/star")
        found = a.get("/search", params={"owner": "carol", "sort": "trending"}).json()
        names = [r["name"] for r in found["results"]]
        assert names.index("busy") < names.index("quiet"), names
        assert a.get("/search", params={"sort": "hot"}).status_code in (400, 422)


def test_metrics_for_operators(ev, tmp_path):
    created = ev.create("measured")
    work = ev.clone(created["clone_url"], "alice", tmp_path / "w")
    sha = _push(ev, work, "template.json", MINIMAL)
    assert ev.check("measured", sha, "validate")["state"] == "success"
    text = httpx.get(f"{ev.url}/metrics").text
    assert 'registry_queue_depth{queue="checks"}' in text and 'registry_queue_depth{queue="hooks"}' in text
    latency = [line for line in text.splitlines() if line.startswith('registry_check_latency_seconds_count{context="validate"}')]
    assert latency and float(latency[0].split()[-1]) >= 1
    assert 'registry_check_latency_seconds_bucket{context="validate",le="+Inf"}' in text
    assert "registry_push_bytes_count" in text and "registry_rate_limited_total" in text
    assert "# TYPE registry_webhook_deliveries gauge" in text
