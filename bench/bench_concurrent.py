"""N clones of the same repo started together (issue 14: 8 concurrent clones, total wall time,
against the registry vs C git http-backend). Called from bench_git with its servers, once with
the registry's default single process and once with `serve --workers 2`.
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

from bench.bench_fetch import Servers
from bench.stats import Figure, timed
from tests.gitcli import git


def _clone_all(url: str, dests: list[Path]) -> None:
    """`git clone --bare` of `url` into every one of `dests`, all started at once."""
    errors: list[BaseException] = []

    def one(dest: Path) -> None:
        try:
            git("clone", "-q", "--bare", url, str(dest), timeout=900)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(d,)) for d in dests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def concurrent_clones(tmp: Path, srv: Servers, name: str, source: Path, n: int, runs: int) -> Figure:
    """Median total wall time of `n` simultaneous bare clones of `name` (holding `source`'s main)."""
    tip = git("rev-parse", "main", cwd=source).stdout.strip()
    took: dict[str, list[float]] = {"http-backend": [], "registry": []}
    srv.reset()
    for run in range(runs):
        for label, url in srv.urls(name).items():
            dests = [tmp / f"{name}-{label}-{run}-{i}" for i in range(n)]
            took[label].append(timed(lambda: _clone_all(url, dests)))  # noqa: B023
            for dest in dests:
                assert git("rev-parse", "main", cwd=dest).stdout.strip() == tip, (label, dest)
            git("fsck", "--no-progress", "--connectivity-only", cwd=dests[0])
            for dest in dests:
                shutil.rmtree(dest)
    return srv.figure(took, f"median of {runs}; total wall time")
