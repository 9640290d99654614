"""Push-to-all-checks-green latency and worker throughput, with redis-server and 2 workers.

    make bench   (or: python -m bench.bench_pipeline [--pushes 50] [--commits 200])
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import pct
from tests.gitcli import authed, commit_file, git
from tests.services import redis_server, registry_server, start_worker

MANIFEST = json.loads((Path(__file__).resolve().parents[2] / "shared/examples/minimal.template.json").read_text())


def wait_green(api: httpx.Client, name: str, shas: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = set(shas)
    while pending:
        for sha in list(pending):
            got = api.get(f"/templates/bench/{name}/commits/{sha}/statuses").json()
            if len(got) == 3 and all(s["state"] == "success" for s in got):
                pending.discard(sha)
            elif any(s["state"] in ("failure", "error") for s in got):
                raise RuntimeError(f"check failed: {got}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} commits not green after {timeout}s")
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--events-only", action="store_true", help="only the cost of recording events")
    args = parser.parse_args()
    if args.events_only:
        events_cost(args.pushes)
        return 0
    env_fast = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "5", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "5",
                "REGISTRY_RECONCILE_SECONDS": "5"}
    with tempfile.TemporaryDirectory() as tmp_s, redis_server() as redis_url:
        tmp = Path(tmp_s)
        with registry_server(tmp / "data", {"REGISTRY_REDIS_URL": redis_url, **env_fast}) as server:
            server.cli("user", "add", "bench")
            token = server.cli("token", "create", "bench").stdout.strip()
            api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"})
            workers = [start_worker(server.env, tmp / f"w{i}.log") for i in range(2)]
            api.post("/templates", json={"name": "lat"}).raise_for_status()
            work = tmp / "lat"
            git("clone", "-q", authed(f"{server.url}/bench/lat.git", "bench", token), str(work))
            push_only, green = [], []
            for i in range(args.pushes):
                MANIFEST["description"] = f"revision {i}"
                sha = commit_file(work, "template.json", json.dumps(MANIFEST))
                start = time.perf_counter()
                git("push", "-q", "origin", "HEAD:main", cwd=work)
                push_only.append(time.perf_counter() - start)
                wait_green(api, "lat", [sha])
                green.append(time.perf_counter() - start)
            print(f"push -> all checks green over {args.pushes} pushes: p50 {statistics.median(green) * 1000:.0f} ms, "
                  f"p95 {pct(green, 0.95) * 1000:.0f} ms (the push alone: p50 {statistics.median(push_only) * 1000:.0f} ms)")

            for proc in workers:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
            api.post("/templates", json={"name": "tput"}).raise_for_status()
            work = tmp / "tput"
            git("clone", "-q", authed(f"{server.url}/bench/tput.git", "bench", token), str(work))
            shas = []
            for i in range(args.commits):
                git("checkout", "-q", "-B", f"b{i}", cwd=work)
                MANIFEST["description"] = f"branch {i}"
                shas.append(commit_file(work, "template.json", json.dumps(MANIFEST)))
            git("push", "-q", "origin", "--all", cwd=work)
            time.sleep(1)  # let the enqueue thread hand all of them over
            start = time.perf_counter()
            workers = [start_worker(server.env, tmp / f"t{i}.log") for i in range(2)]
            wait_green(api, "tput", shas, timeout=600)
            elapsed = time.perf_counter() - start
            for proc in workers:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
            print(f"throughput with 2 workers: {args.commits / elapsed:.1f} validations/s "
                  f"({3 * args.commits / elapsed:.1f} checks/s, {args.commits} commits x 3 checks in {elapsed:.1f} s)")
        baseline(tmp, args.commits)
    events_cost(args.pushes)
    return 0


def events_cost(pushes: int) -> None:
    """Push-to-green with event recording off (before) and on (after), in one run: two servers,
    each with its own Redis and 2 workers, the pushes alternating between them so that the
    machine's noise falls on both alike."""
    env_fast = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "5", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "5",
                "REGISTRY_RECONCILE_SECONDS": "5"}
    with tempfile.TemporaryDirectory() as tmp_s, redis_server() as redis_a, redis_server() as redis_b:
        tmp = Path(tmp_s)
        with registry_server(tmp / "off", {"REGISTRY_REDIS_URL": redis_a, "REGISTRY_RECORD_EVENTS": "false",
                                           **env_fast}) as off, \
                registry_server(tmp / "on", {"REGISTRY_REDIS_URL": redis_b, **env_fast}) as on:
            sides, workers = [], []
            for label, server in (("off", off), ("on", on)):
                server.cli("user", "add", "bench")
                token = server.cli("token", "create", "bench").stdout.strip()
                api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"})
                api.post("/templates", json={"name": "lat"}).raise_for_status()
                work = tmp / f"lat-{label}"
                git("clone", "-q", authed(f"{server.url}/bench/lat.git", "bench", token), str(work))
                workers += [start_worker(server.env, tmp / f"{label}{i}.log") for i in range(2)]
                sides.append((label, api, work, []))
            for i in range(pushes):
                for _label, api, work, green in sides if i % 2 else reversed(sides):
                    MANIFEST["description"] = f"revision {i}"
                    sha = commit_file(work, "template.json", json.dumps(MANIFEST))
                    start = time.perf_counter()
                    git("push", "-q", "origin", "HEAD:main", cwd=work)
                    wait_green(api, "lat", [sha])
                    green.append(time.perf_counter() - start)
            events = sides[1][1].get("/templates/bench/lat/events", params={"per_page": 1}).headers["link"]
            for proc in workers:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
    (_, _, _, before), (_, _, _, after) = sides
    b, a = statistics.median(before), statistics.median(after)
    print(f"events: push -> green p50 {b * 1000:.0f} ms without recording, {a * 1000:.0f} ms with it "
          f"({(a / b - 1) * 100:+.1f}%; p95 {pct(before, 0.95) * 1000:.0f} / {pct(after, 0.95) * 1000:.0f} ms; "
          f"{pushes} pushes each, alternating; events were recorded: {'rel=' in events})")


def baseline(tmp: Path, count: int) -> None:
    """The same validation in-process, no queue: what the queue costs on top."""
    from registry.manifest import check

    data = json.dumps(MANIFEST).encode()
    start = time.perf_counter()
    for _ in range(count):
        check(lambda p: data if p == "template.json" else None, lambda t, r: None)
    elapsed = time.perf_counter() - start
    print(f"baseline: the manifest check alone in-process: {count / elapsed:.0f} validations/s")


if __name__ == "__main__":
    sys.exit(main())
