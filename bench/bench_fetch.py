"""Incremental fetch and pull against the registry vs C git http-backend, same run (issue 14).

Called from bench_git (the same source history and servers). Each scenario sets both servers
to the same state, makes one client copy per run (a local copy of a clone, untimed), and times
only the `git fetch` or `git pull` against each server.
"""
from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import githttp_baseline as baseline
from bench.rss import PeakRSS, cpu_seconds
from bench.stats import Figure, timed
from tests.gitcli import authed, git

Targets = dict[str, str]  # label -> remote url
CPU = " cpu"  # took[label + CPU]: the server's CPU seconds of each run


@dataclass
class Servers:
    """The http-backend baseline (repos under `root`) and one registry, with their RSS samplers."""
    root: Path
    base_url: str
    reg: Any  # tests.services.Server
    token: str
    rss: PeakRSS | None = None  # the registry's process tree
    base_rss: PeakRSS | None = None  # the git http-backend processes
    profile: Path | None = None  # where bench.profiled_serve writes each push's profile (--profile)
    profiles: list[tuple[float, Path]] = field(default_factory=list)  # (ratio of its run, its .txt)

    def targets(self, name: str) -> Targets:
        """An empty repo `name` on both servers, and each one's URL."""
        import httpx

        httpx.post(f"{self.reg.url}/api/v1/templates", json={"name": name},
                   headers={"Authorization": f"Bearer {self.token}"}).raise_for_status()
        git("init", "-q", "--bare", str(self.root / f"{name}.git"))
        return self.urls(name)

    def urls(self, name: str) -> Targets:
        return {"http-backend": f"{self.base_url}/{name}.git",
                "registry": authed(f"{self.reg.url}/bench/{name}.git", "bench", self.token)}

    def log(self) -> Path:
        """The registry's stdout and stderr (tests.services.registry_server writes it there)."""
        port = self.reg.url.rsplit(":", 1)[1]
        return Path(self.reg.env["REGISTRY_DATA_DIR"]).parent / f"server-{port}.log"

    def quiesce(self, timeout: float = 120.0) -> float:
        """Wait until the registry's background queue has no job waiting (checks and repacks the
        previous pushes queued), so a scenario is not timed against an earlier one's leftovers.
        Seconds waited; a running job may still finish meanwhile."""
        import httpx

        start = time.monotonic()
        idle = 0
        while idle < 8 and time.monotonic() - start < timeout:  # many polls: each process has its own queue
            text = httpx.get(f"{self.reg.url}/metrics", timeout=30).text
            waiting = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                          if line.startswith("registry_queue_depth{"))
            idle = idle + 1 if waiting == 0 else 0
            time.sleep(0.25)
        return time.monotonic() - start

    def reset(self) -> None:
        """A quiet registry and a new RSS window: what `figure` reports is the peak from here."""
        self.quiesce()
        for sampler in (self.rss, self.base_rss):
            if sampler:
                sampler.reset()

    def timed(self, took: dict[str, list[float]], label: str, fn: Callable[[], object]) -> float:
        """Seconds `fn` took, appended to `took[label]`; the CPU seconds the server `label` spent
        meanwhile to `took[label + CPU]` (wall time on a shared machine is noisy, work is not)."""
        if self.profile is not None and label == "registry":  # only this run's pushes are kept
            for old in (self.profile / "raw").glob("*"):
                old.unlink()
        before = self._cpu(label)
        took[label].append(seconds := timed(fn))
        took.setdefault(label + CPU, []).append(self._cpu(label) - before)
        if self.profile is not None and label == "registry":
            self._keep_profiles(seconds / took["http-backend"][-1] if took.get("http-backend") else 0.0)
        return seconds

    def _keep_profiles(self, ratio: float) -> None:
        """Name the profiles of the push just timed after its run's ratio (bench.profiled_serve
        writes them under `profile/raw`)."""
        assert self.profile is not None
        for txt in sorted((self.profile / "raw").glob("*.txt")):
            kept = self.profile / f"run{len(self.profiles):03d}-ratio{ratio:.2f}-{txt.stem}.txt"
            txt.rename(kept)
            txt.with_suffix(".html").rename(kept.with_suffix(".html"))
            self.profiles.append((ratio, kept))

    def _cpu(self, label: str) -> float:
        return baseline.CPU[0] if label == "http-backend" else cpu_seconds(self.reg.proc.pid)

    def figure(self, took: dict[str, list[float]], note: str) -> Figure:
        """The medians of `took` and the peak memory (PSS, bench.rss) of each server since `reset`;
        each run's seconds (and CPU seconds, where `timed` measured them) beside."""
        return Figure(statistics.median(took["http-backend"]), statistics.median(took["registry"]), note,
                      self.rss.peak_mb() if self.rss else None, self.base_rss.peak_mb() if self.base_rss else None,
                      self.rss.peak_files_mb() if self.rss else None,
                      base_runs=list(took["http-backend"]), ours_runs=list(took["registry"]),
                      ours_cpu=list(took.get("registry" + CPU, [])), base_cpu=list(took.get("http-backend" + CPU, [])))


