"""A bug in one configuration's model code fails the test whatever the
order the trials run in, after the search (every trial is reported), with
the error's own traceback and its configuration; ``max_failed_trials``
tolerates a budget of them; Keras Tuner's FailedTrialError still skips a
configuration."""

from typing import Any

import pytest
from conftest import load_json

from pytest_hptune.verdict.code_errors import exception_line, is_code_error

TESTS = """
import keras
import keras_tuner
import pytest
from models import data

BAD_BUILD = {bad_build}
BAD_FIT = {bad_fit}
SKIP = {skip}


class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("callback bug for units=8-or-so")


class Model(keras_tuner.HyperModel):
    def build(self, hp):
        units = hp.Choice("units", [4, 8, 16])
        if units == BAD_BUILD:
            raise ValueError(f"build bug for units={{units}}")
        if units == SKIP:
            raise keras_tuner.errors.FailedTrialError(f"units={{units}} is not supported")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, callbacks=(), **kwargs):
        if hp["units"] == BAD_FIT:
            callbacks = list(callbacks) + [Boom()]
        return super().fit(hp, model, *args, callbacks=callbacks, **kwargs)


@pytest.mark.hptune(tuner="grid", max_trials=3, executions_per_trial=1, epochs=1)
def test_search(hptune):
    hptune.search(Model(), *data(), validation_split=0.25)
"""


def run(
    project: pytest.Pytester,
    *args: str,
    bad_build: int | None = None,
    bad_fit: int | None = None,
    skip: int | None = None,
) -> pytest.RunResult:
    project.makepyfile(test_code=TESTS.format(bad_build=bad_build, bad_fit=bad_fit, skip=skip))
    return project.runpytest("--hptune-json=report.json", *args)


def trials_by_units(project: pytest.Pytester) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    record = load_json(project)["tests"][0]
    return record, {t["hyperparameters"]["units"]: t for t in record["trials"]}


@pytest.mark.parametrize(
    "where, units",
    [
        ("callback", 4),  # the grid's first configuration
        ("callback", 16),  # its last
        ("build", 16),
    ],
)
def test_an_error_in_one_configuration_fails_the_test_after_the_search(
    project: pytest.Pytester, where: str, units: int
) -> None:
    result = run(project, **{"bad_fit" if where == "callback" else "bad_build": units})
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    what = "callback bug" if where == "callback" else f"build bug for units={units}"
    # Its own traceback, and the configuration that raised it.
    assert "Traceback (most recent call last):" in out and what in out, out
    assert f"{{'units': {units}}}:" in out, out
    assert "more than max_failed_trials=0 tolerates" in out, out
    # After the search: every configuration was tried and is in the report.
    record, trials = trials_by_units(project)
    assert sorted(trials) == [4, 8, 16]
    assert trials[units]["status"] == "FAILED"
    assert all(t["status"] == "COMPLETED" for u, t in trials.items() if u != units)
    assert record["passed"] is False
    assert record["code_errors"] == {"trials": [trials[units]["trial_id"]], "allowed": 0}


def test_an_error_in_the_first_build_fails_the_test_at_once_with_its_traceback(project: pytest.Pytester) -> None:
    # Keras Tuner builds the default configuration to read the search space.
    result = run(project, bad_build=4)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ValueError: build bug for units=4" in out and "INTERNALERROR" not in out, out


@pytest.mark.parametrize("how", ["marker", "command line", "ini"])
def test_max_failed_trials_tolerates_a_budget_of_them(project: pytest.Pytester, how: str) -> None:
    args: tuple[str, ...] = ()
    if how == "command line":
        args = ("--hptune-max-failed-trials=1",)
    elif how == "ini":
        project.makeini("[pytest]\nhptune_max_failed_trials = 1\n")
    project.makepyfile(
        test_code=TESTS.format(bad_build=None, bad_fit=8, skip=None).replace(
            "executions_per_trial=1,",
            "executions_per_trial=1, max_failed_trials=1," if how == "marker" else "executions_per_trial=1,",
        )
    )
    result = project.runpytest("--hptune-json=report.json", *args)
    result.assert_outcomes(passed=1)
    record, trials = trials_by_units(project)
    assert trials[8]["status"] == "FAILED"
    assert record["code_errors"]["allowed"] == 1 and record["passed"] is True


def test_a_search_keyword_sets_max_failed_trials_and_one_more_error_fails(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_code=TESTS.format(bad_build=16, bad_fit=8, skip=None).replace(
            "validation_split=0.25)", "validation_split=0.25, max_failed_trials=1)"
        )
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    assert (
        "2 trial(s) failed on an error raised by the model code, more than max_failed_trials=1" in result.stdout.str()
    )


def test_failed_trial_error_skips_a_configuration_without_failing(project: pytest.Pytester) -> None:
    result = run(project, skip=8)
    result.assert_outcomes(passed=1)
    record, trials = trials_by_units(project)
    assert trials[8]["status"] == "FAILED" and record["code_errors"]["trials"] == []


def test_a_negative_max_failed_trials_is_a_setting_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_code="""
import pytest

@pytest.mark.hptune(max_failed_trials=-1)
def test_t(hptune):
    pass
"""
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*invalid max_failed_trials=-1 from hptune marker*a non-negative integer*"])


TRACEBACK = """Traceback (most recent call last):
  File "/x/base_tuner.py", line 274, in _try_run_and_update_trial
    self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
    ^^^^^^^^^^^^^^^^^^^^^^^^^^
{line}
"""


@pytest.mark.parametrize(
    "message, counted",
    [
        (TRACEBACK.format(line="ValueError: build bug\nwith a second line"), True),
        (TRACEBACK.format(line="test_m.MyError"), True),
        (TRACEBACK.format(line="keras_tuner.src.errors.FailedTrialError: loss is nan at epoch 1"), False),
        (TRACEBACK.format(line="OSError: [Errno 28] No space left on device"), False),
        ("worker worker1 was killed by signal 9 during this trial", False),
        (None, False),
        ("", False),
    ],
)
def test_which_failures_are_errors_of_the_model_code(message: Any, counted: bool) -> None:
    assert is_code_error(message) is counted
    if counted:
        assert exception_line(message) in ("ValueError: build bug", "test_m.MyError")
