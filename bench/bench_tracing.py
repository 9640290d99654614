"""What tracing costs (issue 36): the same pushes and clones against a registry exporting every
span by OTLP to a collector this script runs (over real HTTP) and against one with traces off
(OTEL_EXPORTER_OTLP_ENDPOINT unset), both running, turn about, median of each: the ratio on/off.
Checks run meanwhile (embedded queue), traced too when on.

    make bench   (or: python -m bench.bench_tracing [--runs 15])
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import timed
from tests.gitcli import authed, commit_file, git
from tests.otlp import otlp_collector
from tests.services import registry_server
from tests.unit.usecases import MINIMAL


class _Side:
    """One server's template, with some history for the clones to carry."""

    def __init__(self, server, tmp: Path) -> None:
        token = server.user("alice")
        httpx.post(f"{server.url}/api/v1/templates", json={"name": "traced"}, timeout=30,
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        self.url, self.tmp = authed(f"{server.url}/alice/traced.git", "alice", token), tmp
        self.work = tmp / "work"
        git("clone", "-q", self.url, str(self.work))
        (self.work / "notes").mkdir()
        for i in range(200):
            (self.work / f"notes/{i}.md").write_text(f"note {i}\n" * 40)
        commit_file(self.work, "template.json", json.dumps(MINIMAL, indent=2))
        git("push", "-q", "origin", "HEAD:main", cwd=self.work)
        self.pushes: list[float] = []
        self.clones: list[float] = []

    def once(self, i: int) -> None:
        commit_file(self.work, "README.md", f"revision {i}\n")
        self.pushes.append(timed(lambda: git("push", "-q", "origin", "HEAD:main", cwd=self.work)))
        self.clones.append(timed(lambda: git("clone", "-q", self.url, str(self.tmp / f"clone-{i}"))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp_name:
        tmp = Path(tmp_name)
        for side in ("off", "on"):
            (tmp / side).mkdir()
        with otlp_collector() as collector, registry_server(tmp / "off" / "data") as server_off:
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "1000"}
            with registry_server(tmp / "on" / "data", env) as server_on:
                off, on = _Side(server_off, tmp / "off"), _Side(server_on, tmp / "on")
                for i in range(runs):  # alternated, so the machine's moods fall on both alike
                    off.once(i)
                    on.once(i)
                time.sleep(2)  # the last batch
            spans = len(collector.spans)
        push_off, clone_off = statistics.median(off.pushes), statistics.median(off.clones)
        push_on, clone_on = statistics.median(on.pushes), statistics.median(on.clones)
    print(f"push:  traces off {push_off * 1000:.0f} ms, on {push_on * 1000:.0f} ms, ratio {push_on / push_off:.2f}")
    print(f"clone: traces off {clone_off * 1000:.0f} ms, on {clone_on * 1000:.0f} ms, ratio {clone_on / clone_off:.2f}")
    print(f"({runs} of each, medians; {spans} spans received by the collector)")


if __name__ == "__main__":
    main()
