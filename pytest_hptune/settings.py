"""The settings model: per-search settings, their validation and resolution.

Every setting is validated where it enters (command line, ini file, marker,
``hptune.search()`` argument) and the error names the setting, the value and
its source. Settings are resolved once per search into a frozen
:class:`Settings`, with this precedence (highest first)::

    command line  >  hptune.search() arguments  >  marker  >  ini  >  defaults

The command-line options and ini keys that set them are in ``options.py``.
This module imports nothing heavy: it is loaded with the plugin.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

TUNERS = ("random", "bayesian", "hyperband", "grid", "sklearn")
# The search strategies the scikit-learn tuner's oracle can use.
SKLEARN_ORACLES = ("random", "bayesian", "grid")

# Settings that only some tuners take. Any other tuner rejects them. The
# Bayesian ones also apply to tuner='sklearn' with oracle='bayesian'.
TUNER_SETTINGS = {
    "num_initial_points": ("bayesian",),
    "alpha": ("bayesian",),
    "beta": ("bayesian",),
    "max_epochs": ("hyperband",),
    "factor": ("hyperband",),
    "hyperband_iterations": ("hyperband",),
    "cv": ("sklearn",),
    "scoring": ("sklearn",),
}
TUNER_SETTINGS_BAYESIAN = tuple(name for name, tuners in TUNER_SETTINGS.items() if tuners == ("bayesian",))
# Settings the plugin passes to the oracle it builds (with objective,
# max_trials, seed and max_consecutive_failed_trials).
ORACLE_OPTIONS = ("hyperparameters", "tune_new_entries", "allow_new_entries", "max_retries_per_trial")
# Settings the plugin passes to keras_tuner.Tuner.__init__.
TUNER_OPTIONS = ("max_model_size", "optimizer", "loss", "metrics", "distribution_strategy")
# keras_tuner.Tuner's other constructor arguments, and why they are not settings.
REFUSED = {
    "tuner_id": "Keras Tuner saves the state of a tuner with a tuner_id under that name but looks for it "
    "under 'tuner0.json' when it reloads, so --hptune-resume would rerun every trial; set "
    "KERASTUNER_TUNER_ID for distributed tuning (--hptune-workers does)",
    "logger": "Keras Tuner ignores it (deprecated since 1.1)",
    "directory": "the plugin chooses the tuning directory: use --hptune-dir (ini hptune_dir)",
    "project_name": "the plugin names each search's directory after its test",
    "overwrite": "the plugin overwrites a search unless --hptune-resume continues it",
    "hypermodel": "pass it as hptune.search()'s first argument",
}
# General settings that mean nothing to the scikit-learn tuner: an error when
# a test sets them, ignored when they come from the command line or ini (a
# session-wide --hptune-executions must not break a suite's sklearn tests).
NOT_FOR_SKLEARN = {
    "executions_per_trial": "its executions are the cross-validation folds: set cv=N",
    "min_executions": "its executions are the cross-validation folds: set cv=N",
    "max_executions": "its executions are the cross-validation folds: set cv=N",
    "epochs": "scikit-learn estimators are not trained in epochs",
    "vary": "its executions are the cross-validation folds: set cv=N",
    "max_model_size": "it builds scikit-learn estimators, not Keras models",
    "optimizer": "scikit-learn estimators are not compiled",
    "loss": "scikit-learn estimators are not compiled",
    "metrics": "scikit-learn estimators are not compiled: choose the score with scoring=",
    "distribution_strategy": "scikit-learn estimators are not built under a tf.distribute.Strategy",
}
SKLEARN_OBJECTIVE = "score"
DEFAULT_FOLDS = 5

DEFAULT = "default"


class SettingError(ValueError):
    """A setting has a bad value; the message names setting, value and source."""


class SettingTextError(SettingError):
    """Text that is no value of the setting's type at all (``'abc'`` for a
    count). ``reason`` says why without the source: argparse names the option
    itself."""

    reason: str = ""


# -- validators: value -> normalised value, raising SettingError ------------


def _fail(name: str, value: Any, where: str, expected: str) -> SettingError:
    return SettingError(f"invalid {name}={value!r} from {where}: expected {expected}")


def _count(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(name, value, where, "a positive integer (1, 2, ...)")
    return value


AUTO = "auto"


def _executions(name: str, value: Any, where: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(
            name,
            value,
            where,
            "a positive integer (1, 2, ...) or 'auto' (adaptive: between min_executions and max_executions)",
        )
    return value


def _parse_executions(text: str) -> int | str:
    return AUTO if text.strip().lower() == AUTO else _parse_int(text)


def _adaptive_bound(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise _fail(name, value, where, "an integer >= 2 (an interval needs two executions)")
    return value


def _optional_count(name: str, value: Any, where: str) -> int | None:
    return None if value is None else _count(name, value, where)


def _anchor_count(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise _fail(name, value, where, "an integer >= 2 (a paired test needs a spread of the differences)")
    return value


def _seed(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, value, where, "a non-negative integer")
    return value


def _threshold(name: str, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(name, value, where, "a finite number")
    return float(value)


def _std_threshold(name: str, value: Any, where: str) -> float | None:
    value = _threshold(name, value, where)
    if value is not None and value < 0:
        raise _fail(name, value, where, "a number >= 0 (a standard deviation)")
    return value


def _share(name: str, value: Any, where: str) -> float | None:
    value = _threshold(name, value, where)
    if value is not None and not 0 <= value <= 1:
        raise _fail(name, value, where, "a share between 0 and 1 (0.3: 30 % of the trials)")
    return value


def _positive(name: str, value: Any, where: str) -> float | None:
    value = _threshold(name, value, where)
    if value is not None and value <= 0:
        raise _fail(name, value, where, "a number > 0")
    return value


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


def _keras_tuner_bases(value: Any) -> list[str]:
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
    return next((KERAS_TUNER_KINDS[n] for n in _keras_tuner_bases(value) if n in KERAS_TUNER_KINDS), CUSTOM)


def is_tuner_instance(value: Any) -> bool:
    """A constructed Keras Tuner tuner (``keras_tuner.Tuner``, ``SklearnTuner``, ...)."""
    return not isinstance(value, type) and "BaseTuner" in _keras_tuner_bases(value)


def tuner_name(tuner: Any) -> str:
    """'random', or a Tuner subclass's name."""
    return tuner if isinstance(tuner, str) else getattr(tuner, "__qualname__", type(tuner).__qualname__)


