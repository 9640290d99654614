"""Incremental fetch and pull against the registry vs C git http-backend, same run (issue 14).

Called from bench_git (the same source history and servers). Each scenario sets both servers
to the same state, makes one client copy per run (a local copy of a clone, untimed), and times
only the `git fetch` or `git pull` against each server.
"""
from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from bench.stats import timed
from tests.gitcli import authed, git

Targets = dict[str, str]  # label -> remote url


def targets_for(name: str, root: Path, base_url: str, reg, token: str) -> Targets:
    """An empty repo `name` on both servers, and each one's URL."""
    import httpx

    httpx.post(f"{reg.url}/api/v1/templates", json={"name": name},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    git("init", "-q", "--bare", str(root / f"{name}.git"))
    return {"http-backend": f"{base_url}/{name}.git", "registry": authed(f"{reg.url}/bench/{name}.git", "bench", token)}


def _clones(tmp: Path, name: str, targets: Targets, bare: bool) -> dict[str, Path]:
    out = {}
    for label, url in targets.items():
        out[label] = tmp / f"{name}-{label}"
        git("clone", "-q", *(["--bare"] if bare else []), url, str(out[label]))
    return out


def _time_runs(tmp: Path, name: str, clones: dict[str, Path], runs: int, op: tuple[str, ...],
               expect: str) -> tuple[float, float]:
    """Median seconds of `git <op>` in a fresh copy of each clone, alternating servers per run."""
    took: dict[str, list[float]] = {label: [] for label in clones}
    for run in range(runs):
        for label, clone in clones.items():
            copy = tmp / f"{name}-{label}-run{run}"
            shutil.copytree(clone, copy, symlinks=True)
            took[label].append(timed(lambda: git(*op, cwd=copy)))  # noqa: B023
            got = git("rev-parse", "FETCH_HEAD" if op[0] == "fetch" else "HEAD", cwd=copy).stdout.split()[0]
            assert got == expect, (name, label, got, expect)
            if run == 0:
                git("fsck", "--no-progress", "--connectivity-only", cwd=copy)
            shutil.rmtree(copy)
    return statistics.median(took["http-backend"]), statistics.median(took["registry"])


def fetch_scenarios(tmp: Path, source: Path, root: Path, base_url: str, reg, token: str, runs: int,
                    pushes: int) -> dict[str, tuple[float, float]]:
    """(http-backend, registry) median seconds of each incremental scenario."""
    def rev(spec: str) -> str:
        return git("rev-parse", spec, cwd=source).stdout.strip()

    def behind(name: str, commits: int, bare: bool) -> dict[str, Path]:
        """A clone of each server made `commits` behind main; then main is pushed to both."""
        targets = targets_for(name, root, base_url, reg, token)
        for url in targets.values():
            git("push", "-q", url, f"main~{commits}:refs/heads/main", cwd=source)
        clones = _clones(tmp, name, targets, bare=bare)
        for url in targets.values():
            git("push", "-q", url, "main", cwd=source)
        return clones

    out: dict[str, tuple[float, float]] = {}
    tip = rev("main")

    # (a) a clone 20 commits behind, then `git fetch` of the 20 new ones
    clones = behind("fetch20", 20, bare=True)
    out["fetch of 20 new commits"] = _time_runs(tmp, "fetch20", clones, runs, ("fetch", "-q", "origin", "main"), tip)

    # (a') the same fetch from a repo pushed in one go (one pack): the client, 20 commits
    # behind, is a local copy of the source at main~20 whose origin is the server
    targets = targets_for("fetch20one", root, base_url, reg, token)
    clones = {}
    git("branch", "-f", "behind", "main~20", cwd=source)
    for label, url in targets.items():
        git("push", "-q", url, "main", cwd=source)
        clones[label] = tmp / f"fetch20one-{label}"
        git("init", "-q", "--bare", str(clones[label]))
        git("fetch", "-q", f"file://{source}", "behind:refs/heads/main", cwd=clones[label])
        git("remote", "add", "origin", url, cwd=clones[label])
    git("branch", "-D", "behind", cwd=source)
    out["fetch of 20 from one pack"] = _time_runs(tmp, "fetch20one", clones, runs, ("fetch", "-q", "origin", "main"),
                                                  tip)

    # (b) a working clone, one new commit pushed, then `git pull`
    clones = behind("pull1", 1, bare=False)
    out["pull after 1 new commit"] = _time_runs(tmp, "pull1", clones, runs,
                                                ("pull", "-q", "--ff-only", "origin", "main"), tip)

    # (c) the history arrived as many pushes (one pack each), then a fetch of 20 new commits
    if pushes:
        total = int(git("rev-list", "--count", "main~20", cwd=source).stdout)
        targets = targets_for("pushes", root, base_url, reg, token)
        for k in range(1, pushes + 1):
            back = 20 + (total * (pushes - k)) // pushes
            for url in targets.values():
                git("push", "-q", url, f"main~{back}:refs/heads/main", cwd=source)
        clones = _clones(tmp, "pushes", targets, bare=True)
        for url in targets.values():
            git("push", "-q", url, "main", cwd=source)
        out[f"fetch of 20 after {pushes + 1} pushes"] = _time_runs(
            tmp, "pushes", clones, runs, ("fetch", "-q", "origin", "main"), tip)
    return out
