"""Options and settings resolution.

Every setting is validated where it enters (command line, ini file, marker,
``hptune.search()`` argument) and the error names the setting, the value and
its source. Settings are resolved once per search into a frozen
:class:`Settings`, with this precedence (highest first)::

    command line  >  hptune.search() arguments  >  marker  >  ini  >  defaults

This module imports nothing heavy: it is loaded with the plugin.
"""

from __future__ import annotations

import argparse
import difflib
import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable, Mapping

TUNERS = ("random", "bayesian", "grid")

# Settings that only some Keras Tuner strategies take (passed through to the
# tuner's constructor). Any other tuner rejects them.
TUNER_SETTINGS = {
    "num_initial_points": ("bayesian",),
    "alpha": ("bayesian",),
    "beta": ("bayesian",),
}

DEFAULT = "default"


class SettingError(ValueError):
    """A setting has a bad value; the message names setting, value and source."""


# -- validators: value -> normalised value, raising SettingError ------------


def _fail(name: str, value: Any, where: str, expected: str) -> SettingError:
    return SettingError(f"invalid {name}={value!r} from {where}: expected {expected}")


def _count(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(name, value, where, "a positive integer (1, 2, ...)")
    return value


def _optional_count(name: str, value: Any, where: str) -> int | None:
    return None if value is None else _count(name, value, where)


def _seed(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, value, where, "a non-negative integer")
    return value


def _threshold(name: str, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
    ):
        raise _fail(name, value, where, "a finite number")
    return float(value)


def _std_threshold(name: str, value: Any, where: str) -> float | None:
    value = _threshold(name, value, where)
    if value is not None and value < 0:
        raise _fail(name, value, where, "a number >= 0 (a standard deviation)")
    return value


def _positive(name: str, value: Any, where: str) -> float | None:
    value = _threshold(name, value, where)
    if value is not None and value <= 0:
        raise _fail(name, value, where, "a number > 0")
    return value


def _tuner(name: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or value.lower() not in TUNERS:
        raise _fail(name, value, where, "one of " + ", ".join(map(repr, TUNERS)))
    return value.lower()


def _objective(name: str, value: Any, where: str) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise _fail(name, value, where, "a metric name such as 'val_accuracy'")
        return value.strip()
    # A keras_tuner.Objective; checked by shape so that this module does not
    # import keras_tuner.
    if isinstance(getattr(value, "name", None), str) and getattr(
        value, "direction", None
    ) in ("min", "max"):
        return value
    raise _fail(
        name,
        value,
        where,
        "a metric name (str) or keras_tuner.Objective(name, 'min'|'max')",
    )


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
        "tuner": Spec("random", _tuner, "Keras Tuner strategy", "tuner", str),
        "objective": Spec(
            "val_accuracy",
            _objective,
            "metric to optimise (str or keras_tuner.Objective)",
        ),
        "direction": Spec(
            None, _direction, "'max' or 'min'; overrides Keras Tuner's inference"
        ),
        "max_trials": Spec(
            3, _count, "number of hyperparameter configurations", "trials", _parse_int
        ),
        "executions_per_trial": Spec(
            3,
            _count,
            "seeded fits per configuration",
            "executions",
            _parse_int,
        ),
        "epochs": Spec(
            None,
            _optional_count,
            "epochs per fit (default: model.fit's own)",
            "epochs",
            _parse_int,
        ),
        "seed": Spec(
            0, _seed, "seed of the search and of every execution", "seed", _parse_int
        ),
        "max_consecutive_failed_trials": Spec(
            3, _count, "stop the search after this many failed trials in a row"
        ),
        "num_initial_points": Spec(
            None, _optional_count, "bayesian: random trials before the Gaussian process"
        ),
        "alpha": Spec(None, _positive, "bayesian: GP noise level"),
        "beta": Spec(None, _positive, "bayesian: exploration factor of the acquisition"),
        "min_score": Spec(None, _threshold, "gate: best trial's mean >= this"),
        "max_score": Spec(None, _threshold, "gate: best trial's mean <= this"),
        "max_std": Spec(
            None, _std_threshold, "gate: best trial's std across executions <= this"
        ),
    }
)

GATE_NAMES = ("min_score", "max_score", "max_std")

# Session-level options that are not per-search settings.
SESSION_HELP = {
    "dir": "directory for tuning directories (default: inside pytest's "
    "temporary directory, never the working tree)",
    "json": "write a machine-readable JSON report of every search to PATH",
}


def option_name(setting: str) -> str:
    return "--hptune-" + SPECS[setting].option


