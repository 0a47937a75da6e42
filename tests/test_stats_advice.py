"""Advice statistics: the interval of the standard deviation, how many
executions show a std below a threshold or detect a drop, and the binomial
floor of an accuracy."""

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from pytest_hptune import stats

CONFIDENCES = st.sampled_from([0.8, 0.9, 0.95, 0.99])


def upper(s: float, n: int, confidence: float) -> float:
    """The chi-square upper bound of sigma, written out from its formula."""
    return s * float(((n - 1) / float(sps.chi2.ppf((1 - confidence) / 2, n - 1))) ** 0.5)


def at_most(a: int | None, b: int | None) -> bool:
    """a <= b for executions counts, None meaning "more than the limit"."""
    return b is None or (a is not None and a <= b)


def with_std(s: float, n: int) -> list[float]:
    """n scores whose sample std is s (up to rounding): -d, +d and zeros."""
    d = s * ((n - 1) / 2) ** 0.5
    return [-d, d] + [0.0] * (n - 2)


def interval(scores: list[float], confidence: float) -> tuple[float, float]:
    """stats.std_interval of two or more scores (never None)."""
    bounds = stats.std_interval(scores, confidence)
    assert bounds is not None
    return bounds


def test_module_import_stays_light() -> None:
    code = "import sys, pytest_hptune.stats; print('scipy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- std_interval ------------------------------------------------------------


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 10), confidence=st.sampled_from([0.8, 0.9, 0.95]))
def test_std_interval_covers_the_true_sigma_at_its_nominal_rate(seed: int, n: int, confidence: float) -> None:
    rng = np.random.default_rng(seed)
    runs, sigma = 400, 0.02
    covered = 0
    for _ in range(runs):
        low, high = interval(rng.normal(0.9, sigma, n).tolist(), confidence)
        covered += low <= sigma <= high
    sd = (confidence * (1 - confidence) / runs) ** 0.5
    assert abs(covered / runs - confidence) < 4 * sd


@settings(max_examples=20, deadline=None)
@given(
    scores=st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
    confidence=st.floats(0.5, 0.999),
)
@example(scores=[0.0, 5e-324], confidence=0.9)  # found by Hypothesis: bounds at the smallest float step
def test_std_interval_contains_the_sample_std_and_matches_scipy(scores: list[float], confidence: float) -> None:
    low, high = interval(scores, confidence)
    s = stats.std(scores)
    assert s is not None
    assert 0 <= low <= s <= high
    if s > 0:
        df = len(scores) - 1
        q_low, q_high = sps.chi2.interval(confidence, df)
        # A subnormal std (scores [0.0, 5e-324]) has bounds only as fine as
        # the smallest float step, math.ulp(0.0): no formula rounds closer.
        tiny = math.ulp(0.0)
        assert low == pytest.approx(s * math.sqrt(df / q_high), rel=1e-9, abs=tiny)
        assert high == pytest.approx(s * math.sqrt(df / q_low), rel=1e-9, abs=tiny)
        if s >= sys.float_info.min:  # a normal float: the bounds are distinct from it
            assert low < s < high


@settings(max_examples=20, deadline=None)
@given(s=st.floats(1e-4, 10), n=st.integers(2, 60), confidence=CONFIDENCES)
def test_std_interval_narrows_as_n_grows(s: float, n: int, confidence: float) -> None:
    low, high = interval(with_std(s, n), confidence)
    low2, high2 = interval(with_std(s, n + 1), confidence)
    assert high2 < high
    assert low2 > low
    assert high2 - low2 < high - low


def test_std_interval_edge_cases() -> None:
    assert stats.std_interval([], 0.95) is None
    assert stats.std_interval([0.5], 0.95) is None
    assert stats.std_interval([0.5, 0.5, 0.5], 0.95) == (0.0, 0.0)


# --- executions_for_std ------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    s=st.floats(1e-4, 1),
    ratio=st.floats(1.01, 5),
    confidence=CONFIDENCES,
    limit=st.integers(2, 1000),
)
def test_executions_for_std_is_the_first_n_whose_upper_bound_clears(
    s: float, ratio: float, confidence: float, limit: int
) -> None:
    threshold = s * ratio
    n = stats.executions_for_std(s, threshold, confidence, limit)
    if n is None:
        assert upper(s, limit, confidence) > threshold
    else:
        assert 2 <= n <= limit
        assert upper(s, n, confidence) <= threshold
        assert interval(with_std(s, n), confidence)[1] == pytest.approx(upper(s, n, confidence))
        if n > 2:
            assert upper(s, n - 1, confidence) > threshold


