"""The anchored, paired comparison (verdict/paired.py): its rate under the
null at small n, its power, its exact rule for identical scores and its
minimum detectable drop. Fast simulations with fixed seeds (vectorised: the
same formulas as paired.test, checked against it on a sample)."""

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from pytest_hptune.verdict import paired

ALPHA = 0.05
DRAWS = 20_000


def _rejections(d: np.ndarray, max_drop: float = 0.0, confidence: float = 1 - ALPHA) -> np.ndarray:
    """paired.test's verdict on each row of d, vectorised."""
    n = d.shape[1]
    mean, sd = d.mean(axis=1), d.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean + max_drop) / (sd / math.sqrt(n))
    spread = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
    sign_test = (mean < -max_drop) & (0.5**n < 1 - confidence)  # no spread: all n below -max_drop
    return np.asarray(np.where(spread, t < -sps.t.ppf(confidence, n - 1), sign_test))


def _draws(kind: str, n: int, rng: np.random.Generator, shift: float = 0.0) -> np.ndarray:
    """Null (or shifted) per-seed differences of sd 1 (before quantising)."""
    if kind == "normal":
        return np.asarray(rng.normal(shift, 1.0, (DRAWS, n)))
    if kind == "t3":  # heavy tails, scaled to sd 1
        return np.asarray(shift + rng.standard_t(3, (DRAWS, n)) / math.sqrt(3.0))
    if kind == "steps":  # the coarsest score: -1, 0 or +1 step, 30 % each way (the worst share)
        return np.asarray(shift + rng.choice([-1.0, 0.0, 1.0], p=[0.3, 0.4, 0.3], size=(DRAWS, n)))
    # "quantised": an accuracy on a 360-sample validation set, sd 0.01 per fit:
    # each side rounds to steps of 1/360 (0.28 sd of a fit), the difference too.
    step, sigma = 1 / 360, 0.01
    sides = rng.normal(0.9, sigma, (2, DRAWS, n))
    rounded = np.round(sides / step) * step
    return np.asarray((rounded[0] - rounded[1]) / (sigma * math.sqrt(2)) + shift)


def test_the_vectorised_rule_is_paired_test() -> None:
    rng = np.random.default_rng(0)
    d = _draws("quantised", 4, rng)[:300]
    expected = [paired.test(list(row), 0.0, 0.95)["regressed"] for row in d]
    assert list(_rejections(d)) == expected


@pytest.mark.parametrize("kind", ["normal", "quantised", "t3"])
@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_false_alarms_stay_at_the_nominal_rate(kind: str, n: int) -> None:
    rng = np.random.default_rng(1000 * n + len(kind))
    rate = _rejections(_draws(kind, n, rng)).mean()
    # 20,000 draws: the binomial sd at 5 % is 0.15 points.
    assert rate <= 0.06, f"{kind}, n={n}: false alarms {rate:.3%}"
    assert rate >= 0.035, f"{kind}, n={n}: {rate:.3%}, wastefully conservative"


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_the_coarsest_scores_stay_near_the_nominal_rate(n: int) -> None:
    """-1/0/+1 steps: the t-test's worst case (6.2 % at n=6, 6.6 % at n=5
    over the share of steps); a constant step on every seed is judged by
    the exact sign test (without it: 9 % at n=3)."""
    rate = _rejections(_draws("steps", n, np.random.default_rng(n))).mean()
    assert rate <= 0.07, f"n={n}: false alarms {rate:.3%}"
    assert paired.test([-0.01] * n, 0.0, 0.95)["regressed"] == (n >= 5)


@pytest.mark.parametrize(
    "n, drop, low, high",
    # Power at a drop of 1, 2, 3 sd of the differences (normal), against the
    # noncentral t's exact value (0.32, 0.71, 0.93 at n=3; 0.68, 0.99 at n=6).
    [(3, 1, 0.30, 0.34), (3, 2, 0.69, 0.73), (3, 3, 0.92, 0.94), (6, 1, 0.66, 0.70), (6, 2, 0.98, 1.0)],
)
def test_power_at_drops_of_one_two_three_sd(n: int, drop: int, low: float, high: float) -> None:
    rng = np.random.default_rng(n * 10 + drop)
    power = _rejections(_draws("normal", n, rng, shift=-drop)).mean()
    exact = float(sps.nct.cdf(-sps.t.ppf(0.95, n - 1), n - 1, -drop * math.sqrt(n)))
    assert power == pytest.approx(exact, abs=0.015)
    assert low <= power <= high


@pytest.mark.parametrize("n", [3, 6, 8])
def test_the_minimum_detectable_drop_is_caught_80_percent_of_the_time(n: int) -> None:
    rng = np.random.default_rng(n)
    mdd = paired.minimum_detectable_drop(1.0, n, 0.95)
    assert mdd is not None
    assert _rejections(_draws("normal", n, rng, shift=-mdd)).mean() == pytest.approx(0.8, abs=0.015)
    # More anchor executions detect smaller drops.
    smaller = paired.minimum_detectable_drop(1.0, n + 1, 0.95)
    assert smaller is not None and smaller < mdd


