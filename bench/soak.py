"""`make soak`: load with every fault at once, then exact accounting (issue 17).

`registry serve` on S3 (moto behind the tests' fault proxy: ~10% of requests dropped after
forwarding or reset before, ~15% delayed 0.5-2 s), Redis and two `registry worker`s. Pushes
and clones run for --seconds; meanwhile a worker is SIGKILLed every 20 s (and replaced),
Redis is down for 10 s, and the server is SIGTERMed mid-storm and restarted. Afterwards, on
a fresh node with an empty cache and no faults: every push git saw accepted is in the refs,
every template clones and passes `git fsck --strict`, and every owed check is final.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.faultproxy import fault_proxy
from tests.gitcli import authed, commit_file, git
from tests.services import aws_env, free_port, make_bucket, moto_server, redis_server, registry_server, start_worker

QUICK = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "2", "REGISTRY_RECONCILE_SECONDS": "1",
         "REGISTRY_RATE_LIMIT_TOKEN": "0", "REGISTRY_RATE_LIMIT_ANONYMOUS": "0"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--templates", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(17)
    tally: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp_name, moto_server() as moto, fault_proxy(moto) as proxy:
        tmp = Path(tmp_name)
        make_bucket(moto, "soak")
        redis_port = free_port()
        env = aws_env(proxy.url) | QUICK | {"REGISTRY_STORAGE": "s3", "REGISTRY_S3_BUCKET": "soak",
                                            "REGISTRY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
        redis_cm = redis_server(redis_port)
        redis_cm.__enter__()
        server_cm = registry_server(tmp / "data", env)
        server = server_cm.__enter__()
        server.cli("user", "add", "soak")
        token = server.cli("token", "create", "soak").stdout.strip()
        workers = [start_worker(server.env, tmp / f"worker-{i}.log") for i in range(2)]
        names = [f"t{i}" for i in range(args.templates)]
        clones: dict[str, Path] = {}
        for name in names:
            httpx.post(f"{server.url}/api/v1/templates", json={"name": name}, timeout=60,
                       headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            clones[name] = tmp / "work" / name
            git("clone", "-q", authed(f"{server.url}/soak/{name}.git", "soak", token), str(clones[name]))
        landed: dict[str, str] = {}
        refused: dict[str, list[str]] = {}
        base_url = [server.url]

        def chaos(seen: object) -> str:
            roll = rng.random()
            return "drop" if roll < 0.05 else "reset" if roll < 0.10 else \
                f"delay:{rng.uniform(0.5, 2):.2f}" if roll < 0.25 else "pass"

        proxy.set_rule(chaos)
        stop, serving = threading.Event(), threading.Event()
        serving.set()
        failures: list[str] = []

        def clone_load() -> None:
            n = 0
            while not stop.is_set():
                serving.wait()  # while the server restarts, clones would only count a closed port
                name = rng.choice(names)
                res = git("clone", "-q", authed(f"{base_url[0]}/soak/{name}.git", "soak", token),
                          str(tmp / "clones" / f"{n}"), check=False, timeout=120)
                tally["clone ok" if res.returncode == 0 else "clone failed"] += 1
                if res.returncode and len(failures) < 5:
                    failures.append(f"{time.monotonic() - start:.0f}s: {res.stderr.strip()[-200:]}")
                n += 1

        start = time.monotonic()
        loader = threading.Thread(target=clone_load, daemon=True)
        loader.start()
        next_kill, redis_down, redis_done, restarted, round_no = 20.0, False, False, False, 0
        while (elapsed := time.monotonic() - start) < args.seconds:
            name = rng.choice(names)
            work = clones[name]
            git("fetch", "-q", "origin", cwd=work, check=False)
            remote = git("rev-parse", "-q", "--verify", "origin/main", cwd=work, check=False).stdout.strip()
            if remote:
                git("reset", "-q", "--hard", remote, cwd=work)
            tip = commit_file(work, f"f{round_no}.txt", f"{round_no}\n")
            res = git("push", "--porcelain", "origin", "HEAD:main", cwd=work, check=False, timeout=120)
            if res.returncode == 0:
                landed[name] = tip
                tally["push accepted"] += 1
            elif "[remote rejected]" in res.stdout + res.stderr:  # the server said no: must not land
                refused.setdefault(name, []).append(tip)
                tally["push rejected"] += 1
            else:  # the connection broke (a restart): git cannot know, nor can we
                tally["push failed in transit"] += 1
            round_no += 1
            if elapsed > next_kill:
                victim = workers.pop(0)
                os.killpg(victim.pid, signal.SIGKILL)
                workers.append(start_worker(server.env, tmp / f"worker-{round_no}.log"))
                tally["worker killed"] += 1
                next_kill += 20
            if not redis_down and not redis_done and elapsed > args.seconds / 3:
                redis_cm.__exit__(None, None, None)
                redis_down, down_at = True, time.monotonic()
                tally["redis outage"] += 1
            if redis_down and time.monotonic() - down_at > 10:
                redis_cm = redis_server(redis_port)
                redis_cm.__enter__()
                redis_down, redis_done = False, True
            if not restarted and elapsed > 2 * args.seconds / 3:
                serving.clear()
                server_cm.__exit__(None, None, None)  # SIGTERM mid-storm
                server_cm = registry_server(tmp / "data", env)
                server = server_cm.__enter__()
                base_url[0] = server.url
                for name_ in names:
                    git("remote", "set-url", "origin", authed(f"{server.url}/soak/{name_}.git", "soak", token),
                        cwd=clones[name_])
                restarted = True
                serving.set()
                tally["server restart"] += 1
        stop.set()
        loader.join(180)
        proxy.set_rule(lambda seen: "pass")
        print(f"soak of {args.seconds:.0f} s: {dict(tally)}; S3 requests {len(proxy.log)}, "
              f"dropped {len(proxy.actions('drop'))}, reset {len(proxy.actions('reset'))}, "
              f"delayed {len(proxy.actions('delay'))}")
        for line in failures:
            print("a failed clone:", line)
        verify(tmp, server, moto, token, names, landed, refused)
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        server_cm.__exit__(None, None, None)
        redis_cm.__exit__(None, None, None)


def verify(tmp: Path, server, moto: str, token: str, names: list[str], landed: dict[str, str],
           refused: dict[str, list[str]]) -> None:
    """From a fresh node (no faults, empty cache): accepted pushes landed, clones fsck, checks final."""
    env = {k: v for k, v in server.env.items() if k.startswith("REGISTRY_")} | aws_env(moto) | {
        "REGISTRY_PACK_CACHE_DIR": str(tmp / "fresh-cache")}
    with registry_server(Path(server.env["REGISTRY_DATA_DIR"]), env) as fresh:
        lost, ghosts, owed_start = [], [], time.monotonic()
        for name in names:
            dest = tmp / "verify" / name
            git("clone", "-q", authed(f"{fresh.url}/soak/{name}.git", "soak", token), str(dest))
            history = set(git("rev-list", "--all", cwd=dest).stdout.split())
            if name in landed and landed[name] not in history:
                lost.append(name)
            ghosts += [tip for tip in refused.get(name, []) if tip in history]
            git("fsck", "--strict", cwd=dest)
        pending = 1
        while pending and time.monotonic() - owed_start < 120:
            pending = 0
            for name in names:
                head = httpx.get(f"{fresh.url}/api/v1/templates/soak/{name}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}).json()
                pending += sum(1 for c in head.get("checks", {}).values() if c["state"] == "pending")
            time.sleep(1)
        print(f"verify: {len(names)} templates clone and pass fsck --strict; accepted pushes lost: {lost or 'none'}; "
              f"refused pushes that landed: {ghosts or 'none'}; "
              f"checks still pending after {time.monotonic() - owed_start:.0f} s: {pending}")
        if lost or ghosts or pending:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