@settings(max_examples=20, deadline=None)
@given(s=st.floats(0, 1), extra=st.floats(0, 1), confidence=CONFIDENCES)
def test_executions_for_std_is_none_when_std_reaches_the_threshold(s: float, extra: float, confidence: float) -> None:
    assert stats.executions_for_std(s + extra, s, confidence) is None


@settings(max_examples=20, deadline=None)
@given(
    threshold=st.floats(1e-3, 1),
    a=st.floats(0.05, 0.99),
    b=st.floats(0.05, 0.99),
    confidence=CONFIDENCES,
)
def test_executions_for_std_grows_with_std(threshold: float, a: float, b: float, confidence: float) -> None:
    small, large = sorted([a, b])
    n_small = stats.executions_for_std(small * threshold, threshold, confidence)
    n_large = stats.executions_for_std(large * threshold, threshold, confidence)
    assert at_most(n_small, n_large)


def test_executions_for_std_known_values() -> None:
    assert stats.executions_for_std(0.0, 0.01, 0.95) == 2
    assert stats.executions_for_std(0.0, 0.01, 0.95, limit=1) is None
    n = stats.executions_for_std(0.01, 0.02, 0.95)
    assert n is not None
    assert upper(0.01, n, 0.95) <= 0.02 < upper(0.01, n - 1, 0.95)
    assert stats.executions_for_std(0.01, 0.0101, 0.95) is None  # needs far more than 1000


# --- detection_power / executions_to_detect ----------------------------------


