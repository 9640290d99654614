"""A web commit against a git push of the same change (issue 31: "a web commit lands and shows its
checks green as fast as a git push does"), as ratios in one run.

Three templates hold the same 20 files (bench_check.template_files); each round makes the same
edit of prompts/system.md on each, in turn (the order rotates, so the machine's noise falls on all
alike), by:
- git: `git commit` beforehand, then `git push` (timed), as bench_pipeline times a push;
- api: POST /api/v1/templates/{o}/{n}/commits {branch, parent, message, changes};
- form: the editor's own form, POST /{o}/{n}/edit/main/prompts/system.md (action=commit, direct
  to main) with a signed-in session, the page fetched beforehand as a person has it open; the
  answer is a redirect, so the new tip is read from /branches (inside the time).
Each is timed until the commit lands (the answer) and until all three checks (validate, index,
sandbox) are green, polled as bench_pipeline does, on redis-server with 2 workers.

    make bench   (or: python -m bench.bench_web_commit [--rounds 20])
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.bench_check import SYSTEM, template_files
from bench.bench_pipeline import wait_green
from bench.stats import pct
from tests.gitcli import authed, commit_file, git
from tests.services import redis_server, registry_server, start_worker

PATH = "prompts/system.md"
WAYS = ("git", "api", "form")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} field on the page"
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    env_fast = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "5", "REGISTRY_WORKER_MAINTENANCE_SECONDS": "5",
                "REGISTRY_RECONCILE_SECONDS": "5"}
    landed: dict[str, list[float]] = {way: [] for way in WAYS}
    green: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp_s, redis_server() as redis_url:
        tmp = Path(tmp_s)
        with registry_server(tmp / "data", {"REGISTRY_REDIS_URL": redis_url, **env_fast}) as server:
            token = server.accounts(("bench",), {"bench": ("bench", "write")})["bench"]
            api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                               timeout=60)
            workers = [start_worker(server.env, tmp / f"w{i}.log") for i in range(2)]
            try:
                tips = {}
                for way in WAYS:
                    assert api.post("/templates", json={"name": way}).status_code == 201
                    made = api.post(f"/templates/bench/{way}/commits", json={
                        "branch": "main", "message": "Twenty files", "changes": [
                            {"path": p, "content_base64": base64.b64encode(d).decode()}
                            for p, d in template_files().items()]})
                    assert made.status_code == 201, made.text
                    tips[way] = made.json()["sha"]
                    wait_green(api, way, [tips[way]])
                work = tmp / "clone"
                git("clone", "-q", authed(f"{server.url}/bench/git.git", "bench", token), str(work))
                web = httpx.Client(base_url=server.url, timeout=60, headers={"Origin": server.url})
                signed = web.post("/login", data={"csrf": hidden(web.get("/login").text, "csrf"), "user": "bench",
                                                  "token": token})
                assert signed.status_code == 303, signed.text

                def by_git(text: str, i: int) -> Callable[[], str]:
                    commit_file(work, PATH, text, f"Revision {i}")
                    return lambda: (git("push", "-q", "origin", "HEAD:main", cwd=work),
                                    git("rev-parse", "HEAD", cwd=work).stdout.strip())[1]

                def by_api(text: str, i: int) -> Callable[[], str]:
                    body = {"branch": "main", "parent": tips["api"], "message": f"Revision {i}",
                            "changes": [{"path": PATH, "content_base64": base64.b64encode(text.encode()).decode()}]}

                    def send() -> str:
                        resp = api.post("/templates/bench/api/commits", json=body)
                        assert resp.status_code == 201, resp.text
                        tips["api"] = resp.json()["sha"]
                        return tips["api"]
                    return send

                def by_form(text: str, i: int) -> Callable[[], str]:
                    page = web.get(f"/bench/form/edit/main/{PATH}").text  # the page as the person has it open
                    form = {"csrf": hidden(page, "csrf"), "branch": "main", "parent": hidden(page, "parent"),
                            "original": PATH, "path": PATH, "content": text, "message": f"Revision {i}",
                            "choice": "direct", "action": "commit"}

                    def send() -> str:
                        resp = web.post(f"/bench/form/edit/main/{PATH}", data=form)
                        assert resp.status_code == 303 and "/blob/main/" in resp.headers["location"], resp.text
                        [main] = [b for b in api.get("/templates/bench/form/branches").json() if b["name"] == "main"]
                        return str(main["sha"])
                    return send

                prepare = {"git": by_git, "api": by_api, "form": by_form}
                for i in range(args.rounds):
                    text = SYSTEM + f"Revision {i}: keep to the facts.\n"
                    order = WAYS[i % 3:] + WAYS[:i % 3]
                    for way in order:
                        send = prepare[way](text, i)
                        start = time.perf_counter()
                        sha = send()
                        landed[way].append(time.perf_counter() - start)
                        wait_green(api, way, [sha])
                        green[way].append(time.perf_counter() - start)
            finally:
                for proc in workers:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(30)
    ms = {way: statistics.median(green[way]) * 1000 for way in WAYS}
    print(f"web commit vs git push, the same edit of {PATH} (20-file template), {args.rounds} rounds, redis + 2 "
          f"workers, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    for way in WAYS:
        print(f"  {way:4}: landed p50 {statistics.median(landed[way]) * 1000:4.0f} ms  p95 "
              f"{pct(landed[way], 0.95) * 1000:4.0f} ms   all checks green p50 {ms[way]:4.0f} ms  p95 "
              f"{pct(green[way], 0.95) * 1000:4.0f} ms")
    for way in ("api", "form"):
        print(f"  ratio {way}/git: landed {statistics.median(landed[way]) / statistics.median(landed['git']):.2f}x  "
              f"green {ms[way] / ms['git']:.2f}x (p50s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
