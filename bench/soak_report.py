"""The figures of `make soak-cluster`: operations per kind and outcome, faults per kind, the worst
time to recover from each kind of fault (the first push through each affected node that was
accepted after the fault was lifted), and what the nodes' own logs say about 500s and restarts."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from bench.soak_faults import Fault
from bench.soak_history import History
from bench.soak_nodes import Shape


def recoveries(h: History, faults: list[Fault]) -> tuple[dict[str, float], list[str]]:
    """Worst recovery per fault kind in seconds, and the faults some node never recovered from."""
    worst: dict[str, float] = defaultdict(float)
    never: list[str] = []
    for f in faults:
        for node, seconds in f.recovered.items():
            if seconds is None:
                never.append(f"{f.kind} at {f.start - h.t0:.0f} s: no push accepted through node {node} after it")
            else:
                worst[f.kind] = max(worst[f.kind], seconds)
    return dict(worst), never


def node_logs(s: Shape) -> dict[str, list[str]]:
    """Lines of the nodes' and workers' logs that tell of a 500, a process that died and was
    replaced, or a traceback, by kind."""
    found: dict[str, list[str]] = defaultdict(list)
    paths = [n.log for n in s.nodes] + [w.log for w in s.workers]
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if "unhandled error on" in line:
                found["500 (unhandled error)"].append(f"{path.name}: {line.strip()[:200]}")
            elif re.search(r"server process \d+ ended", line):
                found["server process ended unasked"].append(f"{path.name}: {line.strip()[:200]}")
            elif line.startswith("Traceback"):
                found["tracebacks (any)"].append(path.name)
    return found


def print_figures(h: History, faults: list[Fault], elapsed: float) -> None:
    tally = h.tally()
    kinds = sorted({k.rsplit(" ", 1)[0] for k in tally})
    print(f"\noperations in {elapsed:.0f} s of load (kind: outcomes):")
    for kind in kinds:
        outcomes = {k.rsplit(" ", 1)[1]: n for k, n in tally.items() if k.rsplit(" ", 1)[0] == kind}
        total = sum(outcomes.values())
        print(f"  {kind:16} {total:5}  " + ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items())))
    per_kind = Counter(f.kind for f in faults)
    s3 = Counter()
    for f in faults:
        s3.update(f.counts)
    print("faults injected:")
    for kind, n in per_kind.items():
        details = "; ".join(f.detail for f in faults if f.kind == kind and f.detail)
        extra = f" (S3 requests in the windows: {dict(s3)})" if kind.startswith("s3") else ""
        print(f"  {kind:28} x{n}{extra}{'  ' + details if details else ''}")
    worst, _ = recoveries(h, faults)
    print("worst time to recover (end of the fault to the first push accepted through each affected node):")
    for kind in per_kind:
        value = worst.get(kind)
        print(f"  {kind:28} {'never' if value is None else f'{value:.1f} s'}")
