"""Numbers the benchmarks print."""
from __future__ import annotations

import time
from collections.abc import Callable


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    return sorted(values)[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
