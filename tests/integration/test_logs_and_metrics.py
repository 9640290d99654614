"""The request and job lines as operators read them (REGISTRY_LOG_FORMAT=json|text), never a
token in them, whatever carries it; /metrics behind REGISTRY_METRICS_TOKEN."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx

from tests import secrets_seen
from tests.gitcli import authed, commit_file, git
from tests.services import registry_server
from tests.unit.usecases import MINIMAL


def test_json_lines_say_who_did_what_and_never_the_token(tmp_path):
    with registry_server(tmp_path / "data", {"REGISTRY_LOG_FORMAT": "json",
                                             "REGISTRY_METRICS_TOKEN": "scrape-secret-0123456789"}) as server:
        token = server.user("alice")
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{server.url}/api/v1/templates", json={"name": "logged"}, headers=auth,
                          timeout=30).status_code == 201
        work = tmp_path / "w"
        git("clone", "-q", authed(f"{server.url}/alice/logged.git", "alice", token), str(work))  # Basic auth
        sha = commit_file(work, "template.json", json.dumps(MINIMAL))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        httpx.get(f"{server.url}/api/v1/templates/alice/logged", params={"token": token}, timeout=10)
        httpx.get(f"{server.url}/api/v1/templates/alice/logged", headers={"Authorization": f"Bearer {token}x"},
                  timeout=10)  # a wrong token: 401, and still not logged
        metrics = httpx.get(f"{server.url}/metrics", timeout=10)
        assert metrics.status_code == 401 and metrics.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
        scraped = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"},
                            timeout=10)
        assert scraped.status_code == 200 and "registry_queue_depth" in scraped.text
        deadline = time.monotonic() + 30
        log = next(tmp_path.glob("server-*.log"))
        while time.monotonic() < deadline and '"job": "sandbox"' not in log.read_text():
            time.sleep(0.2)
    text = log.read_text()
    for secret in (token, "scrape-secret-0123456789"):
        assert secret not in text
    secrets_seen.remember("scrape-secret-0123456789")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    requests = [line for line in lines if line["logger"] == "registry.access"]
    created = next(r for r in requests if r["method"] == "POST" and r["path"] == "/api/v1/templates")
    assert created["status"] == 201 and created["user"] == "alice" and created["route"] == "/api/v1/templates"
    assert re.fullmatch(r"[0-9a-f]{32}", created["request_id"]) and created["duration_ms"] >= 0
    assert created["bytes_in"] > 0 and created["bytes_out"] > 0 and "trace_id" not in created  # traces are off
    assert created["time"].endswith("Z")
    upload = next(r for r in requests if r["path"] == "/alice/logged.git/git-upload-pack")
    assert upload["template"] == "alice/logged" and upload["bytes_out"] > 0  # public: git asked anonymously
    pushed = next(r for r in requests if r["path"] == "/alice/logged.git/git-receive-pack" and r["status"] == 200)
    assert pushed["user"] == "alice" and pushed["bytes_in"] > 0  # Basic user:token, after git's 401
    refused = [r for r in requests if r["path"] == "/api/v1/templates/alice/logged" and r["status"] == 401]
    assert refused and refused[0].get("user") is None
    assert not any("token=" in r["path"] for r in requests)  # never the query string
    jobs = {line["job"]: line for line in lines if line["logger"] == "registry.jobs" and line.get("sha") == sha}
    assert {"validate", "index", "sandbox"} <= jobs.keys()
    assert jobs["validate"]["outcome"] == "ok" and jobs["validate"]["state"] == "success"


def test_text_lines_by_default(local_env):
    with httpx.Client(base_url=local_env.url, timeout=10) as c:
        assert c.get("/api/v1/search", params={"q": "logged-as-text"}).status_code == 200
    log = next(Path(local_env.server.env["REGISTRY_DATA_DIR"]).parent.glob("server-*.log"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "GET /api/v1/search 200" not in log.read_text():
        time.sleep(0.1)
    line = next(line for line in log.read_text().splitlines() if "GET /api/v1/search 200" in line)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO registry\.access: GET /api/v1/search 200 ", line)
    assert "route=/api/v1/search" in line and "status=200" in line and "request_id=" in line


def test_the_leak_check_finds_a_token_in_a_log(tmp_path):
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "server-1.log").write_text("GET / 200 user=alice rgt_leakedleakedleakedleaked\n")
    (tmp_path / "other.log").write_text("nothing here\n")
    secrets_seen.remember("rgt_leakedleakedleakedleaked")
    try:
        assert secrets_seen.leaks(tmp_path) == [f"{tmp_path / 'deep' / 'server-1.log'}: rgt_leak…"]
    finally:
        secrets_seen.MADE.discard("rgt_leakedleakedleakedleaked")
        (tmp_path / "deep" / "server-1.log").unlink()  # the session's own check must not find it
