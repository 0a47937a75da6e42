"""What kind of tuner or oracle an object is, read from the names of the
Keras Tuner classes it derives from (checked by shape, so that the settings
do not import Keras Tuner)."""

from __future__ import annotations

from typing import Any

# Keras Tuner's classes, by name, and the built-in strategy each one is.
KERAS_TUNER_KINDS = {
    "RandomSearch": "random",
    "BayesianOptimization": "bayesian",
    "GridSearch": "grid",
    "Hyperband": "hyperband",
    "SklearnTuner": "sklearn",
    "RandomSearchOracle": "random",
    "BayesianOptimizationOracle": "bayesian",
    "GridSearchOracle": "grid",
    "HyperbandOracle": "hyperband",
}
CUSTOM = "custom"


def keras_tuner_bases(value: Any) -> list[str]:
    """The names of Keras Tuner's own classes a class (or an instance's class)
    derives from, nearest first: checked by shape, so that this module does
    not import Keras Tuner."""
    cls = value if isinstance(value, type) else type(value)
    return [c.__name__ for c in cls.__mro__ if c.__module__.split(".")[0] == "keras_tuner"]


def kind_of(value: Any) -> str:
    """The built-in strategy a tuner or oracle (name, class or instance) is
    or derives from: 'random', 'bayesian', 'grid', 'hyperband', 'sklearn', or
    'custom' (a Tuner or Oracle subclass of none of them)."""
    if isinstance(value, str):
        return value
    return next((KERAS_TUNER_KINDS[n] for n in keras_tuner_bases(value) if n in KERAS_TUNER_KINDS), CUSTOM)


def is_tuner_instance(value: Any) -> bool:
    """A constructed Keras Tuner tuner (``keras_tuner.Tuner``, ``SklearnTuner``, ...)."""
    return not isinstance(value, type) and "BaseTuner" in keras_tuner_bases(value)


def tuner_name(tuner: Any) -> str:
    """'random', or a Tuner subclass's name."""
    return tuner if isinstance(tuner, str) else getattr(tuner, "__qualname__", type(tuner).__qualname__)


def is_oracle_instance(value: Any) -> bool:
    """An oracle= the test constructed (not a name, not a class)."""
    return value is not None and not isinstance(value, (str, type))
