"""Objectives as Keras Tuner means them: a fit() that returns a number is
minimised unless an objective says otherwise; a direction that cannot be
inferred is an error after the first execution that lists the metrics."""

import pytest
from conftest import load_json

ERRORS = """
import keras
import keras_tuner
import numpy as np


class ReturnsError(keras_tuner.HyperModel):
    '''fit() returns an error (a float): smaller is better.'''

    def build(self, hp):
        hp.Choice("units", [4, 8, 16])
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def fit(self, hp, model, *args, **kwargs):
        return float(hp["units"]) / 100 + 0.001 * np.random.random()
"""


TEST_MIN = """
import pytest
from errs import ReturnsError

@pytest.mark.hptune(tuner="grid", max_trials=3, executions_per_trial=2)
def test_it(hptune):
    hptune.search(ReturnsError())
"""


def test_a_fit_that_returns_a_float_is_minimised_as_keras_tuner_does(project: pytest.Pytester) -> None:
    project.makepyfile(errs=ERRORS, test_min=TEST_MIN)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    record = load_json(project)["tests"][0]
    assert record["objective"] == {"name": "default_objective", "direction": "min"}
    best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
    assert best["hyperparameters"] == {"units": 4}  # the smallest error, not the largest
    assert "(None)" not in result.stdout.str()


def test_objective_none_means_keras_tuners_default(project: pytest.Pytester) -> None:
    project.makepyfile(errs=ERRORS)
    project.makepyfile(
        test_none="""
        import pytest
        from errs import ReturnsError

        @pytest.mark.hptune(tuner="grid", max_trials=3, executions_per_trial=1, objective=None, max_score=0.05)
        def test_it(hptune):
            hptune.search(ReturnsError())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    record = load_json(project)["tests"][0]
    assert record["objective"] == {"name": "default_objective", "direction": "min"}
    best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
    assert best["hyperparameters"] == {"units": 4}


F2 = """
import keras
import keras_tuner
import numpy as np
from models import count_build


class ReportsF2(keras_tuner.HyperModel):
    def build(self, hp):
        count_build()
        hp.Choice("units", [4, 8])
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def fit(self, hp, model, *args, **kwargs):
        return {"val_f2": 0.5 + 0.01 * np.random.random(), "val_accuracy": 0.9}
"""


@pytest.mark.parametrize(
    "objective, expected",
    [
        (
            "val_f2",
            "*the direction of objective 'val_f2' cannot be inferred (the model reports: val_accuracy, "
            "val_f2): set direction='max' or direction='min' on the hptune marker*",
        ),
        (
            "val_accuarcy",
            "*objective 'val_accuarcy' is not among the metrics the model reports: val_accuracy, "
            "val_f2. Did you mean 'val_accuracy'?*",
        ),
    ],
)
def test_an_objective_without_a_known_direction_fails_after_one_execution(
    project: pytest.Pytester, objective: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    project.makepyfile(f2=F2)
    project.makepyfile(
        test_dir=f"""
        import pytest
        from f2 import ReportsF2

        @pytest.mark.hptune(max_trials=3, executions_per_trial=3, objective={objective!r})
        def test_it(hptune):
            hptune.search(ReportsF2())
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])
    out = result.stdout.str()
    assert "Traceback" not in out and "(None)" not in out
    # Keras Tuner's build that reads the space, then one execution.
    assert len(builds.read_text().splitlines()) == 2


def test_an_objective_and_a_conflicting_direction_is_a_setting_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_conflict="""
        import keras_tuner
        import pytest
        from models import FastModel

        @pytest.mark.hptune(objective=keras_tuner.Objective("val_accuracy", "max"), direction="min")
        def test_it(hptune):
            hptune.search(FastModel())
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    assert "During handling" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*direction='min' (from hptune marker on *) contradicts objective=Objective('val_accuracy', 'max')*"]
    )


def test_keras_tuners_fatal_error_from_the_users_code_propagates_as_itself(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fatal="""
        import keras
        import keras_tuner
        import pytest


        class Refuses(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("units", [4, 8])
                return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

            def fit(self, hp, model, *args, **kwargs):
                raise keras_tuner.errors.FatalError("the data is gone")


        @pytest.mark.hptune(max_trials=2, executions_per_trial=1)
        def test_caught(hptune):
            with pytest.raises(keras_tuner.errors.FatalError, match="the data is gone"):
                hptune.search(Refuses())


        @pytest.mark.hptune(max_trials=2, executions_per_trial=1)
        def test_uncaught(hptune):
            hptune.search(Refuses())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FatalError: the data is gone*"])
    assert "could not run: FatalError" not in result.stdout.str()


def test_a_resumed_search_keeps_the_objective_its_first_run_settled_on(project: pytest.Pytester) -> None:
    project.makepyfile(errs=ERRORS, test_min=TEST_MIN)
    for _ in range(2):  # the second run reuses every trial and trains nothing
        result = project.runpytest("--hptune-resume", "--hptune-dir=tuning", "--hptune-json=report.json")
        result.assert_outcomes(passed=1)
        record = load_json(project)["tests"][0]
        assert record["objective"] == {"name": "default_objective", "direction": "min"}
        best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
        assert best["hyperparameters"] == {"units": 4}
    assert record["resume"]["resumed"] is True
