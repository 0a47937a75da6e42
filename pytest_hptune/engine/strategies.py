"""Hypothesis strategies over a Keras Tuner search space.

    from hypothesis import given, settings
    from pytest_hptune import strategies

    @settings(max_examples=20, deadline=None)
    @given(strategies.hyperparameters(build_model))
    def test_every_configuration_is_small(values):
        model = strategies.build(build_model, values)
        assert model.count_params() < 1_000_000

A failing property shrinks to the simplest failing configuration (the first
choices, the low ends of ranges), and Hypothesis's database replays it first
on the next run. The space is the one Keras Tuner populates before its first
trial, conditional scopes included: a conditional hyperparameter is drawn
only when its parent's value activates it, and is absent otherwise.

Imports Keras Tuner (and so Keras) when called, not when imported.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

from hypothesis import strategies as st

# Each hypermodel's populated space, built once (populating runs the build
# function once per branch): every example's build() reuses it.
_SPACES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def space(hypermodel: Any) -> Any:
    """The populated ``keras_tuner.HyperParameters`` of a build function or
    HyperModel, every Choice and Boolean branch visited; populated once per
    hypermodel (a copy each call: the caller may change it)."""
    try:
        populated = _SPACES.get(hypermodel)
    except TypeError:  # not weakly referenceable: not kept
        populated = None
    if populated is None:
        from .space import populated_space  # Keras and Keras Tuner: only when called

        populated = populated_space(hypermodel, explore_branches=True)
        try:
            _SPACES[hypermodel] = populated
        except TypeError:
            pass
    return populated.copy()


def _grid(low: float, high: float, step: float, log: bool, integer: bool) -> list[float]:
    values: list[float] = []
    value = low
    while value <= high + (0 if integer else 1e-12 * abs(high)):
        values.append(int(value) if integer else float(value))
        value = value * step if log else value + step
    return values


def _strategy(hp: Any) -> st.SearchStrategy[Any]:
    config = hp.get_config()
    kind = type(hp).__name__
    if kind == "Choice":
        return st.sampled_from(config["values"])
    if kind == "Boolean":
        return st.booleans()
    if kind == "Fixed":
        return st.just(config["value"])
    low, high = config["min_value"], config["max_value"]
    step, sampling = config.get("step"), config.get("sampling") or "linear"
    log = sampling == "log"
    if kind == "Int":
        if step is None:
            step = 2 if log else 1
        return st.sampled_from(_grid(low, high, step, log, integer=True))
    if kind == "Float":
        if step is not None:
            return st.sampled_from(_grid(low, high, step, log, integer=False))
        if log:
            return st.floats(math.log(low), math.log(high)).map(lambda v: min(max(math.exp(v), low), high))
        return st.floats(low, high)
    raise TypeError(f"no strategy for the hyperparameter type {kind} ({config.get('name')})")


def _active(hp: Any, values: dict[str, Any]) -> bool:
    for condition in hp.conditions:
        config = condition.get_config()
        if values.get(config["name"]) not in config["values"]:
            return False
    return True


def hyperparameters(hypermodel: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A strategy of hyperparameter values (dicts of the active ones) from
    the space of ``hypermodel`` (a build function or a HyperModel)."""
    strategies = [(hp, _strategy(hp)) for hp in space(hypermodel).space]  # parents before their children

    @st.composite
    def values(draw: st.DrawFn) -> dict[str, Any]:
        drawn: dict[str, Any] = {}
        for hp, strategy in strategies:
            if _active(hp, drawn):
                drawn[hp.name] = draw(strategy)
        return drawn

    return values()


def build(hypermodel: Any, values: dict[str, Any]) -> Any:
    """Build one configuration (what a trial builds)."""
    import keras_tuner

    hp = space(hypermodel)
    hp.values = dict(values)
    model = (hypermodel.build if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel)(hp)
    return model


def train_briefly(
    hypermodel: Any, values: dict[str, Any], *fit_args: Any, epochs: int = 1, seed: int = 0, **fit_kwargs: Any
) -> tuple[Any, Any]:
    """Build one configuration and train it briefly (seeded, quiet); returns
    ``(model, history)`` for properties such as "no configuration's loss is
    NaN after one epoch on a small batch"."""
    from .fresh import fresh_model  # Keras: only when called

    model = fresh_model(seed, lambda: build(hypermodel, values))
    fit_kwargs.setdefault("verbose", 0)
    history = model.fit(*fit_args, epochs=epochs, **fit_kwargs)
    return model, history
