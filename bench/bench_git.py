"""Clone, push, incremental fetch and pull of a 2,000-commit, 50-file template, 8 concurrent
clones (serve's default, one process per core, then one process), and the same on a real
history (pallets/jinja):
registry vs C git http-backend, same run, with the registry's peak memory (PSS summed over its
processes, bench.rss) in each scenario (issue 14).

    make bench   (or: python -m bench.bench_git [--commits N] [--runs R] [--pushes P]
                      [--only push|pushes|deletion|fetch|real|concurrent] [--real GITDIR] [--clients N]
                      [--serve-workers N] [--profile push [--profile-dir DIR]])

Each line gives the median ratio, the maximum and every run's ratio (registry over http-backend,
run by run), and the median CPU seconds each server spent per run (wall time on a shared machine
is noisy; CPU shows the work). `--only pushes` runs every push path of issue 29; `--profile push`
runs them against a registry whose every push is profiled (bench.profiled_serve) and keeps the
slowest run's profile as DIR/slowest-push.txt and .html (default DIR: /tmp/bench-git-profile).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from api.cli import cores
from bench.bench_concurrent import concurrent_clones
from bench.bench_fetch import Servers, fetch_scenarios
from bench.bench_push import after_force_push, incremental_pushes
from bench.bench_real import DEFAULT_MIRROR, real_scenarios
from bench.githttp_baseline import serve_http_backend
from bench.rss import PeakRSS
from bench.stats import Figure
from tests.gitcli import git
from tests.services import Server, registry_server


def make_history(dest: Path, commits: int, files: int) -> None:
    """A realistic-shaped history via fast-import: each commit edits one of `files` prompt files."""
    git("init", "-q", str(dest))
    lines = []
    contents = {f: [f"# prompt {f}\n"] + [f"line {i} of file {f}: be concise and cite sources.\n" for i in range(40)]
                for f in range(files)}
    for c in range(commits):
        f = c % files
        contents[f][(c // files) % 40 + 1] = f"line edited in commit {c}: {'lorem ipsum ' * 3}\n"
        data = "".join(contents[f]).encode()
        msg = f"commit {c}\n".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(b"committer Bench <b@example.com> %d +0000\n" % (1_700_000_000 + c * 60))
        lines.append(b"data %d\n%s" % (len(msg), msg))
        if c == 0:
            for g in range(files):
                d = "".join(contents[g]).encode()
                lines.append(b"M 100644 inline prompts/p%02d.md\ndata %d\n%s\n" % (g, len(d), d))
        else:
            lines.append(b"M 100644 inline prompts/p%02d.md\ndata %d\n%s\n" % (f, len(data), data))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=dest, input=b"".join(lines), check=True)
    git("reset", "-q", "--hard", "main", cwd=dest)
    git("gc", "-q", "--aggressive", cwd=dest)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=100, help="history as this many pushes (0: skip)")
    parser.add_argument("--only", choices=("all", "push", "pushes", "deletion", "fetch", "real", "concurrent"),
                        default="all", help="push: push and clone only; pushes: every push path (push and clone, "
                        "incremental pushes, clones after a branch deletion and a force push, the real repo); "
                        "deletion: clones after a branch deletion only; fetch: incremental fetches only; "
                        "real: the real repo only; concurrent: clones only")
    parser.add_argument("--serve-workers", type=int, default=None,
                        help="processes of the registry (default: serve's own, one per core)")
    parser.add_argument("--profile", choices=("push",), default=None,
                        help="profile every push (implies --only pushes unless --only is given)")
    parser.add_argument("--profile-dir", type=Path, default=Path("/tmp/bench-git-profile"))
    parser.add_argument("--real", type=Path, default=DEFAULT_MIRROR if DEFAULT_MIRROR.exists() else None,
                        help=f"a git dir with a real history on main (default: {DEFAULT_MIRROR} if present)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clones")
    args = parser.parse_args()
    if args.profile and args.only == "all":
        args.only = "pushes"
    only = args.only
    serve_args = ("--workers", str(args.serve_workers)) if args.serve_workers else ()
    module: tuple[str, ...] = ("api.cli",)
    if args.profile:
        shutil.rmtree(args.profile_dir, ignore_errors=True)
        (args.profile_dir / "raw").mkdir(parents=True)
        module = ("bench.profiled_serve", str(args.profile_dir / "raw"))
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        source = tmp / "source"
        make_history(source, args.commits, args.files)
        size = sum(p.stat().st_size for p in (source / ".git" / "objects").rglob("*") if p.is_file())
        print(f"repo: {args.commits} commits, {args.files} files, {size / 1e6:.2f} MB packed")

        root = tmp / "baseline"
        root.mkdir()
        server, base_url = serve_http_backend(root)
        with PeakRSS(os.getpid(), only=b"http-backend") as base_rss:  # the CGI processes of the baseline
            # serve's default: a process per core
            with _registry(tmp / "reg", serve_args, module) as reg, PeakRSS(reg.proc.pid) as rss:
                srv = Servers(root, base_url, reg, _token(reg), rss, base_rss,
                              profile=args.profile_dir if args.profile else None)
                _report(one_process(tmp, srv, source, args), srv.log())
                if args.profile:
                    _slowest(srv, args.profile_dir)
            if only in ("all", "concurrent"):
                (tmp / "reg2").mkdir()
                with _registry(tmp / "reg2" / "data", ("--workers", "1")) as reg2, PeakRSS(reg2.proc.pid) as rss2:
                    srv = Servers(root, base_url, reg2, _token(reg2), rss2, base_rss)
                    name = _pushed(srv, "concurrent2", source)
                    figure = concurrent_clones(tmp, srv, name, source, args.clients, args.runs)
                    _report({f"{args.clients} concurrent clones, --workers 1": figure}, srv.log())
        server.shutdown()
    return 0


def one_process(tmp: Path, srv: Servers, source: Path, args: argparse.Namespace) -> dict[str, Figure]:
    """Every scenario against the registry started with its default settings (a process per core)."""
    only, out = args.only, {}
    if only in ("all", "push", "pushes"):
        out.update(push_and_clone(tmp, srv, source, args.runs))
    if only in ("all", "pushes"):
        out.update(incremental_pushes(srv, source, args.runs))
    if only in ("all", "fetch"):
        out.update(fetch_scenarios(tmp, srv, source, args.runs, args.pushes))
    if only in ("all", "deletion", "pushes"):
        out.update(after_deletion(tmp, srv, source, args.runs))
    if only in ("all", "pushes"):
        out.update(after_force_push(tmp, srv, source, args.runs))
    if only in ("all", "concurrent"):
        name = _pushed(srv, "concurrent", source)
        out[f"{args.clients} concurrent clones, --workers {cores()} (default)"] = concurrent_clones(
            tmp, srv, name, source, args.clients, args.runs)
    if only in ("all", "real", "pushes"):
        if args.real is None or not args.real.exists():
            print(f"real repo: skipped ({DEFAULT_MIRROR} not found; pass --real GITDIR)")
        else:
            out.update(real_scenarios(tmp, srv, args.real, args.runs))
    return out


def _report(figures: dict[str, Figure], log: Path) -> None:
    for label, figure in figures.items():
        print(figure.line(label), flush=True)
    lines = log.read_text(errors="replace").splitlines()
    bad = [line for line in lines  # a server error is a finding
           if "Traceback" in line or "ERROR" in line or "Error" in line]
    if recycled := sum("replaced by a fresh one" in line for line in lines):
        print(f"{log.name}: {recycled} server processes were recycled for their memory (api/recycle.py)")
    if bad:
        print(f"{log.name}: {len(bad)} error lines, first ones:\n  " + "\n  ".join(bad[:10]))


def _slowest(srv: Servers, out: Path) -> None:
    """Keep the profile of the push whose run had the highest ratio as out/slowest-push.*."""
    if not srv.profiles:
        print("profile: no push was profiled")
        return
    ratio, txt = max(srv.profiles)
    shutil.copy(txt, out / "slowest-push.txt")
    shutil.copy(txt.with_suffix(".html"), out / "slowest-push.html")
    print(f"profile of the slowest push run (ratio {ratio:.2f}x): {out / 'slowest-push.txt'} (and .html); "
          f"every profiled run under {out}")
    print(txt.read_text().split("\n\n", 1)[0])


@contextmanager
def _registry(data_dir: Path, serve_args: tuple[str, ...] = (), module: tuple[str, ...] = ("api.cli",)) -> Iterator[Server]:
    """registry_server, started again when a loaded machine makes the start outlast its 30 s wait
    (a busy 2-core machine)."""
    for attempt in range(3):
        with ExitStack() as stack:
            try:
                reg = stack.enter_context(registry_server(data_dir, serve_args=serve_args, module=module))
            except RuntimeError as exc:
                if attempt == 2:
                    raise
                print(f"registry {' '.join(serve_args)} start: {exc}; starting it again", flush=True)
                continue
            yield reg
            return


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _token(reg) -> str:
    reg.cli("user", "add", "bench")
    return reg.cli("token", "create", "bench").stdout.strip()


def _pushed(srv: Servers, name: str, source: Path) -> str:
    for url in srv.targets(name).values():
        git("push", "-q", url, "main", cwd=source)
    return name


def push_and_clone(tmp: Path, srv: Servers, source: Path, runs: int) -> dict[str, Figure]:
    """The whole history pushed into an empty template, then cloned; a new template each run."""
    out = {}
    tip = git("rev-parse", "main", cwd=source).stdout
    for op in ("push", "clone"):
        took: dict[str, list[float]] = {"http-backend": [], "registry": []}
        srv.reset()
        for run in range(runs):
            urls = srv.targets(f"bench{run}") if op == "push" else srv.urls(f"bench{run}")
            for label, url in urls.items():
                if op == "push":
                    srv.quiesce()  # the previous push's checks done
                    srv.timed(took, label, lambda: git("push", "-q", url, "main", cwd=source))  # noqa: B023
                    continue
                dest = tmp / f"clone-{label}-{run}"
                srv.timed(took, label, lambda: git("clone", "-q", "--bare", url, str(dest)))  # noqa: B023
                assert git("rev-parse", "main", cwd=dest).stdout == tip
        out[op] = srv.figure(took, f"median of {runs}; local backend")
    return out


def after_deletion(tmp: Path, srv: Servers, source: Path, runs: int) -> dict[str, Figure]:
    """A branch is pushed and deleted (routine after a merge): a clone right after, and once the
    background repack the deletion queued has landed (issue 14). Same repo in both servers; a new
    one each run, medians of `runs`."""
    labels = ("right after a branch deletion", "after the background repack")
    took: dict[str, dict[str, list[float]]] = {label: {"http-backend": [], "registry": []} for label in labels}
    git("checkout", "-q", "-b", "topic", "main~5", cwd=source)
    git("commit", "-q", "--allow-empty", "-m", "a topic", cwd=source)
    git("checkout", "-q", "main", cwd=source)
    for run in range(runs):
        targets = srv.targets(f"deleted{run}")
        for url in targets.values():
            git("push", "-q", url, "main", "topic", cwd=source)
        srv.reset()  # the checks of that push done: what follows is the deletion's own work
        for url in targets.values():
            git("push", "-q", url, ":topic", cwd=source)
        for label in labels:
            if label.startswith("after"):  # the repack job the deletion queued, waited for
                print(f"waited {srv.quiesce() + _sleep(2.0):.1f}s for the background repack")
            for name, url in targets.items():
                dest = tmp / f"del-{name}-{label[0]}-{run}"
                srv.timed(took[label], name, lambda: git("clone", "-q", "--bare", url, str(dest)))  # noqa: B023
    git("branch", "-q", "-D", "topic", cwd=source)
    return {f"clone {label}": srv.figure(took[label], f"median of {runs}") for label in labels}

if __name__ == "__main__":
    sys.exit(main())