def _tuner(name: str, value: Any, where: str) -> Any:
    if isinstance(value, str) and value.lower() in TUNERS:
        return value.lower()
    if isinstance(value, type) and "Tuner" in _keras_tuner_bases(value):
        return value  # a Tuner subclass: the plugin constructs it
    if isinstance(value, type) and "SklearnTuner" in _keras_tuner_bases(value):
        raise _fail(name, value, where, "tuner='sklearn' (a SklearnTuner subclass is not supported)")
    if is_tuner_instance(value):
        raise _fail(
            name,
            value,
            where,
            "a name or a Tuner subclass; pass a tuner you constructed yourself to "
            "hptune.search() as its first argument: hptune.search(tuner, x, y, ...)",
        )
    raise _fail(name, value, where, "one of " + ", ".join(map(repr, TUNERS)) + ", or a keras_tuner.Tuner subclass")


VARY = ("seed", "split", "folds")
# What differs between a trial's executions, by vary= (and for sklearn).
VARIES = {
    "seed": ("initialisation", "data order"),
    "split": ("initialisation", "data order", "validation split"),
    "folds": ("initialisation", "data order", "validation fold"),
    "sklearn": ("cross-validation fold",),
}


def _vary(name: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in VARY:
        raise _fail(
            name,
            value,
            where,
            "'seed' (initialisation and data order), 'split' (also a fresh validation hold-out "
            "per execution) or 'folds' (also K-fold validation, K = executions_per_trial)",
        )
    return value.strip().lower()


def _truth(name: str, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, value, where, "True or False")
    return value


TRUTHS = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}


def _parse_truth(text: str) -> bool:
    word = text.strip().lower()
    if word not in TRUTHS:
        raise ValueError(f"expected on or off, got {text!r}")
    return TRUTHS[word]


