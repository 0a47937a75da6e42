"""The gates say exactly what they judge: the objective's worst execution,
and no interval from identical scores."""

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_hptune.result import COMPLETED, TrialResult
from pytest_hptune.settings import make_layer, resolve
from pytest_hptune.verdict import gates
from pytest_hptune.verdict.gates import GateResult


def _best(scores: Sequence[float]) -> TrialResult:
    return TrialResult("0", {}, tuple(scores), COMPLETED)


def _gates(scores: Sequence[float], direction: str = "max", **kwargs: Any) -> dict[str, GateResult]:
    settings = resolve([make_layer("test", kwargs)])
    return {g.name: g for g in gates.evaluate(settings, _best(scores), direction=direction)}


def test_the_worst_execution_of_a_min_objective_is_its_highest_score() -> None:
    judged = _gates([0.10, 0.30, 0.20], "min", min_worst=0.0, max_worst=0.25)
    assert judged["max_worst"].value == 0.30 and not judged["max_worst"].passed
    assert judged["min_worst"].value == 0.30


def test_the_worst_execution_of_a_max_objective_is_its_lowest_score() -> None:
    judged = _gates([0.90, 0.70, 0.80], "max", min_worst=0.75, max_worst=1.0)
    assert judged["min_worst"].value == 0.70 and not judged["min_worst"].passed
    assert judged["max_worst"].value == 0.70


def test_identical_scores_leave_the_interval_undefined_and_fail_its_gate() -> None:
    judged = _gates([0.9, 0.9], min_lower_bound=0.5, max_upper_bound=0.95)
    for name in ("min_lower_bound", "max_upper_bound"):
        assert judged[name].value is None and not judged[name].passed
        assert "all 2 executions scored the same" in (judged[name].note or "")
    assert "all 2 executions scored the same" in gates.describe(judged["min_lower_bound"].to_dict())


@given(st.lists(st.floats(0, 1), min_size=2, max_size=8), st.sampled_from(["max", "min"]))
def test_worst_is_never_better_than_any_execution(scores: list[float], direction: str) -> None:
    value = _gates(scores, direction, min_worst=0.0)["min_worst"].value
    assert value is not None
    if direction == "max":
        assert all(value <= s for s in scores)
    else:
        assert all(value >= s for s in scores)


def test_the_best_of_several_trials_is_reported_as_optimistic_unless_confirmed(project: pytest.Pytester) -> None:
    from conftest import load_json

    project.makepyfile(
        test_sel="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=2, min_score=0.1)
        def test_best(hptune):
            hptune.search(FastModel(), *data())

        @pytest.mark.hptune(max_trials=3, executions_per_trial=2, min_score=0.1, confirm=2)
        def test_confirmed(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=2)
    records = {r["nodeid"].rsplit("::", 1)[1]: r for r in load_json(project)["tests"]}
    assert records["test_best"]["selection"] == {
        "trials": 3,
        "optimistic": True,
        "interval_level": pytest.approx(1 - 0.05 / 3),
        "adjustment": "bonferroni",
    }
    assert "selection" not in records["test_confirmed"]
    result.stdout.fnmatch_lines(["*the gates judge the best of 3 trials: its mean is optimistic (winner's curse)*"])
    assert result.stdout.str().count("winner's curse") == 1


def test_a_neighbour_within_rounding_reads_the_same() -> None:
    from pytest_hptune.verdict.message import describe_neighbour

    entry = {"name": "units", "value": 8, "neighbour": 16, "mean": 0.9, "drop": -0.00004}
    assert describe_neighbour(entry).endswith("0.9000 (the same)")
    entry["drop"] = -0.012
    assert describe_neighbour(entry).endswith("(1.2% better)")


def test_a_std_of_one_execution_is_undefined_and_fails_max_std_with_the_reason() -> None:
    judged = _gates([0.9], max_std=0.0, min_score=0.5)
    assert judged["max_std"].value is None and not judged["max_std"].passed
    assert "a std needs 2 or more executions, the best trial has 1" in (judged["max_std"].note or "")
    assert "a std needs 2 or more executions" in gates.describe(judged["max_std"].to_dict())
    assert judged["min_score"].passed  # the mean of one execution is still judged
    two = _gates([0.9, 0.9], max_std=0.0)["max_std"]  # two identical scores: a std of 0.0, known
    assert two.value == 0.0 and two.passed
