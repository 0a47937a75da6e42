"""Resolution: the layers of settings (ini, command line, marker,
``hptune.search()`` arguments), each validated where it enters, merged once
per search into the frozen :class:`Settings` and checked as a whole."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import tuner_rules
from .errors import SettingError
from .resolved import Settings
from .table import CAPS, REFUSED, SCORE_GATES, SPECS
from .validators import AUTO


@dataclass(frozen=True)
class Layer:
    """One source of settings: its values (already validated) and its name.
    ``per_test``: set by the test itself (marker, search() argument), not by
    the session (command line, ini)."""

    source: str
    values: Mapping[str, Any]
    per_test: bool = False


def check_keywords(kwargs: Mapping[str, Any], where: str, allowed: Collection[str] = SPECS) -> None:
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


def check_search_keywords(kwargs: Mapping[str, Any], where: str) -> None:
    """hptune.search() keywords that are Tuner arguments but no settings."""
    for key in kwargs:
        if key in REFUSED:
            raise SettingError(f"{key}= (from {where}) is not an hptune setting: {REFUSED[key]}")


def resolve(layers_low_to_high: list[Layer]) -> Settings:
    """Merge layers (lowest precedence first) into frozen Settings."""
    values, sources, per_test = _merge(layers_low_to_high)
    if values.get("tuner") == "sklearn":
        tuner_rules.sklearn_defaults(values, sources, per_test)
    _adaptive_bounds(values, sources, per_test)
    settings = Settings(**values, sources=MappingProxyType(sources))
    settings = tuner_rules.check(settings)
    _check_thresholds(settings)
    return settings


def _merge(layers_low_to_high: list[Layer]) -> tuple[dict[str, Any], dict[str, str], set[str]]:
    """(values, their sources, the names a test set itself) of the layers."""
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
    return values, sources, per_test


def _adaptive_bounds(values: dict[str, Any], sources: dict[str, Any], per_test: set[str]) -> None:
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
        where: Callable[[str], Any] = lambda name: sources.get(name, "the default")  # noqa: E731
        raise SettingError(
            f"min_executions={low} (from {where('min_executions')}) is above "
            f"max_executions={high} (from {where('max_executions')}): "
            "raise max_executions or lower min_executions"
        )


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
