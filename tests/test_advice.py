"""Advice beside the verdict: the binomial floor of max_std, an undecided std
gate, and how many executions detect a drop (power analysis)."""

from typing import Any

import numpy as np
import pytest
from conftest import load_json

from pytest_hptune import stats
from pytest_hptune.settings import Settings, make_layer, resolve
from pytest_hptune.verdict import advice


def _settings(**kwargs: Any) -> Settings:
    return resolve([make_layer("hptune marker on t.py::t", kwargs)])


def test_validation_samples_from_the_fit_arguments() -> None:
    keras = _settings()
    x = np.zeros((101, 3))
    assert advice.validation_samples(keras, (x, x), {"validation_split": 0.2}, None) == 21  # as Keras splits
    assert advice.validation_samples(keras, (), {"x": x, "validation_split": 0.5}, None) == 51
    assert advice.validation_samples(keras, (x,), {"validation_data": (x[:7], x[:7])}, None) == 7
    assert advice.validation_samples(keras, ({"a": x}, x), {"validation_split": 0.1}, None) == 11
    assert advice.validation_samples(keras, (iter([x]),), {"validation_split": 0.2}, None) is None
    assert advice.validation_samples(keras, (x,), {}, None) is None
    sklearn = _settings(tuner="sklearn", cv=4)
    assert advice.validation_samples(sklearn, (x, x), {}, 4) == 25


def test_a_max_std_below_the_binomial_floor_is_advised_for_accuracy_only() -> None:
    scores = [0.90, 0.91, 0.92]
    floor = stats.binomial_floor(0.91, 100)

    def kinds(items: list[dict[str, Any]]) -> list[str]:
        return [i["kind"] for i in items]

    low = advice.compute(_settings(max_std=floor / 2), scores, 100, False)
    assert "binomial_floor" in kinds(low)
    assert f"({floor:.4f})" in low[0]["text"] and "max_std=0.0" in low[0]["text"]
    assert "from hptune marker on t.py::t" in low[0]["text"]
    assert "binomial_floor" not in kinds(advice.compute(_settings(max_std=floor * 1.01), scores, 100, False))
    assert "binomial_floor" not in kinds(advice.compute(_settings(max_std=floor / 2), scores, None, False))
    loss = _settings(max_std=floor / 2, objective="val_loss")
    assert "binomial_floor" not in kinds(advice.compute(loss, scores, 100, False))


def test_a_std_gate_passed_on_too_few_executions_says_how_many_would_show_it() -> None:
    scores = [0.900, 0.901, 0.902]  # std 0.001; its 95 % upper bound is about 0.0063
    (item,) = [i for i in advice.compute(_settings(max_std=0.005), scores, None, False) if i["kind"] == "std_undecided"]
    needed = stats.executions_for_std(0.001, 0.005, 0.95)
    assert needed is not None
    assert f"about {needed} executions" in item["text"]
    # The advice's count is the smallest that shows it: with this spread,
    # the std's upper bound is below max_std at `needed` executions, not one fewer.
    assert stats._std_bounds(0.001, needed, 0.95)[1] <= 0.005 < stats._std_bounds(0.001, needed - 1, 0.95)[1]
    assert not [i for i in advice.compute(_settings(max_std=0.01), scores, None, False) if i["kind"] == "std_undecided"]


def test_power_advice_names_the_executions_that_detect_the_drop() -> None:
    scores = [0.90, 0.92, 0.91]  # std 0.01: 3 executions rarely see a 0.01 drop
    s = _settings(max_std=0.05, detect_drop=0.01)
    (item,) = [i for i in advice.compute(s, scores, None, False) if i["kind"] == "power"]
    needed = stats.executions_to_detect(0.01, 0.01, 0.95)
    assert needed is not None
    assert f"{needed} executions per trial detect it 80% of the time" in item["text"]
    assert stats.detection_power(0.01, 0.01, 0.95, needed) >= 0.8
    # A drop large enough for 3 executions: no advice; no std gate and no
    # baseline comparison: no advice either.
    assert not [
        i for i in advice.compute(_settings(max_std=0.05, detect_drop=0.1), scores, None, False) if i["kind"] == "power"
    ]
    assert advice.compute(_settings(), scores, None, False) == []
    assert [i["kind"] for i in advice.compute(_settings(), scores, None, True)] == ["power"]


def test_advice_in_the_summary_the_json_and_a_warning(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_adv="""
        import pytest
        from models import build_small, data

        @pytest.mark.hptune(max_trials=1, executions_per_trial=2, epochs=1, max_std=0.01, detect_drop=0.001)
        def test_it(hptune):
            hptune.search(build_small, *data(), validation_split=0.25)
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-W", "always::pytest_hptune.HptuneAdvice")
    record = load_json(project)["tests"][0]
    kinds = [a["kind"] for a in record["advice"]]
    assert "binomial_floor" in kinds
    result.stdout.fnmatch_lines(
        [
            # attributed to the test's own file and line, not the plugin's
            "*/test_adv.py:4: HptuneAdvice: test_adv.py::test_it: max_std=0.01 (from hptune marker on test_adv.py::test_it) is below the binomial floor*30 samples*",
        ]
    )
    # Said before the gates are read, and not again among the advice.
    result.stdout.fnmatch_lines(
        ["*warning: max_std=0.01 (from hptune marker on test_adv.py::test_it) is below", "*gate max_std*"]
    )
    result.stdout.no_fnmatch_line("*advice: max_std=0.01*")
    # As an error: the test fails with the advice (no traceback), and the
    # search is still recorded.
    result = project.runpytest("-W", "error::pytest_hptune.HptuneAdvice", "--hptune-json=strict.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hptune: test_adv.py::test_it: max_std=0.01 * (a warning turned into an error)"])
    assert len(load_json(project, "strict.json")["tests"]) == 1
    result.stdout.no_fnmatch_line("*Traceback*")