def ini_name(setting: str) -> str:
    return "hptune_" + SPECS[setting].option


def option_help(setting: str) -> str:
    spec = SPECS[setting]
    default = "model.fit's own" if spec.default is None else spec.default
    return f"{spec.help} (default: {default}; ini: {ini_name(setting)})"


def cli_type(setting: str) -> Callable[[str], Any]:
    """An argparse type converter: bad text is a usage error, not a traceback."""
    spec = SPECS[setting]

    def convert(text: str) -> Any:
        try:
            return spec.validate(setting, spec.parse(text), option_name(setting))
        except (ValueError, SettingError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = setting
    return convert


OPTION_SETTINGS = tuple(name for name, spec in SPECS.items() if spec.option)


def parse_ini(setting: str, text: str, inifile: str) -> Any:
    spec = SPECS[setting]
    where = f"ini option {ini_name(setting)} in {inifile}"
    try:
        value = spec.parse(text)
    except ValueError as exc:
        raise SettingError(f"invalid {setting}={text!r} from {where}: {exc}") from None
    return spec.validate(setting, value, where)


@dataclass(frozen=True)
class Layer:
    """One source of settings: its values (already validated) and its name."""

    source: str
    values: Mapping[str, Any]


def check_keywords(kwargs: Mapping[str, Any], where: str, allowed=SPECS) -> None:
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise SettingError(
            f"unknown hptune setting {', '.join(hints)} from {where}; "
            f"valid settings: {', '.join(allowed)}"
        )


def make_layer(source: str, kwargs: Mapping[str, Any]) -> Layer:
    """Validate keyword settings given in code (marker or search())."""
    check_keywords(kwargs, source)
    return Layer(
        source,
        {k: SPECS[k].validate(k, v, source) for k, v in kwargs.items()},
    )


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one search; ``sources`` says where each came from."""

    tuner: str = SPECS["tuner"].default
    objective: Any = SPECS["objective"].default
    direction: str | None = SPECS["direction"].default
    max_trials: int = SPECS["max_trials"].default
    executions_per_trial: int = SPECS["executions_per_trial"].default
    epochs: int | None = SPECS["epochs"].default
    seed: int = SPECS["seed"].default
    max_consecutive_failed_trials: int = SPECS["max_consecutive_failed_trials"].default
    num_initial_points: int | None = SPECS["num_initial_points"].default
    alpha: float | None = SPECS["alpha"].default
    beta: float | None = SPECS["beta"].default
    min_score: float | None = SPECS["min_score"].default
    max_score: float | None = SPECS["max_score"].default
    max_std: float | None = SPECS["max_std"].default
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def tuner_kwargs(self) -> dict[str, Any]:
        """The tuner-specific settings that were given, for the constructor."""
        return {
            name: getattr(self, name)
            for name in TUNER_SETTINGS
            if getattr(self, name) is not None
        }

    @property
    def objective_name(self) -> str:
        return self.objective if isinstance(self.objective, str) else self.objective.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly resolved values."""
        out = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name == "objective" and not isinstance(value, str):
                value = {"name": value.name, "direction": value.direction}
            out[f.name] = value
        return out


def resolve(layers_low_to_high: list[Layer]) -> Settings:
    """Merge layers (lowest precedence first) into frozen Settings."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers_low_to_high:
        for key, value in layer.values.items():
            values[key] = value
            sources[key] = layer.source
    settings = Settings(**values, sources=MappingProxyType(sources))
    for name, tuners in TUNER_SETTINGS.items():
        if getattr(settings, name) is not None and settings.tuner not in tuners:
            raise SettingError(
                f"{name}={getattr(settings, name)!r} (from {sources[name]}) is a "
                f"setting of the {' / '.join(map(repr, tuners))} tuner, not of "
                f"tuner={settings.tuner!r} (from {sources.get('tuner', 'the default')}): "
                f"remove it or set tuner={tuners[0]!r}"
            )
    if (
        settings.min_score is not None
        and settings.max_score is not None
        and settings.min_score > settings.max_score
    ):
        raise SettingError(
            f"min_score={settings.min_score} (from {sources['min_score']}) is above "
            f"max_score={settings.max_score} (from {sources['max_score']}): "
            "no score can pass both gates"
        )
    return settings


def describe(settings: Settings) -> str:
    epochs = "fit default" if settings.epochs is None else settings.epochs
    return (
        f"tuner={settings.tuner} trials={settings.max_trials} "
        f"executions={settings.executions_per_trial} epochs={epochs} "
        f"seed={settings.seed}"
    )
