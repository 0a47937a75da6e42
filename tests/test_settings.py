"""Settings resolution and validation (no Keras involved)."""

import argparse
import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_hptune.options import BY_NAME, BY_SETTING, OPTIONS
from pytest_hptune.plugin import STATE
from pytest_hptune.settings import (
    OPTION_SETTINGS,
    SPECS,
    Layer,
    SettingError,
    Settings,
    make_layer,
    resolve,
)


def test_a_setting_no_layer_sets_takes_its_default_from_the_table() -> None:
    resolved, constructed = resolve([]), Settings()
    for name, spec in SPECS.items():
        assert getattr(resolved, name) is spec.default, name
        assert getattr(constructed, name) is spec.default, name
    assert resolve([]).sources == {}


def test_a_settings_field_and_the_table_must_name_the_same_settings() -> None:
    from pytest_hptune.settings import Spec
    from pytest_hptune.settings.resolved import FROM_TABLE, defaults_from

    table = {"trials": Spec(3, lambda name, value, where: value, "help")}

    @dataclasses.dataclass(frozen=True)
    @defaults_from(table)
    class Matching:
        trials: int = FROM_TABLE
        sources: dict[str, Any] = dataclasses.field(default_factory=dict)

    assert Matching().trials == 3

    class FieldWithoutSpec:
        trials: int = FROM_TABLE
        epochs: int = FROM_TABLE

    with pytest.raises(TypeError, match=r"fields without a spec \['epochs'\], specs without a field \[\]"):
        defaults_from(table)(FieldWithoutSpec)

    class SpecWithoutField:
        sources: dict[str, Any]

    with pytest.raises(TypeError, match=r"fields without a spec \[\], specs without a field \['trials'\]"):
        defaults_from(table)(SpecWithoutField)

    class OwnDefault:
        trials: int = 5

    with pytest.raises(TypeError, match=r"OwnDefault.trials has a default of its own"):
        defaults_from(table)(OwnDefault)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolve([]).max_trials = 5  # type: ignore[misc]  # the point: it is read-only


LAYER_NAMES = ["ini", "marker", "search", "command line"]
COUNTS = st.integers(min_value=1, max_value=50)


@given(st.lists(st.one_of(st.none(), COUNTS), min_size=4, max_size=4))
def test_highest_layer_that_sets_a_value_wins(values: list[int | None]) -> None:
    layers = [Layer(name, {} if value is None else {"max_trials": value}) for name, value in zip(LAYER_NAMES, values)]
    settings = resolve(layers)
    given_values = [(n, v) for n, v in zip(LAYER_NAMES, values) if v is not None]
    if given_values:
        assert (settings.sources["max_trials"], settings.max_trials) == given_values[-1]
    else:
        assert settings.max_trials == SPECS["max_trials"].default
        assert "max_trials" not in settings.sources


