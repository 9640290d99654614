"""Webhooks (issue 19) against real local receivers: signed deliveries verified on the receiving
side, retries with backoff, redelivery, the SSRF guard (a target not allowed gets no connection
at all), and a worker SIGKILLed mid-delivery (delivered again, never lost, at most one extra)."""
from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.integration.test_pipeline import MINIMAL, Stack, kill_whole
from tests.receiver import receiver
from tests.services import redis_server, registry_server

pytestmark = pytest.mark.timeout(300)
QUICK = {"REGISTRY_RECONCILE_SECONDS": "0.3", "REGISTRY_WEBHOOK_BACKOFF_SECONDS": "0.3",
         "REGISTRY_WEBHOOK_TIMEOUT_SECONDS": "3"}


class Hooks:
    def __init__(self, server, tmp) -> None:
        self.stack = Stack(server, tmp)
        self.url, self.tmp = server.url, tmp
        self.api = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                                headers={"Authorization": f"Bearer {self.stack.token}"})

    def hook(self, template: str, url: str, events: list[str], secret: str = "s3cret") -> dict:
        resp = self.api.post(f"/templates/alice/{template}/hooks", json={"url": url, "events": events, "secret": secret})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def deliveries(self, template: str, hook_id: int) -> list[dict]:
        resp = self.api.get(f"/templates/alice/{template}/hooks/{hook_id}/deliveries")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait_delivery(self, template: str, hook_id: int, status: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in self.deliveries(template, hook_id) if d["status"] == status]
            if found:
                return found[0]
            assert time.monotonic() < deadline, self.deliveries(template, hook_id)
            time.sleep(0.1)

    def push(self, template: str) -> str:
        work = self.tmp / template
        if not work.exists():
            git("clone", "-q", authed(f"{self.url}/alice/{template}.git", "alice", self.stack.token), str(work))
        sha = commit_file(work, "template.json", MINIMAL + " " * len(list(work.iterdir())))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        return sha


@pytest.fixture
def hooks(tmp_path):
    with receiver() as r, registry_server(tmp_path / "data", {**QUICK, "REGISTRY_WEBHOOK_ALLOW": f"127.0.0.1:{r.port}"}) as s:
        h = Hooks(s, tmp_path)
        h.receiver = r
        yield h


def test_a_push_is_delivered_signed_and_logged(hooks):
    hooks.stack.template("signed", hooks.tmp / "signed")
    hook = hooks.hook("signed", hooks.receiver.url, ["push", "pull_request"])
    assert "secret" not in hook and hook["has_secret"] is True
    sha = hooks.push("signed")
    (got,) = hooks.receiver.wait_for(1)
    assert got.signed_by("s3cret") and not got.signed_by("wrong")
    assert got.headers["x-registry-event"] == "push" and got.headers["content-type"] == "application/json"
    body = got.json
    assert (body["ref"], body["after"], body["deleted"]) == ("refs/heads/main", sha, False)
    assert body["repository"]["full_name"] == "alice/signed" and body["sender"]["login"] == "alice"
    logged = hooks.wait_delivery("signed", hook["id"], "delivered")
    assert logged["id"] == got.headers["x-registry-delivery"]
    assert (logged["event"], logged["attempts"], logged["response_code"]) == ("push", 1, 200)
    assert logged["duration_ms"] is not None and logged["error"] is None
    # not subscribed: a star sends nothing; the hook's own change is a `template` event, not sent either
    hooks.api.put("/templates/alice/signed/star")
    time.sleep(1.0)
    assert len(hooks.receiver.received) == 1
    # redeliver: the same body again, as a new delivery
    again = hooks.api.post(f"/templates/alice/signed/hooks/{hook['id']}/deliveries/{logged['id']}/redeliver")
    assert again.status_code == 202 and again.json()["id"] != logged["id"]
    second = hooks.receiver.wait_for(2)[1]
    assert second.body == got.body and second.signed_by("s3cret")


def test_a_receiver_failing_twice_then_succeeding_gets_it_on_the_third_attempt(hooks):
    hooks.receiver.fail_first = 2
    hooks.stack.template("flaky", hooks.tmp / "flaky")
    hook = hooks.hook("flaky", hooks.receiver.url, ["star"], secret="")
    hooks.api.put("/templates/alice/flaky/star")
    got = hooks.receiver.wait_for(3)
    assert len({r.headers["x-registry-delivery"] for r in got}) == 1  # one delivery, three attempts
    assert "x-registry-signature-256" not in got[0].headers  # no secret, no signature
    assert got[0].headers["x-registry-event"] == "star" and got[0].json["action"] == "created"
    logged = hooks.wait_delivery("flaky", hook["id"], "delivered")
    assert logged["attempts"] == 3 and logged["response_code"] == 200
    time.sleep(1.0)
    assert len(hooks.receiver.received) == 3


