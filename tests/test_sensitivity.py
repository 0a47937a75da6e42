"""Sensitivity of the best configuration: one-step neighbours and the share of
trials near the best."""

import math
from typing import Any

import pytest
from conftest import load_json
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_hptune import sensitivity
from pytest_hptune.settings import SettingError, make_layer


@st.composite
def numeric_entries(draw: st.DrawFn) -> tuple[dict[str, Any], float]:
    kind = draw(st.sampled_from(["Int", "Float"]))
    log = draw(st.booleans())
    low: float
    high: float
    value: float
    if kind == "Int":
        low = draw(st.integers(1 if log else -50, 50))
        high = draw(st.integers(low + 1, low + 500))
        step = draw(st.sampled_from([None, 1, 2, 3])) if not log else draw(st.sampled_from([None, 2, 4]))
        value = draw(st.integers(low, high))
    else:
        low = draw(st.floats(1e-5 if log else -10, 10, allow_nan=False))
        high = draw(st.floats(low + 1e-3, low + 100, allow_nan=False))
        step = None
        value = draw(st.floats(low, high, allow_nan=False))
    entry: dict[str, Any] = {"type": kind, "min": low, "max": high, "sampling": "log" if log else "linear"}
    if step:
        entry["step"] = step
    return entry, value


@given(numeric_entries())
def test_numeric_neighbours_are_one_step_inside_the_range(case: tuple[dict[str, Any], float]) -> None:
    entry, value = case
    moved = sensitivity.neighbours(entry, value)
    assert len(moved) <= 2 and value not in moved
    assert moved == sorted(moved)
    for v in moved:
        assert entry["min"] <= v <= entry["max"]
        if entry["type"] == "Int":
            assert isinstance(v, int)
    unclipped = [v for v in moved if entry["min"] < v < entry["max"]]
    for v in unclipped:
        if entry["sampling"] == "log":
            factor = entry.get("step") or 2
            rounding = 0.5 if entry["type"] == "Int" else 1e-9 * value
            assert min(abs(v - value * factor), abs(v - value / factor)) <= rounding
        else:
            step = entry.get("step") or (1 if entry["type"] == "Int" else (entry["max"] - entry["min"]) / 10)
            assert abs(v - value) == pytest.approx(step, rel=1e-6, abs=1e-9)


@given(st.lists(st.integers(), min_size=1, max_size=8, unique=True), st.data())
def test_choice_neighbours_are_the_adjacent_declared_values(values: list[int], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(values) - 1))
    moved = sensitivity.neighbours({"type": "Choice", "values": values}, values[i])
    assert moved == [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]


def test_boolean_and_fixed() -> None:
    assert sensitivity.neighbours({"type": "Boolean"}, True) == [False]
    assert sensitivity.neighbours({"type": "Fixed", "value": 3}, 3) == []


@given(st.floats(-10, 10), st.floats(-10, 10))
def test_relative_drop_is_positive_exactly_when_worse(best: float, other: float) -> None:
    assume(best != 0)
    assert (sensitivity.relative_drop(best, other, "max") > 0) == (other < best)
    assert (sensitivity.relative_drop(best, other, "min") > 0) == (other > best)
    assert sensitivity.relative_drop(best, other, "max") == -sensitivity.relative_drop(best, other, "min")


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20), st.floats(0, 0.5))
def test_near_best_share_counts_the_best_and_grows_with_epsilon(means: list[float], epsilon: float) -> None:
    best = max(means)
    share = sensitivity.near_best_share(means, best, epsilon)
    assert 1 / len(means) <= share <= 1
    assert sensitivity.near_best_share(means, best, math.inf) == 1
    assert share <= sensitivity.near_best_share(means, best, epsilon + 0.1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_neighbour_drop": -0.1}, "invalid max_neighbour_drop=-0.1"),
        ({"min_near_best_share": 1.5}, "a share between 0 and 1"),
        ({"max_neighbor_drop": 0.1}, "did you mean 'max_neighbour_drop'"),
    ],
)
def test_bad_robustness_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingError, match=message):
        make_layer("hptune marker", kwargs)