def _seconds(name: str, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = _parse_seconds(value)
        except ValueError:
            raise _fail(name, value, where, "seconds > 0, e.g. 600, '90s', '10m' or '1.5h'") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise _fail(name, value, where, "seconds > 0, e.g. 600, '90s', '10m' or '1.5h'")
    return float(value)


def _parse_seconds(text: str) -> float:
    """'600', '90s', '10m', '1.5h' -> seconds."""
    text = text.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        return float(number) * (scale or 1)
    except ValueError:
        raise ValueError(f"expected seconds, e.g. 600, '90s', '10m' or '1.5h', got {text!r}") from None


def _factor(name: str, value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise _fail(name, value, where, "an integer >= 2 (epochs shrink by this factor)")
    return value


def _cv(name: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 2:
            raise _fail(name, value, where, "a number of folds >= 2 or a scikit-learn splitter")
        return value
    if not isinstance(value, (str, bytes)) and callable(getattr(value, "split", None)):
        return value
    raise _fail(
        name,
        value,
        where,
        "a number of folds >= 2 or a scikit-learn splitter such as sklearn.model_selection.StratifiedKFold(5)",
    )


def _scoring(name: str, value: Any, where: str) -> Any:
    if value is None or callable(value):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()  # checked against scikit-learn's scorers when the search runs
    raise _fail(name, value, where, "a scikit-learn scorer name such as 'accuracy', or a scorer callable")


def _oracle(name: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in SKLEARN_ORACLES:
        return value.lower()
    if "Oracle" in _keras_tuner_bases(value):
        return value  # a keras_tuner.Oracle instance or subclass
    raise _fail(
        name,
        value,
        where,
        "one of " + ", ".join(map(repr, SKLEARN_ORACLES)) + ", or a keras_tuner.Oracle instance or subclass",
    )


def is_oracle_instance(value: Any) -> bool:
    return value is not None and not isinstance(value, (str, type))


def _optional_bool(name: str, value: Any, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _fail(name, value, where, "True or False")
    return value


def _retries(name: str, value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _fail(name, value, where, "a non-negative integer (retries of a crashed trial)")
    return value


def _hyperparameters(name: str, value: Any, where: str) -> Any:
    if value is not None and "HyperParameters" not in _keras_tuner_bases(value):
        raise _fail(name, value, where, "a keras_tuner.HyperParameters (the search space, or part of it)")
    return value


def _optimizer(name: str, value: Any, where: str) -> Any:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if not isinstance(value, (str, type)) and callable(getattr(value, "get_config", None)):
        return value  # a keras.optimizers.Optimizer
    raise _fail(name, value, where, "an optimizer name such as 'adam' or a keras.optimizers.Optimizer")


def _loss(name: str, value: Any, where: str) -> Any:
    if value is None or (isinstance(value, str) and value.strip()) or callable(value):
        return value
    raise _fail(name, value, where, "a loss name, a keras.losses.Loss or a loss function")


def _metrics(name: str, value: Any, where: str) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)) and value:
        return list(value)
    raise _fail(name, value, where, "a non-empty list of metrics, as keras.Model.compile takes (['accuracy'])")


def _distribution_strategy(name: str, value: Any, where: str) -> Any:
    if value is not None and not callable(getattr(value, "scope", None)):
        raise _fail(name, value, where, "a tf.distribute.Strategy (an object with a scope())")
    return value


def _objective(name: str, value: Any, where: str) -> Any:
    if value is None:  # Keras Tuner's default: fit() returns the value to minimise
        return None
    if isinstance(value, str):
        if not value.strip():
            raise _fail(name, value, where, "a metric name such as 'val_accuracy'")
        return value.strip()
    # A keras_tuner.Objective; checked by shape so that this module does not
    # import keras_tuner.
    if isinstance(getattr(value, "name", None), str) and getattr(value, "direction", None) in ("min", "max"):
        return value
    raise _fail(
        name,
        value,
        where,
        "a metric name (str) or keras_tuner.Objective(name, 'min'|'max')",
    )


def _drop(name: str, value: Any, where: str) -> float:
    value = _threshold(name, value, where)
    if value is None or value < 0:
        raise _fail(name, value, where, "a number >= 0 (the drop in score tolerated)")
    return value


def _confidence(name: str, value: Any, where: str) -> float:
    value = _threshold(name, value, where)
    if value is None or not 0.5 <= value < 1:
        raise _fail(name, value, where, "a probability in [0.5, 1), e.g. 0.95")
    return value


def _parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _direction(name: str, value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in ("min", "max"):
        raise _fail(name, value, where, "'min' or 'max' (or None to infer it)")
    return value


@dataclass(frozen=True)
class Spec:
    default: Any
    validate: Callable[[str, Any, str], Any]
    help: str
    option: str | None = None  # --hptune-<option> and ini hptune_<option>
    parse: Callable[[str], Any] | None = None  # text from command line / ini


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected an integer, got {text!r}") from None


SPECS: Mapping[str, Spec] = MappingProxyType(
    {
        "tuner": Spec(
            "random", _tuner, "Keras Tuner strategy, or a keras_tuner.Tuner subclass to construct", "tuner", str
        ),
        "objective": Spec(
            "val_accuracy",
            _objective,
            "metric to optimise (str or keras_tuner.Objective)",
        ),
        "direction": Spec(None, _direction, "'max' or 'min'; overrides Keras Tuner's inference"),
        "max_trials": Spec(3, _count, "number of hyperparameter configurations", "trials", _parse_int),
        "executions_per_trial": Spec(
            3,
            _executions,
            "seeded fits per configuration, or 'auto': min_executions each, and "
            "more for the leading trial until the gates' verdict is statistically decided",
            "executions",
            _parse_executions,
        ),
        "min_executions": Spec(
            3,
            _adaptive_bound,
            "executions_per_trial='auto': executions of every trial",
            "min-executions",
            _parse_int,
        ),
        "max_executions": Spec(
            10,
            _adaptive_bound,
            "executions_per_trial='auto': most executions of the leading trial",
            "max-executions",
            _parse_int,
        ),
        "vary": Spec(
            "seed",
            _vary,
            "what differs between a trial's executions: 'seed' (initialisation and data "
            "order), 'split' (also a fresh shuffled validation_split hold-out), 'folds' "
            "(also the validation fold: K-fold, K = executions_per_trial)",
            "vary",
            str,
        ),
        "epochs": Spec(
            None,
            _optional_count,
            "epochs per fit",
            "epochs",
            _parse_int,
        ),
        "max_time": Spec(
            None,
            _seconds,
            "time budget of a search (seconds, or '90s', '10m', '1.5h'): when it runs out, no new "
            "trial starts (nor, under 'auto', a new execution); the gates judge what completed",
            "max-time",
            _parse_seconds,
        ),
        "seed": Spec(0, _seed, "seed of the search and of every execution", "seed", _parse_int),
        "reuse": Spec(
            True,
            _truth,
            "executions 2..n of a configuration train the model its first execution traced, from "
            "a fresh build's initial state (same scores, no second trace; TensorFlow and JAX)",
            "reuse",
            _parse_truth,
        ),
        "max_consecutive_failed_trials": Spec(3, _count, "stop the search after this many failed trials in a row"),
        "max_failed_trials": Spec(
            0,
            _seed,
            "trials whose build, fit or callback raised an error of the user's code (not Keras Tuner's "
            "FailedTrialError, a NaN loss or a misnamed objective) that a search tolerates; one more fails "
            "the test, after the search, with the error's traceback and configuration",
            "max-failed-trials",
            _parse_int,
        ),
        "num_initial_points": Spec(None, _optional_count, "bayesian: random trials before the Gaussian process"),
        "alpha": Spec(None, _positive, "bayesian: GP noise level"),
        "beta": Spec(None, _positive, "bayesian: exploration factor of the acquisition"),
        "max_epochs": Spec(
            None,
            _optional_count,
            "hyperband: epochs of a full-budget trial (default: epochs if set, else Keras Tuner's 100)",
        ),
        "factor": Spec(None, _factor, "hyperband: reduction factor of epochs and trials (default 3)"),
        "hyperband_iterations": Spec(None, _optional_count, "hyperband: iterations of the whole algorithm (default 1)"),
        "cv": Spec(
            None,
            _cv,
            f"sklearn: folds (int) or a splitter; the folds are the executions (default {DEFAULT_FOLDS})",
        ),
        "scoring": Spec(None, _scoring, "sklearn: scorer name or callable (default: the estimator's score())"),
        "oracle": Spec(
            None,
            _oracle,
            "sklearn or a Tuner subclass: search strategy, 'random', 'bayesian' or 'grid' (default "
            "random), or a keras_tuner.Oracle instance or subclass",
        ),
        # Keras Tuner's own Tuner and Oracle options: None is Keras Tuner's default.
        "hyperparameters": Spec(
            None, _hyperparameters, "Keras Tuner: a keras_tuner.HyperParameters, the search space (or part of it)"
        ),
        "tune_new_entries": Spec(
            None, _optional_bool, "Keras Tuner: tune hyperparameters missing from hyperparameters= (default True)"
        ),
        "allow_new_entries": Spec(
            None, _optional_bool, "Keras Tuner: may the model ask for hyperparameters missing from hyperparameters="
        ),
        "max_retries_per_trial": Spec(None, _retries, "Keras Tuner: retries of a trial that crashed (default 0)"),
        "max_model_size": Spec(None, _optional_count, "Keras Tuner: a model with more parameters fails its trial"),
        "optimizer": Spec(None, _optimizer, "Keras Tuner: recompile every model with this optimizer"),
        "loss": Spec(None, _loss, "Keras Tuner: recompile every model with this loss"),
        "metrics": Spec(None, _metrics, "Keras Tuner: recompile every model with these metrics"),
        "distribution_strategy": Spec(
            None, _distribution_strategy, "Keras Tuner: a tf.distribute.Strategy each model is built under"
        ),
        "min_score": Spec(None, _threshold, "gate: best trial's mean >= this"),
        "max_score": Spec(None, _threshold, "gate: best trial's mean <= this"),
        "max_std": Spec(None, _std_threshold, "gate: best trial's std across executions <= this"),
        "min_lower_bound": Spec(None, _threshold, "gate: lower bound of the best trial's confidence interval >= this"),
        "max_upper_bound": Spec(None, _threshold, "gate: upper bound of the best trial's confidence interval <= this"),
        "min_worst": Spec(
            None, _threshold, "gate: the best trial's worst execution (lowest of a max objective) >= this"
        ),
        "max_worst": Spec(
            None, _threshold, "gate: the best trial's worst execution (highest of a min objective) <= this"
        ),
        "max_neighbour_drop": Spec(
            None,
            _std_threshold,
            "gate: after the search, move each hyperparameter of the best "
            "configuration one step and train it; the worst relative drop of "
            "the mean <= this (0.05: 5 %)",
        ),
        "near_best": Spec(
            0.01,
            _std_threshold,
            "a trial is near the best when its mean is within this of the best's",
        ),
        "min_near_best_share": Spec(None, _share, "gate: share of the trials near the best (see near_best) >= this"),
        "detect_drop": Spec(
            0.01,
            _positive,
            "the smallest drop of the best trial's mean worth detecting: the "
            "power-analysis advice says how many executions detect it",
        ),
        "confirm": Spec(
            0,
            _seed,
            "re-run the best configuration with this many fresh seeds after the "
            "search and apply the gates to those scores (0: off)",
        ),
        "max_drop": Spec(
            0.0,
            _drop,
            "--hptune-compare: the drop from the baseline's score tolerated",
            "max-drop",
            _parse_float,
        ),
        "confidence": Spec(
            0.95,
            _confidence,
            "confidence of the interval gates and of --hptune-compare's regression test",
            "confidence",
            _parse_float,
        ),
        "require_no_drop": Spec(
            False,
            _truth,
            "--hptune-compare: pass only when the interval shows the drop is smaller than max_drop "
            "(non-inferiority); an inconclusive comparison fails",
            "require-no-drop",
            _parse_truth,
        ),
        "anchor_executions": Spec(
            6,
            _anchor_count,
            "--hptune-save-baseline: fresh-seeded executions of the best configuration the baseline keeps "
            "as its anchor (--hptune-compare trains them again with the same seeds: a paired test)",
            "anchor-executions",
            _parse_int,
        ),
    }
)

GATE_NAMES = (
    "min_score",
    "max_score",
    "max_std",
    "min_lower_bound",
    "max_upper_bound",
    "min_worst",
    "max_worst",
    "max_neighbour_drop",
    "min_near_best_share",
)
# Settings that judge trials without changing them (resume ignores them,
# baselines do not report them as differences).
VERDICT_SETTINGS = GATE_NAMES + (
    "max_drop",
    "confidence",
    "near_best",
    "detect_drop",
    "require_no_drop",
    "anchor_executions",
    "max_failed_trials",
)
# Settings that change how fast a search runs, never its scores (reuse.py):
# resume and baselines ignore them too.
SPEED_SETTINGS = ("reuse",)


def option_name(setting: str) -> str:
    """The command-line option of a per-search setting (the table: options.py)."""
    option = SPECS[setting].option
    assert option is not None, f"{setting} has no command-line option in SPECS"
    return "--hptune-" + option


# The per-search settings that have a command-line option and an ini key.
OPTION_SETTINGS = tuple(name for name, spec in SPECS.items() if spec.option)


def parse_setting(setting: str, text: str, where: str) -> Any:
    """Text from the command line or an ini file -> the setting's validated value."""
    spec = SPECS[setting]
    assert spec.parse is not None, f"{setting} has no command-line option in SPECS"
    try:
        value = spec.parse(text)
    except ValueError as exc:
        error = SettingTextError(f"invalid {setting}={text!r} from {where}: {exc}")
        error.reason = str(exc)
        raise error from None
    return spec.validate(setting, value, where)


@dataclass(frozen=True)
class Layer:
    """One source of settings: its values (already validated) and its name.
    ``per_test``: set by the test itself (marker, search() argument), not by
    the session (command line, ini)."""

    source: str
    values: Mapping[str, Any]
    per_test: bool = False


def check_keywords(kwargs: Mapping[str, Any], where: str, allowed=SPECS) -> None:
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        hints = []
        # The command-line spelling ('executions', 'trials') names its setting.
        by_option = {
            option.replace("-", "_"): name for name in allowed if name in SPECS and (option := SPECS[name].option)
        }
        for key in unknown:
            if key in REFUSED:
                raise SettingError(f"{key!r} (from {where}) is not an hptune setting: {REFUSED[key]}")
            close = [by_option[key]] if key in by_option else difflib.get_close_matches(key, list(allowed), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SettingError(
            f"unknown hptune setting {', '.join(hints)} from {where}; valid settings: {', '.join(allowed)}"
        )


def make_layer(source: str, kwargs: Mapping[str, Any]) -> Layer:
    """Validate keyword settings given in code (marker or search())."""
    check_keywords(kwargs, source)
    return Layer(
        source,
        {k: SPECS[k].validate(k, v, source) for k, v in kwargs.items()},
        per_test=True,
    )


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one search; ``sources`` says where each came from."""

    tuner: Any = SPECS["tuner"].default  # a name, or a keras_tuner.Tuner subclass
    objective: Any = SPECS["objective"].default
    direction: str | None = SPECS["direction"].default
    max_trials: int = SPECS["max_trials"].default
    executions_per_trial: int | str = SPECS["executions_per_trial"].default
    min_executions: int = SPECS["min_executions"].default
    max_executions: int = SPECS["max_executions"].default
    epochs: int | None = SPECS["epochs"].default
    vary: str = SPECS["vary"].default
    max_time: float | None = SPECS["max_time"].default
    seed: int = SPECS["seed"].default
    reuse: bool = SPECS["reuse"].default
    max_consecutive_failed_trials: int = SPECS["max_consecutive_failed_trials"].default
    max_failed_trials: int = SPECS["max_failed_trials"].default
    num_initial_points: int | None = SPECS["num_initial_points"].default
    alpha: float | None = SPECS["alpha"].default
    beta: float | None = SPECS["beta"].default
    max_epochs: int | None = SPECS["max_epochs"].default
    factor: int | None = SPECS["factor"].default
    hyperband_iterations: int | None = SPECS["hyperband_iterations"].default
    cv: Any = SPECS["cv"].default
    scoring: Any = SPECS["scoring"].default
    oracle: Any = SPECS["oracle"].default  # a name, a keras_tuner.Oracle or Oracle subclass
    hyperparameters: Any = SPECS["hyperparameters"].default
    tune_new_entries: bool | None = SPECS["tune_new_entries"].default
    allow_new_entries: bool | None = SPECS["allow_new_entries"].default
    max_retries_per_trial: int | None = SPECS["max_retries_per_trial"].default
    max_model_size: int | None = SPECS["max_model_size"].default
    optimizer: Any = SPECS["optimizer"].default
    loss: Any = SPECS["loss"].default
    metrics: Any = SPECS["metrics"].default
    distribution_strategy: Any = SPECS["distribution_strategy"].default
    min_score: float | None = SPECS["min_score"].default
    max_score: float | None = SPECS["max_score"].default
    max_std: float | None = SPECS["max_std"].default
    min_lower_bound: float | None = SPECS["min_lower_bound"].default
    max_upper_bound: float | None = SPECS["max_upper_bound"].default
    min_worst: float | None = SPECS["min_worst"].default
    max_worst: float | None = SPECS["max_worst"].default
    max_neighbour_drop: float | None = SPECS["max_neighbour_drop"].default
    near_best: float = SPECS["near_best"].default
    min_near_best_share: float | None = SPECS["min_near_best_share"].default
    detect_drop: float = SPECS["detect_drop"].default
    confirm: int = SPECS["confirm"].default
    max_drop: float = SPECS["max_drop"].default
    confidence: float = SPECS["confidence"].default
    require_no_drop: bool = SPECS["require_no_drop"].default
    anchor_executions: int = SPECS["anchor_executions"].default
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """The tuner's strategy: 'random', 'bayesian', 'grid', 'hyperband' or
        'sklearn', also for a Tuner subclass of one of them; 'custom' for
        another Tuner subclass, or for the default tuner given an Oracle
        (the plugin then builds a keras_tuner.Tuner on it)."""
        if self.tuner == "random" and self.oracle is not None and not isinstance(self.oracle, str):
            return CUSTOM
        return kind_of(self.tuner)

    @property
    def strategy(self) -> str:
        """How trials are chosen: the tuner, or the oracle of the sklearn
        tuner or of a Tuner subclass ('custom' for an Oracle of the user's)."""
        if self.kind in ("sklearn", CUSTOM):
            return kind_of(self.oracle or "random")
        return self.kind

    def tuner_kwargs(self, names) -> dict[str, Any]:
        """The given values among these settings, for a constructor."""
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    @property
    def adaptive(self) -> bool:
        """executions_per_trial='auto'."""
        return self.executions_per_trial == AUTO

    @property
    def first_executions(self) -> int:
        """The executions every trial runs (Keras Tuner's executions_per_trial)."""
        if self.adaptive:
            return self.min_executions
        assert isinstance(self.executions_per_trial, int)  # validated: an int unless 'auto'
        return self.executions_per_trial

    @property
    def objective_name(self) -> str:
        if self.objective is None:
            return "default_objective"  # Keras Tuner's name for it
        return self.objective if isinstance(self.objective, str) else self.objective.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly resolved values."""
        out = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name == "objective" and value is not None and not isinstance(value, str):
                value = {"name": value.name, "direction": value.direction}
            elif not isinstance(value, (str, int, float, type(None))):
                value = _describe_object(value)  # a splitter or scorer
            out[f.name] = value
        return out


def _describe_object(value: Any) -> str:
    """A stable text for an object setting (reports, resume fingerprints):
    never a memory address."""
    if isinstance(value, type):  # a Tuner or Oracle subclass
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, (list, tuple)):  # metrics
        return "[" + ", ".join(repr(v) if isinstance(v, str) else _describe_object(v) for v in value) + "]"
    get_config = getattr(value, "get_config", None)
    if callable(get_config) and not hasattr(value, "get_params"):  # HyperParameters, a Keras optimizer
        try:
            return f"{type(value).__name__}({json.dumps(get_config(), sort_keys=True, default=str)})"
        except (NotImplementedError, TypeError, ValueError):  # no serialisable config: described below
            pass
    get_params = getattr(value, "get_params", None)
    if callable(get_params):  # a scikit-learn splitter
        try:
            params = sorted(get_params().items())
            return f"{type(value).__name__}({', '.join(f'{k}={v!r}' for k, v in params)})"
        except (AttributeError, TypeError):  # not a scikit-learn object after all: described below
            pass
    text = repr(value)
    if " at 0x" in text and hasattr(value, "__qualname__"):  # a function
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    if " at 0x" in text:  # an Oracle, a distribution strategy: its class
        return f"{type(value).__module__}.{type(value).__qualname__}"
    return text


# Session-wide values (command line) that cap a test's own, not override it.
CAPS = ("max_trials",)


def resolve(layers_low_to_high: list[Layer]) -> Settings:
    """Merge layers (lowest precedence first) into frozen Settings."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    per_test: set[str] = set()
    for layer in layers_low_to_high:
        for key, value in layer.values.items():
            if key in CAPS and key in per_test and not layer.per_test and value > values[key]:
                # --hptune-trials bounds the cost: it lowers a test's own
                # budget, never raises it.
                continue
            values[key] = value
            sources[key] = layer.source
            if layer.per_test:
                per_test.add(key)
            else:
                per_test.discard(key)
    if values.get("tuner") == "sklearn":
        _sklearn_defaults(values, sources, per_test)
        if values.get("confirm"):
            raise SettingError(
                f"confirm={values['confirm']} (from {sources['confirm']}) does not apply to "
                "tuner='sklearn': its folds already score the configuration on every part of the data"
            )
        if values.get("max_neighbour_drop") is not None:
            raise SettingError(
                f"max_neighbour_drop={values['max_neighbour_drop']} (from {sources['max_neighbour_drop']}) "
                "does not apply to tuner='sklearn' yet: the neighbours are trained as Keras "
                "executions; remove it (near_best / min_near_best_share do apply)"
            )
    _adaptive_bounds(values, sources, per_test)
    settings = Settings(**values, sources=MappingProxyType(sources))
    _check_tuner_settings(settings)
    _check_oracle(settings)
    _check_tuner_options(settings)
    if is_oracle_instance(settings.oracle):
        settings = _adopt_oracle(settings)
    _check_direction(settings)
    _check_vary(settings)
    _check_thresholds(settings)
    return settings


def _given(settings: Settings, name: str) -> str:
    """'tuner=MyTuner (from hptune marker on t.py::t)' for a message."""
    value = getattr(settings, name)
    shown = repr(value) if isinstance(value, str) else tuner_name(value) if isinstance(value, type) else None
    if shown is None:
        shown = f"<{type(value).__name__} instance>"
    return f"{name}={shown} (from {settings.sources.get(name, 'the default')})"


def _check_tuner_settings(settings: Settings) -> None:
    """Settings of one strategy given to another tuner."""
    sources = settings.sources
    for name, tuners in TUNER_SETTINGS.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if tuners == ("bayesian",) and settings.kind in ("sklearn", CUSTOM):
            if settings.strategy != "bayesian":
                oracle = repr(settings.strategy) if settings.oracle is None else _given(settings, "oracle")
                raise SettingError(
                    f"{name}={value!r} (from {sources[name]}) is a setting of the "
                    f"Bayesian strategy, not of {_given(settings, 'tuner')} with "
                    f"oracle={oracle.removeprefix('oracle=')}: remove it or set oracle='bayesian'"
                )
        elif settings.kind not in tuners:
            raise SettingError(
                f"{name}={value!r} (from {sources[name]}) is a setting of the "
                f"{' / '.join(map(repr, tuners))} tuner, not of {_given(settings, 'tuner')}: "
                f"remove it or set tuner={tuners[0]!r}"
            )


def _check_oracle(settings: Settings) -> None:
    """oracle= goes with tuner='sklearn', a Tuner subclass that takes an
    oracle, or (an Oracle object) the default tuner."""
    if settings.oracle is None or settings.kind in ("sklearn", CUSTOM):
        return
    if isinstance(settings.tuner, type):
        why = (
            f"{tuner_name(settings.tuner)} is a keras_tuner.{_keras_tuner_bases(settings.tuner)[0]} "
            "subclass, which builds its own oracle: subclass keras_tuner.Tuner to choose its oracle"
        )
    elif isinstance(settings.oracle, str):
        why = f"it picks the strategy of tuner='sklearn' or of a Tuner subclass: set tuner={settings.oracle!r} instead"
    else:
        why = f"tuner={settings.tuner!r} builds its own oracle: leave tuner= unset to search with this Oracle"
    raise SettingError(f"{_given(settings, 'oracle')} does not apply to {_given(settings, 'tuner')}: {why}")


def _check_tuner_options(settings: Settings) -> None:
    """Keras Tuner's own constraints on its options, checked before a search."""
    oracle_options = ORACLE_OPTIONS + TUNER_SETTINGS_BAYESIAN
    if is_oracle_instance(settings.oracle):
        given = [n for n in oracle_options if getattr(settings, n) is not None]
        given += [n for n in ("max_consecutive_failed_trials",) if n in settings.sources]
        if given:
            raise SettingError(
                f"{given[0]}={getattr(settings, given[0])!r} (from {settings.sources[given[0]]}) is an "
                f"option of the oracle, and {_given(settings, 'oracle')} is one you constructed: "
                "pass it to the Oracle's constructor instead"
            )
    for name in ("tune_new_entries", "allow_new_entries"):
        if getattr(settings, name) is False and settings.hyperparameters is None and settings.oracle is None:
            raise SettingError(
                f"{name}=False (from {settings.sources[name]}) restricts the search to the space given "
                "as hyperparameters=, which is not set: give hyperparameters=keras_tuner.HyperParameters() "
                "with the hyperparameters to tune"
            )
    if isinstance(settings.tuner, type):
        for name in ("confirm", "max_neighbour_drop"):
            if getattr(settings, name):
                raise SettingError(
                    f"{name}={getattr(settings, name)!r} (from {settings.sources[name]}) does not apply to "
                    f"{_given(settings, 'tuner')}: the plugin would retrain configurations with the "
                    f"hypermodel's fit(), not through {tuner_name(settings.tuner)}.run_trial(); remove it"
                )


def _adopt_oracle(settings: Settings) -> Settings:
    """An Oracle the test constructed: its objective is the search's, and its
    max_trials (see _oracle_max_trials)."""
    oracle, sources = settings.oracle, dict(settings.sources)
    where = f"oracle=<{type(oracle).__name__}> (from {sources['oracle']})"
    objective = _oracle_objective(settings, oracle, where)
    max_trials, own = _oracle_max_trials(settings, oracle)
    if own:
        sources["max_trials"] = where
    sources["objective"] = where
    sources.pop("direction", None)
    return replace(
        settings, objective=objective, direction=None, max_trials=max_trials, sources=MappingProxyType(sources)
    )


def _oracle_objective(settings: Settings, oracle: Any, where: str) -> Any:
    """The objective of an oracle the test constructed; an objective= or
    direction= set to something else is an error."""
    objective: Any = getattr(oracle, "objective", None)
    if not isinstance(getattr(objective, "name", None), str) or getattr(objective, "direction", None) not in (
        "min",
        "max",
    ):
        raise SettingError(f"{where} has objective {objective!r}: the plugin needs one objective, not a list")
    for name, value in (("objective", settings.objective_name), ("direction", settings.direction)):
        ours = objective.name if name == "objective" else objective.direction
        if name in settings.sources and value is not None and value != ours:
            raise SettingError(
                f"{name}={value!r} (from {settings.sources[name]}) differs from that of {where}, {ours!r}: "
                f"remove {name}= (the oracle's objective is the search's)"
            )
    return objective


def _oracle_max_trials(settings: Settings, oracle: Any) -> tuple[int, bool]:
    """An oracle the test constructed runs its own max_trials, lowered to a
    max_trials that is set (marker, hptune.search(), ini, command line); one
    without max_trials takes the setting's. (max_trials, whether the oracle's)"""
    own = getattr(oracle, "max_trials", None)
    if own is None or ("max_trials" in settings.sources and settings.max_trials < own):
        return settings.max_trials, False
    return own, True


# What configures a tuner, which a tuner the test constructed already is:
# given by the test itself, an error with the reason (from the command line
# or an ini file, ignored).
NOT_FOR_CONSTRUCTED = {
    "executions_per_trial": "pass executions_per_trial= to its constructor; Keras Tuner keeps the mean of a "
    "trial's executions only, so each trial counts as one execution",
    "min_executions": "adaptive executions run in the plugin's own tuners only",
    "max_executions": "adaptive executions run in the plugin's own tuners only",
    "vary": "the plugin varies the data between executions in its own tuners only",
    "max_time": "the plugin stops between trials only the tuners it builds",
    "confirm": "the plugin retrains configurations only for the tuners it builds",
    "max_neighbour_drop": "the plugin retrains configurations only for the tuners it builds",
    **{name: "" for name in ("tuner", "seed", "max_consecutive_failed_trials", "oracle")},
    **{name: "" for name in (*TUNER_SETTINGS, *ORACLE_OPTIONS, *TUNER_OPTIONS)},
}


# What a tuner the test constructed does without being told: settings that
# say so ask for nothing else.
_NOTHING_ASKED = {"confirm": 0, "max_neighbour_drop": None, "max_time": None}


def _agrees(tuner: Any, key: str, value: Any) -> bool:
    """Whether a setting says what the constructed tuner already does
    (executions_per_trial=1 for a tuner built with one execution, its own
    seed, its own class, ...): no conflict then."""
    if key in _NOTHING_ASKED:
        return value == _NOTHING_ASKED[key]
    if key == "tuner":
        return value is type(tuner) or (isinstance(value, str) and value == kind_of(tuner))
    if key == "executions_per_trial":  # Keras Tuner keeps one score a trial: the mean of its executions
        return value == 1 and getattr(tuner, "executions_per_trial", None) == 1
    oracle = getattr(tuner, "oracle", None)
    if key == "oracle":
        return value is oracle
    for owner in (tuner, oracle):
        if owner is not None and key in vars(owner):
            own = vars(owner)[key]
            try:
                return own is value or bool(own == value)
            except Exception:  # an object whose == is no truth value (an array)
                return False
    return False


def for_constructed_tuner(settings: Settings, tuner: Any, per_test: Iterable[str]) -> Settings:
    """The settings of a search on a tuner the test constructed and passed
    to hptune.search(): run as it is, with its oracle's objective and
    max_trials (lowered to a max_trials that is set), one execution a trial."""
    name = type(tuner).__qualname__
    where = f"the {name} passed to hptune.search()"
    for key in per_test:
        if key in NOT_FOR_CONSTRUCTED and not _agrees(tuner, key, getattr(settings, key)):
            why = NOT_FOR_CONSTRUCTED[key] or f"pass it to {name}(...) when constructing it"
            raise SettingError(
                f"{key}={getattr(settings, key)!r} (from {settings.sources[key]}) does not apply to {where}, "
                f"which is constructed already: {why}"
            )
    objective = _oracle_objective(settings, tuner.oracle, where)
    max_trials, own = _oracle_max_trials(settings, tuner.oracle)
    sources = dict(settings.sources, tuner=where, objective=where, executions_per_trial=where)
    if own:
        sources["max_trials"] = where
    sources.pop("direction", None)
    return replace(
        settings,
        tuner=type(tuner),
        objective=objective,
        direction=None,
        max_trials=max_trials,
        executions_per_trial=1,
        sources=MappingProxyType(sources),
    )


def check_search_keywords(kwargs: Mapping[str, Any], where: str) -> None:
    """hptune.search() keywords that are Tuner arguments but no settings."""
    for key in kwargs:
        if key in REFUSED:
            raise SettingError(f"{key}= (from {where}) is not an hptune setting: {REFUSED[key]}")


def _check_thresholds(settings: Settings) -> None:
    """Score gates that no score can pass (or that every score passes)."""
    sources = settings.sources
    if settings.min_score is not None and settings.max_score is not None and settings.min_score > settings.max_score:
        raise SettingError(
            f"min_score={settings.min_score} (from {sources['min_score']}) is above "
            f"max_score={settings.max_score} (from {sources['max_score']}): "
            "no score can pass both gates"
        )
    check_score_gates(settings)


# Gates whose threshold is on the objective's own scale.
SCORE_GATES = ("min_score", "max_score", "min_lower_bound", "max_upper_bound", "min_worst", "max_worst")
# Metrics that are fractions, by the end of their name (Keras numbers a
# second AUC "auc_1"; scikit-learn averages "precision_macro", ...).
BOUNDED_METRICS = re.compile(
    r"(accuracy|auc|precision|recall)(_(macro|micro|weighted|samples|ovr|ovo|ovr_weighted|ovo_weighted))?(_\d+)?$",
    re.IGNORECASE,
)


def check_score_gates(settings: Settings, default_objective_holds: bool = False) -> None:
    """A score gate outside [0, 1] on a metric bounded by it (accuracy, AUC,
    precision, recall) is a setting error, before any training.

    The plugin's default objective (``val_accuracy``) is checked only when
    ``default_objective_holds``: a HyperModel whose ``fit()`` returns a
    number makes the objective Keras Tuner's ``default_objective`` instead,
    which only the fixture, seeing the hypermodel, can rule out."""
    if settings.tuner == "sklearn":
        setting, name = "scoring", settings.scoring
    elif "objective" in settings.sources or default_objective_holds:
        setting, name = "objective", settings.objective_name
    else:
        return
    if not isinstance(name, str) or not BOUNDED_METRICS.search(name):
        return
    metric = f"{setting} {name!r} (from {settings.sources.get(setting, 'the default')})"
    for gate in SCORE_GATES:
        value = getattr(settings, gate)
        if value is None or 0 <= value <= 1:
            continue
        never = (value > 1) == gate.startswith("min")  # min_score=1.5, max_score=-0.1
        raise SettingError(
            f"{gate}={value:g} (from {settings.sources[gate]}) is outside [0, 1], the range of {metric}: "
            f"{'no' if never else 'every'} search would pass it; give a fraction (0.9 for 90 %) or remove {gate}"
        )


def _check_vary(settings: Settings) -> None:
    """K-fold validation needs a fixed number of folds; Hyperband's
    continuation trials load weights trained on another execution's rows, so
    a fresh hold-out per execution would validate on training data."""
    if settings.vary != "seed" and settings.kind == "hyperband":  # also a Hyperband subclass
        raise SettingError(
            f"vary={settings.vary!r} (from {settings.sources.get('vary')}) does not apply to "
            f"{_given(settings, 'tuner')}, a Hyperband: its continuation trials start from weights trained on "
            "other rows, so they would be validated on training data; use vary='seed' or another tuner"
        )
    if settings.vary == "folds" and (settings.adaptive or settings.first_executions < 2):
        raise SettingError(
            f"vary='folds' (from {settings.sources.get('vary')}) makes each execution a validation "
            f"fold, so it needs a fixed executions_per_trial of 2 or more (the number of folds); "
            f"got executions_per_trial={settings.executions_per_trial!r} (from "
            f"{settings.sources.get('executions_per_trial', 'the default')})"
        )


def _check_direction(settings: Settings) -> None:
    """An explicit Objective carries its direction: a different direction=
    would silently flip the verdict."""
    objective, direction = settings.objective, settings.direction
    if objective is None or isinstance(objective, str) or direction is None:
        return
    if direction != objective.direction:
        raise SettingError(
            f"direction={direction!r} (from {settings.sources.get('direction')}) contradicts "
            f"objective=Objective({objective.name!r}, {objective.direction!r}) (from "
            f"{settings.sources.get('objective')}): remove direction= or change the Objective"
        )


def _adaptive_bounds(values: dict, sources: dict, per_test: set) -> None:
    """min/max_executions bound executions_per_trial='auto'. A test that sets
    them with a fixed count is told; a session-wide fixed count
    (--hptune-executions=3) overrides a test's 'auto' and its bounds quietly."""
    bounds = [name for name in ("min_executions", "max_executions") if name in values]
    if values.get("executions_per_trial") != AUTO:
        for name in bounds:
            # Only a contradiction within one marker or one search() call:
            # a higher layer's fixed count overrides a lower layer's 'auto'.
            if name in per_test and sources.get(name) == sources.get("executions_per_trial"):
                raise SettingError(
                    f"{name}={values[name]} (from {sources[name]}) bounds "
                    "executions_per_trial='auto', but executions_per_trial="
                    f"{values['executions_per_trial']!r} (from {sources['executions_per_trial']}): "
                    f"set executions_per_trial='auto' or remove {name}"
                )
        return
    low = values.get("min_executions", SPECS["min_executions"].default)
    high = values.get("max_executions", SPECS["max_executions"].default)
    if low > high:
        where = lambda name: sources.get(name, "the default")  # noqa: E731
        raise SettingError(
            f"min_executions={low} (from {where('min_executions')}) is above "
            f"max_executions={high} (from {where('max_executions')}): "
            "raise max_executions or lower min_executions"
        )


def _sklearn_defaults(values: dict, sources: dict, per_test: set) -> None:
    """The scikit-learn tuner's executions are its folds and its objective is
    the fold score: reject per-test settings that say otherwise, and replace
    session-wide ones."""
    tuner_source = sources.get("tuner", "the default")
    for name, why in NOT_FOR_SKLEARN.items():
        if name in per_test:
            raise SettingError(
                f"{name}={values[name]!r} (from {sources[name]}) does not apply to "
                f"tuner='sklearn' (from {tuner_source}): {why}"
            )
        values.pop(name, None)
        sources.pop(name, None)
    objective = values.get("objective", SKLEARN_OBJECTIVE)
    name = objective if isinstance(objective, str) else objective.name
    if name != SKLEARN_OBJECTIVE:
        raise SettingError(
            f"objective={name!r} (from {sources.get('objective')}) does not apply "
            f"to tuner='sklearn' (from {tuner_source}): its objective is the "
            "cross-validation score; choose the metric with scoring= "
            "(e.g. scoring='f1_macro') and remove objective="
        )
    if "objective" not in values:
        values["objective"] = SKLEARN_OBJECTIVE
        sources["objective"] = "tuner='sklearn'"
    if values.get("direction") is None and isinstance(objective, str):
        # scikit-learn scorers are "greater is better".
        values["direction"] = "max"
        sources["direction"] = "tuner='sklearn'"
    cv = values.get("cv", DEFAULT_FOLDS)
    folds = cv if isinstance(cv, int) else _n_splits(cv)
    values["executions_per_trial"] = folds
    sources["executions_per_trial"] = sources.get("cv", "tuner='sklearn' (folds)")


def count_folds(settings: Settings, fit_args: tuple, fit_kwargs: Mapping[str, Any]) -> Settings:
    """tuner='sklearn' with a splitter that counts its folds only from the
    data (LeaveOneGroupOut: from the groups): counted from hptune.search()'s
    (X, y, sample_weight, groups), as SklearnTuner.search() takes them, so
    that executions_per_trial is the number of folds, never None."""
    if settings.tuner != "sklearn" or settings.executions_per_trial is not None:
        return settings
    named = dict(zip(("X", "y", "sample_weight", "groups"), fit_args))
    named.update(fit_kwargs)
    try:
        folds = settings.cv.get_n_splits(named.get("X"), named.get("y"), named.get("groups"))
    except Exception:  # the splitter's own check of its arguments
        folds = None
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise SettingError(
            f"cv={settings.cv!r} (from {settings.sources.get('cv')}) cannot count its folds from the data given "
            "to hptune.search() (its get_n_splits(X, y, groups) gave "
            f"{folds!r}): pass what it needs (groups=...) or give cv=N folds"
        )
    return replace(settings, executions_per_trial=folds)


def _n_splits(splitter: Any) -> int | None:
    try:
        n = splitter.get_n_splits()
    except (TypeError, ValueError):  # e.g. LeaveOneGroupOut needs the groups: known when it runs
        return None
    return n if isinstance(n, int) and n > 0 else None


def describe(settings: Settings) -> str:
    epochs = "fit default" if settings.epochs is None else settings.epochs
    return (
        f"tuner={tuner_name(settings.tuner)} trials={settings.max_trials} "
        f"executions={executions_text(settings.as_dict())} epochs={epochs} "
        f"seed={settings.seed}"
    )


def trials_text(record: Mapping[str, Any]) -> str:
    """'2 trials' as run ('2 of 3 trials' when a search ran fewer than
    max_trials, e.g. a grid that ran out), '1 trial'."""
    planned = record["settings"]["max_trials"]
    ran = len(record.get("trials") or ()) or planned
    noun = "trial" if planned == 1 else "trials"
    return f"{ran} {noun}" if ran == planned else f"{ran} of {planned} {noun}"


def runs_text(settings: Mapping[str, Any]) -> str:
    """'3 executions', '1 execution' or 'auto 2-10 executions'."""
    text = executions_text(settings)
    return f"{text} execution" + ("" if text == "1" else "s")


def executions_text(settings: Mapping[str, Any]) -> str:
    """'3', or 'auto 2-10' (from a settings dict, as in the reports)."""
    if settings.get("executions_per_trial") == AUTO:
        return f"auto {settings.get('min_executions')}-{settings.get('max_executions')}"
    return str(settings.get("executions_per_trial"))
