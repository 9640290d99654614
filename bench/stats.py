"""Numbers the benchmarks print."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


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

    def line(self, label: str) -> str:
        """`label: http-backend Xs registry Ys ratio Zx (note) peak PSS M MB (http-backend K MB)`."""
        out = f"{label}: http-backend {self.base:.3f}s  registry {self.ours:.3f}s  ratio {self.ours / self.base:.2f}x"
        out += f" ({self.note})" if self.note else ""
        if self.peak is not None:
            out += f" peak PSS {self.peak:.0f} MB"
            out += f" ({self.peak_files:.0f} MB of it mapped files)" if self.peak_files is not None else ""
            out += f" (http-backend {self.base_peak:.0f} MB)" if self.base_peak is not None else ""
        return out
