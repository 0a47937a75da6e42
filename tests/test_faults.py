"""Tuning directories that cannot be written: one clear reason, no traceback
noise, no INTERNALERROR."""

import errno
from typing import Any

import pytest
from conftest import load_json

TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=3, executions_per_trial=1)
def test_search(hptune):
    hptune.search(FastModel(), *data())
"""


def test_a_tuning_directory_that_cannot_be_created_fails_before_training(project: pytest.Pytester) -> None:
    project.makepyfile(test_dir=TEST)
    (project.path / "not_a_dir").write_text("a file")
    result = project.runpytest("--hptune-dir=not_a_dir/tuning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*could not run: the tuning directory */not_a_dir/tuning/test_dir.py_test_search-* cannot be "
            "written (NotADirectoryError: *); free some space or point --hptune-dir (ini hptune_dir) "
            "at a writable directory"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_disk_that_fills_up_mid_search_stops_it_with_one_reason(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune.engine import tuners

    saved = tuners.save_scores  # type: ignore[attr-defined]  # the name the engine calls, patched below
    calls = []

    def full_at_the_second_trial(*args: Any) -> None:
        calls.append(args)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved(*args)

    monkeypatch.setattr(tuners, "save_scores", full_at_the_second_trial)
    project.makepyfile(test_full=TEST)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*stopped early: the tuning directory * cannot be written "
            "(OSError: [[]Errno 28[]] No space left on device); free some space*"
        ]
    )
    # Aborted at the second trial, not after three failed ones; the first
    # trial's scores are kept in the record.
    assert len(calls) == 2
    record = load_json(project)["tests"][0]
    assert [t["status"] for t in record["trials"]][:1] == ["COMPLETED"]
    assert record["passed"] is False


def test_a_full_disk_in_keras_tuners_own_bookkeeping_keeps_the_completed_trials(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras_tuner

    create = keras_tuner.Oracle.create_trial
    calls = []

    def full_at_the_third_trial(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return create(self, *args, **kwargs)

    monkeypatch.setattr(keras_tuner.Oracle, "create_trial", full_at_the_third_trial)
    project.makepyfile(test_full=TEST)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stopped early: the tuning directory * cannot be written*No space left*"])
    assert "Traceback" not in result.stdout.str()
    record = load_json(project)["tests"][0]
    assert [t["status"] for t in record["trials"]] == ["COMPLETED", "COMPLETED"]


def test_a_trial_that_keras_tuner_failed_on_a_full_disk_stops_the_search(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HDF5 and TensorFlow report a full disk in their own words (no OSError
    errno): the failed trial's message still names it, and the test fails."""
    from pytest_hptune.engine import tuners

    fit: Any = tuners.HptuneTunerMixin.run_trial
    calls = []

    def garbled(self: Any, trial: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("Unable to synchronously create file (file write failed: filename = 'x.h5', errno = 28)")
        return fit(self, trial, *args, **kwargs)

    monkeypatch.setattr(tuners.HptuneTunerMixin, "run_trial", garbled)
    project.makepyfile(test_full=TEST)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stopped early: the tuning directory * ran out of space during trial 1*"])


@pytest.mark.parametrize("words", ["Read-only file system", "Permission denied"])
def test_tensorflow_file_system_errors_count_as_directory_errors(heavy_modules: None, words: str) -> None:
    import tensorflow as tf

    from pytest_hptune.engine.failures import is_directory_error

    assert is_directory_error(tf.errors.PermissionDeniedError(None, None, f"x: {words}"))
    assert not is_directory_error(ValueError(words))
