"""Experiments on the worker pool, and the evaluation tab of a pull request, against the tests' own
model server (tests/modelserver.py, over real HTTP, each answer delayed like a model's).

- an experiment of 3 variants x 20 cases x 5 repetitions (300 model calls in 30 units of 10 cases), its wall
  time from `POST .../experiments` to `finished` with 1 and with 4 `registry worker` processes
  (RQ on a redis-server of its own; REGISTRY_EXPERIMENT_CONCURRENCY=4); the ratio is against the
  1-worker run of the same process;
- the evaluation tab (`/{owner}/{name}/pulls/{n}/evaluation`) of a pull request changing a prompt
  of 100 cases: p50 and p95 of the page over `--reads` reads, against the pull request's own page.

    make bench   (or: python -m bench.bench_experiments [--delay-ms 50] [--reads 40] [--skip-eval] [--skip-experiments])

Figures on a shared machine are noisy: compare the ratios, and run it again to see the spread.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import pct
from tests.experiment_world import make_via_api
from tests.modelserver import model_server
from tests.services import redis_server, registry_server, start_worker

VARIANTS = {"main": 0.6, "sharper": 0.8, "shorter": 0.6}


def experiment_wall_time(api: httpx.Client, server_env: dict[str, str], tmp: Path, workers: int,
                         repetitions: int) -> tuple[float, dict]:
    procs = [start_worker(server_env, tmp / f"w{workers}-{i}.log") for i in range(workers)]
    try:
        time.sleep(2.0)  # the workers' imports and registration, outside the measured time
        start = time.perf_counter()
        made = api.post("/templates/bench/coins/experiments",
                        json={"variants": list(VARIANTS), "repetitions": repetitions})
        made.raise_for_status()
        eid = made.json()["id"]
        while True:
            body = api.get(f"/templates/bench/coins/experiments/{eid}").json()
            if body["state"] in ("finished", "failed", "cancelled"):
                break
            if time.perf_counter() - start > 900:
                raise RuntimeError(f"experiment not finished after 900 s: {body['progress']}")
            time.sleep(0.05)
        return time.perf_counter() - start, body
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


def experiments(delay_ms: int, repetitions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_s, redis_server() as redis_url, model_server() as models:
        tmp = Path(tmp_s)
        models.slow(delay_ms / 1000)
        env = {"REGISTRY_REDIS_URL": redis_url, "REGISTRY_SANDBOX_PROVIDER_URL": models.url,
               "REGISTRY_SANDBOX_PROVIDER_MODEL": "test-model", "REGISTRY_EXPERIMENT_CONCURRENCY": "4",
               "REGISTRY_SANDBOX_TIMEOUT_SECONDS": "120", "REGISTRY_JOB_HEARTBEAT_SECONDS": "5",
               "REGISTRY_WORKER_MAINTENANCE_SECONDS": "5"}
        with registry_server(tmp / "data", env) as server:
            token = server.user("bench")
            api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                               timeout=60)
            make_via_api(api, "bench", "coins", VARIANTS, cases=20)
            results = {}
            for workers in (1, 4):
                results[workers] = experiment_wall_time(api, server.env, tmp, workers, repetitions)
        calls = len(VARIANTS) * 20 * repetitions
        one, four = results[1][0], results[4][0]
        verdicts = {w: (b["winner"], b["p_value"]) for w, (_t, b) in results.items()}
        units = results[1][1]["progress"]["units"]
        print(f"experiment 3 variants x 20 cases x {repetitions} repetitions ({calls} model calls of {delay_ms} ms, "
              f"{units} units): {one:.1f} s with 1 worker, {four:.1f} s with 4 workers "
              f"(x{one / four:.2f} faster; verdicts {verdicts})")


def evaluation_tab(reads: int, delay_ms: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_s, model_server() as models:
        tmp = Path(tmp_s)
        models.slow(delay_ms / 1000)
        env = {"REGISTRY_SANDBOX_PROVIDER_URL": models.url, "REGISTRY_SANDBOX_PROVIDER_MODEL": "test-model",
               "REGISTRY_SANDBOX_TIMEOUT_SECONDS": "300"}
        with registry_server(tmp / "data", env) as server:
            token = server.user("bench")
            api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                               timeout=120)
            make_via_api(api, "bench", "evals", {"main": 0.6, "changed": 0.7}, cases=100)
            pull = api.post("/templates/bench/evals/pulls", json={"title": "Change the coin", "head": "changed",
                                                                  "base": "main"})
            pull.raise_for_status()
            number = pull.json()["number"]
            deadline = time.monotonic() + 600
            while True:
                got = api.get(f"/templates/bench/evals/pulls/{number}/evaluation")
                if got.status_code == 200 and len(got.json().get("cases", [])) == 100:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no evaluation of 100 cases after 600 s: {got.status_code} {got.text[:300]}")
                time.sleep(0.5)
            web = httpx.Client(base_url=server.url, timeout=60)  # a public template: the pages read anonymously
            timings: dict[str, list[float]] = {"pull": [], "evaluation": []}
            for _ in range(reads):
                for label, path in (("pull", f"/bench/evals/pulls/{number}"),
                                    ("evaluation", f"/bench/evals/pulls/{number}/evaluation")):
                    start = time.perf_counter()
                    web.get(path).raise_for_status()
                    timings[label].append(time.perf_counter() - start)
        ev, pr = timings["evaluation"], timings["pull"]
        print(f"evaluation tab of 100 cases over {reads} reads: p50 {statistics.median(ev) * 1000:.0f} ms, "
              f"p95 {pct(ev, 0.95) * 1000:.0f} ms; the pull request page: p50 {statistics.median(pr) * 1000:.0f} ms, "
              f"p95 {pct(pr, 0.95) * 1000:.0f} ms (x{pct(ev, 0.95) / pct(pr, 0.95):.2f} at p95)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=int, default=50, help="each model answer's delay")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--reads", type=int, default=40)
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-experiments", action="store_true")
    args = parser.parse_args()
    if not args.skip_experiments:
        experiments(args.delay_ms, args.repetitions)
    if not args.skip_eval:
        evaluation_tab(args.reads, args.delay_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