@given(
    st.one_of(
        st.integers(max_value=0),
        st.booleans(),
        st.floats(),
        st.text(),
        st.none(),
    )
)
def test_bad_counts_are_rejected_with_setting_value_and_source(value: object) -> None:
    with pytest.raises(SettingError) as info:
        make_layer("hptune marker on t.py::test", {"max_trials": value})
    assert f"invalid max_trials={value!r} from hptune marker on t.py::test" in str(info.value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_thresholds_are_accepted(value: float) -> None:
    assert make_layer("m", {"min_score": value}).values["min_score"] == value


def test_unknown_keyword_suggests_the_closest_setting() -> None:
    with pytest.raises(SettingError, match=r"'executions' \(did you mean 'executions_per_trial'\?\)"):
        make_layer("hptune marker on t.py::test", {"executions": 2})


def test_objective_accepts_names_and_objective_like_objects() -> None:
    class Obj:
        name = "val_f1"
        direction = "max"

    assert make_layer("m", {"objective": " val_loss "}).values["objective"] == "val_loss"
    assert make_layer("m", {"objective": Obj}).values["objective"] is Obj
    with pytest.raises(SettingError, match=r"keras_tuner\.Objective"):
        make_layer("m", {"objective": 3})
    with pytest.raises(SettingError, match="'min' or 'max'"):
        make_layer("m", {"direction": "up"})


def test_command_line_converter_raises_argparse_errors() -> None:
    convert = BY_SETTING["max_trials"].convert
    assert convert(" 4 ") == 4
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer, got 'x'"):
        convert("x")
    with pytest.raises(argparse.ArgumentTypeError, match="from --hptune-trials"):
        convert("0")


def test_ini_values_name_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhptune_seed = -1\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*invalid seed=-1 from ini option hptune_seed in {pytester.path / 'tox.ini'}:*"])


# -- the options table ------------------------------------------------------


def test_the_table_has_a_row_per_setting_option_and_ini_keys_named_like_the_options() -> None:
    assert tuple(BY_SETTING) == OPTION_SETTINGS
    assert len(BY_NAME) == len(OPTIONS)
    renamed = {row.name: row.ini for row in OPTIONS if row.ini != "hptune_" + row.name.replace("-", "_")}
    # The baseline options keep the ini key they have always shared: the path.
    assert renamed == {"save-baseline": "hptune_baseline", "compare": "hptune_baseline"}


def test_every_row_is_registered_as_an_option_and_an_ini_key(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == 0
    text = result.stdout.str()
    for row in OPTIONS:
        # Anchored: --hptune-compare is also the start of --hptune-compare-strict.
        assert re.search(rf"^  {re.escape(row.flag)}(=|$| )", text, re.M), row.flag
        assert re.search(rf"^  {row.ini} \({row.ini_type}\):", text, re.M), row.ini
        assert " ".join(row.about.split()[:4]) in " ".join(text.split()), row.about


def test_a_bad_ini_bool_is_a_usage_error_naming_the_key_and_the_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhptune_resume = maybe\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*ini option hptune_resume in {pytester.path / 'tox.ini'}: invalid truth value 'maybe'*"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


# Per row: a value in the ini file, one on the command line (None: a flag).
SAMPLES = {
    "tuner": ("bayesian", "grid"),
    "trials": ("4", "5"),
    "executions": ("auto", "2"),
    "min-executions": ("2", "4"),
    "max-executions": ("5", "6"),
    "vary": ("split", "seed"),
    "epochs": ("2", "3"),
    "max-time": ("60", "10m"),
    "seed": ("7", "8"),
    "reuse": ("off", "on"),
    "max-failed-trials": ("1", "2"),
    "max-drop": ("0.1", "0.2"),
    "confidence": ("0.9", "0.99"),
    "require-no-drop": ("on", "off"),
    "anchor-executions": ("8", "10"),
    "dir": ("ini-dir", "cli-dir"),
    "json": ("ini.json", "cli.json"),
    "markdown": ("ini.md", "cli.md"),
    "plot": ("ini-plots", "cli-plots"),
    "html": ("ini.html", "cli.html"),
    "report-errors": ("warn", "fail"),
    "resume": ("true", None),
    "workers": ("2", "3"),
    "chief": ("10.0.0.1:80", "10.0.0.2:81"),
    "worker-timeout": ("90s", "5"),
    "save-baseline": ("ini-base.json", "cli-base.json"),
    "compare": ("ini-base.json", "cli-base.json"),
    "compare-strict": ("yes", None),
    "family": ("bonferroni", "none"),
}
STATE_FIELDS = {
    "dir": "directory",
    "json": "json_path",
    "markdown": "markdown_path",
    "plot": "plot_dir",
    "html": "html_path",
    "report-errors": "report_errors",
    "resume": "resume",
    "workers": "workers",
    "chief": "chief",
    "worker-timeout": "worker_timeout",
    "save-baseline": "save_baseline",
    "compare": "compare_baseline",
    "compare-strict": "compare_strict",
    "family": "family",
}


def test_the_samples_cover_the_table() -> None:
    assert set(SAMPLES) == set(BY_NAME)


def _session_value(state: Any, row: Any) -> Any:
    if row.setting:
        return state.cli_layer.values.get(row.setting, state.ini_layer.values.get(row.setting))
    return getattr(state, STATE_FIELDS[row.name])


def _expected(pytester: pytest.Pytester, row: Any, text: str | None) -> Any:
    if text is None:
        return True
    if row.kind in ("path", "optional path"):
        return (pytester.path / text).absolute()
    return row.parse(text, "a test")


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_row_is_read_from_the_ini_file_and_the_command_line_wins(pytester: pytest.Pytester, name: str) -> None:
    row = BY_NAME[name]
    ini_text, cli_text = SAMPLES[name]
    pytester.makeini(f"[pytest]\n{row.ini} = {ini_text}\n")
    # An optional path is off unless given: given without PATH, its path is the ini's.
    on = [row.flag] if row.kind == "optional path" else []
    state = pytester.parseconfigure(*on).stash[STATE]
    assert _session_value(state, row) == _expected(pytester, row, ini_text)
    if cli_text is not None:
        state = pytester.parseconfigure(f"{row.flag}={cli_text}").stash[STATE]
        assert _session_value(state, row) == _expected(pytester, row, cli_text)


def test_min_above_max_is_rejected_naming_both_sources() -> None:
    with pytest.raises(SettingError, match=r"min_score=0.9 \(from a\) is above max_score=0.5 \(from b\)"):
        resolve([Layer("a", {"min_score": 0.9}), Layer("b", {"max_score": 0.5})])


def test_the_command_lines_trial_budget_caps_a_tests_own_never_raises_it() -> None:
    cli = Layer("command line", {"max_trials": 3})
    assert resolve([make_layer("marker", {"max_trials": 1}), cli]).max_trials == 1
    capped = resolve([make_layer("marker", {"max_trials": 10}), cli])
    assert capped.max_trials == 3 and capped.sources["max_trials"] == "command line"
    assert resolve([cli]).max_trials == 3  # a test without its own budget takes it
    search = make_layer("hptune.search() argument", {"max_trials": 2})
    assert resolve([make_layer("marker", {"max_trials": 10}), search, cli]).max_trials == 2


def test_trials_and_executions_are_counted_as_run_with_their_plurals() -> None:
    from pytest_hptune.reports.text import runs_text, trials_text

    record = {"settings": {"max_trials": 2}, "trials": [{"trial_id": "0"}]}
    assert trials_text(record) == "1 of 2 trials"  # a space with one configuration
    assert trials_text({"settings": {"max_trials": 1}, "trials": [{}]}) == "1 trial"
    assert trials_text({"settings": {"max_trials": 3}, "trials": [{}, {}, {}]}) == "3 trials"
    assert runs_text({"executions_per_trial": 1}) == "1 execution"
    assert (
        runs_text({"executions_per_trial": "auto", "min_executions": 3, "max_executions": 6}) == "auto 3-6 executions"
    )


@pytest.mark.parametrize(
    "values",
    [{}, {"executions_per_trial": 1}, {"executions_per_trial": "auto", "min_executions": 3, "max_executions": 6}],
)
def test_the_header_writes_the_executions_in_the_reports_words(values: dict[str, Any]) -> None:
    from pytest_hptune.plugin import describe
    from pytest_hptune.reports.text import executions_text

    settings = resolve([make_layer("marker", values)])
    assert f" executions={executions_text(settings.as_dict())} " in describe(settings)


# -- score gates outside the range of a bounded metric -------------------------


@pytest.mark.parametrize(
    "layer, expected",
    [
        (
            {"objective": "val_accuracy", "min_score": 1.5},
            "min_score=1.5 (from marker) is outside [0, 1], the range "
            "of objective 'val_accuracy' (from marker): no search would pass it; give a fraction (0.9 for 90 %) or remove min_score",
        ),
        (
            {"objective": "val_auc_1", "max_upper_bound": -0.2},
            "max_upper_bound=-0.2 (from marker) * no search would pass it*",
        ),
        ({"objective": "val_recall", "max_score": 90}, "max_score=90 (from marker) * every search would pass it*"),
        (
            {"tuner": "sklearn", "scoring": "precision_macro", "min_worst": -1},
            "min_worst=-1 * scoring 'precision_macro' *",
        ),
    ],
)
def test_a_score_gate_outside_a_bounded_metrics_range_is_a_setting_error(layer: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingError) as info:
        resolve([make_layer("marker", layer)])
    assert re.fullmatch(re.escape(expected).replace(r"\*", ".*"), str(info.value)), str(info.value)


def test_gates_on_unbounded_or_unknown_objectives_are_left_alone() -> None:
    from pytest_hptune.settings import check_score_gates

    assert resolve([make_layer("marker", {"objective": "val_loss", "max_score": 2.5})]).max_score == 2.5
    assert resolve([make_layer("marker", {"objective": "val_accuracy", "min_score": 1.0})]).min_score == 1.0
    # The default objective: a HyperModel whose fit() returns a number
    # replaces it with Keras Tuner's default_objective; only the fixture,
    # seeing the hypermodel, knows it holds.
    default = resolve([make_layer("marker", {"max_score": 2.5})])
    with pytest.raises(SettingError, match=r"max_score=2.5 .* objective 'val_accuracy' \(from the default\)"):
        check_score_gates(default, default_objective_holds=True)


def test_min_score_above_one_on_an_accuracy_fails_before_any_training(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    project.makepyfile(
        test_range="""
        import os

        import pytest
        from models import FastModel, build_dense, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=1, min_score=1.5)
        def test_build_function(hptune):
            hptune.search(build_dense, *data())

        @pytest.mark.hptune(max_trials=1, executions_per_trial=1, objective="val_accuracy", min_score=90)
        def test_explicit_objective(hptune):
            hptune.search(FastModel(), *data())

        def test_own_fit_may_return_a_number(hptune):
            os.environ.pop("HPTUNE_TEST_BUILDS")  # builds, and may: not counted
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=1, max_score=2.0)
        """
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*min_score=1.5 (from hptune marker on test_range.py::test_build_function) is outside [[]0, 1[]], "
            "the range of objective 'val_accuracy' (from the default): no search would pass it*"
        ]
    )
    # At set-up: the marker names the objective.
    result.stdout.fnmatch_lines(
        ["*min_score=90 (from hptune marker on test_range.py::test_explicit_objective) is outside*"]
    )
    assert not builds.exists()  # nothing was built, let alone trained
