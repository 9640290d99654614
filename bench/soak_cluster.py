"""`make soak-cluster`: the production shape under every fault at once, then the promises checked
(issue 27; Jepsen's method: a history of client operations checked against what was promised).

Two `registry serve --workers 2` nodes and two `registry worker`s on a PostgreSQL server, Redis
and S3 (moto behind the fault proxy) of the soak's own (bench/soak_nodes.py); pushes, clones,
fetches, searches, pull requests, reviews, merges, stars, web commits and webhook deliveries
through both nodes (bench/soak_load.py) while the faults of bench/soak_faults.py happen one at a
time, each kind at least twice. Afterwards, from a fresh node and the database
(bench/soak_verify.py): accepted pushes in the refs, refused ones not, `git fsck --strict`, one
push event per ref per landed push, checks final within 30 s of the last fault, deliveries at
least once and at most once more, pull request states as the refs say, star counts as the star
rows, no node restarted to recover, no 500. Exit 1 when any promise is broken.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import soak_load, soak_verify
from bench.soak_faults import Fault, inject
from bench.soak_history import History
from bench.soak_nodes import Shape, shape
from bench.soak_report import node_logs, print_figures, recoveries
from tests.gitcli import authed, commit_file, git
from tests.receiver import Receiver, receiver
from tests.services import Server

SECRET = "soak-hook-secret"
MANIFEST = json.loads((Path(__file__).resolve().parents[2] / "shared" / "examples" / "minimal.template.json").read_text())
CASE = {"name": "mentions the quarter", "parameters": {"portfolio": "SME loans", "quarter": "Q3"},
        "assert": [{"type": "contains", "value": "Q3"}]}
CHECKS_WITHIN = 30.0  # seconds after the last fault (or the last push, whichever is later)


def prepare(s: Shape, tmp: Path, rx: Receiver, templates: int) -> soak_load.World:
    """Users (the owner, a reviewer, five fans), templates with a manifest, a `web` branch, a
    protected `main` (no force push) and a hook to the soak's receiver on each."""
    a = s.nodes[0]
    server = Server(a.env | {"REGISTRY_DATA_DIR": str(a.data_dir)}, a.url, a.proc)
    users = ("soak", "reviewer", *(f"fan{i}" for i in range(5)))
    tokens = server.accounts(users, {u: (u, "write") for u in users})
    names = [f"t{i}" for i in range(templates)]
    auth = {"Authorization": f"Bearer {tokens['soak']}"}
    with httpx.Client(base_url=f"{a.url}/api/v1", headers=auth, timeout=120) as api:
        for i, name in enumerate(names):
            api.post("/templates", json={"name": name, "description": "soak"}).raise_for_status()
            api.put(f"/templates/soak/{name}/collaborators/reviewer", json={"role": "writer"}).raise_for_status()
            api.put(f"/templates/soak/{name}/protection/main", json={"allow_force_push": False}).raise_for_status()
            api.post(f"/templates/soak/{name}/hooks", json={"url": rx.url, "events": ["*"], "secret": SECRET}
                     ).raise_for_status()
            work = tmp / "seed" / name
            git("clone", "-q", authed(f"{a.url}/soak/{name}.git", "soak", tokens["soak"]), str(work))
            manifest = MANIFEST | {"title": f"Soak {name} {MANIFEST['title']}"}
            commit_file(work, "README.md", f"# {name}\n")
            if i == 0:  # one template runs a test case in the sandbox on every push
                commit_file(work, "tests/basic.json", json.dumps(CASE))
            commit_file(work, "template.json", json.dumps(manifest, indent=2))
            git("push", "-q", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/web", cwd=work)
    return soak_load.World(s.nodes, tmp, names, tokens, History())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--templates", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the logs and data dirs")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="soak-cluster-"))
    broken: dict[str, list[str]] = {}
    print(f"soak-cluster: {args.seconds:.0f} s, work dir {tmp}", flush=True)
    with receiver() as rx, shape(tmp) as s:
        w = prepare(s, tmp, rx, args.templates)
        w.history.t0 = begun = time.monotonic()
        threads = soak_load.start(w)
        faults: list[Fault] = inject(s, w, args.seconds)
        while time.monotonic() - begun < args.seconds:
            time.sleep(0.5)
        time.sleep(5)  # pushes after the last fault, to measure its recovery
        w.stop.set()
        for t in threads:
            t.join(600)
        load_end = time.monotonic()
        w.history.dump(tmp / "history.jsonl", faults)
        print_figures(w.history, faults, load_end - begun)
        since = max(faults[-1].end, load_end)
        settled = soak_verify.settle(s, since)
        print(f"after the load: checks all final {_secs(settled['checks'])} and webhook deliveries all "
              f"delivered {_secs(settled['deliveries'])} after the later of the last fault and the last push")
        if settled["checks"] is None or settled["checks"] > CHECKS_WITHIN:
            broken["checks final within 30 s of the last fault"] = [f"took {_secs(settled['checks'])}"]
        broken |= verify(s, w, rx, tmp, faults)
    for promise, cases in broken.items():
        print(f"BROKEN: {promise}: {len(cases)}")
        for case in cases[:8]:
            print(f"    {case}")
    if broken:
        print(f"logs and data kept in {tmp}")
        sys.exit(1)
    print("every promise kept")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


