"""Numbers the benchmarks print."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    return sorted(values)[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Figure:
    """One scenario's figures: median seconds on each server, and the peak memory (PSS, bench.rss) sampled meanwhile."""
    base: float
    ours: float
    note: str = ""
    peak: float | None = None  # MB, the registry's process tree
    base_peak: float | None = None  # MB, the git http-backend processes
    peak_files: float | None = None  # MB of `peak` that were mapped files
    base_runs: list[float] = field(default_factory=list)  # seconds of each run, in order
    ours_runs: list[float] = field(default_factory=list)  # ... paired with base_runs run by run
    ours_cpu: list[float] = field(default_factory=list)  # CPU seconds of the registry's processes, each run
    base_cpu: list[float] = field(default_factory=list)  # CPU seconds of http-backend's processes, each run

    def ratios(self) -> list[float]:
        """Each run's ratio, registry over http-backend (the two ran back to back)."""
        return [ours / base for ours, base in zip(self.ours_runs, self.base_runs, strict=False) if base > 0]

    def line(self, label: str) -> str:
        """`label: http-backend Xs registry Ys ratio Zx max Mx (runs a b c) (note) [cpu ...] peak PSS ...`."""
        out = f"{label}: http-backend {self.base:.3f}s  registry {self.ours:.3f}s  ratio {self.ours / self.base:.2f}x"
        if ratios := self.ratios():
            out += f" max {max(ratios):.2f}x (runs {' '.join(f'{r:.2f}' for r in ratios)})"
        out += f" ({self.note})" if self.note else ""
        if self.ours_cpu:  # each run's, to tell a slow run that worked more from one that waited
            out += (f" server CPU median registry {statistics.median(self.ours_cpu):.3f}s"
                    f" (runs {' '.join(f'{c:.2f}' for c in self.ours_cpu)})")
            if self.base_cpu:
                out += (f" http-backend {statistics.median(self.base_cpu):.3f}s"
                        f" (runs {' '.join(f'{c:.2f}' for c in self.base_cpu)})")
        if self.peak is not None:
            out += f" peak PSS {self.peak:.0f} MB"
            out += f" ({self.peak_files:.0f} MB of it mapped files)" if self.peak_files is not None else ""
            out += f" (http-backend {self.base_peak:.0f} MB)" if self.base_peak is not None else ""
        return out
