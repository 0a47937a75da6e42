"""pytest_hptune.strategies: Hypothesis over a Keras Tuner search space."""

import math
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis.strategies import SearchStrategy


def build(hp: Any) -> Any:
    import keras

    inputs = keras.Input((4,))
    x = keras.layers.Dense(hp.Choice("units", [16, 32, 64, 128]), activation="relu")(inputs)
    if hp.Boolean("extra"):
        with hp.conditional_scope("extra", [True]):
            x = keras.layers.Dense(hp.Int("extra_units", 8, 32, step=8))(x)
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Fixed("fixed", 3)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")), "mse")
    return model


@pytest.fixture(scope="module")
def values(heavy_modules: None) -> SearchStrategy[dict[str, Any]]:
    from pytest_hptune import strategies

    return strategies.hyperparameters(build)


def test_drawn_values_stay_in_their_domains_and_respect_conditions(values: SearchStrategy[dict[str, Any]]) -> None:
    @settings(max_examples=60, deadline=None)
    @given(values)
    def check(v: dict[str, Any]) -> None:
        assert v["units"] in (16, 32, 64, 128)
        assert v["fixed"] == 3
        assert 1e-4 <= v["lr"] <= 1e-2
        assert any(math.isclose(v["dropout"], k / 10) for k in range(6))
        assert ("extra_units" in v) == v["extra"]  # absent when inactive
        if v["extra"]:
            assert v["extra_units"] in (8, 16, 24, 32)

    check()


def test_a_failing_property_shrinks_to_the_minimal_configuration(values: SearchStrategy[dict[str, Any]]) -> None:
    # "every configuration has fewer than 700 parameters" fails only for the
    # wide layers; the other hyperparameters shrink to their simplest values.
    from pytest_hptune import strategies

    worst = find(
        values,
        lambda v: strategies.build(build, v).count_params() >= 700,
        settings=settings(max_examples=300, deadline=None, database=None),
    )
    assert strategies.build(build, worst).count_params() >= 700
    # Shrunk: a narrower first layer would pass, and so would no extra layer
    # (unless the first is the widest).
    assert worst["units"] >= 32 and (worst["extra"] or worst["units"] == 128)
    assert worst["dropout"] == 0.0


def test_train_briefly_builds_the_configuration(heavy_modules: None) -> None:
    import numpy as np

    from pytest_hptune import strategies

    x = np.zeros((8, 4), "float32")
    model, history = strategies.train_briefly(
        build, {"units": 16, "extra": True, "extra_units": 8, "dropout": 0.0, "fixed": 3, "lr": 1e-3}, x, x[:, :1]
    )
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [16, 8, 1]
    assert len(history.history["loss"]) == 1


def test_the_space_is_populated_once_however_many_examples(heavy_modules: None) -> None:
    from pytest_hptune import strategies

    calls: list[int] = []

    def counted(hp: Any) -> Any:
        calls.append(1)
        return build(hp)

    drawn = strategies.hyperparameters(counted)
    populating = len(calls)  # once per branch, to find the space

    @settings(max_examples=10, deadline=None)
    @given(drawn)
    def check(v: dict[str, Any]) -> None:
        strategies.build(counted, v)

    check()
    examples = len(calls) - populating
    assert 1 <= examples <= 10 + 1  # one build per example (Hypothesis may replay one): no repopulation


def test_the_strategies_without_hypothesis_say_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "hypothesis", None)  # an import of it raises ImportError
    for name in ("pytest_hptune.strategies", "pytest_hptune.engine.strategies"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError, match=r"pip install 'pytest-hptune\[hypothesis\]'"):
        import pytest_hptune.strategies  # noqa: F401