def _secs(value: float | None) -> str:
    return "never (within 300 s)" if value is None else f"{value:.1f} s"


def verify(s: Shape, w: soak_load.World, rx: Receiver, tmp: Path, faults: list[Fault]) -> dict[str, list[str]]:
    broken: dict[str, list[str]] = {}
    token = w.tokens["soak"]
    for node in s.nodes:
        if not node.alive():
            broken.setdefault("no node needed a restart", []).append(f"node {node.label} is not running")
    for wk in s.workers:
        if not wk.alive() and wk.label not in {f.detail.split()[1] for f in faults if f.kind.startswith("worker")}:
            broken.setdefault("no node needed a restart", []).append(f"worker {wk.label} died unasked")
    logs = node_logs(s)
    for kind in ("500 (unhandled error)", "server process ended unasked"):
        if logs.get(kind):
            broken[f"node logs: {kind}"] = logs[kind]
    _, never = recoveries(w.history, faults)
    if never:
        broken["every node recovers from every fault without a restart"] = never
    errors = [f"{op.kind} via {op.node} at {op.start - w.history.t0:.0f} s: {op.detail}" for op in w.history.errors()]
    if errors:
        broken["no 500, and every 503 with Retry-After"] = errors
    with s.fresh_node() as fresh:
        mirrors, fsck = {}, {}
        for name in w.names:
            mirrors[name], fsck[name] = soak_verify.mirror(fresh, token, name, tmp)
        print(f"fresh node: {len(mirrors)} templates cloned, {sum(len(m.refs) for m in mirrors.values())} refs, "
              f"fsck --strict {'clean' if not any(fsck.values()) else 'FAILED'}")
        if any(fsck.values()):
            broken["git fsck --strict"] = [f"{n}: {out}" for n, out in fsck.items() if out]
        events = soak_verify.push_events(s)
        broken |= soak_verify.pushes(w.history, mirrors, events)
        unknown = [op for op in w.history.of("push:") if op.outcome == "unknown"]
        print(f"pushes of unknown outcome: {len(unknown)}, of which landed: "
              f"{sum(1 for op in unknown if soak_verify.landed(op, mirrors[op.template]))}")
        for promise, found in (("star counts equal star rows", soak_verify.stars(s, w.history, fresh, token, w.names)),
                               ("pull requests' state matches their refs", soak_verify.pulls(s, w.history, mirrors)),
                               ("checks final", soak_verify.checks(s, w.history, mirrors))):
            if found:
                broken[promise] = found
        delivered, times = soak_verify.deliveries(s, rx, SECRET)
        print(f"webhook deliveries: {sum(times.values())} rows by times received {dict(sorted(times.items()))}")
        if delivered:
            broken["webhook deliveries at least once, at most once more"] = delivered
    return broken


if __name__ == "__main__":
    main()
