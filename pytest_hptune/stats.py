"""Statistics of per-execution scores.

The standard library's ``statistics`` module covers mean and sample standard
deviation exactly (``fmean``/``stdev`` use exact summation), without importing
NumPy at plugin load; interval estimates that need distributions use SciPy.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence


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
    assert m is not None and s is not None  # two or more scores
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


def _std_bounds(s: float, n: int, confidence: float) -> tuple[float, float]:
    """Chi-square interval of sigma for a sample std s on n scores."""
    from scipy import stats as sps

    if s == 0:
        return (0.0, 0.0)
    df = n - 1
    high_q = float(sps.chi2.ppf((1 + confidence) / 2, df))
    low_q = float(sps.chi2.ppf((1 - confidence) / 2, df))
    low = s * (df / high_q) ** 0.5 if high_q > 0 else float("inf")
    high = s * (df / low_q) ** 0.5 if low_q > 0 else float("inf")
    return low, high


def std_interval(scores: Sequence[float], confidence: float) -> tuple[float, float] | None:
    """Two-sided chi-square confidence interval of the population standard
    deviation (SciPy); None with fewer than two scores."""
    if len(scores) < 2:
        return None
    s = std(scores)
    assert s is not None  # two or more scores
    return _std_bounds(s, len(scores), confidence)


def _first_passing(passes: Callable[[int], bool], limit: int) -> int | None:
    """Smallest n in [2, limit] with passes(n), for passes monotone in n."""
    if limit < 2 or not passes(limit):
        return None
    if passes(2):
        return 2
    low, high = 2, limit  # passes(low) is False, passes(high) is True
    while high - low > 1:
        mid = (low + high) // 2
        if passes(mid):
            high = mid
        else:
            low = mid
    return high


def executions_for_std(std: float, threshold: float, confidence: float, limit: int = 1000) -> int | None:
    """Fewest executions (>= 2) whose observed sample std ``std`` bounds the
    true std at or below ``threshold`` (chi-square upper bound at
    ``confidence``); None when std >= threshold or no n <= limit does."""
    if std >= threshold:
        return None
    return _first_passing(lambda n: _std_bounds(std, n, confidence)[1] <= threshold, limit)


def detection_power(std: float, drop: float, confidence: float, n: int) -> float:
    """Power of a one-sided two-sample t-test (n per side, pooled variance,
    alpha = 1 - confidence) against a true mean drop of ``drop`` when both
    sides have standard deviation ``std``: 1 - nct.cdf(t.ppf(c, df), df, nc)."""
    if n < 2:
        raise ValueError("detection_power needs n >= 2 executions per side")
    if std == 0:
        return 1.0 if drop > 0 else 0.0
    from scipy import stats as sps

    df = 2 * n - 2
    nc = drop / (std * (2 / n) ** 0.5)
    nc = min(max(nc, -1e6), 1e6)  # nct returns nan far out; the power is 0 or 1 there
    return float(sps.nct.sf(sps.t.ppf(confidence, df), df, nc))


def executions_to_detect(
    std: float, drop: float, confidence: float, power: float = 0.8, limit: int = 1000
) -> int | None:
    """Fewest executions per side (>= 2) for a one-sided t-test at
    ``confidence`` to detect a true mean drop of ``drop`` with probability
    >= ``power`` (Colas et al. 2018, "How many random seeds?"); None when
    drop <= 0 or no n <= limit suffices."""
    if drop <= 0:
        return None
    if std == 0:
        return 2 if limit >= 2 else None
    return _first_passing(lambda n: detection_power(std, drop, confidence, n) >= power, limit)


def binomial_floor(accuracy: float, samples: int) -> float:
    """Sampling std of an accuracy measured on ``samples`` examples:
    sqrt(p (1 - p) / samples), p clipped to [0, 1]."""
    if samples <= 0:
        raise ValueError("binomial_floor needs samples > 0")
    p = min(max(accuracy, 0.0), 1.0)
    return float((p * (1 - p) / samples) ** 0.5)


# Variance of the largest of K independent standard normals (K = 1..10):
# the best of K trials' mean varies less than one trial's.
MAX_NORMAL_VARIANCE = (1.0, 0.6817, 0.5595, 0.4917, 0.4475, 0.4159, 0.3919, 0.3729, 0.3574, 0.3443)


def search_detection_power(std: float, spread: float, drop: float, confidence: float, n: int, k: int) -> float:
    """About how often the search-level comparison of two searches of k
    trials x n executions catches every configuration's mean dropping by
    ``drop``, when executions vary by ``std`` and configurations' true means
    by ``spread`` (tau): a one-sided normal test on the difference of the two
    best means, each of variance c_k (tau^2 + std^2 / n) (c_k: the variance
    of the best of k standard normals, k > 10 counted as 10). As n grows it
    tends to the power the spread alone allows, which no number of
    executions exceeds."""
    from scipy import stats as sps

    c = MAX_NORMAL_VARIANCE[min(max(k, 1), len(MAX_NORMAL_VARIANCE)) - 1]
    variance = 2 * c * (spread**2 + (std**2 / n if n else 0.0))
    if variance == 0:
        return 1.0 if drop > 0 else 0.0
    return float(sps.norm.cdf(drop / variance**0.5 - sps.norm.ppf(confidence)))


def executions_to_detect_search(
    std: float, spread: float, drop: float, confidence: float, k: int, power: float = 0.8, limit: int = 1000
) -> int | None:
    """Fewest executions per trial for :func:`search_detection_power` to
    reach ``power``; None when drop <= 0 or no n <= limit does (the search's
    spread alone keeps the power below it)."""
    if drop <= 0:
        return None
    return _first_passing(lambda n: search_detection_power(std, spread, drop, confidence, n, k) >= power, limit)
