"""Peak memory of a process tree, sampled from /proc every ~50 ms (issue 14: the registry's peak
per scenario; with `--workers N`, the supervisor and its processes together).

The figure is the tree's PSS summed: each page once, a page shared by k processes counted 1/k in
each (a sum of RSS would count the modules `--workers N` share copy-on-write N + 1 times, memory
the machine does not spend). PSS is dear to read (the kernel walks the page tables, ~1.5 ms per
100 MB process), so it is read only when the tree's RSS, cheap to read, is at its highest of the
window: what changes between samples is private memory, which RSS and PSS count alike.
No psutil in the venv: children from /proc/<pid>/task/*/children. A process that lives less than
one interval may be missed (the http-backend figure, short CGI processes, is a lower bound).
"""
from __future__ import annotations

import os
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


def _fields_kb(path: str, *names: str) -> list[int]:
    """The kB figures of `names` (each with its colon) in one read of a /proc file; 0 for a
    process that ended meanwhile."""
    found = dict.fromkeys(names, 0)
    try:
        for line in Path(path).read_text().splitlines():
            name = line[:line.find(":") + 1]
            if name in found:
                found[name] = int(line.split()[1])
    except OSError:
        pass
    return list(found.values())


def _rss_kb(pid: int) -> int:
    return _fields_kb(f"/proc/{pid}/status", "VmRSS:")[0]


def _pss_kb(pid: int) -> tuple[int, int]:
    """(PSS, of which mapped files: pack files, search index segments, shared libraries), from
    one read: each read of smaps_rollup walks the process's page tables."""
    pss, files = _fields_kb(f"/proc/{pid}/smaps_rollup", "Pss:", "Pss_File:")
    return pss, files


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def tree(pid: int, only: bytes | None = None) -> list[int]:
    """`pid` and all its descendants; with `only`, the children of `pid` whose command line
    contains `only` and their descendants (not `pid` itself)."""
    out, stack = [], [c for c in _children(pid) if only in _cmdline(c)] if only else [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack += _children(p)
    return out


def cpu_seconds(pid: int, only: bytes | None = None) -> float:
    """User and system CPU seconds the live processes of `tree(pid, only)` have used (a process
    that ended meanwhile, such as a recycled server process, takes its share with it)."""
    total = 0
    for p in tree(pid, only):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / os.sysconf("SC_CLK_TCK")


class PeakRSS:
    """A sampling thread; `reset()` starts a new window, `peak_mb()` is its maximum so far."""

    def __init__(self, pid: int, only: bytes | None = None, interval: float = 0.05) -> None:
        self.pid, self.only, self.interval = pid, only, interval
        self._peak = 0  # PSS, kB
        self._peak_files = 0  # of which mapped files
        self._peak_rss = 0  # the RSS at which it was last read
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
        pids = tree(self.pid, self.only)
        rss = sum(map(_rss_kb, pids))
        if rss < self._peak_rss:
            return
        pss = [_pss_kb(p) for p in pids]
        total = sum(p[0] for p in pss)
        with self._lock:
            self._peak_rss = rss
            if total > self._peak:
                self._peak, self._peak_files = total, sum(p[1] for p in pss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def reset(self) -> None:
        with self._lock:
            self._peak = self._peak_files = self._peak_rss = 0
        self._sample()

    def peak_mb(self) -> float:
        self._sample()
        return self._peak / 1024

    def peak_files_mb(self) -> float:
        """How much of the peak was mapped files (page cache shared with the system)."""
        return self._peak_files / 1024
