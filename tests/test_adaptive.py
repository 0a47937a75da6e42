"""executions_per_trial='auto': more executions for the leading trial only
until the gates' verdict is statistically decided."""

from typing import Any

import numpy as np
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_hptune import adaptive
from pytest_hptune.settings import Layer, SettingError, Settings, make_layer, resolve

NOISY = """
import keras
import keras_tuner
import numpy as np


class Noisy(keras_tuner.HyperModel):
    '''Scores around 0.8 (units=4) or 0.9 (units=8) with a 0.01 spread.'''

    def build(self, hp):
        hp.Choice("units", [4, 8])
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def fit(self, hp, model, *args, **kwargs):
        centre = 0.8 if hp["units"] == 4 else 0.9
        return {"val_accuracy": float(centre + 0.01 * np.random.normal())}
"""


def _settings(**kwargs: Any) -> Settings:
    return resolve([make_layer("test", kwargs)])


def test_clear_verdicts_cost_the_minimum_and_a_close_call_gets_more(project: pytest.Pytester) -> None:
    project.makepyfile(noisy=NOISY)
    project.makepyfile(
        test_auto="""
        import pytest
        from models import data
        from noisy import Noisy

        AUTO = dict(max_trials=2, executions_per_trial="auto", min_executions=3, max_executions=6)

        @pytest.mark.hptune(min_score=0.5, **AUTO)
        def test_clear_pass(hptune):
            hptune.search(Noisy(), *data())

        @pytest.mark.hptune(min_score=1.2, **AUTO)
        def test_clear_fail(hptune):
            hptune.search(Noisy(), *data())

        @pytest.mark.hptune(min_score=0.9, max_std=0.5, **AUTO)
        def test_close_call(hptune):
            result = hptune.search(Noisy(), *data())
            assert len(result.best.scores) == 6
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=2, failed=1)
    records = {r["nodeid"].rsplit("::", 1)[1]: r for r in load_json(project)["tests"]}
    for name in ("test_clear_pass", "test_clear_fail"):
        assert [len(t["scores"]) for t in records[name]["trials"]] == [3, 3], name
        assert records[name]["adaptive"]["undecided"] == []
        assert records[name]["fits"] == 6
    close = records["test_close_call"]
    # The first trial leads (nothing to compare with): it gets the maximum.
    assert max(len(t["scores"]) for t in close["trials"]) == 6
    coin_flip = close["adaptive"].pop("coin_flip")
    assert close["adaptive"] == {"executions": 6, "undecided": ["min_score"], "topped_up": 0}
    assert "a coin flip at the threshold" in coin_flip  # said plainly: the verdict is luck
    result.stdout.fnmatch_lines(
        [
            "*executions auto (3-6): 6 fits; best trial * ran 3, enough to decide every gate*",
            "*executions auto (3-6): 9 fits; best trial * ran 6, and its verdict on*",
            "*min_score is still not decided at 95% confidence (raise max_executions)*",
            "*coin flip at the threshold*",
        ]
    )
    result.stdout.fnmatch_lines(["*random search*2 trials x auto 3-6 executions*"])


def test_a_trial_that_does_not_lead_stops_at_the_minimum(project: pytest.Pytester) -> None:
    project.makepyfile(noisy=NOISY)
    project.makepyfile(
        test_auto="""
        import pytest
        from models import data
        from noisy import Noisy

        @pytest.mark.hptune(max_trials=6, executions_per_trial="auto", max_executions=5, min_score=0.85)
        def test_it(hptune):
            hptune.search(Noisy(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    # units=8 scores about 0.9 +- 0.01: a clear pass of min_score=0.85 at the
    # minimum of 3 executions; units=4 (about 0.8) never leads it, and a
    # clear fail when it runs first: it stops at the minimum too.
    result.assert_outcomes(passed=1)
    record = load_json(project)["tests"][0]
    by_units = {t["hyperparameters"]["units"]: t for t in record["trials"]}
    assert record["best_trial_id"] == by_units[8]["trial_id"]
    assert len(by_units[4]["scores"]) == 3
    counts = [len(t["scores"]) for t in record["trials"]]
    assert record["fits"] == sum(counts) < 6 * 5


def test_auto_from_the_command_line_and_its_errors(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_auto="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=3, min_score=0.1)
        def test_it(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-executions=auto", "--hptune-max-executions=4", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    assert load_json(project)["tests"][0]["settings"]["executions_per_trial"] == "auto"
    result = project.runpytest("--hptune-executions=often")
    result.stderr.fnmatch_lines(["*--hptune-executions*expected an integer*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(executions_per_trial="auto", min_executions=1),
            "invalid min_executions=1 from test: expected an integer >= 2",
        ),
        (
            dict(executions_per_trial="auto", min_executions=5, max_executions=3),
            "min_executions=5 (from test) is above max_executions=3",
        ),
        (
            dict(executions_per_trial=3, max_executions=6),
            "max_executions=6 (from test) bounds executions_per_trial='auto'",
        ),
        (dict(executions_per_trial="sometimes"), "or 'auto'"),
        (dict(tuner="sklearn", max_executions=6), "does not apply to tuner='sklearn'"),
        (
            dict(tuner="sklearn", max_neighbour_drop=0.1),
            "max_neighbour_drop=0.1 (from test) does not apply to tuner='sklearn'",
        ),
    ],
)
def test_bad_adaptive_settings_name_the_setting_and_the_fix(kwargs: Any, message: str) -> None:
    with pytest.raises(SettingError) as info:
        _settings(**kwargs)
    assert message in str(info.value)


def test_a_higher_layers_fixed_count_overrides_a_lower_layers_auto_quietly() -> None:
    marker = make_layer("marker", dict(executions_per_trial="auto", max_executions=6))
    cli = Layer("--hptune-executions", {"executions_per_trial": 4})
    settings = resolve([marker, cli])
    assert not settings.adaptive and settings.first_executions == 4
    search = make_layer("hptune.search() argument", dict(executions_per_trial=5))
    assert resolve([marker, search]).first_executions == 5


def test_a_tightened_gate_on_a_resumed_search_tops_up_the_best_trial(project: pytest.Pytester) -> None:
    test = """
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial="auto", max_executions=7, min_score=THRESHOLD)
        def test_it(hptune):
            hptune.search(FastModel(), *data())
        """
    project.makepyfile(test_auto=test.replace("THRESHOLD", "0.1"))
    project.runpytest("--hptune-resume", "--hptune-json=report.json").assert_outcomes(passed=1)
    first = load_json(project)["tests"][0]
    assert [len(t["scores"]) for t in first["trials"]] == [3, 3, 3]
    best = next(t for t in first["trials"] if t["trial_id"] == first["best_trial_id"])
    # Resumed (gates are not part of the fingerprint), with a threshold at
    # the best mean: undecided, so the best trial gets executions up to 7.
    project.makepyfile(test_auto=test.replace("THRESHOLD", repr(best["mean"])))
    project.runpytest("--hptune-resume", "--hptune-json=report.json")
    second = load_json(project)["tests"][0]
    assert second["resume"]["resumed"]
    assert second["adaptive"]["topped_up"] >= 1
    # The first run's best sits exactly at the threshold: undecided, so it
    # is topped up first, keeping its three executions.
    grown = next(t for t in second["trials"] if t["trial_id"] == best["trial_id"])
    assert len(grown["scores"]) > 3 and grown["scores"][:3] == best["scores"]
    assert second["fits"] == 9 + second["adaptive"]["topped_up"]


def test_undecided_names_only_the_gates_whose_interval_holds_the_threshold() -> None:
    s = _settings(executions_per_trial="auto", min_score=0.5, max_std=0.2, max_executions=10)
    assert adaptive.undecided(s, [0.9]) == ["min_score", "max_std"]  # one execution: nothing known
    assert adaptive.undecided(s, [0.90, 0.91, 0.92]) == []
    assert adaptive.undecided(s, [0.4, 0.6]) == ["min_score", "max_std"]
    # Identical scores say nothing of the spread, until max_executions.
    assert adaptive.undecided(s, [0.9, 0.9, 0.9]) == ["min_score", "max_std"]
    assert adaptive.undecided(_settings(executions_per_trial="auto", min_score=0.5, max_executions=3), [0.9] * 3) == []
    s = _settings(executions_per_trial="auto", min_worst=0.5)
    assert adaptive.undecided(s, [0.1, 0.2]) == []  # worst gates never ask for more


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    margin=st.floats(0.0, 0.02),
    confidence=st.sampled_from([0.8, 0.9, 0.95]),
    high=st.integers(3, 10),
)
def test_stopping_at_the_first_decided_look_errs_no_more_than_one_minus_confidence(
    seed: int, margin: float, confidence: float, high: int
) -> None:
    """A true mean at or above the threshold: the procedure (add executions
    while undecided, up to max_executions) decides "fail" at most 1 - c of
    the time despite its repeated looks (here, far less: Bonferroni is
    conservative and a wrong "fail" is one side of the interval)."""
    rng = np.random.default_rng(seed)
    s = _settings(executions_per_trial="auto", min_score=0.9, max_executions=high, confidence=confidence)
    runs, wrong = 300, 0
    for _ in range(runs):
        scores = list(rng.normal(0.9 + margin, 0.02, 2))
        while adaptive.undecided(s, scores) and len(scores) < high:
            scores.append(rng.normal(0.9 + margin, 0.02))
        if not adaptive.undecided(s, scores) and np.mean(scores) < 0.9:
            wrong += 1
    alpha = 1 - confidence
    assert wrong / runs <= alpha + 4 * (alpha * (1 - alpha) / runs) ** 0.5


def test_only_a_leading_full_budget_trial_gets_more_executions(heavy_modules: None) -> None:
    """hptune_more's rule, on stand-ins for Keras Tuner's trial and oracle:
    under Hyperband only full-budget trials lead, and only against the
    completed full-budget trials."""
    from types import SimpleNamespace

    import keras_tuner

    from pytest_hptune.engine.budget import TimeBudget
    from pytest_hptune.engine.tuners import HptuneTunerMixin

    def trial(trial_id: str, epochs: int, score: float | None = None) -> Any:
        return SimpleNamespace(
            trial_id=trial_id, score=score, hyperparameters=SimpleNamespace(values={"tuner/epochs": epochs})
        )

    def tuner(*completed: Any, max_executions: int = 5) -> Any:
        settings = _settings(
            executions_per_trial="auto", min_executions=2, max_executions=max_executions, min_score=0.9
        )
        best_first = sorted(completed, key=lambda t: -t.score)
        oracle = SimpleNamespace(
            objective=keras_tuner.Objective("val_accuracy", "max"), get_best_trials=lambda n: best_first[:n]
        )
        return SimpleNamespace(
            hptune_settings=settings, hptune_full_budget=3, oracle=oracle, hptune_budget=TimeBudget(None)
        )

    close = [0.88, 0.92]  # mean 0.90, the threshold: undecided
    more = HptuneTunerMixin.hptune_more
    assert more(tuner(), trial("5", 3), close)  # nothing completed: it leads
    assert not more(tuner(), trial("5", 1), close)  # a partial budget never leads
    assert not more(tuner(trial("1", 3, 0.95)), trial("5", 3), close)  # behind a full-budget trial
    assert more(tuner(trial("1", 1, 0.99), trial("2", 3, 0.85)), trial("5", 3), close)  # partials ignored
    assert not more(tuner(), trial("5", 3), [0.99, 0.991])  # decided
    assert not more(tuner(max_executions=2), trial("5", 3), close)  # at the maximum
