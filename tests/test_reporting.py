"""Statistics, gates and the terminal table (no Keras involved)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_hptune import stats
from pytest_hptune.reports.terminal import format_search
from pytest_hptune.result import COMPLETED, Objective, TrialResult, rank
from pytest_hptune.settings import Layer, resolve
from pytest_hptune.verdict import gates

SCORES = st.lists(st.floats(0, 1), min_size=1, max_size=12)


@given(SCORES)
def test_mean_and_sample_std_match_numpy(scores: list[float]) -> None:
    assert stats.mean(scores) == pytest.approx(np.mean(scores))
    expected = 0.0 if len(scores) == 1 else np.std(scores, ddof=1)
    assert stats.std(scores) == pytest.approx(expected, abs=1e-12)


def trial(tid: str, scores: Sequence[float], status: str = COMPLETED, hps: dict[str, Any] | None = None) -> TrialResult:
    return TrialResult(tid, hps or {"learning_rate": 0.001}, tuple(scores), status)


@given(st.lists(SCORES, min_size=1, max_size=8), st.sampled_from(["max", "min"]))
def test_rank_puts_the_best_mean_first(score_lists: list[list[float]], direction: str) -> None:
    trials = [trial(str(i), s) for i, s in enumerate(score_lists)]
    ranked = rank(trials, Objective("m", direction))
    means = [t.mean for t in ranked if t.mean is not None]
    assert len(means) == len(ranked)
    assert means == sorted(means, reverse=direction == "max")


def test_gates_apply_only_when_asked_and_compare_inclusively() -> None:
    best = trial("0", [0.9, 0.9, 0.9])
    assert gates.evaluate(resolve([]), best) == []
    settings = resolve([Layer("m", {"min_score": 0.9, "max_std": 0.0, "max_score": 0.95})])
    results = {g.name: g for g in gates.evaluate(settings, best)}
    assert all(g.passed for g in results.values())
    assert results["max_std"].value == 0.0
    failing = gates.evaluate(resolve([Layer("m", {"min_score": 0.91})]), best)
    assert [g.passed for g in failing] == [False]
    assert gates.describe(failing[0].to_dict()) == "0.9000 < 0.9100 FAILED"


def record_for(trials: list[dict[str, Any]], executions: int, hps_width: int) -> dict[str, Any]:
    return {
        "nodeid": "tests/test_model.py::test_tuned[" + "x" * 30 + "]",
        "tuner": "random",
        "objective": {"name": "val_sparse_categorical_accuracy", "direction": "max"},
        "settings": {"max_trials": len(trials), "executions_per_trial": executions, "epochs": 5, "seed": 0},
        "trials": trials,
        "best_trial_id": trials[0]["trial_id"] if trials else None,
        "gates": [{"name": "min_score", "threshold": 0.9, "value": 0.95, "passed": True}],
        "duration_s": 12.3,
    }


SPACE_ENTRIES = st.sampled_from(
    [
        {"name": "learning_rate", "type": "Float", "min": 1e-4, "max": 1e-2, "step": None, "sampling": "log"},
        {"name": "units", "type": "Choice", "values": [16, 32, 64, 128, 256, 512]},
        {"name": "layers", "type": "Int", "min": 1, "max": 4, "step": 1},
        {"name": "a_rather_long_hyperparameter_name_" * 3, "type": "Boolean"},
        {"name": "c", "type": "Float", "min": 0.1, "max": 9, "conditions": [{"parent": "units", "values": [16, 32]}]},
        {"name": "f", "type": "Fixed", "value": 3},
    ]
)
HYPERBAND_INFO = {
    "max_epochs": 81,
    "factor": 3,
    "hyperband_iterations": 1,
    "all_brackets": 5,
    "brackets": [
        {"bracket": b, "rounds": [{"trials": 3 ** (b - r) * 5, "epochs": 81 // 3 ** (b - r)} for r in range(b + 1)]}
        for b in reversed(range(5))
    ],
}


@given(
    n_trials=st.integers(1, 15),
    executions=st.integers(1, 12),
    hp_count=st.integers(0, 8),
    width=st.integers(60, 200),
    space=st.lists(SPACE_ENTRIES, max_size=8),
    tuner=st.sampled_from(["random", "hyperband", "sklearn"]),
)
def test_summary_lines_fit_the_terminal(
    n_trials: int, executions: int, hp_count: int, width: int, space: list[dict[str, Any]], tuner: str
) -> None:
    trials = []
    for i in range(n_trials):
        scores = [0.5 + 0.01 * j for j in range(executions)]
        t = trial(str(i), scores, hps={f"hyperparameter_{k}": 0.001 * k for k in range(hp_count)})
        entry = t.to_dict()
        if tuner == "hyperband":
            entry["budget"] = 81 if i % 2 == 0 else 27
        if i == 1:
            entry.update(status="FAILED", scores=[], mean=None, std=None, message="loss is nan at epoch 3 " * 5)
        trials.append(entry)
    record = record_for(trials, executions, hp_count)
    record["tuner"] = tuner
    record["search_space"] = space
    record["tuner_info"] = {
        "hyperband": HYPERBAND_INFO,
        "sklearn": {"folds": executions, "oracle": "bayesian"},
        "random": {
            "workers": [{"id": f"worker{i}", "exit_code": -9 * (i % 2)} for i in range(executions)],
            "chief": "127.0.0.1:54321",
        },
    }[tuner]
    lines = format_search(record, width)
    # the test id heads the block whole (it is copied into `pytest ID`)
    assert lines[0][0].startswith("tests/test_model.py::test_tuned[")
    too_long = [text for text, _ in lines[1:] if len(text) > width]
    assert not too_long
    best_rows = [text for text, _ in lines if text.startswith("  *  ")]
    assert len(best_rows) == 1


def test_summary_caps_rows_without_verbose() -> None:
    trials = [trial(str(i), [0.5]).to_dict() for i in range(15)]
    short = format_search(record_for(trials, 1, 1), 80)
    assert any("5 more trials (-v shows all)" in text for text, _ in short)
    full = format_search(record_for(trials, 1, 1), 80, verbose=True)
    assert not any("more trials" in text for text, _ in full)


def test_hyperband_without_a_full_budget_trial_fails_and_says_why() -> None:
    from pytest_hptune.result import SearchResult
    from pytest_hptune.verdict.judge import judge
    from pytest_hptune.verdict.message import failure_message

    partial = TrialResult("0", {"units": 4}, (0.7,), COMPLETED, budget=3)
    result = SearchResult(
        Objective("val_accuracy", "max"),
        trials=[],
        failed=[TrialResult("1", {"units": 8}, (), "FAILED", "loss is nan at epoch 1", 9)],
        partial=[partial],
        tuner=None,
        tuner_info={"max_epochs": 9},
    )
    record = judge("t.py::t", 0, resolve([]), result, None, 0.1, "dir")
    message = failure_message(record)
    assert message is not None
    assert message.startswith(
        "hptune: search in t.py::t: no trial completed at the full budget of 9 epochs "
        "(1 completed at fewer epochs, 1 failed)"
    )
    assert "--- trial 1 FAILED: loss is nan at epoch 1" in message


def test_the_failure_message_prints_a_code_errors_traceback_from_the_record_alone() -> None:
    import json

    from pytest_hptune.result import SearchResult
    from pytest_hptune.verdict.judge import judge
    from pytest_hptune.verdict.message import failure_message

    raised = 'Traceback (most recent call last):\n  File "model.py", line 3, in build\nValueError: bad units\n'
    skipped = (
        'Traceback (most recent call last):\n  File "model.py", line 5, in build\n'
        "keras_tuner.src.errors.FailedTrialError: units too small\n"
    )
    failed = [
        TrialResult("0", {"units": 3}, (), "FAILED", raised),
        TrialResult("1", {"units": 1}, (), "FAILED", skipped),
    ]
    result = SearchResult(Objective("val_accuracy", "max"), trials=[], failed=failed, tuner=None)
    record = json.loads(json.dumps(judge("t.py::t", 0, resolve([]), result, None, 0.1, "dir")))
    first, second = record["trials"]
    assert first["traceback"] == raised.rstrip() and "traceback" not in second
    assert (first["message"], second["message"]) == ("ValueError: bad units", "units too small")
    message = failure_message(record)  # the record as the JSON report has it: no outcome
    assert message is not None
    assert message.splitlines() == [
        "hptune: search in t.py::t: no trial completed (2 failed).",
        "--- trial 0 FAILED {'units': 3}: ValueError: bad units",
        *raised.rstrip().splitlines(),
        "--- trial 1 FAILED {'units': 1}: units too small",
    ]
