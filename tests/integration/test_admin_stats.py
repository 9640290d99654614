"""GET /api/v1/admin/stats and the /admin page on a server of the test's own (its site-wide
figures are all the test's): pushes and clones per day, a failing check and its latency, a
refused webhook, a rate-limited client, the most used template, storage; admins only."""
from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.services import registry_server

GOOD = '{"title": "good one", "description": "fine"}\n'
BAD = '{"title": 42}\n'


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-stats")
    with registry_server(tmp / "data", {"REGISTRY_RATE_LIMIT_TOKEN": "100"}) as server:
        tokens = server.accounts(("root",), {"root": ("root", "admin")}, admin=True)
        tokens |= server.accounts(("alice", "greedy"), {"alice": ("alice", "write"), "greedy": ("greedy", "read")})
        auth = {"Authorization": f"Bearer {tokens['alice']}"}
        with httpx.Client(base_url=server.url + "/api/v1", headers=auth, timeout=30) as alice:
            shas = {}
            for name, manifest in (("stat-good", GOOD), ("stat-bad", BAD)):
                assert alice.post("/templates", json={"name": name}).status_code == 201
                work = tmp / name
                git("clone", "-q", authed(f"{server.url}/alice/{name}.git", "alice", tokens["alice"]), str(work))
                shas[name] = commit_file(work, "template.json", manifest)
                git("push", "-q", "origin", "HEAD:main", cwd=work)
            for i in range(3):
                git("clone", "-q", authed(f"{server.url}/alice/stat-good.git", "alice", tokens["alice"]),
                    str(tmp / f"again-{i}"))
            hook = alice.post("/templates/alice/stat-good/hooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]})
            assert hook.status_code == 201, hook.text
            assert alice.put("/templates/alice/stat-good/star").status_code in (200, 204)  # an event: a delivery
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                states = [s["state"] for n, sha in shas.items()
                          for s in alice.get(f"/templates/alice/{n}/commits/{sha}/statuses").json()]
                if states and "pending" not in states:
                    break
                time.sleep(0.2)
        with httpx.Client(headers={"Authorization": f"Bearer {tokens['greedy']}"}, timeout=10) as greedy:
            refused = [greedy.get(f"{server.url}/api/v1/search?q=x").status_code for _ in range(110)]
        assert refused.count(429) >= 10
        yield server, tokens


def refused_count(limited: dict[str, int]) -> int:
    return limited.get("user:greedy", 0)


def _stats(server, token: str, **params) -> httpx.Response:
    return httpx.get(f"{server.url}/api/v1/admin/stats", params=params,
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_the_figures_count_what_happened(site):
    server, tokens = site
    resp = _stats(server, tokens["root"], days=7)
    assert resp.status_code == 200, resp.text
    s = resp.json()
    assert s["days"] == 7 and len(s["per_day"]) == 7
    assert s["users"] == {"total": 3, "admins": 1, "disabled": 0, "joined": 3}
    assert s["templates"] == {"total": 2, "private": 0, "forks": 0, "created": 2}
    today = s["per_day"][-1]
    assert today["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert today["pushes"] == 2 and today["clones"] >= 3 and today["stars"] == 1
    assert sum(d["pushes"] for d in s["per_day"][:-1]) == 0
    contexts = {lat["context"]: lat for lat in s["check_latency"]}
    assert {"validate", "index", "sandbox"} <= contexts.keys()
    assert contexts["validate"]["count"] == 2 and 0 <= contexts["validate"]["p50_seconds"] <= contexts["validate"]["max_seconds"]
    assert s["failing_checks"] >= 1
    assert {(f["template"], f["context"], f["state"]) for f in s["recent_failing_checks"]} >= {("alice/stat-bad", "validate", "failure")}
    assert s["webhook_failures"]["refused"] >= 1
    assert s["recent_webhook_failures"][0]["template"] == "alice/stat-good"
    assert s["recent_webhook_failures"][0]["url"] == "http://127.0.0.1:9/hook"
    limited = {r["client"]: r["refused"] for r in s["rate_limited"]}
    assert limited == {"user:greedy": refused_count(limited)} and limited["user:greedy"] >= 10
    assert s["top_templates"][0]["template"] == "alice/stat-good" and s["top_templates"][0]["clones"] >= 3
    storage = s["storage"]
    assert storage["metadata_bytes"] > 0 and storage["disk_total_bytes"] >= storage["disk_free_bytes"] > 0
    assert storage["blob_count"] is not None and storage["measured_at"]  # measured by the reconciler's first full pass
    assert set(s["queue_depth"]) >= {"checks", "hooks"}


def test_only_admins_with_an_admin_token_see_them(site):
    server, tokens = site
    assert _stats(server, tokens["alice"]).status_code == 403
    assert httpx.get(f"{server.url}/api/v1/admin/stats", timeout=10).status_code == 401
    assert _stats(server, tokens["root"], days=0).status_code == 422
    assert _stats(server, tokens["root"], days=91).status_code == 422
    doc = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    op = doc["paths"]["/api/v1/admin/stats"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/SiteStatsOut")
    assert "403" in op["responses"] and "401" in op["responses"]


def test_the_admin_page_draws_them_without_script(site):
    server, tokens = site
    with httpx.Client(base_url=server.url, timeout=30, headers={"Origin": server.url}) as browser:
        page = browser.get("/login")
        signed = browser.post("/login", data={"csrf": _csrf(page.text), "user": "root", "token": tokens["root"],
                                              "next": "/admin"})
        assert signed.status_code in (200, 303)
        html = browser.get("/admin").text
        assert "<script" not in html
        assert html.count("<svg") >= 3 and 'aria-label="pushes per day' in html
        assert re.search(r'id="stat-templates">2<', html) and "alice/stat-bad" in html and "user:greedy" in html
    with httpx.Client(base_url=server.url, timeout=30, headers={"Origin": server.url}) as other:
        page = other.get("/login")
        other.post("/login", data={"csrf": _csrf(page.text), "user": "alice", "token": tokens["alice"]})
        assert other.get("/admin").status_code == 403
    assert httpx.get(f"{server.url}/admin", timeout=10).status_code == 401