def test_the_mdd_counts_max_drop_and_scales_with_the_spread() -> None:
    wide = paired.compare([0.90, 0.93, 0.91, 0.95], [0.92, 0.92, 0.92, 0.92], "max", 0.0, 0.95)
    narrow = paired.compare([0.91, 0.92, 0.91, 0.93], [0.92, 0.92, 0.92, 0.92], "max", 0.0, 0.95)
    assert narrow["mdd"] < wide["mdd"]
    tolerant = paired.compare([0.91, 0.92, 0.91, 0.93], [0.92, 0.92, 0.92, 0.92], "max", 0.02, 0.95)
    assert tolerant["mdd"] == pytest.approx(narrow["mdd"] + 0.02)


def test_identical_scores_are_not_a_regression_by_an_exact_rule() -> None:
    result = paired.compare([0.9, 0.8, 0.85], [0.9, 0.8, 0.85], "max", 0.0, 0.95)
    assert not result["regressed"] and result["p_value"] == 1.0 and result["method"] == paired.NO_SPREAD
    assert "reproduced the baseline's score exactly" in result["check_notes"][0]
    # A constant shift has no spread either: its sign decides.
    worse = paired.compare([0.89, 0.79, 0.84, 0.7, 0.6], [0.9, 0.8, 0.85, 0.71, 0.61], "max", 0.0, 0.95)
    assert worse["regressed"] and "a sign test decides" in worse["check_notes"][0]
    assert worse["p_value"] == pytest.approx(1 / 32)
    assert not paired.compare([0.89, 0.79, 0.84], [0.9, 0.8, 0.85], "max", 0.0, 0.95)["regressed"]  # 1/8
    assert not paired.compare([0.89, 0.79, 0.84, 0.7, 0.6], [0.9, 0.8, 0.85, 0.71, 0.61], "max", 0.02, 0.95)[
        "regressed"
    ]


def test_direction_orients_the_differences() -> None:
    lower_loss = paired.compare([0.30, 0.31, 0.29], [0.40, 0.42, 0.41], "min", 0.0, 0.95)
    assert lower_loss["difference"] > 0 and not lower_loss["regressed"]
    assert paired.compare([0.40, 0.42, 0.41], [0.30, 0.31, 0.29], "min", 0.0, 0.95)["regressed"]


@pytest.mark.parametrize("bad", [([0.9], [0.9]), ([0.9, 0.8], [0.9]), ([0.9, float("nan")], [0.9, 0.8])])
def test_what_cannot_be_paired_says_why(bad: tuple[list[float], list[float]]) -> None:
    with pytest.raises(paired.CannotPair):
        paired.compare(*bad, "max", 0.0, 0.95)


