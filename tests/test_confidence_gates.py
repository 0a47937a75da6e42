"""Confidence gates: the interval of the best trial's mean, and the worst
execution."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_hptune import stats


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 10), confidence=st.sampled_from([0.8, 0.9, 0.95]))
def test_interval_covers_the_true_mean_at_its_nominal_rate(seed: int, n: int, confidence: float) -> None:
    rng = np.random.default_rng(seed)
    runs = 400
    covered = 0
    for _ in range(runs):
        bounds = stats.interval(rng.normal(0.9, 0.02, n).tolist(), confidence)
        assert bounds is not None
        low, high = bounds
        covered += low <= 0.9 <= high
    # So a min_lower_bound gate at the true mean passes about (1 - c) / 2 of
    # the time, and one a margin below it fails about as rarely.
    sd = (confidence * (1 - confidence) / runs) ** 0.5
    assert abs(covered / runs - confidence) < 4 * sd


def test_interval_gates_and_worst_execution_end_to_end(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_ci="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=4, min_lower_bound=0.5, min_worst=0.5,
                            max_upper_bound=1.5, max_worst=1.5)
        def test_pass(hptune):
            hptune.search(FastModel(), *data())

        @pytest.mark.hptune(max_trials=3, executions_per_trial=4, min_lower_bound=0.999, confidence=0.9)
        def test_fail(hptune):
            hptune.search(FastModel(), *data())

        @pytest.mark.hptune(max_trials=2, executions_per_trial=1, min_lower_bound=0.1)
        def test_one_execution(hptune):
            hptune.search(FastModel(), *data())

        @pytest.mark.hptune(max_trials=2, executions_per_trial=1, max_std=0.0)
        def test_one_execution_spread(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*min_lower_bound: best trial * 96.67% interval's lower bound 0.* < 0.9990 FAILED",
            "*min_lower_bound: best trial * 97.5% interval's lower bound undefined (an interval needs 2 or more executions), threshold 0.1000 FAILED",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*max_std: * undefined (a std needs 2 or more executions, the best trial has 1; *FAILED"]
    )
    passed = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert {g["name"] for g in passed["gates"]} == {"min_lower_bound", "max_upper_bound", "min_worst", "max_worst"}
    assert all(len(t["interval"]) == 2 and t["interval"][0] <= t["mean"] <= t["interval"][1] for t in passed["trials"])
    result.stdout.fnmatch_lines(["*CI 0.*..0.*; units=*"])


def test_confirmation_runs_use_fresh_seeds_and_the_gates_judge_them(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_confirm="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=4, executions_per_trial=2, confirm=3, min_score=0.5)
        def test_confirm(hptune):
            result = hptune.search(FastModel(), *data())
            assert len(result.confirmation) == 3

        @pytest.mark.hptune(max_trials=2, executions_per_trial=2, confirm=2, min_score=0.99)
        def test_confirm_fails(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1, failed=1)
    records = json.loads((project.path / "report.json").read_text())["tests"]
    confirmation = records[0]["confirmation"]
    best = next(t for t in records[0]["trials"] if t["trial_id"] == records[0]["best_trial_id"])
    assert len(confirmation["scores"]) == 3
    assert not set(confirmation["scores"]) & set(best["scores"])  # seeds the search never used
    assert records[0]["gates"][0]["value"] == confirmation["mean"]
    assert confirmation["gap"] == confirmation["mean"] - best["mean"]
    result.stdout.fnmatch_lines(
        [
            "*failed 1 gate(s) on objective val_accuracy (max), judged on 2 confirmation runs:",
            "*confirmation runs: [[]*[]], mean * (tuned *, gap *)",
            "  confirmed with 3 fresh seeds: * (tuned *, gap *);",
        ]
    )


def test_confirm_does_not_apply_to_sklearn(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_sk="""
        import pytest

        @pytest.mark.hptune(tuner="sklearn", confirm=2)
        def test_sk(hptune):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*confirm=2 (from hptune marker on *) does not apply to tuner='sklearn'*"])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20), st.integers(1, 50))
def test_expected_best_is_a_monotone_mean_of_the_observed(means: list[float], k: int) -> None:
    best_k = stats.expected_best(means, k)
    assert min(means) - 1e-9 <= best_k <= max(means) + 1e-9
    assert stats.expected_best(means, 1) == pytest.approx(sum(means) / len(means))
    assert stats.expected_best(means, k + 1) >= best_k - 1e-9
    # For a loss, the expected best goes down with the budget.
    assert stats.expected_best(means, k + 1, "min") <= stats.expected_best(means, k, "min") + 1e-9


def test_expected_best_in_the_summary_for_random_search(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_eb="""
        from models import FastModel, data

        def test_eb(hptune):
            hptune.search(FastModel(), *data(), max_trials=4, executions_per_trial=1)
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert list(record["expected_best"]) == ["1", "2", "4", "8", "16"]
    best = max(t["mean"] for t in record["trials"])
    assert record["expected_best"]["16"] <= best
    result.stdout.fnmatch_lines(["  expected best at 1: 0.*, 2: *, 4: *, 8: *, 16: *"])
