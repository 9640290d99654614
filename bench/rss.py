"""Peak resident memory of a process tree, sampled from /proc every ~50 ms (issue 14: the
registry's peak RSS per scenario; with `--workers N`, the supervisor and its processes summed).
No psutil in the venv: VmRSS from /proc/<pid>/status, children from /proc/<pid>/task/*/children.
A sum of RSS counts pages shared between processes once per process; a process that lives less
than one interval may be missed (the http-backend figure, short CGI processes, is a lower bound).
"""
from __future__ import annotations

import threading
from pathlib import Path


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out  # the process ended meanwhile
    for task in tasks:
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass  # the thread ended meanwhile
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def tree_rss_kb(pid: int, only: bytes | None = None) -> int:
    """RSS of `pid` and all its descendants; with `only`, of the children of `pid` whose command
    line contains `only` and their descendants (not `pid` itself)."""
    roots = [c for c in _children(pid) if only in _cmdline(c)] if only else [pid]
    total, stack = 0, roots
    while stack:
        p = stack.pop()
        total += _rss_kb(p)
        stack += _children(p)
    return total


class PeakRSS:
    """A sampling thread; `reset()` starts a new window, `peak_mb()` is its maximum so far."""

    def __init__(self, pid: int, only: bytes | None = None, interval: float = 0.05) -> None:
        self.pid, self.only, self.interval = pid, only, interval
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        kb = tree_rss_kb(self.pid, self.only)
        with self._lock:
            self._peak = max(self._peak, kb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def reset(self) -> None:
        with self._lock:
            self._peak = 0
        self._sample()

    def peak_mb(self) -> float:
        self._sample()
        return self._peak / 1024
