"""A real public history (issue 14): push, clone, fetch and pull of pallets/jinja's main
(2,949 commits, merges, renames, binary files) against the registry vs C git http-backend.

Called from bench_git with its servers. The source is a local clone of the mirror (the mirror
itself is only read). Every registry clone is checked against the http-backend one: the same
refs, and a full `git fsck`.
"""
from __future__ import annotations

from pathlib import Path

from bench.bench_fetch import FETCH, PULL, Servers, behind, time_runs
from bench.stats import Figure
from tests.gitcli import commit_file, git

DEFAULT_MIRROR = Path("/work/.mirror/pallets+jinja/repo")


def _refs(repo: Path) -> str:
    return git("for-each-ref", "--format=%(objectname) %(refname)", cwd=repo).stdout


def _behind_by(source: Path, commits: int) -> tuple[int, int]:
    """(k, n): main~k (first parent) is the one nearest to `commits` behind main, n commits behind.
    Merges bring several commits per first-parent step (jinja: main~20..main is 121 commits)."""
    best = (1, 1)
    for k in range(1, commits + 1):
        n = int(git("rev-list", "--count", f"main~{k}..main", cwd=source).stdout)
        if abs(n - commits) < abs(best[1] - commits):
            best = (k, n)
        if n >= commits:
            break
    return best


def _push(srv: Servers, took: dict[str, list[float]], url: str, label: str, source: Path) -> float:
    """Seconds of the push of the whole main (into `took`); a refused push shows the registry's log."""
    try:
        return srv.timed(took, label, lambda: git("push", "-q", url, "main", cwd=source, timeout=900))
    except AssertionError:
        if label == "registry":
            print(f"registry refused the push; its log ({srv.log()}) ends with:\n"
                  + "\n".join(srv.log().read_text(errors="replace").splitlines()[-30:]))
        raise


def real_scenarios(tmp: Path, srv: Servers, mirror: Path, runs: int) -> dict[str, Figure]:
    source = tmp / "real-source"
    git("clone", "-q", "--no-hardlinks", "--branch", "main", str(mirror), str(source))
    name = mirror.name if mirror.name not in ("repo", ".git") else mirror.parent.name
    count = int(git("rev-list", "--count", "main", cwd=source).stdout)
    print(f"real repo: {name}, {count} commits on main")
    out: dict[str, Figure] = {}

    took: dict[str, list[float]] = {"http-backend": [], "registry": []}
    srv.reset()
    for run in range(runs):  # the whole main into an empty template, a new one each run
        for label, url in srv.targets(f"real{run}").items():
            srv.quiesce()  # the previous push's checks done
            _push(srv, took, url, label, source)
    out[f"push of {count} commits (real)"] = srv.figure(took, f"median of {runs}")

    took = {"http-backend": [], "registry": []}
    srv.reset()
    for run in range(runs):
        dests = {}
        for label, url in srv.urls(f"real{run}").items():
            dests[label] = tmp / f"real-clone-{label}-{run}"
            srv.timed(took, label, lambda: git("clone", "-q", "--bare", url, str(dests[label])))  # noqa: B023
        assert _refs(dests["registry"]) == _refs(dests["http-backend"]), "clone refs differ"
        if run == 0:
            git("fsck", "--no-progress", "--strict", cwd=dests["registry"])
    out["clone (real)"] = srv.figure(took, f"median of {runs}")

    tip = git("rev-parse", "main", cwd=source).stdout.strip()
    back, new = _behind_by(source, 20)
    copies = behind(tmp, srv, source, "realfetch", back, bare=True)
    out[f"fetch of {new} new commits (real, main~{back}..main)"] = time_runs(tmp, srv, "realfetch", copies, runs,
                                                                            FETCH, tip)

    tip = commit_file(source, "bench-new-file.txt", "one new commit on top of jinja's main\n")
    copies = behind(tmp, srv, source, "realpull", 1, bare=False)
    out["pull after 1 new commit (real)"] = time_runs(tmp, srv, "realpull", copies, runs, PULL, tip)
    return out