def test_a_target_not_allowed_gets_no_connection_at_all(hooks):
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    port = trap.getsockname()[1]
    hooks.stack.template("guarded", hooks.tmp / "guarded")
    targets = [f"http://127.0.0.1:{port}/x", f"http://localhost:{port}/x", f"http://[::1]:{port}/x",
               "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x", "http://0.0.0.0:1/x",
               f"http://[::ffff:127.0.0.1]:{port}/x"]
    made = [hooks.hook("guarded", url, ["star"]) for url in targets]
    hooks.api.put("/templates/alice/guarded/star")
    for hook in made:
        refused = hooks.wait_delivery("guarded", hook["id"], "refused")
        assert refused["attempts"] == 1 and "REGISTRY_WEBHOOK_ALLOW" in refused["error"], refused
    with pytest.raises(BlockingIOError):
        trap.accept()  # nobody ever connected
    trap.close()


def test_hooks_are_for_maintainers_and_checked(hooks):
    hooks.stack.template("managed", hooks.tmp / "managed")
    base = "/templates/alice/managed/hooks"
    for bad in ({"url": "ftp://x/y"}, {"url": "not a url"}, {"url": "http://x", "events": ["nope"]},
                {"url": "http://x", "events": []}, {"url": "http://x", "secret": "s" * 300},
                {"url": "http://user:pass@example.com/h"}, {"url": "http://example.com/h\u00e9"},
                {"url": "http://a..b/h"}, {"url": "http://example.com:99999999/h"}):
        assert hooks.api.post(base, json=bad).status_code in (400, 422), bad
    hook = hooks.hook("managed", "http://example.invalid/hook", ["push"])
    changed = hooks.api.patch(f"{base}/{hook['id']}", json={"events": ["status", "run"], "active": False})
    assert changed.status_code == 200 and changed.json()["events"] == ["run", "status"] and not changed.json()["active"]
    assert [h["id"] for h in hooks.api.get(base).json()] == [hook["id"]]
    mallory = hooks.stack.server.user("mallory")
    with httpx.Client(base_url=hooks.url + "/api/v1", headers={"Authorization": f"Bearer {mallory}"}) as m:
        assert m.get(base).status_code == 403
        assert m.post(base, json={"url": "http://x"}).status_code == 403
    assert httpx.get(hooks.url + "/api/v1" + base).status_code == 401
    assert hooks.api.get(f"{base}/999").status_code == 404
    assert hooks.api.get(f"{base}/{hook['id']}/deliveries/nope/redeliver").status_code in (404, 405)
    more = [hooks.hook("managed", f"http://example.invalid/{i}", ["push"])["id"] for i in range(19)]
    assert hooks.api.post(base, json={"url": "http://example.invalid/21"}).status_code == 400  # 20 at most
    for extra in more:
        assert hooks.api.delete(f"{base}/{extra}").status_code == 204
    assert hooks.api.delete(f"{base}/{hook['id']}").status_code == 204
    assert hooks.api.get(f"{base}/{hook['id']}").status_code == 404
    recorded = hooks.api.get("/templates/alice/managed/events", params={"action": "hook", "per_page": 100}).json()
    assert [e["action"] for e in recorded][0] == "hook.deleted" and recorded[-1]["action"] == "hook.created"
    assert "hook.updated" in [e["action"] for e in recorded]
    assert recorded[-1]["payload"]["hook"]["url"] == "http://example.invalid/…"  # the path may be a secret


def test_a_worker_killed_mid_delivery_delivers_again_never_lost_at_most_once_more(tmp_path):
    with receiver(stall_first=2.5) as r, redis_server() as redis, registry_server(tmp_path / "data", {
            **QUICK, "REGISTRY_REDIS_URL": redis, "REGISTRY_WEBHOOK_ALLOW": f"127.0.0.1:{r.port}",
            "REGISTRY_JOB_HEARTBEAT_SECONDS": "1", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "1"}) as server:
        h = Hooks(server, tmp_path)
        h.stack.template("killed", tmp_path / "killed")
        hook = h.hook("killed", r.url, ["star"])
        first = h.stack.worker()
        h.api.put("/templates/alice/killed/star")
        r.wait_for(1)  # the worker is now waiting on the stalled receiver
        kill_whole(first)
        h.stack.worker()
        logged = h.wait_delivery("killed", hook["id"], "delivered", timeout=60)
        time.sleep(2.0)
        got = r.received
        assert len(got) == 2 and got[0].body == got[1].body, len(got)  # once more, not lost, not twice more
        assert logged["attempts"] == 2 and got[1].signed_by("s3cret")
        h.stack.stop_workers()
