"""Files read back: a resumed search's trials (what it reuses counts, what
it cannot read is left out) and a baseline file that cannot be read."""

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_hptune.engine import storage
from pytest_hptune.engine.progress import report_progress


def resumed_tuner(tmp_path: Path, lines: list[Any]) -> Any:
    """Trials 0 and 1 completed in an earlier run (1's scores file is
    half-written), trial 2 in this one; trial 3 failed."""
    trials = {
        tid: SimpleNamespace(trial_id=tid, status=status)
        for tid, status in [("0", "COMPLETED"), ("1", "COMPLETED"), ("2", "COMPLETED"), ("3", "FAILED")]
    }
    tuner = SimpleNamespace(
        oracle=SimpleNamespace(trials=trials, max_trials=5, objective=SimpleNamespace(direction="max")),
        hptune_scores={"2": [0.7, 0.72]},
        get_trial_dir=lambda tid: str(tmp_path / f"trial_{tid}"),
        hptune_progress=SimpleNamespace(trial_finished=lines.append),
    )
    for tid in trials:
        (tmp_path / f"trial_{tid}").mkdir()
    storage.save_scores(tuner, "0", [0.9, 0.8])
    (tmp_path / "trial_1" / storage.SCORES_FILE).write_text("[0.99, 0.9")
    return tuner


def test_the_progress_lines_best_counts_the_trials_a_resumed_search_reused(tmp_path: Path) -> None:
    lines: list[Any] = []
    tuner = resumed_tuner(tmp_path, lines)
    report_progress(tuner, tuner.oracle.trials["2"])
    (event,) = lines
    assert (event.done, event.total, event.trial_id, event.status) == (4, 5, "2", "COMPLETED")
    assert round(event.mean, 4) == 0.71
    assert (event.best_id, round(event.best_mean, 4)) == ("0", 0.85)  # the reused trial, read back from disk
    # A minimised objective: this run's trial is the best.
    tuner.oracle.objective.direction = "min"
    report_progress(tuner, tuner.oracle.trials["2"])
    assert (lines[-1].best_id, lines[-1].best_mean) == ("2", event.mean)


def test_an_unreadable_baseline_fails_the_comparison_and_a_missing_one_does_not(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_cmp="""
        from models import FastModel, data

        def test_cmp(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2)
        """
    )
    result = project.runpytest("--hptune-compare=none.json", "-rs", "-v")
    result.assert_outcomes(passed=1)  # judged by its gates; the reports say it was not compared
    result.stdout.fnmatch_lines(["  not compared: no baseline entry (no baseline file *"])
    (project.path / "baseline.json").write_text('{"version": 1, "entries": {')  # a half-written file
    result = project.runpytest("--hptune-compare=baseline.json", "--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*hptune: the baseline file */baseline.json cannot be read (*(an unusable baseline fails the comparison)"]
    )
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["passed"] is False and len(record["trials"]) == 1
    assert record["comparison"]["status"] == "broken"
