"""Baselines and the statistical regression check (--hptune-compare)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from pytest_hptune.verdict import compare as baseline

TEST = """
import pytest
from models import FastModel, data

class Model(FastModel):
    shift = {shift}

    def fit(self, hp, model, *args, **kwargs):
        noise = super().fit(hp, model)["val_accuracy"] - 0.6 - hp["units"] / 100 + hp["dropout"] / 10
        # A narrow space: configurations within 0.003 of each other, noise sd 0.006.
        return {{"val_accuracy": 0.9 + hp["units"] / 10000 + noise - self.shift}}

@pytest.mark.hptune(max_trials=3, executions_per_trial=4)
def test_tuned(hptune):
    hptune.search(Model(), *data())
"""


def test_save_then_compare_flags_a_worse_model_only(project: pytest.Pytester) -> None:
    project.makepyfile(test_model=TEST.format(shift=0.0))
    result = project.runpytest("--hptune-save-baseline")
    result.assert_outcomes(passed=1)
    saved = json.loads((project.path / "hptune-baseline.json").read_text())
    assert saved["version"] == 1 and "keras" in saved["versions"]
    (entry,) = saved["entries"].values()
    assert len(entry["scores"]) == 4 and entry["nodeid"] == "test_model.py::test_tuned"
    # This test covers the search-level comparison, which decides for an
    # entry without an anchor (the paired one: tests/test_anchor.py).
    saved = json.loads((project.path / "hptune-baseline.json").read_text())
    for kept in saved["entries"].values():
        del kept["anchor"]
    (project.path / "hptune-baseline.json").write_text(json.dumps(saved))

    # Unchanged model, another seed: not flagged.
    result = project.runpytest("--hptune-compare", "--hptune-seed=3", "--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["comparison"]["status"] == "ok"
    assert any("seed: 0 -> 3" in note for note in record["comparison"]["notes"])
    result.stdout.fnmatch_lines(["  search level, not paired (the baseline entry has no anchor*", "*max_drop 0: no"])

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
            "*best-of-K difference against its simulated null *, confidence 0.95",
        ]
    )
    # ...unless the drop is tolerated.
    project.runpytest("--hptune-compare", "--hptune-max-drop=0.1").assert_outcomes(passed=1)


def test_a_missing_entry_is_judged_by_the_gates_and_fails_when_strict(project: pytest.Pytester) -> None:
    """No green skips: without a baseline file or entry the gates judge the
    test (it passes or fails as they say) and every report says it was not
    compared; --hptune-compare-strict fails it."""
    project.makepyfile(test_model=TEST.format(shift=0.0))
    reports = ["--hptune-json=r.json", "--hptune-markdown=r.md", "--junitxml=r.xml"]
    result = project.runpytest("--hptune-compare=none.json", "-rs", *reports)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["test_model.py::test_tuned:", "    best *, 3x4, * s, passed, not compared: no baseline entry"]
    )
    result = project.runpytest("--hptune-compare=none.json", "-v")  # the reason in the whole table
    result.stdout.fnmatch_lines(["  not compared: no baseline entry (no baseline file *"])
    (record,) = json.loads((project.path / "r.json").read_text())["tests"]
    assert record["comparison"]["status"] == "missing" and record["passed"]
    assert record["comparison"]["reason"].startswith("not compared: no baseline entry")
    assert "not compared: no baseline entry" in (project.path / "r.md").read_text()
    assert "1 search(es): 1 passed, 0 failed, 1 not compared with a baseline" in (project.path / "r.md").read_text()
    junit = (project.path / "r.xml").read_text()
    assert 'name="hptune.baseline_reason" value="not compared: no baseline entry' in junit
    # Gates that fail still fail the test.
    project.makepyfile(
        test_model=TEST.format(shift=0.0).replace("executions_per_trial=4", "executions_per_trial=4, min_score=0.99")
    )
    result = project.runpytest("--hptune-compare=none.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*min_score*FAILED*"])
    result.stdout.fnmatch_lines(["*not compared: no baseline entry*"])
    project.makepyfile(test_model=TEST.format(shift=0.0))
    (project.path / "base.json").write_text(json.dumps({"version": 1, "entries": {}}))
    result = project.runpytest("--hptune-compare=base.json", "--hptune-compare-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*not compared: no baseline entry ('test_model.py::test_tuned' is not in *base.json*(--hptune-compare-strict)*"
        ]
    )


# -- the statistics, on synthetic per-execution scores ----------------------


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 8))
def test_a_clear_drop_is_always_flagged(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    good = rng.normal(0.95, 0.01, n).tolist()
    worse = rng.normal(0.85, 0.01, n).tolist()  # a learning rate 100x too small
    assert baseline.compare(worse, good, "max", 0.0, 0.95, same_configuration=True)["regressed"]
    # For a loss, lower is better: the same numbers are an improvement.
    assert not baseline.compare(worse, good, "min", 0.0, 0.95, same_configuration=True)["regressed"]


def test_an_unchanged_model_is_not_flagged_in_ten_reruns() -> None:
    base = np.random.default_rng(100).normal(0.95, 0.01, 5).tolist()
    flagged = [
        baseline.compare(
            np.random.default_rng(seed).normal(0.95, 0.01, 5).tolist(), base, "max", 0.01, 0.95, same_configuration=True
        )["regressed"]
        for seed in range(10)
    ]
    assert not any(flagged)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_false_alarm_rate_is_close_to_nominal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    runs = 400
    alarms = sum(
        baseline.compare(
            rng.normal(0, 1, 5).tolist(), rng.normal(0, 1, 5).tolist(), "max", 0.0, 0.9, same_configuration=True
        )["regressed"]
        for _ in range(runs)
    )
    # Nominal 10 %; binomial sd over 400 runs is 1.5 points.
    assert 0.04 <= alarms / runs <= 0.16


def test_one_trial_a_side_compares_only_the_same_configuration() -> None:
    """One trial on each side: with the same configuration the difference is
    execution noise alone (the test is then the two-sample t-test); with two
    different configurations how far configurations differ cannot be
    estimated, so the comparison is refused with the reason."""
    same = baseline.compare([0.9, 0.91, 0.92], [0.95, 0.96, 0.97], "max", 0.0, 0.95, same_configuration=True)
    low, high = same["interval"]
    assert same["regressed"] and low < same["difference"] < high < 0
    assert same["p_improvement"] is None and same["kind"] == "search"
    with pytest.raises(baseline.CannotCompare, match="one trial on each side, different configurations"):
        baseline.compare([0.9, 0.91, 0.92], [0.95, 0.96, 0.97], "max", 0.0, 0.95)
    with pytest.raises(baseline.CannotCompare, match="1 execution"):
        baseline.compare([0.9], [0.9], "max", 0.0, 0.95, same_configuration=True)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_one_trial_t_test_holds_its_rate(seed: int) -> None:
    """Same configuration, one trial a side, n = 2 (1 df each): the fiducial
    draw of sigma makes it the pooled t-test; a plug-in sigma would flag
    about 20 % of unchanged reruns. 400 runs, 3 binomial sd of slack."""
    rng = np.random.default_rng(seed)
    runs = 400
    alarms = sum(
        baseline.compare(
            rng.normal(0, 1, 2).tolist(), rng.normal(0, 1, 2).tolist(), "max", 0.0, 0.95, same_configuration=True
        )["regressed"]
        for _ in range(runs)
    )
    assert alarms / runs <= 0.05 + 3 * (0.05 * 0.95 / runs) ** 0.5


def test_the_search_level_probability_of_improvement_has_an_interval() -> None:
    rng = np.random.default_rng(5)
    old = [rng.normal(m, 0.01, 3).tolist() for m in (0.90, 0.92, 0.91)]
    better = [[s + 0.05 for s in t] for t in old]
    up = check(better, old)
    low, high = up["p_improvement_interval"]
    assert 0.5 < low <= up["p_improvement"] <= high <= 1
    down = check(old, better)
    assert down["p_improvement"] < 0.5 < up["p_improvement"]


# -- the check's claims -------------------------------------------------------
#
# The model the check assumes (compare.py's docstring): a search of k trials
# draws k configurations whose true means vary (sd tau: the search's own
# variance), each trial's executions vary around its mean (sd sigma), the
# search keeps the trial with the best mean. A rerun of an unchanged model is
# another such search.


def search(
    rng: np.random.Generator, tau: float, k: int = 2, n: int = 4, sigma: float = 0.01, centre: float = 0.95
) -> list[list[float]]:
    return [rng.normal(centre + c, sigma, n).tolist() for c in rng.normal(0, tau, k)]


def check(
    new: list[list[float]],
    old: list[list[float]],
    max_drop: float = 0.0,
    confidence: float = 0.95,
    direction: str = "max",
    old_trials: bool = True,
) -> dict[str, Any]:
    best_new, best_old = max(new, key=np.mean), max(old, key=np.mean)
    return baseline.compare(
        best_new, best_old, direction, max_drop, confidence, trials=new, baseline_trials=old if old_trials else None
    )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("tau", [0.0, 0.005, 0.02, 0.05])
def test_false_alarms_under_the_null_stay_within_one_minus_confidence(seed: int, tau: float) -> None:
    """Reseeded searches of an unchanged model, drawn as the check assumes:
    flagged in at most 5 % of runs at confidence 0.95 (binomial slack: 3 sd
    over 400 runs; fixed seeds, so that the test itself is not flaky).
    Without the search's variance (the former check) the rate at tau = 0.02
    is about 28 %."""
    rng = np.random.default_rng(seed)
    runs = 400
    alarms = sum(check(search(rng, tau), search(rng, tau))["regressed"] for _ in range(runs))
    assert alarms / runs <= 0.05 + 3 * (0.05 * 0.95 / runs) ** 0.5


@pytest.mark.parametrize("tau", [0.0, 0.005, 0.01])
def test_a_large_drop_is_detected(tau: float) -> None:
    """Every configuration 10 points worse (a learning rate 100x too small):
    detected at least 95 % of the time (19 in 20) while the configurations'
    spread (tau) is at most a point. Estimated on 400 searches, with three
    standard errors of slack, so that the test itself is not flaky."""
    rng = np.random.default_rng(20261129)
    runs = 400
    flagged = sum(
        check([[s - 0.10 for s in t] for t in search(rng, tau)], search(rng, tau))["regressed"] for _ in range(runs)
    )
    assert flagged / runs >= 0.95 - 3 * (0.95 * 0.05 / runs) ** 0.5


finite = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@example(  # p = 400/2000 = 0.2 against alpha = 1 - 0.8 = 0.19999...: a tie
    new=[
        [0.5350261411203673, 0.1588718318942746],
        [0.11597983988077723, 0.0],
        [0.5998536674000813, 0.0],
        [0.5102619667087841, 0.0],
    ],
    old=[[0.9008843751658395, 0.21597852947631196], [0.3248458526616687, 0.463891769253746], [0.5, 0.0], [0.0, 0.0]],
    max_drop=0.0,
    confidence=0.8,
    direction="max",
)
@given(
    new=st.lists(st.lists(finite, min_size=2, max_size=6), min_size=1, max_size=4),
    old=st.lists(st.lists(finite, min_size=2, max_size=6), min_size=1, max_size=4),
    max_drop=st.sampled_from([0.0, 0.01, 0.05]),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    direction=st.sampled_from(["max", "min"]),
)
def test_the_printed_interval_has_the_verdicts_sidedness(
    new: list[list[float]], old: list[list[float]], max_drop: float, confidence: float, direction: str
) -> None:
    """The verdict is one-sided at `confidence`; the interval printed is the
    two-sided one at 1 - 2 (1 - confidence), whose upper end is the one-sided
    bound: REGRESSED exactly when it lies below -max_drop, and exactly when
    p <= 1 - confidence. (The interval is for the shift of the candidate's
    searches, adjusted for unequal budgets: it need not contain the raw
    difference.) Everything is finite (the JSON report allows no NaN)."""
    try:
        result = check(new, old, max_drop, confidence, direction)
    except baseline.CannotCompare:  # one trial a side, or no spread at all
        assume(False)
    low, high = result["interval"]
    assert result["interval_level"] == pytest.approx(1 - 2 * (1 - confidence))
    assert low <= high
    if abs(high + max_drop) > 1e-9:
        assert result["regressed"] == (high < -max_drop)
    draws = result.get("draws", 0) + 1
    assert result["regressed"] == (result["p_value"] * draws <= result["alpha"] * draws + 1e-9)
    json.dumps(result, allow_nan=False)


def test_p_005_is_regressed_and_its_printed_bound_excludes_zero() -> None:
    """The issue's case: p 0.045 REGRESSED beside a 95 % two-sided interval
    that included 0. Now the printed interval (90 %) ends below 0."""
    new, old = [0.933, 0.940, 0.935, 0.941], [0.942, 0.951, 0.939, 0.950]
    two_sided = sps.ttest_ind(new, old, equal_var=False).confidence_interval(0.95)
    assert two_sided.low < 0 < two_sided.high  # what was printed beside REGRESSED
    result = baseline.compare(new, old, "max", 0.0, 0.95, same_configuration=True)
    assert 0.01 < result["p_value"] < 0.05 and result["regressed"]
    assert result["interval"][1] < 0
    assert "90% CI" in baseline.describe(result | {"status": "regressed", "baseline": {"mean": 0.9455}})


@pytest.mark.parametrize(
    "new,old",
    [([0.9], [0.95, 0.96]), ([0.9, 0.91], [0.95]), ([0.5], [0.95])],
)
def test_a_one_execution_side_cannot_be_compared(new: list[float], old: list[float]) -> None:
    with pytest.raises(baseline.CannotCompare, match=r"cannot compare: .* 1 execution"):
        baseline.compare(new, old, "max", 0.0, 0.95)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_scores_cannot_be_compared(bad: float) -> None:
    # Formerly NaN in the baseline gave "no regression" (every comparison with
    # NaN is False).
    with pytest.raises(baseline.CannotCompare, match="baseline scores are not all finite"):
        baseline.compare([0.5, 0.5, 0.5], [0.95, bad, 0.96], "max", 0.0, 0.95)
    with pytest.raises(baseline.CannotCompare, match="new scores are not all finite"):
        baseline.compare([0.5, bad], [0.95, 0.96], "max", 0.0, 0.95)


def test_identical_scores_cannot_be_compared() -> None:
    """Quantised accuracies where every execution of every trial scored the
    same: no execution noise can be estimated (the gates call it undefined
    too); formerly any difference of the means read as REGRESSED."""
    with pytest.raises(baseline.CannotCompare, match="scored the same on both sides"):
        baseline.compare(
            [0.8, 0.8],
            [0.9, 0.9],
            "max",
            0.05,
            0.95,
            trials=[[0.8, 0.8], [0.7, 0.7]],
            baseline_trials=[[0.9, 0.9], [0.85, 0.85]],
        )


def test_the_search_spread_widens_the_check() -> None:
    """Two trials far apart in each search: the same best-trial scores that
    the execution noise alone flags are not flagged."""
    new, old = [0.930, 0.935, 0.932, 0.934], [0.950, 0.955, 0.951, 0.953]
    assert baseline.compare(new, old, "max", 0.0, 0.95, same_configuration=True)["regressed"]
    spread = baseline.compare(
        new,
        old,
        "max",
        0.0,
        0.95,
        trials=[new, [0.90, 0.91, 0.9, 0.91]],
        baseline_trials=[old, [0.98, 0.97, 0.98, 0.97]],
    )
    assert spread["search_spread"] > 0.01 and spread["df"] == 2 and not spread["regressed"]


def entry_file(project: pytest.Pytester, mutate: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads((project.path / "hptune-baseline.json").read_text())
    for saved in data["entries"].values():
        mutate(saved)
    (project.path / "edited.json").write_text(json.dumps(data))


def test_the_baseline_keeps_every_trial_and_refuses_what_it_cannot_compare(project: pytest.Pytester) -> None:
    project.makepyfile(test_model=TEST.format(shift=0.0))
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    (saved,) = json.loads((project.path / "hptune-baseline.json").read_text())["entries"].values()
    assert len(saved["trials"]) == 3 and all(len(t["scores"]) == 4 for t in saved["trials"])
    assert saved["scores"] in [t["scores"] for t in saved["trials"]]

    # A version-1 entry saved before the trials were kept: the search-level
    # comparison needs the other trials, and says so; the gates alone judge
    # (never a skip), and --hptune-compare-strict fails it.
    entry_file(project, lambda e: [e.pop("trials"), e.pop("anchor")])
    result = project.runpytest("--hptune-compare=edited.json", "--hptune-seed=3", "--hptune-json=old.json", "-v")
    result.assert_outcomes(passed=1)
    (record,) = json.loads((project.path / "old.json").read_text())["tests"]
    assert record["comparison"]["status"] == "missing" and record["comparison"]["cannot_compare"]
    assert "keeps only its best trial" in record["comparison"]["reason"]
    assert "save the baseline again" in record["comparison"]["reason"]
    strict = project.runpytest("--hptune-compare=edited.json", "--hptune-compare-strict", "--hptune-seed=3")
    strict.assert_outcomes(failed=1)

    # NaN in the baseline scores: an unusable baseline, caught where the file
    # is loaded; it fails the test (never "no regression").
    entry_file(project, lambda e: e["scores"].__setitem__(0, float("nan")))
    result = project.runpytest("--hptune-compare=edited.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*has no usable 'scores' (a non-empty list of finite numbers)*"])

    # Another objective or direction: never compared.
    entry_file(project, lambda e: e["objective"].__setitem__("direction", "min"))
    result = project.runpytest("--hptune-compare=edited.json", "-rs", "-v")
    result.assert_outcomes(passed=1)  # judged by its gates, never a skip
    result.stdout.fnmatch_lines(["*cannot compare: the baseline entry *"])
    result = project.runpytest("--hptune-compare=edited.json", "--hptune-compare-strict")
    result.assert_outcomes(failed=1)


def test_a_diverged_trial_in_the_baseline_does_not_hide_a_regression() -> None:
    """A configuration that diverged (0.80 beside 0.97 and 0.95) must not
    count as the search's spread: with the trials' sd it hid even a drop of
    0.20 (p 0.11); the median absolute deviation does not. Unchanged reruns
    are still not flagged."""
    rng = np.random.default_rng(7)

    def trials(shift: float) -> list[list[float]]:
        return [[m - shift + 0.01 * rng.standard_normal() for _ in range(4)] for m in (0.97, 0.95, 0.80)]

    baseline = trials(0.0)
    assert all(check(trials(0.20), baseline)["regressed"] for _ in range(20))
    assert sum(check(trials(0.10), baseline)["regressed"] for _ in range(20)) >= 10
    assert not any(check(trials(0.0), baseline)["regressed"] for _ in range(20))


def test_a_missing_entry_never_silences_the_rest_of_the_test(project: pytest.Pytester) -> None:
    """A search without a baseline entry must not silence the test's later
    searches or its own assertions: they still decide the test, which is
    never reported as skipped."""
    project.makepyfile(
        test_later="""
        from models import FastModel, data

        def test_later_assertion(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2)
            assert False, "the test's own check after the search"

        def test_two_searches(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2)
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2, min_score=0.99)
        """
    )
    (project.path / "b.json").write_text('{"version": 1, "entries": {}}')
    result = project.runpytest("--hptune-compare=b.json", "-rs", "--hptune-json=report.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*the test's own check after the search*", "*min_score*FAILED*"])
    assert len(json.loads((project.path / "report.json").read_text())["tests"]) == 3
    project.makepyfile(
        test_later="""
        from models import FastModel, data

        def test_passes(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=2)
        """
    )
    result = project.runpytest("--hptune-compare=b.json", "-rs")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["test_later.py::test_passes:", "    best *, 1x2, * s, passed, not compared: no baseline entry"]
    )


def test_the_baseline_keeps_the_backend_keras_resolved_from_its_own_config(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No KERAS_BACKEND: Keras reads its keras.json (under KERAS_HOME), and
    # the baseline says what Keras ran on, not the variable's default.
    home = tmp_path / "keras-home"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({"backend": "jax", "floatx": "float32", "epsilon": 1e-07}))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(home))
    project.makepyfile(test_tuned=TEST.format(shift=0.0))
    result = project.runpytest_subprocess("--hptune-save-baseline", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    saved = json.loads((project.path / "hptune-baseline.json").read_text())
    assert saved["versions"]["backend"] == "jax"
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["backend"] == "jax"
    assert baseline.versions(None).get("backend") is None  # unknown: no claim, no mismatch note