def test_neighbours_are_trained_reported_and_gated(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_sens="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=4, executions_per_trial=2, max_neighbour_drop=0.5,
                            min_near_best_share=0.2, near_best=0.05)
        def test_flat_enough(hptune):
            result = hptune.search(FastModel(), *data())
            assert {n["name"] for n in result.neighbours} == {"units", "dropout"}

        @pytest.mark.hptune(max_trials=4, executions_per_trial=2, max_neighbour_drop=0.01)
        def test_needle(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*one step from the best (2 executions each, the best's seeds):",
            "*units * -> *: 0.* (*% worse)",
            "*gate max_neighbour_drop 0.* <= 0.5000 passed",
            "*gate min_near_best_share *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*max_neighbour_drop: best trial * worst one-step neighbour's relative drop 0.* > 0.0100 FAILED",
            "*units * -> *% worse)",
        ]
    )
    records = load_json(project)["tests"]
    flat = records[0]
    assert flat["near_best"]["of"] == 4 and flat["near_best"]["epsilon"] == 0.05
    best = next(t for t in flat["trials"] if t["trial_id"] == flat["best_trial_id"])
    for n in flat["neighbours"]:
        assert len(n["scores"]) == 2
        assert n["drop"] == pytest.approx((best["mean"] - n["mean"]) / best["mean"])


def test_a_neighbour_that_fails_to_train_fails_the_gate_and_says_which(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_sens="""
        import keras
        import keras_tuner
        import pytest
        from models import data

        class Model(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("units", [4, 8, 16])
                return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

            def fit(self, hp, model, *args, **kwargs):
                return {"val_accuracy": {4: float("nan"), 8: 0.9, 16: 0.85}[hp["units"]]}

        @pytest.mark.hptune(max_trials=3, executions_per_trial=1, max_neighbour_drop=0.5)
        def test_it(hptune):
            hptune.search(Model(), *data())
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*max_neighbour_drop: * undefined (neighbour units=4 failed to train: val_accuracy is nan), threshold 0.5000 FAILED",
            "*units 8 -> 4: FAILED: val_accuracy is nan",
        ]
    )


def test_moving_a_conditional_parent_opens_the_other_branch_at_its_defaults(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_cond="""
        import keras
        import keras_tuner
        import pytest
        from models import data

        class Model(keras_tuner.HyperModel):
            def build(self, hp):
                family = hp.Choice("family", ["a", "b"])
                with hp.conditional_scope("family", ["a"]):
                    if family == "a":
                        hp.Choice("width", [1, 2])
                with hp.conditional_scope("family", ["b"]):
                    if family == "b":
                        hp.Choice("depth", [3, 4], default=4)
                return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

            def fit(self, hp, model, *args, **kwargs):
                if hp["family"] == "a":
                    return {"val_accuracy": 0.8 + hp["width"] / 100}
                return {"val_accuracy": 0.5 + hp["depth"] / 100}

        @pytest.mark.hptune(max_trials=4, executions_per_trial=1, max_neighbour_drop=0.5)
        def test_it(hptune):
            result = hptune.search(Model(), *data())
            (moved,) = [n for n in result.neighbours if n["name"] == "family"]
            assert moved["neighbour"] == "b" and "error" not in moved
            assert moved["mean"] == pytest.approx(0.54)  # depth at its default, 4
        """
    )
    project.runpytest().assert_outcomes(passed=1)


def _result(means: list[float], neighbours: list[dict[str, Any]] | None = None) -> Any:
    from types import SimpleNamespace

    from pytest_hptune.result import TrialResult

    trials = [TrialResult(str(i), {}, (m,), "COMPLETED") for i, m in enumerate(means)]
    return SimpleNamespace(trials=trials, best=trials[0] if trials else None, neighbours=neighbours)


def test_robustness_values_that_cannot_be_judged_fail_with_a_reason() -> None:
    from pytest_hptune.settings import resolve
    from pytest_hptune.verdict.record import robustness as _robustness

    settings = resolve([make_layer("m", {"min_near_best_share": 0.1, "max_neighbour_drop": 0.1})])
    values, notes = _robustness(settings, _result([0.9]))
    assert values == {"min_near_best_share": None, "max_neighbour_drop": None}
    assert notes["min_near_best_share"] == "1 trial judged: a share needs 2 or more"
    assert notes["max_neighbour_drop"] == "the neighbours were not trained"
    failed_reference: list[dict[str, Any]] = [
        {
            "name": None,
            "value": None,
            "neighbour": None,
            "reference": True,
            "scores": [],
            "mean": None,
            "drop": None,
            "error": "loss is nan at epoch 1",
        }
    ]
    values, notes = _robustness(settings, _result([0.9, 0.895], failed_reference))
    assert values == {"min_near_best_share": 1.0, "max_neighbour_drop": None}
    assert notes["max_neighbour_drop"] == "the best configuration retrained from scratch failed: loss is nan at epoch 1"
