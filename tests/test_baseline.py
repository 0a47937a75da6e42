"""Baselines and the statistical regression check (--hptune-compare)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_hptune.verdict import compare as baseline

TEST = """
import pytest
from models import FastModel, data

class Model(FastModel):
    shift = {shift}

    def fit(self, hp, model, *args, **kwargs):
        score = super().fit(hp, model)["val_accuracy"]
        return {{"val_accuracy": score - self.shift}}

@pytest.mark.hptune(max_trials=3, executions_per_trial=4)
def test_tuned(hptune):
    hptune.search(Model(), *data())
"""


def test_save_then_compare_flags_a_worse_model_only(project):
    project.makepyfile(test_model=TEST.format(shift=0.0))
    result = project.runpytest("--hptune-save-baseline")
    result.assert_outcomes(passed=1)
    saved = json.loads((project.path / "hptune-baseline.json").read_text())
    assert saved["version"] == 1 and "keras" in saved["versions"]
    (entry,) = saved["entries"].values()
    assert len(entry["scores"]) == 4 and entry["nodeid"] == "test_model.py::test_tuned"

    # Unchanged model, another seed: not flagged.
    result = project.runpytest("--hptune-compare", "--hptune-seed=3", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["comparison"]["status"] == "ok"
    assert any("seed: 0 -> 3" in note for note in record["comparison"]["notes"])
    result.stdout.fnmatch_lines(["  vs baseline *: difference *", "*: no regression"])

    # A model 0.05 worse: flagged, with both distributions in the message.
    project.makepyfile(test_model=TEST.format(shift=0.05))
    result = project.runpytest("--hptune-compare")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*hptune: search in test_model.py::test_tuned regressed against its baseline (*hptune-baseline.json, test_model.py::test_tuned):",
            "*vs baseline *: difference -0.05* CI *: REGRESSED",
            "*new      trial * [[]*",
            "*baseline trial * [[]*",
            "*one-sided Welch t-test, confidence 0.95",
        ]
    )
    # ...unless the drop is tolerated.
    project.runpytest("--hptune-compare", "--hptune-max-drop=0.1").assert_outcomes(passed=1)


def test_a_missing_entry_skips_or_fails_when_strict(project):
    project.makepyfile(test_model=TEST.format(shift=0.0))
    result = project.runpytest("--hptune-compare=none.json", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no baseline file *none.json: create it with --hptune-save-baseline=*"])
    (project.path / "base.json").write_text(json.dumps({"version": 1, "entries": {}}))
    result = project.runpytest("--hptune-compare=base.json", "--hptune-compare-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no entry 'test_model.py::test_tuned' in *base.json*(--hptune-compare-strict)"])


# -- the statistics, on synthetic per-execution scores ----------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 8))
def test_a_clear_drop_is_always_flagged(seed, n):
    rng = np.random.default_rng(seed)
    good = rng.normal(0.95, 0.01, n).tolist()
    worse = rng.normal(0.85, 0.01, n).tolist()  # a learning rate 100x too small
    assert baseline.compare(worse, good, "max", 0.0, 0.95)["regressed"]
    # For a loss, lower is better: the same numbers are an improvement.
    assert not baseline.compare(worse, good, "min", 0.0, 0.95)["regressed"]


def test_an_unchanged_model_is_not_flagged_in_ten_reruns():
    base = np.random.default_rng(100).normal(0.95, 0.01, 5).tolist()
    flagged = [
        baseline.compare(np.random.default_rng(seed).normal(0.95, 0.01, 5).tolist(), base, "max", 0.01, 0.95)[
            "regressed"
        ]
        for seed in range(10)
    ]
    assert not any(flagged)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_false_alarm_rate_is_close_to_nominal(seed):
    rng = np.random.default_rng(seed)
    runs = 400
    alarms = sum(
        baseline.compare(rng.normal(0, 1, 5).tolist(), rng.normal(0, 1, 5).tolist(), "max", 0.0, 0.9)["regressed"]
        for _ in range(runs)
    )
    # Nominal 10 %; binomial sd over 400 runs is 1.5 points.
    assert 0.04 <= alarms / runs <= 0.16


def test_p_improvement_and_interval():
    result = baseline.compare([0.9, 0.91, 0.92], [0.95, 0.96, 0.97], "max", 0.0, 0.95)
    assert result["p_improvement"] == 0.0
    low, high = result["interval"]
    assert low < result["difference"] < high < 0
    same = baseline.compare([0.9], [0.9], "max", 0.0, 0.95)
    assert not same["regressed"] and same["method"] == "difference of the means"


@settings(max_examples=40, deadline=None)
@given(
    new=st.lists(st.sampled_from([0.90, 0.91, 0.92, 0.93]) | st.floats(0, 1), min_size=1, max_size=8),
    old=st.lists(st.sampled_from([0.90, 0.91, 0.92, 0.93]) | st.floats(0, 1), min_size=1, max_size=8),
)
def test_p_improvement_is_the_share_of_pairs_won_ties_counting_half(new, old):
    won = sum((a > b) + 0.5 * (a == b) for a in new for b in old) / (len(new) * len(old))
    assert baseline.compare(new, old, "max", 0.0, 0.95)["p_improvement"] == pytest.approx(won)
    # The other way round, and for a loss (lower is better): the complement.
    assert baseline.compare(old, new, "max", 0.0, 0.95)["p_improvement"] == pytest.approx(1 - won)
    assert baseline.compare(new, old, "min", 0.0, 0.95)["p_improvement"] == pytest.approx(1 - won)
