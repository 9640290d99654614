"""Pushes onto a template that has history, and a clone right after a force push (issue 29),
against the registry vs C git http-backend, same run. Called from bench_git with its servers.

- incremental pushes: a template holding main~(20 x runs), then each run pushes the next 20
  commits on top (a thin pack whose deltas build on stored objects);
- clone right after a force push: main pushed, then rewound by 10 commits with `--force`, and a
  clone at once (the packs still hold the 10 unreachable commits, until the background repack).
"""
from __future__ import annotations

from pathlib import Path

from bench.bench_fetch import Servers
from bench.stats import Figure
from tests.gitcli import git

STEP = 20  # commits per incremental push


def incremental_pushes(srv: Servers, source: Path, runs: int) -> dict[str, Figure]:
    targets = srv.targets("incremental")
    for url in targets.values():
        git("push", "-q", url, f"main~{STEP * runs}:refs/heads/main", cwd=source)
    took: dict[str, list[float]] = {label: [] for label in targets}
    srv.reset()
    for run in range(runs):
        spec = f"main~{STEP * (runs - 1 - run)}:refs/heads/main" if run < runs - 1 else "main:refs/heads/main"
        for label, url in targets.items():
            srv.quiesce()  # the previous push's checks done
            srv.timed(took, label, lambda: git("push", "-q", url, spec, cwd=source))  # noqa: B023
    return {f"push of {STEP} new commits onto a template with history": srv.figure(took, f"median of {runs}")}


def after_force_push(tmp: Path, srv: Servers, source: Path, runs: int) -> dict[str, Figure]:
    """A new template each run: main pushed, checks done, then rewound by 10 commits, and cloned at once."""
    took: dict[str, list[float]] = {"http-backend": [], "registry": []}
    tip = git("rev-parse", "main~10", cwd=source).stdout.strip()
    for run in range(runs):
        targets = srv.targets(f"forced{run}")
        for url in targets.values():
            git("push", "-q", url, "main", cwd=source)
        srv.reset()  # the checks of that push done: what follows is the force push's own work
        for url in targets.values():
            git("push", "-q", "--force", url, "main~10:refs/heads/main", cwd=source)
        for label, url in targets.items():
            dest = tmp / f"forced-{label}-{run}"
            srv.timed(took, label, lambda: git("clone", "-q", "--bare", url, str(dest)))  # noqa: B023
            assert git("rev-parse", "main", cwd=dest).stdout.strip() == tip
    return {"clone right after a force push": srv.figure(took, f"median of {runs}")}
