"""--hptune-resume: a killed search continues from its completed trials."""

import json
import shutil
from typing import Any

import pytest

TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=4, executions_per_trial=2)
def test_resumable(hptune):
    hptune.search(FastModel(), *data())
"""


def run(
    project: pytest.Pytester, *args: str, kill_at: int | None = None, monkeypatch: pytest.MonkeyPatch
) -> tuple[pytest.RunResult, Any, int]:
    if kill_at is None:
        monkeypatch.delenv("HPTUNE_TEST_KILL_AT_FIT", raising=False)
    else:
        monkeypatch.setenv("HPTUNE_TEST_KILL_AT_FIT", str(kill_at))
    builds = project.path / "builds.txt"
    builds.unlink(missing_ok=True)
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    # Only a run that is killed needs its own process.
    runner = project.runpytest if kill_at is None else project.runpytest_subprocess
    result = runner("--hptune-json=report.json", "-v", *args)
    report = project.path / "report.json"
    entry = json.loads(report.read_text())["tests"][0] if report.exists() else None
    report.unlink(missing_ok=True)
    n_builds = len(builds.read_text().splitlines()) if builds.exists() else 0
    return result, entry, n_builds


def scores(entry: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[float]]]:
    return {t["trial_id"]: (t["hyperparameters"], t["scores"]) for t in entry["trials"]}


def test_a_killed_search_resumes_from_its_completed_trials(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    # Killed during trial 2's first execution (fit 5): trials 0 and 1 are done.
    result, entry, _ = run(project, *resume, kill_at=5, monkeypatch=monkeypatch)
    assert result.ret != 0 and entry is None

    result, entry, builds = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"] == {"resumed": True, "reused_trials": 2, "reason": None}
    assert len(entry["trials"]) == 4 and all(len(t["scores"]) == 2 for t in entry["trials"])
    # Only trials 2 and 3 trained: FastModel builds once per execution (2 x 2),
    # plus Keras Tuner's own build that reads the search space and the
    # plugin's for the fingerprint.
    assert builds == 2 * 2 + 2
    result.stdout.fnmatch_lines(["*resumed: 2 completed trials reused*"])

    # Same hyperparameters and scores as a search that was never interrupted.
    _, uninterrupted, _ = run(project, "--hptune-dir=fresh", monkeypatch=monkeypatch)
    assert scores(entry) == scores(uninterrupted)

    # Unchanged again: nothing left to train, the verdict comes from disk.
    result, again, builds = run(project, *resume, monkeypatch=monkeypatch)
    assert again["resume"]["reused_trials"] == 4 and builds == 2
    assert scores(again) == scores(uninterrupted)


@pytest.mark.parametrize(
    "change, reason",
    [
        (["--hptune-executions=3"], "settings (executions_per_trial: 2 -> 3) changed since the earlier run"),
        (["--hptune-seed=7"], "settings (seed: 0 -> 7) changed since the earlier run"),
    ],
)
def test_a_changed_search_starts_fresh_and_says_why(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, change: list[str], reason: str
) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    run(project, *resume, monkeypatch=monkeypatch)
    result, entry, _ = run(project, *resume, *change, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"] == {"resumed": False, "reused_trials": 0, "reason": reason}
    result.stdout.fnmatch_lines([f"*started fresh: {reason.split(' changed', maxsplit=1)[0]} changed*"])


def test_changed_data_and_search_space_start_fresh(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    run(project, *resume, monkeypatch=monkeypatch)
    project.makepyfile(test_killable=TEST.replace("*data()", "*data(100)"))
    _, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    assert entry["resume"]["reason"] == "data changed since the earlier run"
    project.makepyfile(
        test_killable=TEST.replace("*data()", "*data(100)")
        .replace("FastModel()", "Wider()")
        .replace(
            "from models import FastModel, data",
            "from models import FastModel, data\n"
            "class Wider(FastModel):\n"
            "    def build(self, hp):\n"
            "        hp.Choice('units', [4, 8, 16, 32, 64])\n"
            "        return super().build(hp)\n",
        )
    )
    _, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    assert entry["resume"]["reason"] == "search space changed since the earlier run"


def test_half_written_files_from_a_killed_run_start_fresh(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    run(project, *resume, kill_at=5, monkeypatch=monkeypatch)
    (oracle,) = (project.path / "tuning").glob("*/oracle.json")
    oracle.write_text(oracle.read_text()[:40])  # cut mid-write
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"]["resumed"] is False
    assert entry["resume"]["reason"].startswith("the earlier run's files could not be read")
    assert len(entry["trials"]) == 4


def test_resume_uses_pytest_cache_and_needs_a_dir_without_it(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_killable=TEST)
    result, entry, _ = run(project, "--hptune-resume", monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert "/.pytest_cache/" in entry["directory"]
    result = project.runpytest("--hptune-resume", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hptune-resume * pass --hptune-dir=PATH as well*"])


def test_a_changed_callback_setting_starts_the_search_fresh(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    test = """
import keras
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=2, executions_per_trial=2)
def test_resumable(hptune):
    hptune.search(FastModel(), *data(), callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE)])
