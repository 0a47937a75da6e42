"""Tuning directories that cannot be written: one clear reason, no traceback
noise, no INTERNALERROR."""

import errno

import pytest

TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=3, executions_per_trial=1)
def test_search(hptune):
    hptune.search(FastModel(), *data())
"""


def test_a_tuning_directory_that_cannot_be_created_fails_before_training(project):
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


def test_a_disk_that_fills_up_mid_search_stops_it_with_one_reason(project, monkeypatch):
    from pytest_hptune.engine import tuners

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tuners, "save_scores", full)
    project.makepyfile(test_full=TEST)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*could not run: TuningDirectoryError: the tuning directory * cannot be written "
            "(OSError: [[]Errno 28[]] No space left on device); free some space*"
        ]
    )
    # Aborted at the first trial, not after three failed ones.
    assert result.stdout.str().count("No space left on device") <= 3


@pytest.mark.parametrize("words", ["Read-only file system", "Permission denied"])
def test_tensorflow_file_system_errors_count_as_directory_errors(heavy_modules, words):
    import tensorflow as tf

    from pytest_hptune.engine.failures import is_directory_error

    assert is_directory_error(tf.errors.PermissionDeniedError(None, None, f"x: {words}"))
    assert not is_directory_error(ValueError(words))
