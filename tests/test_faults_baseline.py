"""The baseline file: nothing is ever rewritten that could not be read,
concurrent saves lose nothing, every entry is checked on load."""

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from pytest_hptune import baseline_input
from pytest_hptune.reports import baseline_file

RECORD = {
    "nodeid": "t.py::t",
    "tuner": "random",
    "objective": {"name": "val_accuracy", "direction": "max"},
    "settings": {"seed": 0},
    "best_trial_id": "0",
    "passed": True,
    "trials": [
        {
            "trial_id": "0",
            "hyperparameters": {"u": 4},
            "scores": [0.9, 0.8],
            "mean": 0.85,
            "std": 0.07071067811865474,
            "status": "COMPLETED",
        },
    ],
}


def _entry(**changes: Any) -> dict[str, Any]:
    saved = baseline_file.entry(RECORD)
    assert saved is not None
    saved.update(changes)
    return saved


def _write(path: Path, entries: dict[str, Any], **top: Any) -> None:
    path.write_text(json.dumps({"version": 1, "entries": entries, **top}))


@pytest.mark.parametrize(
    "text",
    ["<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> main\n", json.dumps({"version": 2, "entries": {}})],
    ids=["merge-conflict", "other-version"],
)
def test_a_file_that_cannot_be_read_is_never_overwritten(tmp_path: Path, text: Any) -> None:
    path = tmp_path / "hptune-baseline.json"
    path.write_text(text)
    with pytest.raises(baseline_input.BaselineError, match="it was not overwritten"):
        baseline_file.save(path, [("t.py::t", RECORD)], {})
    assert path.read_text() == text


def test_a_save_to_an_unreadable_baseline_fails_the_run(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_save="""
        from models import FastModel, data

        def test_save(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2)
        """
    )
    conflicted = "<<<<<<< HEAD\n{}\n=======\n"
    (project.path / "hptune-baseline.json").write_text(conflicted)
    result = project.runpytest("--hptune-save-baseline")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*could not write the baseline*cannot be read*it was not overwritten*"])
    assert (project.path / "hptune-baseline.json").read_text() == conflicted


def _save_one(args: tuple[Path, int]) -> None:
    path, index = args
    record = dict(RECORD, nodeid=f"t.py::t{index}")
    baseline_file.save(path, [(f"t.py::t{index}", record)], {})


def test_concurrent_saves_lose_no_entry_and_leave_no_lock_file(tmp_path: Path) -> None:
    """16 processes saving at once lose no entry; the lock file is gone once
    the saves are done (nothing for `git add -A` to commit by accident)."""
    path = tmp_path / "hptune-baseline.json"
    # forkserver: a fork of this process, which may hold TensorFlow's
    # threads from an earlier test, can deadlock; the timeout keeps a hang
    # from stalling the suite.
    with multiprocessing.get_context("forkserver").Pool(16) as pool:
        pool.map_async(_save_one, [(path, i) for i in range(48)], chunksize=1).get(timeout=300)
    assert sorted(baseline_input.load(path)["entries"]) == sorted(f"t.py::t{i}" for i in range(48))
    assert [p.name for p in tmp_path.iterdir()] == ["hptune-baseline.json"]


@pytest.mark.parametrize(
    "entry, top, field",
    [
        ({k: v for k, v in _entry().items() if k != "std"}, {}, "'std' (a finite number)"),
        (_entry(scores="0.9,0.8"), {}, "'scores' (a non-empty list of finite numbers)"),
        (_entry(scores=[]), {}, "'scores' (a non-empty list of finite numbers)"),
        (_entry(scores=[0.9, float("nan")]), {}, "'scores' (a non-empty list of finite numbers)"),
        (_entry(settings=None), {}, "'settings' (an object)"),
        (_entry(objective={"name": "val_loss"}), {}, "'objective'"),
        (_entry(), {"versions": "x"}, '"versions" is not an object'),
        (_entry(scores=[1e308, -1e308], mean=0.0, std=1e308), {}, "has a score of 1e+308"),
        (_entry(trials=[{"scores": [0.5, -1e101]}]), {}, "has a score of -1e+101"),
        (_entry(std=-1), {}, "has 'std' -1, below 0"),
        (_entry(mean=0.1), {}, "has 'mean' 0.1, but its 'scores' [0.9, 0.8] have mean 0.85"),
        (_entry(std=0.5), {}, "has 'std' 0.5, but its 'scores' [0.9, 0.8] have std 0.0707"),
        (_entry(scores=[0.9, "0.8"]), {}, "'scores' (a non-empty list of finite numbers)"),
    ],
)
def test_every_entry_is_checked_on_load_naming_the_test_and_the_field(
    tmp_path: Path, entry: Any, top: dict[str, Any], field: str
) -> None:
    path = tmp_path / "b.json"
    _write(path, {"t.py::t": entry}, **top)
    with pytest.raises(baseline_input.BaselineError) as info:
        baseline_input.load(path)
    assert field in str(info.value)
    if not top:
        assert "the entry 't.py::t'" in str(info.value)


def test_a_missing_file_is_not_a_broken_one(tmp_path: Path) -> None:
    with pytest.raises(baseline_input.BaselineMissing):
        baseline_input.load(tmp_path / "none.json")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(baseline_input.BaselineError) as info:
        baseline_input.load(tmp_path / "dir.json")
    assert not isinstance(info.value, baseline_input.BaselineMissing)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"scores": [1e308, -1e308], "mean": 0.0, "std": 1e308}, "has a score of 1e+308"),
        ({"mean": 0.1}, "has 'mean' 0.1, but its 'scores'"),
        ({"std": -1}, "has 'std' -1, below 0"),
    ],
    ids=["overflowing", "contradicting mean", "negative std"],
)
def test_an_unusable_baseline_keeps_the_record_in_every_report(
    project: pytest.Pytester, change: dict[str, Any], reason: str
) -> None:
    project.makepyfile(
        test_kept="""
        from models import FastModel, data

        def test_t(hptune):
            hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=2)
        """
    )
    _write(project.path / "b.json", {"test_kept.py::test_t": _entry(**change)})
    result = project.runpytest(
        "--hptune-compare=b.json", "--hptune-json=report.json", "--hptune-markdown=report.md", "--junitxml=junit.xml"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert reason in out and "the entry 'test_kept.py::test_t'" in out, out
    assert "OverflowError" not in out and "INTERNALERROR" not in out
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["nodeid"] == "test_kept.py::test_t" and len(record["trials"]) == 2
    assert record["comparison"]["status"] == "broken" and reason in record["comparison"]["reason"]
    assert "test_kept.py::test_t" in (project.path / "report.md").read_text()
    assert 'name="hptune.trials" value="2/2 completed"' in (project.path / "junit.xml").read_text()
