"""Clone, push, incremental fetch and pull of a 2,000-commit, 50-file template: registry vs C git
http-backend, same run.

    make bench   (or: python -m bench.bench_git [--commits N] [--runs R] [--pushes P] [--only fetch])
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_fetch import fetch_scenarios, targets_for
from bench.githttp_baseline import serve_http_backend
from bench.stats import timed
from tests.gitcli import git
from tests.services import registry_server


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
    parser.add_argument("--only", choices=("all", "fetch"), default="all", help="fetch: incremental scenarios only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        source = tmp / "source"
        make_history(source, args.commits, args.files)
        size = sum(p.stat().st_size for p in (source / ".git" / "objects").rglob("*") if p.is_file())
        print(f"repo: {args.commits} commits, {args.files} files, {size / 1e6:.2f} MB packed")

        root = tmp / "baseline"
        root.mkdir()
        server, base_url = serve_http_backend(root)
        times: dict[str, dict[str, list[float]]] = {"http-backend": {"push": [], "clone": []},
                                                    "registry": {"push": [], "clone": []}}
        with registry_server(tmp / "reg") as reg:
            reg.cli("user", "add", "bench")
            token = reg.cli("token", "create", "bench").stdout.strip()
            for run in range(args.runs if args.only == "all" else 0):
                targets = targets_for(f"bench{run}", root, base_url, reg, token)
                for label, url in targets.items():
                    times[label]["push"].append(timed(lambda: git("push", "-q", url, "main", cwd=source)))
                for label, url in targets.items():
                    dest = tmp / f"clone-{label}-{run}"
                    times[label]["clone"].append(timed(lambda: git("clone", "-q", "--bare", url, str(dest))))
                    assert git("rev-parse", "main", cwd=dest).stdout == git("rev-parse", "main", cwd=source).stdout
            fetches = fetch_scenarios(tmp, source, root, base_url, reg, token, args.runs, args.pushes)
            after = after_deletion(tmp, source, root, base_url, reg, token) if args.only == "all" else {}
        server.shutdown()
        for label, (base, ours) in after.items():
            print(f"clone {label}: http-backend {base:.3f}s  registry {ours:.3f}s  ratio {ours / base:.1f}x")
        for label, (base, ours) in fetches.items():
            print(f"{label}: http-backend {base:.3f}s  registry {ours:.3f}s  ratio {ours / base:.1f}x "
                  f"(median of {args.runs})")
        for op in ("clone", "push") if args.only == "all" else ():
            base = statistics.median(times["http-backend"][op])
            ours = statistics.median(times["registry"][op])
            print(f"{op:5s}: http-backend {base:.3f}s  registry {ours:.3f}s  ratio {ours / base:.1f}x "
                  f"(median of {args.runs}; local backend)")
    return 0


def after_deletion(tmp: Path, source: Path, root: Path, base_url: str, reg, token: str) -> dict[str, tuple[float, float]]:
    """A branch is pushed and deleted (routine after a merge): a clone right after, and once the
    background repack the deletion queued has landed (issue 14). Same repo in both servers."""
    targets = targets_for("deleted", root, base_url, reg, token)
    git("checkout", "-q", "-b", "topic", "main~5", cwd=source)
    git("commit", "-q", "--allow-empty", "-m", "a topic", cwd=source)
    for url in targets.values():
        git("push", "-q", url, "main", "topic", cwd=source)
        git("push", "-q", url, ":topic", cwd=source)
    git("checkout", "-q", "main", cwd=source)
    out: dict[str, tuple[float, float]] = {}
    for label, wait in (("right after a branch deletion", 0.0), ("after the background repack", 5.0)):
        time.sleep(wait)  # the repack job runs in the embedded queue meanwhile
        took = {name: timed(lambda: git("clone", "-q", "--bare", url, str(tmp / f"del-{name}-{wait}")))  # noqa: B023
                for name, url in targets.items()}
        out[label] = (took["http-backend"], took["registry"])
    return out


if __name__ == "__main__":
    sys.exit(main())
