"""Statistics of per-execution scores.

The standard library's ``statistics`` module covers mean and sample standard
deviation exactly (``fmean``/``stdev`` use exact summation), without importing
NumPy at plugin load; interval estimates that need distributions use SciPy.
"""

from __future__ import annotations

import statistics
from typing import Sequence


def mean(scores: Sequence[float]) -> float | None:
    return statistics.fmean(scores) if scores else None


def std(scores: Sequence[float]) -> float | None:
    """Sample standard deviation (ddof=1); 0.0 for a single score."""
    if not scores:
        return None
    if len(scores) == 1:
        return 0.0
    return statistics.stdev(scores)


def interval(scores: Sequence[float], confidence: float) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean (SciPy); None with fewer
    than two scores, where it is undefined."""
    if len(scores) < 2:
        return None
    from scipy import stats as sps

    m, s = mean(scores), std(scores)
    if s == 0:
        return (m, m)
    low, high = sps.t.interval(confidence, len(scores) - 1, loc=m, scale=s / len(scores) ** 0.5)
    return float(low), float(high)


def expected_best(means: Sequence[float], k: int, direction: str = "max") -> float:
    """Expected best of k random-search trials drawn (with replacement) from
    the observed ones: Dodge et al. 2019, "Show Your Work", E[max of k] =
    sum_i v(i) [(i/N)^k - ((i-1)/N)^k] over the sorted values. Hand-written:
    a three-line formula that no library ships."""
    n = len(means)
    ordered = sorted(means, reverse=direction != "max")  # worst first
    return sum(v * ((i / n) ** k - ((i - 1) / n) ** k) for i, v in enumerate(ordered, start=1))
