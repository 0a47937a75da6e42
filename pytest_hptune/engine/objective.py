"""The search's objective, as Keras Tuner means it.

* ``objective=None``, or the default objective when the model's ``fit()``
  returns a plain number: Keras Tuner's default objective, minimised.
* A metric name: its direction as Keras Tuner infers it, or ``direction=``.
  A name whose direction cannot be inferred (``val_f2``, a misspelling) is
  checked against the first execution's metrics, so the error lists what the
  model reports and how to set the direction.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

import keras
import keras_tuner
import numpy as np

from ..settings import Settings
from . import compat
from .failures import PluginFatalValueError

errors = keras_tuner.errors
DEFAULT_NAME = "default_objective"  # Keras Tuner's name for a fit() that returns a number


def keras_tuner_default() -> keras_tuner.Objective:
    return keras_tuner.Objective(DEFAULT_NAME, "min")


def initial(settings: Settings) -> tuple[keras_tuner.Objective, bool]:
    """The objective a search starts with, and whether it is provisional
    (to be settled by ``settle`` after the first execution)."""
    objective = settings.objective
    if objective is None:
        return keras_tuner_default(), False
    if not isinstance(objective, str):
        return objective, False
    if settings.direction is not None:
        return keras_tuner.Objective(objective, settings.direction), False
    direction = compat.infer_direction(objective)
    if direction is None:
        return keras_tuner.Objective(objective, "max"), True  # provisional
    # The default objective may give way to Keras Tuner's, see settle().
    return keras_tuner.Objective(objective, direction), _by_default(settings)


def _by_default(settings: Settings) -> bool:
    """The objective is the plugin's default, not one the user chose."""
    return "objective" not in settings.sources


def _metric_names(result: Any) -> list[str]:
    if isinstance(result, keras.callbacks.History):
        return list(result.history)
    if isinstance(result, dict):
        return list(result)
    return []


def settle(objective: keras_tuner.Objective, settings: Settings, result: Any) -> keras_tuner.Objective:
    """The objective after the first execution's ``result``: Keras Tuner's
    default when the user set none and ``fit()`` returned a number; an
    error naming the metrics when the direction cannot be known."""
    if isinstance(result, (int, float, np.floating)) and not isinstance(result, bool):
        if _by_default(settings):
            return keras_tuner_default()
        if settings.direction is None and compat.infer_direction(objective.name) is None:
            raise PluginFatalValueError(unusable(objective.name, []))
        return objective
    names = _metric_names(result)
    if _by_default(settings) or settings.direction is not None:
        return objective
    if compat.infer_direction(objective.name) is None:
        raise PluginFatalValueError(unusable(objective.name, names))
    return objective


def settle_from_trials(tuner: Any) -> None:
    """A resumed search: the objective its earlier run settled on, read from
    the reused trials' metrics (Keras Tuner does not save it), so that the
    reused trials are ranked the way they were judged."""
    if not getattr(tuner, "hptune_provisional", False):
        return
    for trial in tuner.oracle.trials.values():
        if trial.metrics.exists(DEFAULT_NAME):
            tuner.oracle.objective = keras_tuner_default()
            tuner.hptune_provisional = False
            return


def reported_names(message: str) -> list[str] | None:
    """The metric names in Keras Tuner's "Expected the returned dictionary
    ... Received: {...}." message (its check runs before the plugin sees the
    dict); None when the message is another one."""
    if "Expected the returned dictionary" not in message or "Received: {" not in message:
        return None
    return re.findall(r"'([^']+)':", message.split("Received: {", 1)[1])


def unusable(name: str, names: Iterable[str]) -> str:
    """Why an objective cannot be judged, given the metrics the model
    reports: it is not among them (with the closest), or its direction
    cannot be inferred."""
    names = sorted(names)
    if names and name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return (
            f"objective {name!r} is not among the metrics the model reports: {', '.join(names)}.{hint} "
            "Set objective= on the hptune marker to one of them."
        )
    reported = f" (the model reports: {', '.join(names)})" if names else ""
    return (
        f"the direction of objective {name!r} cannot be inferred{reported}: set direction='max' "
        f"or direction='min' on the hptune marker, or objective=keras_tuner.Objective({name!r}, 'max')"
    )
