"""Settings resolution and validation (no Keras involved)."""

import argparse
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_hptune.settings import (
    SPECS,
    Layer,
    SettingError,
    Settings,
    cli_type,
    make_layer,
    parse_ini,
    resolve,
)


def test_settings_fields_match_specs_and_defaults():
    fields = {f.name: f.default for f in dataclasses.fields(Settings) if f.name != "sources"}
    assert fields == {name: spec.default for name, spec in SPECS.items()}


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolve([]).max_trials = 5


LAYER_NAMES = ["ini", "marker", "search", "command line"]
COUNTS = st.integers(min_value=1, max_value=50)


@given(st.lists(st.one_of(st.none(), COUNTS), min_size=4, max_size=4))
def test_highest_layer_that_sets_a_value_wins(values):
    layers = [
        Layer(name, {} if value is None else {"max_trials": value})
        for name, value in zip(LAYER_NAMES, values)
    ]
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
def test_bad_counts_are_rejected_with_setting_value_and_source(value):
    with pytest.raises(SettingError) as info:
        make_layer("hptune marker on t.py::test", {"max_trials": value})
    assert f"invalid max_trials={value!r} from hptune marker on t.py::test" in str(info.value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_thresholds_are_accepted(value):
    assert make_layer("m", {"min_score": value}).values["min_score"] == value


def test_unknown_keyword_suggests_the_closest_setting():
    with pytest.raises(SettingError, match=r"'executions' \(did you mean 'executions_per_trial'\?\)"):
        make_layer("hptune marker on t.py::test", {"executions": 2})


def test_objective_accepts_names_and_objective_like_objects():
    class Obj:
        name = "val_f1"
        direction = "max"

    assert make_layer("m", {"objective": " val_loss "}).values["objective"] == "val_loss"
    assert make_layer("m", {"objective": Obj}).values["objective"] is Obj
    with pytest.raises(SettingError, match="keras_tuner.Objective"):
        make_layer("m", {"objective": 3})
    with pytest.raises(SettingError, match="'min' or 'max'"):
        make_layer("m", {"direction": "up"})


def test_command_line_converter_raises_argparse_errors():
    convert = cli_type("max_trials")
    assert convert(" 4 ") == 4
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer, got 'x'"):
        convert("x")
    with pytest.raises(argparse.ArgumentTypeError, match="from --hptune-trials"):
        convert("0")


def test_ini_values_name_the_ini_file():
    assert parse_ini("seed", "7", "/p/tox.ini") == 7
    with pytest.raises(SettingError, match=r"ini option hptune_seed in /p/tox.ini"):
        parse_ini("seed", "-1", "/p/tox.ini")


def test_min_above_max_is_rejected_naming_both_sources():
    with pytest.raises(SettingError, match=r"min_score=0.9 \(from a\) is above max_score=0.5 \(from b\)"):
        resolve([Layer("a", {"min_score": 0.9}), Layer("b", {"max_score": 0.5})])
