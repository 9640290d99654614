"""Numbers the benchmarks print."""
from __future__ import annotations


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    return sorted(values)[min(len(values) - 1, int(round(q * (len(values) - 1))))]
