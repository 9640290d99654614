"""The experiment statistics against values computed here by hand, from the textbook formulas
(not the library calls the module makes): Wilson's interval, the pooled two-proportion z-test,
Holm's adjustment, and the bootstrap interval against the normal approximation it converges to."""
from __future__ import annotations

import math
import random

import pytest

from registry.experiments import stats

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_by_hand(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def z_test_by_hand(x1: int, n1: int, x2: int, n2: int) -> float:
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))  # two-sided: 2 * (1 - Phi(|z|))


@pytest.mark.parametrize(("x", "n"), [(7, 10), (0, 10), (10, 10), (45, 100), (1, 3), (99, 100)])
def test_wilson_interval_matches_the_formula(x: int, n: int) -> None:
    lo, hi = stats.wilson(x, n) or (None, None)
    want_lo, want_hi = wilson_by_hand(x, n)
    assert lo == pytest.approx(max(0.0, want_lo), abs=1e-9)
    assert hi == pytest.approx(min(1.0, want_hi), abs=1e-9)


def test_wilson_known_value() -> None:
    # 7 of 10 at 95 %: (0.3968, 0.8922), as printed in Newcombe (1998), table I
    lo, hi = stats.wilson(7, 10) or (0.0, 0.0)
    assert (round(lo, 4), round(hi, 4)) == (0.3968, 0.8922)
    assert stats.wilson(0, 0) is None


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(90, 100, 60, 100), (18, 20, 17, 20), (30, 50, 20, 60), (5, 9, 1, 11)])
def test_two_proportion_p_value_matches_the_z_test(x1: int, n1: int, x2: int, n2: int) -> None:
    assert stats.two_proportions(x1, n1, x2, n2) == pytest.approx(z_test_by_hand(x1, n1, x2, n2), rel=1e-9)


def test_two_proportions_that_cannot_differ() -> None:
    assert stats.two_proportions(20, 20, 30, 30) == 1.0
    assert stats.two_proportions(0, 20, 0, 30) == 1.0
    assert stats.two_proportions(3, 0, 1, 5) == 1.0


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04 -> made monotone: 0.03, 0.06, 0.06
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert stats.holm([0.001]) == pytest.approx([0.001])


def test_bootstrap_interval_is_seeded_and_near_the_normal_approximation() -> None:
    rng = random.Random(7)
    values = [rng.gauss(200.0, 40.0) for _ in range(400)]
    mean, interval = stats.mean_interval(values)
    assert interval is not None and mean is not None
    n = len(values)
    by_hand_mean = sum(values) / n
    sd = math.sqrt(sum((v - by_hand_mean) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    assert mean == pytest.approx(by_hand_mean)
    assert interval[0] == pytest.approx(by_hand_mean - half, abs=half * 0.15)
    assert interval[1] == pytest.approx(by_hand_mean + half, abs=half * 0.15)
    assert stats.mean_interval(values) == (mean, interval)  # the same trials, the same figures
    assert stats.mean_interval([5.0]) == (5.0, (5.0, 5.0))
    assert stats.mean_interval([3.0, 3.0, 3.0]) == (3.0, (3.0, 3.0))
    assert stats.mean_interval([]) == (None, None)


def test_winner_only_where_significant() -> None:
    best = stats.Trials("a", [True] * 90 + [False] * 10)
    worse = stats.Trials("b", [True] * 60 + [False] * 40)
    close = stats.Trials("c", [True] * 88 + [False] * 12)
    verdict = stats.judge([best, worse])
    assert verdict.winner == "a"
    assert verdict.p_value == pytest.approx(z_test_by_hand(90, 100, 60, 100), rel=1e-9)  # one comparison: no adjustment
    tie = stats.judge([best, worse, close])
    assert tie.winner is None  # a beats b, but not c
    raw = [z_test_by_hand(90, 100, 60, 100), z_test_by_hand(90, 100, 88, 100)]
    assert tie.p_value == pytest.approx(max(min(1.0, 2 * min(raw)), min(1.0, max(raw))), rel=1e-9)


def test_correction_can_withhold_a_winner() -> None:
    # a vs b alone is significant at 0.05 (p ~ 0.03) but, one of four comparisons, not after Holm
    a = stats.Trials("a", [True] * 30 + [False] * 20)
    b = [stats.Trials(r, [True] * 20 + [False] * 30) for r in "bcde"]
    raw = z_test_by_hand(30, 50, 20, 50)
    assert raw < 0.05
    assert stats.judge([a, b[0]]).winner == "a"
    verdict = stats.judge([a, *b])
    assert verdict.winner is None and verdict.p_value == pytest.approx(min(1.0, raw * 4), rel=1e-9)


def test_degenerate_experiments() -> None:
    assert stats.judge([]).winner is None
    one = stats.judge([stats.Trials("a", [True, False])])
    assert one.winner is None and one.p_value is None and one.variants[0].pass_rate == 0.5
    empty = stats.judge([stats.Trials("a", []), stats.Trials("b", [])])
    assert empty.winner is None and empty.variants[0].interval is None
    all_pass = stats.judge([stats.Trials("a", [True] * 5), stats.Trials("b", [True] * 5)])
    assert all_pass.winner is None and all_pass.p_value == 1.0
