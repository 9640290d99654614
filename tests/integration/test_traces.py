"""Traces across every hop, received over real HTTP by an OTLP endpoint the test runs: one trace
holds a push (the HTTP request, git-receive-pack with its pack sizes, its SQL) and the validate,
index and sandbox jobs it queued, whether the embedded queue or an RQ worker in another process
runs them; the answer carries the trace id, and the JSON log lines name it."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, commit_file, git
from tests.otlp import Span, otlp_collector
from tests.receiver import receiver
from tests.services import redis_server, registry_server, start_worker, stop_group
from tests.unit.usecases import MINIMAL

MANIFEST = json.dumps(MINIMAL)
JOBS = ("job validate", "job index", "job sandbox")


def _ancestors(span: Span, by_id: dict[str, Span]) -> list[str]:
    names = []
    while span.parent_id and span.parent_id in by_id:
        span = by_id[span.parent_id]
        names.append(span.name)
    return names


def _log_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


@pytest.mark.parametrize("queue", ["embedded", "rq"])
def test_one_trace_holds_the_push_and_its_checks(tmp_path, queue):
    with otlp_collector() as collector:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_SERVICE_NAME": f"registry-{queue}", "REGISTRY_LOG_FORMAT": "json"}
        with redis_server() if queue == "rq" else _nothing() as redis_url, receiver() as hooked:
            extra = otel | {"REGISTRY_WEBHOOK_ALLOW": f"127.0.0.1:{hooked.port}"}
            extra |= {"REGISTRY_REDIS_URL": redis_url} if redis_url else {}
            with registry_server(tmp_path / "data", extra) as server:
                worker = start_worker(server.env, tmp_path / "worker.log") if queue == "rq" else None
                try:
                    token = server.user("alice")
                    api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                                       timeout=30)
                    created = api.post("/templates", json={"name": "traced"})
                    assert created.status_code == 201
                    answered = created.headers["x-trace-id"]
                    assert len(answered) == 32 and int(answered, 16)
                    hook = api.post("/templates/alice/traced/hooks", json={"url": hooked.url, "events": ["push"]})
                    assert hook.status_code == 201, hook.text
                    work = tmp_path / "w"
                    git("clone", "-q", authed(f"{server.url}/alice/traced.git", "alice", token), str(work))
                    sha = commit_file(work, "template.json", MANIFEST)
                    git("push", "-q", "origin", "HEAD:main", cwd=work)
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        states = {s["context"]: s["state"] for s in
                                  api.get(f"/templates/alice/traced/commits/{sha}/statuses").json()}
                        if states and "pending" not in states.values():
                            break
                        time.sleep(0.2)
                    assert states == {"validate": "success", "index": "success", "sandbox": "success"}, states

                    def complete(spans: list[Span]) -> bool:
                        pushes = [s for s in spans if s.name == "git-receive-pack"]
                        return bool(pushes) and all(any(s.name == j and s.trace_id == pushes[0].trace_id for s in spans)
                                                    for j in (*JOBS, "webhook delivery"))

                    spans = collector.wait_for(complete, timeout=30)
                finally:
                    if worker is not None:
                        stop_group(worker)
                server_log = next(tmp_path.glob("server-*.log"))
    by_id = {s.span_id: s for s in spans}
    (push,) = [s for s in spans if s.name == "git-receive-pack"]
    assert push.attributes["git.request_bytes"] > 0 and push.attributes["git.response_bytes"] > 0
    assert push.attributes["registry.template"] == "alice/traced"
    in_trace = [s for s in spans if s.trace_id == push.trace_id]
    http = by_id[push.parent_id]  # the request's span, from the ASGI instrumentation
    assert http.attributes.get("http.route") == "/{owner}/{name}.git/git-receive-pack" or "POST" in http.name
    for job in JOBS:
        (ran,) = [s for s in in_trace if s.name == job]
        assert "git-receive-pack" in _ancestors(ran, by_id), (job, _ancestors(ran, by_id))
        assert ran.attributes["registry.sha"] == sha and ran.attributes["registry.outcome"] == "ok"
    sandbox_run = [s for s in in_trace if s.name == "sandbox run"]
    assert sandbox_run and "job sandbox" in _ancestors(sandbox_run[0], by_id)
    (delivered,) = [s for s in in_trace if s.name == "webhook delivery"]  # the push's webhook, in its trace
    assert "git-receive-pack" in _ancestors(delivered, by_id), _ancestors(delivered, by_id)
    assert delivered.attributes["registry.event"] == "push" and delivered.attributes["registry.outcome"] == "delivered"
    assert delivered.attributes["http.response.status_code"] == 200 and hooked.wait_for(1)
    assert any("db.system" in s.attributes or "db.system.name" in s.attributes for s in in_trace)  # SQL, traced
    if queue == "rq":
        assert {s.service for s in in_trace} == {"registry-rq"}
        assert any(s.attributes.get("registry.state") == "success" for s in in_trace if s.name == "job validate")
    assert any(s.trace_id == answered for s in spans)  # the X-Trace-Id answered is a trace received

    lines = _log_lines(server_log)
    push_line = [line for line in lines if line.get("path") == "/alice/traced.git/git-receive-pack"]
    assert push_line and push_line[0]["trace_id"] == push.trace_id and push_line[0]["user"] == "alice"
    assert push_line[0]["template"] == "alice/traced" and push_line[0]["status"] == 200
    assert push_line[0]["bytes_in"] > 0 and push_line[0]["route"] == "/{owner}/{name}.git/git-receive-pack"
    job_lines = _log_lines(tmp_path / "worker.log") if queue == "rq" else lines
    jobs = {line["job"]: line for line in job_lines if line.get("logger") == "registry.jobs" and line.get("sha") == sha}
    assert {"validate", "index", "sandbox"} <= jobs.keys()
    assert all(jobs[j]["trace_id"] == push.trace_id and jobs[j]["outcome"] == "ok" for j in ("validate", "index", "sandbox"))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        return None


def test_traces_are_off_without_an_endpoint(local_env):
    resp = httpx.get(f"{local_env.url}/api/v1/search", params={"q": "x"}, timeout=10)
    assert resp.status_code == 200 and "x-trace-id" not in resp.headers