"""
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    project.makepyfile(test_callbacks=test.replace("PATIENCE", "2"))
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    assert entry["resume"]["resumed"] is True
    # EarlyStopping's patience changes what a trial computes: not resumed.
    project.makepyfile(test_callbacks=test.replace("PATIENCE", "5"))
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"] == {
        "resumed": False,
        "reused_trials": 0,
        "reason": "callbacks changed since the earlier run",
    }


def test_an_unreadable_scores_file_of_a_reused_trial_starts_fresh(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    result, first, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    (scores_file,) = [p for p in (project.path / "tuning").rglob("hptune-scores.json") if p.parent.name == "trial_1"]
    scores_file.write_text(scores_file.read_text()[:3])  # truncated by a crash
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"]["resumed"] is False
    assert "the earlier run's scores are unusable" in entry["resume"]["reason"]
    assert "trial_1" in entry["resume"]["reason"]
    # Started fresh: every trial trained again, the same verdict and scores.
    assert scores(entry) == scores(first)


@pytest.mark.parametrize("lost", ["trial_1", "trial_0"])
def test_a_lost_trial_directory_of_a_completed_trial_starts_fresh_and_says_why(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, lost: str
) -> None:
    """A partially restored CI cache: a completed trial's directory is gone."""
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    result, _first, _ = run(project, *resume, kill_at=5, monkeypatch=monkeypatch)
    (trial_dir,) = [p for p in (project.path / "tuning").rglob(lost) if p.is_dir()]
    shutil.rmtree(trial_dir)
    reason = f"the earlier run's files are incomplete: trial {lost[-1]} of the earlier run is missing"
    entries = []
    for _ in range(2):  # and on every rerun after
        result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
        result.assert_outcomes(passed=1)
        assert "KeyError" not in result.stdout.str()
        assert len(entry["trials"]) == 4 and all(t["status"] == "COMPLETED" for t in entry["trials"])
        entries.append(entry)
        if len(entries) == 1:
            result.stdout.fnmatch_lines(["*started fresh: the earlier run's files are incomplete*"])
    # The first rerun started fresh, saying why (JSON and summary) ...
    assert entries[0]["resume"]["resumed"] is False
    assert entries[0]["resume"]["reason"].startswith(reason)
    # ... which repaired it: the second resumes from its trials.
    assert entries[1]["resume"]["resumed"] is True
    assert scores(entries[1]) == scores(entries[0])


@pytest.mark.parametrize(
    "edit, why",
    [
        (lambda saved: [str(s) for s in saved], "holds something other than numbers"),
        (lambda saved: [True for s in saved], "holds something other than numbers"),
        (lambda saved: [s - 0.25 for s in saved], "does not match trial.json: the scores' mean is"),
    ],
    ids=["strings", "booleans", "another mean"],
)
def test_a_scores_file_that_contradicts_keras_tuners_trial_starts_fresh(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, edit: Any, why: str
) -> None:
    project.makepyfile(test_killable=TEST)
    resume = ["--hptune-resume", "--hptune-dir=tuning"]
    result, first, _ = run(project, *resume, monkeypatch=monkeypatch)
    (scores_file,) = [p for p in (project.path / "tuning").rglob("hptune-scores.json") if p.parent.name == "trial_2"]
    scores_file.write_text(json.dumps(edit(json.loads(scores_file.read_text()))))
    result, entry, _ = run(project, *resume, monkeypatch=monkeypatch)
    result.assert_outcomes(passed=1)
    assert entry["resume"]["resumed"] is False
    assert "the earlier run's scores are unusable" in entry["resume"]["reason"] and why in entry["resume"]["reason"]
    assert scores(entry) == scores(first)  # trained again: not the edited scores
