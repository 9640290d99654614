"""Experiments and live progress over HTTP: `registry serve` (its embedded queue as the worker
pool) asking the tests' model server; the routes SPEC names, their bounds as 4xx, cancel, and
the server-sent events of an experiment and of a run."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.experiment_world import make_via_api
from tests.services import registry_server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.modelserver import model_server

    with model_server() as models:
        env = {"REGISTRY_SANDBOX_PROVIDER_URL": models.url, "REGISTRY_SANDBOX_PROVIDER_MODEL": "test-model",
               "REGISTRY_SANDBOX_PROVIDER_BACKOFF_S": "0.01", "REGISTRY_EXPERIMENT_CONCURRENCY": "2"}
        with registry_server(tmp_path_factory.mktemp("experiments") / "data", env) as server:
            token = server.user("alice")
            server.user("bob")
            yield server, token, models


def api(site, token: str | None = None) -> httpx.Client:
    server, alice, _ = site
    token = token or alice
    return httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def make(site, name: str, variants: dict[str, float], cases: int) -> None:
    with api(site) as c:
        make_via_api(c, "alice", name, variants, cases)


def events(client: httpx.Client, path: str, timeout: float = 90) -> list[tuple[str, dict]]:
    """Every event of the stream until `end` (reconnecting as a browser does when it closes first)."""
    got: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with client.stream("GET", path, timeout=60) as resp:
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream"), resp.read()
            kind = None
            for line in resp.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    got.append((kind, json.loads(line[6:])))
                    if kind == "end":
                        return got
    raise AssertionError(f"no end within {timeout} s: {got[-3:]}")


def test_an_experiment_over_http_streams_its_progress_to_a_verdict(site):
    make(site, "coins", {"main": 0.95, "half": 0.5, "other-half": 0.5}, cases=8)
    with api(site) as c:
        started = c.post("/templates/alice/coins/experiments",
                         json={"variants": ["main", "half", "other-half"], "repetitions": 4})
        assert started.status_code == 202, started.text
        eid = started.json()["id"]
        stream = events(c, f"/templates/alice/coins/experiments/{eid}/events")
        states = [data for kind, data in stream if kind == "state"]
        assert states[-1]["state"] == "finished" and stream[-1] == ("end", {"state": "finished"})
        assert any(s["progress"]["done"] < 12 for s in states) or len(states) == 1  # progress on the way
        body = c.get(f"/templates/alice/coins/experiments/{eid}").json()
        assert body["state"] == "finished" and body["winner"] == "main" and body["p_value"] < 0.05
        assert [v["ref"] for v in body["variants"]] == ["main", "half", "other-half"]
        first = body["variants"][0]
        assert first["trials"] == 32 and first["interval"][0] <= first["pass_rate"] <= first["interval"][1]
        assert first["latency_ms"] > 0 and set(first) >= {"ref", "pass_rate", "interval", "latency_ms", "cost"}
        listed = c.get("/templates/alice/coins/experiments")
        assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [eid]


def test_bounds_are_clear_4xx(site):
    make(site, "bounded", {"main": 0.5, "b": 0.6}, cases=2)
    with api(site) as c:
        url = "/templates/alice/bounded/experiments"
        for body, status, says in [
            ({"variants": ["main"], "repetitions": 1}, 422, "variants"),
            ({"variants": ["main", "b"], "repetitions": 0}, 422, "repetitions"),
            ({"variants": ["main", "b"], "repetitions": 50}, 400, "repetitions"),
            ({"variants": ["main", "nope"], "repetitions": 1}, 400, "nope"),
            ({"variants": ["main", "b", "c", "d", "e", "f"], "repetitions": 1}, 400, "variants"),
            ({"variants": ["main", "b"], "cases": ["missing"], "repetitions": 1}, 400, "missing"),
            ({"variants": ["main", "b"], "repetitions": 1, "extra": 1}, 422, "extra"),
        ]:
            resp = c.post(url, json=body)
            assert resp.status_code == status and says in resp.json()["error"]["message"], (body, resp.text)
        assert c.get(url).json() == []
        assert c.get(url + "/nope").status_code == 404
    server, _, _ = site
    anonymous = httpx.post(f"{server.url}/api/v1{url}", json={"variants": ["main", "b"], "repetitions": 1})
    assert anonymous.status_code == 401


def test_cancel(site):
    server, _, models = site
    make(site, "stopping", {"main": 0.5, "b": 0.6}, cases=3)
    models.slow(0.3)
    try:
        with api(site) as c:
            eid = c.post("/templates/alice/stopping/experiments",
                         json={"variants": ["main", "b"], "repetitions": 10}).json()["id"]
            bob = server.user("carl")
            with api(site, bob) as other:
                assert other.post(f"/templates/alice/stopping/experiments/{eid}/cancel").status_code == 403
            cancelled = c.post(f"/templates/alice/stopping/experiments/{eid}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
            assert "winner" not in cancelled.json() and "p_value" in cancelled.json()  # SPEC's `winner?`
            assert events(c, f"/templates/alice/stopping/experiments/{eid}/events")[-1] == ("end", {"state": "cancelled"})
            time.sleep(2)  # what was running ends; nothing else starts
            progress = c.get(f"/templates/alice/stopping/experiments/{eid}").json()["progress"]
            assert progress["cancelled"] >= 16 and progress["done"] + progress["cancelled"] + progress["running"] == 20
    finally:
        models.slow(0)


def test_a_run_streams_its_log_lines(site):
    make(site, "logged", {"main": 1.0}, cases=4)
    with api(site) as c:
        run = c.post("/templates/alice/logged/runs", json={"ref": "main"}).json()
        stream = events(c, f"/templates/alice/logged/runs/{run['id']}/events")
        text = "".join(d["text"] for kind, d in stream if kind == "log")
        assert "case 'case-00' (tests/cases.json): passed" in text and "case-03" in text
        assert stream[-1][0] == "end" and [d for k, d in stream if k == "state"][-1]["state"] == "success"
        assert c.get(f"/templates/alice/other/runs/{run['id']}/events").status_code == 404


def test_units_run_on_rq_workers(tmp_path):
    """The same on the RQ queue: `registry worker` processes take the units from Redis, and each
    unit that ends queues the next (at most REGISTRY_EXPERIMENT_CONCURRENCY in flight)."""
    from tests.modelserver import model_server
    from tests.services import redis_server, start_worker, stop_group

    with redis_server() as redis_url, model_server() as models:
        env = {"REGISTRY_REDIS_URL": redis_url, "REGISTRY_SANDBOX_PROVIDER_URL": models.url,
               "REGISTRY_SANDBOX_PROVIDER_MODEL": "test-model", "REGISTRY_EXPERIMENT_CONCURRENCY": "2",
               "REGISTRY_EXPERIMENT_UNIT_CASES": "2"}
        with registry_server(tmp_path / "data", env) as server:
            token = server.user("alice")
            workers = [start_worker(server.env, tmp_path / f"w{i}.log") for i in range(2)]
            try:
                with httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                                  timeout=30) as c:
                    make_via_api(c, "alice", "queued", {"main": 1.0, "b": 0.0}, cases=3)
                    eid = c.post("/templates/alice/queued/experiments",
                                 json={"variants": ["main", "b"], "repetitions": 2}).json()["id"]
                    assert events(c, f"/templates/alice/queued/experiments/{eid}/events", timeout=120)[-1] == \
                        ("end", {"state": "finished"})
                    body = c.get(f"/templates/alice/queued/experiments/{eid}").json()
            finally:  # the warm shutdown may wait on a sandbox run still going (a push's check): killed past 5 s
                for proc in workers:
                    stop_group(proc)
    assert body["progress"]["units"] == 8 and body["progress"]["done"] == 8  # 2 variants x 2 repetitions x 2 parts
    assert [v["pass_rate"] for v in body["variants"]] == [1.0, 0.0] and body["winner"] == "main"
    assert [v["trials"] for v in body["variants"]] == [6, 6]  # 3 cases x 2 repetitions each
