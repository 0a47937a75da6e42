"""Tuners of the user's own: a ``keras_tuner.Tuner`` subclass given as
``tuner=`` (constructed by the plugin), and a tuner the test constructed
itself and passed to ``hptune.search()`` (run as it is)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import keras
import keras_tuner

from . import objective as objectives
from .failures import PluginFatalTypeError, tuning_directory_errors
from .scoring import execution_score
from .seeding import execution_seed
from .storage import save_scores

if TYPE_CHECKING:
    from ..settings import Settings

RUN_TRIAL = "Tuner.run_trial()"


def own_method(cls: type, name: str) -> bool:
    """Whether the class's ``name`` method is the user's, not Keras Tuner's
    nor the plugin's."""
    method = getattr(cls, name, None)
    module = getattr(method, "__module__", "") or ""
    return method is not None and not module.startswith(("keras_tuner", "pytest_hptune"))


def takes_keyword(function: Any, name: str) -> bool:
    """Whether ``function(..., name=...)`` is a valid call: it names the
    keyword or takes ``**kwargs`` (or cannot be inspected)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    named = parameters.get(name)
    if named is not None and named.kind in (named.POSITIONAL_OR_KEYWORD, named.KEYWORD_ONLY):
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def users_run_trial(cls: type) -> Any | None:
    """The ``run_trial`` of the user's own nearest in the class's MRO (the
    plugin wraps a Tuner subclass of the user's in classes of its own), or
    None when only Keras Tuner's and the plugin's run."""
    for klass in cls.__mro__:
        method = vars(klass).get("run_trial")
        if method is not None:
            module = getattr(klass, "__module__", "") or ""
            if not module.startswith(("keras_tuner", "pytest_hptune")):
                return method
    return None


def returned_scores(results: Any, objective: Any) -> list[float]:
    """The scores of what a ``run_trial`` returned, as Keras Tuner reads it
    (``tuner_utils.convert_to_metrics_dict``): a number is the objective's
    value, a dict holds it by name, a History at its best epoch; a list is
    one of these per execution, which Keras Tuner averages: one score each."""
    items = results if isinstance(results, list) else [results]
    if not items:
        raise PluginFatalTypeError(f"{RUN_TRIAL} returned an empty list: return one value per execution")
    return [execution_score(item, objective, RUN_TRIAL) for item in items]


class HptuneScoreKeeper(keras_tuner.Tuner):
    """Placed before the user's Tuner subclass in the MRO (and the plugin's
    ``HptuneTunerMixin`` after it): every trial is seeded, and a trial whose
    ``run_trial`` did not go through the plugin's execution loop keeps the
    scores of what it returned, one per value (per element of a list)."""

    # Set by HptuneTunerMixin.hptune_setup (after the user's class in the MRO).
    hptune_seed: int
    hptune_settings: Settings
    hptune_scores: dict[str, list[float]]
    hptune_provisional: bool
    hptune_counted: set[str]

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        trial_id = trial.trial_id
        self.hptune_scores.pop(trial_id, None)
        keras.utils.set_random_seed(execution_seed(self.hptune_seed, trial_id, 0))
        with tuning_directory_errors(self):
            results = super().run_trial(trial, *args, **kwargs)
        if trial_id in self.hptune_scores:  # the plugin's loop ran: one score per execution
            self.hptune_counted.discard(trial_id)
            return results
        first = results[0] if isinstance(results, list) and results else results
        if self.hptune_provisional and first is not None:
            self.oracle.objective = objectives.settle(self.oracle.objective, self.hptune_settings, first)
            self.hptune_provisional = False
        scores = returned_scores(results, self.oracle.objective)
        self.hptune_scores[trial_id] = scores
        self.hptune_counted.add(trial_id)
        with tuning_directory_errors(self):
            save_scores(self, trial_id, scores)
        return results
