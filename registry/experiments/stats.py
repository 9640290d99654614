"""What an experiment's trials say, per variant and between variants, computed with SciPy:

- pass rate with its Wilson score interval (`scipy.stats.binomtest(...).proportion_ci`);
- mean latency and mean cost with percentile bootstrap intervals (`scipy.stats.bootstrap`),
  seeded, so the same trials always give the same figures;
- a winner only where the difference is significant: the variant with the highest pass rate is
  compared with each other variant by a two-proportion test (Pearson's chi-squared on the 2x2
  table without continuity correction, the pooled z-test squared), the p-values adjusted for the
  several comparisons by Holm's step-down method; the winner must beat every other variant at
  `alpha` after adjustment. `p_value` is the largest adjusted p-value of those comparisons (the
  one that decides), or None with fewer than two variants with trials.

Never raises on degenerate data (no trials, one trial, every trial passing): such figures are
exact points or None, and a test between two variants that agree on every trial has p = 1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05
RESAMPLES = 2000
SEED = 20261208


@dataclass(frozen=True)
class Trials:
    """One variant's trials: whether each passed, and its latency (ms) and cost (USD) where known."""
    ref: str
    passed: Sequence[bool]
    latency_ms: Sequence[float] = ()
    cost: Sequence[float] = ()


@dataclass(frozen=True)
class VariantSummary:
    ref: str
    trials: int
    passes: int
    pass_rate: float | None
    interval: tuple[float, float] | None
    latency_ms: float | None
    latency_interval: tuple[float, float] | None
    cost: float | None
    cost_interval: tuple[float, float] | None


@dataclass(frozen=True)
class Verdict:
    variants: list[VariantSummary]
    winner: str | None
    p_value: float | None
    comparisons: list[dict[str, object]] = field(default_factory=list)  # best vs each other: raw and adjusted p


def wilson(passes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    if n <= 0:
        return None
    ci = stats.binomtest(passes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def mean_interval(values: Sequence[float], seed: int = SEED,
                  confidence: float = CONFIDENCE) -> tuple[float | None, tuple[float, float] | None]:
    """(mean, percentile bootstrap interval of the mean); a single or constant sample is its own interval."""
    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        return None, None
    mean = float(data.mean())
    if data.size == 1 or float(data.min()) == float(data.max()):
        return mean, (mean, mean)
    result = stats.bootstrap((data,), np.mean, n_resamples=RESAMPLES, confidence_level=confidence,
                             method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    return mean, (float(result.confidence_interval.low), float(result.confidence_interval.high))


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value that two pass rates differ (the pooled two-proportion z-test)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0  # every trial of both passed, or none did: no evidence of a difference
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: family-wise error held at alpha across the comparisons."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def summarize(trials: Trials, seed: int = SEED) -> VariantSummary:
    n, passes = len(trials.passed), sum(1 for p in trials.passed if p)
    latency, latency_ci = mean_interval(trials.latency_ms, seed)
    cost, cost_ci = mean_interval(trials.cost, seed)
    return VariantSummary(trials.ref, n, passes, passes / n if n else None, wilson(passes, n),
                          latency, latency_ci, cost, cost_ci)


def judge(variants: Sequence[Trials], alpha: float = ALPHA, seed: int = SEED) -> Verdict:
    summaries = [summarize(v, seed) for v in variants]
    measured = [s for s in summaries if s.trials]
    if len(measured) < 2:
        return Verdict(summaries, None, None)
    best = max(measured, key=lambda s: (s.passes / s.trials, -summaries.index(s)))
    others = [s for s in measured if s is not best]
    raw = [two_proportions(best.passes, best.trials, o.passes, o.trials) for o in others]
    adjusted = holm(raw)
    comparisons: list[dict[str, object]] = [
        {"ref": o.ref, "against": best.ref, "p_value": p, "adjusted_p_value": a}
        for o, p, a in zip(others, raw, adjusted, strict=True)]
    decisive = max(adjusted)
    better_than_all = all((best.passes / best.trials) > (o.passes / o.trials) for o in others)
    winner = best.ref if better_than_all and decisive < alpha else None
    return Verdict(summaries, winner, decisive, comparisons)