def clones(tmp: Path, name: str, targets: Targets, bare: bool) -> dict[str, Path]:
    out = {}
    for label, url in targets.items():
        out[label] = tmp / f"{name}-{label}"
        git("clone", "-q", *(["--bare"] if bare else []), url, str(out[label]))
    return out


def behind(tmp: Path, srv: Servers, source: Path, name: str, commits: int, bare: bool) -> dict[str, Path]:
    """A clone of each server made `commits` (first-parent) behind main; then main is pushed to both."""
    targets = srv.targets(name)
    for url in targets.values():
        git("push", "-q", url, f"main~{commits}:refs/heads/main", cwd=source)
    out = clones(tmp, name, targets, bare=bare)
    for url in targets.values():
        git("push", "-q", url, "main", cwd=source)
    return out


def time_runs(tmp: Path, srv: Servers, name: str, copies: dict[str, Path], runs: int, op: tuple[str, ...],
              expect: str) -> Figure:
    """Median seconds of `git <op>` in a fresh copy of each clone, alternating servers per run."""
    took: dict[str, list[float]] = {label: [] for label in copies}
    srv.reset()
    for run in range(runs):
        for label, clone in copies.items():
            copy = tmp / f"{name}-{label}-run{run}"
            shutil.copytree(clone, copy, symlinks=True)
            srv.timed(took, label, lambda: git(*op, cwd=copy))  # noqa: B023
            got = git("rev-parse", "FETCH_HEAD" if op[0] == "fetch" else "HEAD", cwd=copy).stdout.split()[0]
            assert got == expect, (name, label, got, expect)
            if run == 0:
                git("fsck", "--no-progress", "--connectivity-only", cwd=copy)
            shutil.rmtree(copy)
    return srv.figure(took, f"median of {runs}")


FETCH = ("fetch", "-q", "origin", "main")
PULL = ("pull", "-q", "--ff-only", "origin", "main")


def fetch_scenarios(tmp: Path, srv: Servers, source: Path, runs: int, pushes: int) -> dict[str, Figure]:
    """The figures of each incremental scenario."""
    tip = git("rev-parse", "main", cwd=source).stdout.strip()
    out: dict[str, Figure] = {}

    # (a) a clone 20 commits behind, then `git fetch` of the 20 new ones
    copies = behind(tmp, srv, source, "fetch20", 20, bare=True)
    out["fetch of 20 new commits"] = time_runs(tmp, srv, "fetch20", copies, runs, FETCH, tip)

    # (a') the same fetch from a repo pushed in one go (one pack): the client, 20 commits
    # behind, is a local copy of the source at main~20 whose origin is the server
    targets = srv.targets("fetch20one")
    copies = {}
    git("branch", "-f", "behind", "main~20", cwd=source)
    for label, url in targets.items():
        git("push", "-q", url, "main", cwd=source)
        copies[label] = tmp / f"fetch20one-{label}"
        git("init", "-q", "--bare", str(copies[label]))
        git("fetch", "-q", f"file://{source}", "behind:refs/heads/main", cwd=copies[label])
        git("remote", "add", "origin", url, cwd=copies[label])
    git("branch", "-D", "behind", cwd=source)
    out["fetch of 20 from one pack"] = time_runs(tmp, srv, "fetch20one", copies, runs, FETCH, tip)

    # (b) a working clone, one new commit pushed, then `git pull`
    copies = behind(tmp, srv, source, "pull1", 1, bare=False)
    out["pull after 1 new commit"] = time_runs(tmp, srv, "pull1", copies, runs, PULL, tip)

    # (c) the history arrived as many pushes (one pack each), then a fetch of 20 new commits
    if pushes:
        total = int(git("rev-list", "--count", "main~20", cwd=source).stdout)
        targets = srv.targets("pushes")
        for k in range(1, pushes + 1):
            back = 20 + (total * (pushes - k)) // pushes
            for url in targets.values():
                git("push", "-q", url, f"main~{back}:refs/heads/main", cwd=source)
        copies = clones(tmp, "pushes", targets, bare=True)
        for url in targets.values():
            git("push", "-q", url, "main", cwd=source)
        out[f"fetch of 20 after {pushes + 1} pushes"] = time_runs(tmp, srv, "pushes", copies, runs, FETCH, tip)
    return out