@settings(max_examples=20, deadline=None)
@given(std=st.floats(1e-4, 1), confidence=CONFIDENCES, n=st.integers(2, 200))
def test_detection_power_without_a_drop_is_the_false_alarm_rate(std: float, confidence: float, n: int) -> None:
    assert stats.detection_power(std, 0.0, confidence, n) == pytest.approx(1 - confidence, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(std=st.floats(1e-4, 1), effect=st.floats(0.01, 3), confidence=CONFIDENCES, n=st.integers(2, 200))
def test_detection_power_grows_with_n_and_drop(std: float, effect: float, confidence: float, n: int) -> None:
    p = stats.detection_power(std, effect * std, confidence, n)
    assert 1 - confidence < p <= 1
    assert stats.detection_power(std, effect * std, confidence, n + 1) >= p
    assert stats.detection_power(std, 1.5 * effect * std, confidence, n) >= p


@settings(max_examples=25, deadline=None)
@given(
    std=st.floats(1e-4, 1),
    effect=st.floats(0.05, 5),
    confidence=CONFIDENCES,
    power=st.floats(0.5, 0.99),
    limit=st.integers(2, 1000),
)
def test_executions_to_detect_is_the_first_n_with_enough_power(
    std: float, effect: float, confidence: float, power: float, limit: int
) -> None:
    drop = effect * std
    n = stats.executions_to_detect(std, drop, confidence, power, limit)
    if n is None:
        assert stats.detection_power(std, drop, confidence, limit) < power
    else:
        assert 2 <= n <= limit
        assert stats.detection_power(std, drop, confidence, n) >= power
        if n > 2:
            assert stats.detection_power(std, drop, confidence, n - 1) < power


@settings(max_examples=15, deadline=None)
@given(
    std=st.floats(1e-3, 1),
    a=st.floats(0.1, 3),
    b=st.floats(0.1, 3),
    confidence=CONFIDENCES,
    power=st.floats(0.5, 0.95),
)
def test_executions_to_detect_is_monotone_in_drop_and_std(
    std: float, a: float, b: float, confidence: float, power: float
) -> None:
    small, large = sorted([a, b])
    # A larger drop needs no more executions...
    n_small_drop = stats.executions_to_detect(std, small * std, confidence, power)
    n_large_drop = stats.executions_to_detect(std, large * std, confidence, power)
    assert at_most(n_large_drop, n_small_drop)
    # ...and a larger std needs no fewer.
    drop = std
    n_small_std = stats.executions_to_detect(std / large, drop, confidence, power)
    n_large_std = stats.executions_to_detect(std / small, drop, confidence, power)
    assert at_most(n_small_std, n_large_std)


def test_executions_to_detect_edge_cases() -> None:
    assert stats.executions_to_detect(0.01, 0.0, 0.95) is None
    assert stats.executions_to_detect(0.01, -0.01, 0.95) is None
    assert stats.executions_to_detect(0.0, 0.01, 0.95) == 2
    assert stats.executions_to_detect(1.0, 1e-6, 0.95) is None  # far beyond the limit
    assert stats.executions_to_detect(1e-9, 1.0, 0.95) == 2  # huge effect, nct stays finite
    with pytest.raises(ValueError):
        stats.detection_power(0.01, 0.01, 0.95, 1)


@pytest.mark.parametrize(
    "std, drop, confidence, power",
    [(0.01, 0.01, 0.95, 0.8), (0.02, 0.01, 0.9, 0.8), (0.01, 0.005, 0.95, 0.9)],
)
def test_executions_to_detect_reaches_its_power_by_simulation(
    std: float, drop: float, confidence: float, power: float
) -> None:
    n = stats.executions_to_detect(std, drop, confidence, power)
    assert n is not None
    rng = np.random.default_rng(12345)
    runs = 2000
    baseline = rng.normal(0.9, std, (runs, n))
    dropped = rng.normal(0.9 - drop, std, (runs, n))
    p = sps.ttest_ind(baseline, dropped, axis=1, alternative="greater").pvalue
    rate = float(np.mean(p < 1 - confidence))
    assert rate >= power - 0.04
    expected = stats.detection_power(std, drop, confidence, n)
    assert abs(rate - expected) < 4 * (expected * (1 - expected) / runs) ** 0.5


# --- binomial_floor ----------------------------------------------------------


def test_binomial_floor_known_values() -> None:
    assert stats.binomial_floor(0.9, 1000) == pytest.approx(0.0095, abs=5e-5)
    assert stats.binomial_floor(0.5, 100) == pytest.approx(0.05)
    assert stats.binomial_floor(1.2, 100) == 0.0
    assert stats.binomial_floor(-0.1, 100) == 0.0
    with pytest.raises(ValueError):
        stats.binomial_floor(0.9, 0)


@settings(max_examples=30, deadline=None)
@given(k=st.integers(0, 2**20), samples=st.integers(1, 10**6))
def test_binomial_floor_is_symmetric_and_at_most_the_coin_flip(k: int, samples: int) -> None:
    p = k / 2**20  # so that 1 - p is exact
    floor = stats.binomial_floor(p, samples)
    assert floor == stats.binomial_floor(1 - p, samples)
    assert 0 <= floor <= stats.binomial_floor(0.5, samples) + 1e-15


@pytest.mark.parametrize("p, samples", [(0.9, 1000), (0.6, 200)])
def test_binomial_floor_matches_simulated_accuracies(p: float, samples: int) -> None:
    rng = np.random.default_rng(7)
    accuracies = rng.binomial(samples, p, 20000) / samples
    assert float(np.std(accuracies, ddof=1)) == pytest.approx(stats.binomial_floor(p, samples), rel=0.03)


# --- boundaries the mutation test found unguarded ----------------------------


def test_std_of_one_score_is_shown_as_zero_and_of_none_is_none() -> None:
    # Shown (reports, .std) as 0.0; the max_std gate treats it as undefined
    # (test_verdict.py). Two scores: |a - b| / sqrt(2).
    assert stats.std([0.7]) == 0.0
    assert stats.std([]) is None
    assert stats.std([0.5, 0.8]) == pytest.approx(0.3 / math.sqrt(2))


def test_first_passing_searches_from_two_up_to_the_limit_itself() -> None:
    assert stats._first_passing(lambda n: True, 2) == 2  # the limit 2 is allowed
    assert stats._first_passing(lambda n: True, 1) is None  # no n in [2, 1]
    assert stats._first_passing(lambda n: n >= 7, 7) == 7
    assert stats.executions_to_detect(0.01, 1.0, 0.95, limit=2) == 2


@pytest.mark.parametrize("n", [2, 3])
def test_detection_power_matches_a_simulated_pooled_t_test(n: int) -> None:
    # Monte Carlo of the test it models: n scores per side, pooled-variance
    # one-sided t-test; its df (2n - 2) matters most at small n.
    rng = np.random.default_rng(1)
    runs, std, drop, confidence = 40_000, 1.0, 1.5, 0.9
    old = rng.normal(0.0, std, (runs, n))
    new = rng.normal(-drop, std, (runs, n))
    p = sps.ttest_ind(old, new, axis=1, alternative="greater").pvalue
    simulated = float(np.mean(p < 1 - confidence))
    sd = (simulated * (1 - simulated) / runs) ** 0.5
    assert stats.detection_power(std, drop, confidence, n) == pytest.approx(simulated, abs=4 * sd)
