"""The validators of the settings' values, and the parsers of their text.

A validator takes (setting, value, source) and returns the normalised value
or raises :class:`SettingError` naming all three and the values expected; a
parser turns command-line or ini text into a value (``ValueError`` if it
cannot). The settings table (``table.py``) names each setting's pair.
"""

from __future__ import annotations

import math
from typing import Any, cast

from .errors import SettingError
from .kinds import is_tuner_instance, keras_tuner_bases

TUNERS = ("random", "bayesian", "hyperband", "grid", "sklearn")
# The search strategies the scikit-learn tuner's oracle can use.
SKLEARN_ORACLES = ("random", "bayesian", "grid")


def fail(name: str, value: Any, where: str, expected: str) -> SettingError:
    return SettingError(f"invalid {name}={value!r} from {where}: expected {expected}")


def count(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(name, value, where, "a positive integer (1, 2, ...)")
    return value


AUTO = "auto"


def executions(name: str, value: Any, where: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(
            name,
            value,
            where,
            "a positive integer (1, 2, ...) or 'auto' (adaptive: between min_executions and max_executions)",
        )
    return value


def parse_executions(text: str) -> int | str:
    return AUTO if text.strip().lower() == AUTO else parse_int(text)


def adaptive_bound(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise fail(name, value, where, "an integer >= 2 (an interval needs two executions)")
    return value


def optional_count(name: str, value: Any, where: str) -> int | None:
    return None if value is None else count(name, value, where)


def anchor_count(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise fail(name, value, where, "an integer >= 2 (a paired test needs a spread of the differences)")
    return value


def non_negative(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(name, value, where, "a non-negative integer")
    return value


def threshold(name: str, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(name, value, where, "a finite number")
    return float(value)


def std_threshold(name: str, value: Any, where: str) -> float | None:
    number = threshold(name, value, where)
    if number is not None and number < 0:
        raise fail(name, number, where, "a number >= 0 (a standard deviation)")
    return number


def share(name: str, value: Any, where: str) -> float | None:
    number = threshold(name, value, where)
    if number is not None and not 0 <= number <= 1:
        raise fail(name, number, where, "a share between 0 and 1 (0.3: 30 % of the trials)")
    return number


def positive(name: str, value: Any, where: str) -> float | None:
    number = threshold(name, value, where)
    if number is not None and number <= 0:
        raise fail(name, number, where, "a number > 0")
    return number


def tuner(name: str, value: Any, where: str) -> Any:
    if isinstance(value, str) and value.lower() in TUNERS:
        return value.lower()
    if isinstance(value, type) and "Tuner" in keras_tuner_bases(value):
        return value  # a Tuner subclass: the plugin constructs it
    if isinstance(value, type) and "SklearnTuner" in keras_tuner_bases(value):
        raise fail(name, value, where, "tuner='sklearn' (a SklearnTuner subclass is not supported)")
    if is_tuner_instance(value):
        raise fail(
            name,
            value,
            where,
            "a name or a Tuner subclass; pass a tuner you constructed yourself to "
            "hptune.search() as its first argument: hptune.search(tuner, x, y, ...)",
        )
    raise fail(name, value, where, "one of " + ", ".join(map(repr, TUNERS)) + ", or a keras_tuner.Tuner subclass")


VARY = ("seed", "split", "folds")
# What differs between a trial's executions, by vary= (and for sklearn).
VARIES = {
    "seed": ("initialisation", "data order"),
    "split": ("initialisation", "data order", "validation split"),
    "folds": ("initialisation", "data order", "validation fold"),
    "sklearn": ("cross-validation fold",),
}


def vary(name: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in VARY:
        raise fail(
            name,
            value,
            where,
            "'seed' (initialisation and data order), 'split' (also a fresh validation hold-out "
            "per execution) or 'folds' (also K-fold validation, K = executions_per_trial)",
        )
    return value.strip().lower()


def truth(name: str, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(name, value, where, "True or False")
    return value


TRUTHS = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}


def parse_truth(text: str) -> bool:
    word = text.strip().lower()
    if word not in TRUTHS:
        raise ValueError(f"expected on or off, got {text!r}")
    return TRUTHS[word]


def seconds(name: str, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = parse_seconds(value)
        except ValueError:
            raise fail(name, value, where, "seconds > 0, e.g. 600, '90s', '10m' or '1.5h'") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise fail(name, value, where, "seconds > 0, e.g. 600, '90s', '10m' or '1.5h'")
    return float(value)


def parse_seconds(text: str) -> float:
    """'600', '90s', '10m', '1.5h' -> seconds."""
    text = text.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        return float(number) * (scale or 1)
    except ValueError:
        raise ValueError(f"expected seconds, e.g. 600, '90s', '10m' or '1.5h', got {text!r}") from None


def factor(name: str, value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise fail(name, value, where, "an integer >= 2 (epochs shrink by this factor)")
    return value


def cv(name: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 2:
            raise fail(name, value, where, "a number of folds >= 2 or a scikit-learn splitter")
        return value
    if not isinstance(value, (str, bytes)) and callable(getattr(value, "split", None)):
        return value
    raise fail(
        name,
        value,
        where,
        "a number of folds >= 2 or a scikit-learn splitter such as sklearn.model_selection.StratifiedKFold(5)",
    )


def scoring(name: str, value: Any, where: str) -> Any:
    if value is None or callable(value):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()  # checked against scikit-learn's scorers when the search runs
    raise fail(name, value, where, "a scikit-learn scorer name such as 'accuracy', or a scorer callable")


def oracle(name: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in SKLEARN_ORACLES:
        return value.lower()
    if "Oracle" in keras_tuner_bases(value):
        return value  # a keras_tuner.Oracle instance or subclass
    raise fail(
        name,
        value,
        where,
        "one of " + ", ".join(map(repr, SKLEARN_ORACLES)) + ", or a keras_tuner.Oracle instance or subclass",
    )


def optional_bool(name: str, value: Any, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise fail(name, value, where, "True or False")
    return value


def retries(name: str, value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise fail(name, value, where, "a non-negative integer (retries of a crashed trial)")
    return value


def hyperparameters(name: str, value: Any, where: str) -> Any:
    if value is not None and "HyperParameters" not in keras_tuner_bases(value):
        raise fail(name, value, where, "a keras_tuner.HyperParameters (the search space, or part of it)")
    return value


def optimizer(name: str, value: Any, where: str) -> Any:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if not isinstance(value, (str, type)) and callable(getattr(value, "get_config", None)):
        return value  # a keras.optimizers.Optimizer
    raise fail(name, value, where, "an optimizer name such as 'adam' or a keras.optimizers.Optimizer")


def loss(name: str, value: Any, where: str) -> Any:
    if value is None or (isinstance(value, str) and value.strip()) or callable(value):
        return value
    raise fail(name, value, where, "a loss name, a keras.losses.Loss or a loss function")


def metrics(name: str, value: Any, where: str) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)) and value:
        return list(value)
    raise fail(name, value, where, "a non-empty list of metrics, as keras.Model.compile takes (['accuracy'])")


def distribution_strategy(name: str, value: Any, where: str) -> Any:
    if value is not None and not callable(getattr(value, "scope", None)):
        raise fail(name, value, where, "a tf.distribute.Strategy (an object with a scope())")
    return value


def objective(name: str, value: Any, where: str) -> Any:
    if value is None:  # Keras Tuner's default: fit() returns the value to minimise
        return None
    if isinstance(value, str):
        if not value.strip():
            raise fail(name, value, where, "a metric name such as 'val_accuracy'")
        return value.strip()
    # A keras_tuner.Objective; checked by shape so that this module does not
    # import keras_tuner.
    if isinstance(getattr(value, "name", None), str) and getattr(value, "direction", None) in ("min", "max"):
        return value
    raise fail(
        name,
        value,
        where,
        "a metric name (str) or keras_tuner.Objective(name, 'min'|'max')",
    )


def drop(name: str, value: Any, where: str) -> float:
    number = threshold(name, value, where)
    if number is None or number < 0:
        raise fail(name, number, where, "a number >= 0 (the drop in score tolerated)")
    return number


def confidence(name: str, value: Any, where: str) -> float:
    number = threshold(name, value, where)
    if number is None or not 0.5 <= number < 1:
        raise fail(name, number, where, "a probability in [0.5, 1), e.g. 0.95")
    return number


def parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def direction(name: str, value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in ("min", "max"):
        raise fail(name, value, where, "'min' or 'max' (or None to infer it)")
    return cast(str, value)


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r}") from None