@given(
    st.lists(st.floats(-1, 1), min_size=2, max_size=8),
    st.floats(0, 0.1),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_the_interval_has_the_verdicts_sidedness(d: list[float], max_drop: float, confidence: float) -> None:
    result = paired.test(d, max_drop, confidence)
    low, high = result["interval"]
    assert low <= result["difference"] <= high
    if result["df"] is not None:
        # Regressed exactly when the one-sided bound lies below -max_drop.
        assert result["regressed"] == (high < -max_drop) or math.isclose(high, -max_drop, abs_tol=1e-9)
        assert result["regressed"] == (result["p_value"] < 1 - confidence) or math.isclose(
            result["p_value"], 1 - confidence, abs_tol=1e-9
        )


def test_non_inferiority_needs_the_lower_end_above_minus_max_drop() -> None:
    sure = paired.compare([0.92, 0.921, 0.919, 0.92], [0.92, 0.92, 0.92, 0.921], "max", 0.01, 0.95)
    assert not paired.inconclusive(sure)
    vague = paired.compare([0.90, 0.95, 0.88, 0.94], [0.92, 0.92, 0.92, 0.92], "max", 0.01, 0.95)
    assert not vague["regressed"] and paired.inconclusive(vague)


@pytest.mark.parametrize("tau, inflated", [(0.0, 0.085), (0.5, 0.07)])
def test_an_anchor_of_the_best_trials_own_executions_would_raise_false_alarms(tau: float, inflated: float) -> None:
    """Why a baseline's anchor executions have fresh seeds: the best of K=3
    trials (n=3 executions each, true means tau apart in sd units) was picked
    for its scores, so reusing them as anchor executions biases every later
    unchanged rerun's differences downward (9.3 % false alarms at tau=0,
    7.9 % at 0.5 sd, 6.2 % at 1 sd at nominal 5 %). Fresh seeds: 5.2 %."""
    rng = np.random.default_rng(42)
    k, n, anchors = 3, 3, 6
    means = np.array([0.0, -tau, -2 * tau])
    trials = means[None, :, None] + rng.normal(0, 1, (DRAWS, k, n))
    winner = trials.mean(axis=2).argmax(axis=1)
    best = trials[np.arange(DRAWS), winner]  # the winner's own executions
    true = means[winner][:, None]
    candidate = true + rng.normal(0, 1, (DRAWS, anchors))  # the same configuration, refitted after a reseed
    reused = np.concatenate([best, true + rng.normal(0, 1, (DRAWS, anchors - n))], axis=1)
    fresh = true + rng.normal(0, 1, (DRAWS, anchors))
    assert _rejections(candidate - fresh).mean() <= 0.06
    assert _rejections(candidate - reused).mean() > inflated


# -- which comparison decides (verdict/comparison.py), on plain records -----

from pathlib import Path  # noqa: E402

from pytest_hptune.settings import Settings  # noqa: E402
from pytest_hptune.verdict import comparison as choose  # noqa: E402
from pytest_hptune.verdict.compare import Baseline  # noqa: E402

HP = {"units": 8}
SEEDS = [11, 12, 13, 14, 15, 16]
BASE = [0.90, 0.91, 0.92, 0.90, 0.91, 0.92]


def _trial(scores: list[float], trial_id: str = "0") -> dict[str, Any]:
    return {"trial_id": trial_id, "hyperparameters": HP, "scores": scores, "status": "COMPLETED", "budget": None}


def _setup(
    candidate: list[float],
    best_scores: tuple[float, ...] = (0.9, 0.91, 0.92),
    anchor: bool = True,
    seeds: list[int] = SEEDS,
) -> tuple[Baseline, dict[str, Any]]:
    entry = {
        "objective": {"name": "val_accuracy", "direction": "max"},
        "settings": {},
        "best_trial_id": "0",
        "hyperparameters": HP,
        "scores": [0.9, 0.91, 0.92],
        "mean": 0.91,
        "std": 0.01,
        "trials": [{"trial_id": "0", "hyperparameters": HP, "scores": [0.9, 0.91, 0.92]}],
    }
    if anchor:
        entry["anchor"] = {"hyperparameters": HP, "seeds": SEEDS, "scores": BASE}
    record = {
        "nodeid": "t.py::test",
        "search": 0,
        "objective": {"name": "val_accuracy", "direction": "max"},
        "settings": {},
        "trials": [_trial(list(best_scores))],
        "best_trial_id": "0",
        "anchor": {"hyperparameters": HP, "seeds": list(seeds), "scores": candidate, "trained": 6, "reused": 0},
    }
    return Baseline(Path("b.json"), {"entries": {"t.py::test": entry}}), record


def test_the_paired_comparison_decides_and_reports_the_search_level() -> None:
    baseline, record = _setup([s - 0.02 for s in BASE[:3]] + [s - 0.03 for s in BASE[3:]])
    result = choose.against(baseline, record, Settings())
    assert result["kind"] == "paired" and result["status"] == "regressed" and choose.failing(result)
    assert result["anchor"]["differences"] == pytest.approx([-0.02] * 3 + [-0.03] * 3)
    assert result["search_level"]["status"] == "ok"  # the search level alone saw nothing
    assert any(n.startswith("search level (reported, not deciding)") for n in result["notes"])


def test_a_one_execution_search_is_still_paired() -> None:
    baseline, record = _setup(BASE, best_scores=(0.9,))
    result = choose.against(baseline, record, Settings())
    assert result["kind"] == "paired" and result["status"] == "ok"
    assert any("search level not compared" in n for n in result["notes"])


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"anchor": False}, "has no anchor"),
        ({"seeds": [1, 2, 3, 4, 5, 6]}, "other seeds"),
    ],
)
def test_without_a_usable_anchor_the_search_level_decides(kwargs: dict[str, Any], reason: str) -> None:
    baseline, record = _setup(BASE, **kwargs)
    result = choose.against(baseline, record, Settings())
    assert result["kind"] == "search" and reason in result["anchor_fallback"]


def test_an_anchor_the_engine_could_not_train_falls_back_with_its_reason() -> None:
    baseline, record = _setup(BASE)
    record["anchor"] = {"unavailable": "the anchor configuration does not fit this search space: x"}
    result = choose.against(baseline, record, Settings())
    assert result["kind"] == "search" and "does not fit" in result["anchor_fallback"]


def test_require_no_drop_turns_an_unsure_pass_into_a_failure() -> None:
    noisy = [s + d for s, d in zip(BASE, [0.02, -0.03, 0.01, -0.02, 0.03, -0.01])]
    baseline, record = _setup(noisy)
    assert choose.against(baseline, record, Settings(max_drop=0.005))["status"] == "ok"
    result = choose.against(baseline, record, Settings(max_drop=0.005, require_no_drop=True))
    assert result["status"] == "inconclusive" and choose.failing(result)
    assert "could detect a drop of" in result["inconclusive_reason"]
    assert choose.against(baseline, record, Settings(max_drop=0.1, require_no_drop=True))["status"] == "ok"
