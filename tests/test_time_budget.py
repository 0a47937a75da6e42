"""max_time: a search's time budget stops new trials and new executions; the
gates judge what completed and every report says the budget ended it."""

from typing import Any

import pytest
from conftest import load_json

from pytest_hptune.settings import SettingError, make_layer, resolve

TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=6, executions_per_trial=EXECUTIONS, min_score=0.1, max_time=MAX_TIME)
def test_budget(hptune):
    hptune.search(FastModel(), *data())
"""


def _run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, max_time: str, executions: str = "2", *args: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "0.3")
    project.makepyfile(test_budget=TEST.replace("MAX_TIME", max_time).replace("EXECUTIONS", executions))
    result = project.runpytest("--hptune-json=report.json", "--hptune-markdown=report.md", "-v", *args)
    return result, load_json(project)["tests"][0]


def test_a_spent_budget_stops_new_trials_and_the_gates_judge_what_completed(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each trial takes about 0.6 s (2 fits of 0.3 s): a 1 s budget ends the
    # search after the trial that crosses it, well before 6 trials.
    result, record = _run(project, monkeypatch, "1.0")
    result.assert_outcomes(passed=1)
    assert 1 <= len(record["trials"]) < 6
    assert all(len(t["scores"]) == 2 for t in record["trials"])  # trials finish whole
    assert record["time_budget"] == {"max_time": 1.0, "ended_search": True}
    assert record["gates"][0]["passed"]
    result.stdout.fnmatch_lines(["*the time budget (max_time 1 s) ended the search after * of 6 trials*"])


def test_a_budget_that_is_not_spent_changes_nothing(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result, record = _run(project, monkeypatch, "'10m'")
    result.assert_outcomes(passed=1)
    assert len(record["trials"]) == 6
    assert record["time_budget"] == {"max_time": 600.0, "ended_search": False}
    assert "time budget" not in result.stdout.str()


@pytest.mark.parametrize("max_time, executions", [("None", 4), ("0.1", 2)])
def test_a_spent_budget_stops_new_executions_under_auto(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, max_time: str, executions: int
) -> None:
    """max_std on 2 executions is undecided: 'auto' adds executions up to
    max_executions=4, unless the budget is spent."""
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "0.2")
    project.makepyfile(
        test_auto=f"""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=1, executions_per_trial="auto", min_executions=2, max_executions=4,
                            max_std=0.01, max_time={max_time})
        def test_auto(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    project.runpytest("--hptune-json=report.json")
    record = load_json(project)["tests"][0]
    assert [len(t["scores"]) for t in record["trials"]] == [executions]


def test_max_time_from_the_command_line_and_bad_values() -> None:
    assert resolve([make_layer("test", {"max_time": "1.5h"})]).max_time == 5400.0
    assert resolve([make_layer("test", {"max_time": 90})]).max_time == 90.0
    for bad in (0, -1, "soon", True):
        with pytest.raises(SettingError, match="invalid max_time="):
            resolve([make_layer("test", {"max_time": bad})])
