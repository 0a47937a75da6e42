"""Hyperband: trial budget mapped onto brackets, per-trial budgets, gates on
full-budget trials only."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def test_hyperband_end_to_end_budgets_and_full_budget_gates(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_hb="""
        import pytest
        from models import build_small as build, data

        @pytest.mark.hptune(tuner="hyperband", max_trials=4, max_epochs=9,
                            executions_per_trial=2, min_score=0.0, max_neighbour_drop=2.0)
        def test_hb(hptune):
            result = hptune.search(build, *data(), validation_split=0.25)
            assert result.best.budget == 3
            assert all(t.budget == 3 for t in result.trials)
            assert result.partial and all(t.budget == 1 for t in result.partial)
            assert all(not k.startswith("tuner/") for k in result.best.hyperparameters)
        """
    )
    # --hptune-epochs bounds max_epochs (9 -> 3).
    result = project.runpytest(
        "--hptune-json=report.json", "--hptune-epochs=3", "-v", "-W", "ignore::pytest_hptune.HptuneAdvice"
    )
    result.assert_outcomes(passed=1)
    (entry,) = json.loads((project.path / "report.json").read_text())["tests"]
    info = entry["tuner_info"]
    assert info["max_epochs"] == 3 and info["factor"] == 3
    # max_epochs 3, factor 3: bracket 1 = 3 trials x 1 epoch -> 1 x 3 epochs.
    assert info["brackets"][0]["rounds"] == [{"trials": 3, "epochs": 1}, {"trials": 1, "epochs": 3}]
    assert len(entry["trials"]) == 4
    assert sorted(t["budget"] for t in entry["trials"]) == [1, 1, 1, 3]
    assert all(len(t["scores"]) == 2 for t in entry["trials"])
    best = next(t for t in entry["trials"] if t["trial_id"] == entry["best_trial_id"])
    assert best["budget"] == 3
    assert set(best["hyperparameters"]) == {"units", "learning_rate"}
    # The best continued a 1-epoch model: the neighbours (trained from
    # scratch for 3 epochs) are measured from the best retrained from scratch.
    reference, *moved = entry["neighbours"]
    assert reference["reference"] and len(reference["scores"]) == 2
    assert {n["name"] for n in moved} == {"units", "learning_rate"}
    for n in moved:
        assert n["drop"] == pytest.approx((reference["mean"] - n["mean"]) / reference["mean"])
    result.stdout.fnmatch_lines(["*the best configuration retrained from scratch: 0.*"])
    result.stdout.fnmatch_lines(
        [
            "*hyperband search, objective val_accuracy (max), 4 trials x 2 executions",
            "*max_epochs 3, seed 0*",
            "*hyperband: max_epochs 3, factor 3, 2 of 2 brackets: 3x1ep -> 1x3ep; 2x3ep",
            "*gates judge the 1 of 4 trials that trained the full 3 epochs",
            "*trial*mean +- std*status*ep*scores",
        ]
    )


@pytest.mark.parametrize(
    "marker, expected",
    [
        (
            "max_epochs=3",
            "*max_epochs=3 (from hptune marker on *) is a setting of the 'hyperband' tuner, not of tuner='random' (from the default): remove it or set tuner='hyperband'",
        ),
        ("tuner='hyperband', factor=1", "*invalid factor=1 from hptune marker on *: expected an integer >= 2*"),
        (
            "tuner='hyperband', num_initial_points=2",
            "*num_initial_points=2 * is a setting of the 'bayesian' tuner, not of tuner='hyperband'*",
        ),
    ],
)
def test_hyperband_settings_are_checked_against_the_tuner(project: pytest.Pytester, marker: str, expected: str) -> None:
    project.makepyfile(
        test_bad=f"""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune({marker})
        def test_bad(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([expected])


# -- how the trial budget maps onto brackets (no training) -----------------


def oracle(heavy_modules: None, budget: int, max_epochs: int, factor: int) -> Any:
    import keras_tuner

    from pytest_hptune.engine.hyperband import HptuneHyperbandOracle

    return HptuneHyperbandOracle(
        keras_tuner.Objective("score", "max"),
        max_trials=budget,
        max_epochs=max_epochs,
        factor=factor,
    )


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(1, 200),
    max_epochs=st.integers(1, 200),
    factor=st.integers(2, 5),
)
def test_the_first_bracket_reaches_full_budget_within_the_trial_budget(
    heavy_modules: None, budget: int, max_epochs: int, factor: int
) -> None:
    hb = oracle(heavy_modules, budget, max_epochs, factor)
    plan = hb.plan()
    first = plan["brackets"][0]
    assert plan["max_epochs"] == max_epochs and hb.max_trials == budget
    # Every bracket ends at the full budget...
    assert all(b["rounds"][-1]["epochs"] == max_epochs for b in plan["brackets"])
    # ...and the first one gets there within the trial budget, unless it is the
    # bracket that starts at full budget (then its first trial already does).
    if first["bracket"] > 0:
        assert sum(r["trials"] for r in first["rounds"]) <= budget
    # The most exploratory bracket that fits is used, none is wasted.
    if len(plan["brackets"]) < plan["all_brackets"]:
        assert hb.bracket_trials(len(plan["brackets"])) > budget


def test_a_budget_that_fits_every_bracket_is_keras_tuners_hyperband(heavy_modules: None) -> None:
    import keras_tuner

    hb = oracle(heavy_modules, 10_000, 27, 3)
    plain = keras_tuner.oracles.HyperbandOracle(keras_tuner.Objective("score", "max"), max_epochs=27, factor=3)
    assert hb._get_num_brackets() == plain._get_num_brackets() == 4
    assert hb._current_bracket == plain._current_bracket == 3
