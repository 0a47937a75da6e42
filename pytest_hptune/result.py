"""The result model: what a search found, free of Keras Tuner objects.

``TrialResult`` and the search record built from a ``SearchResult`` are
plain data: they travel to the terminal summary, the JSON report and, under
pytest-xdist, from workers to the controller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import stats

COMPLETED = "COMPLETED"
FAILED = "FAILED"


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str  # "max" or "min"


@dataclass(frozen=True)
class TrialResult:
    trial_id: str
    hyperparameters: Mapping[str, Any]
    scores: tuple[float, ...]  # one per execution, in execution order
    status: str
    message: str | None = None  # why the trial failed
    budget: int | None = None  # Hyperband: epochs the model has trained

    @property
    def mean(self) -> float | None:
        return stats.mean(self.scores)

    @property
    def std(self) -> float | None:
        return stats.std(self.scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "hyperparameters": dict(self.hyperparameters),
            "scores": list(self.scores),
            "mean": self.mean,
            "std": self.std,
            "status": self.status,
            "message": self.message,
            "budget": self.budget,
        }


def trial_order(trial_id: str) -> tuple[int, str]:
    """Sort key putting Keras Tuner's trial ids in trial order ("9" < "10")."""
    return (len(trial_id), trial_id)


def rank(trials: Sequence[TrialResult], objective: Objective) -> list[TrialResult]:
    """Completed trials, best mean first; ties keep trial order."""
    done = [t for t in trials if t.status == COMPLETED and t.scores]
    sign = -1.0 if objective.direction == "max" else 1.0

    def key(trial: TrialResult) -> float:
        mean = trial.mean
        assert mean is not None  # done keeps only trials with scores
        return sign * mean

    return sorted(done, key=key)


@dataclass(frozen=True)
class SearchResult:
    """What ``hptune.search()`` returns: the search's one complete outcome,
    built once by the engine and never changed afterwards (frozen: the
    engine's later steps make new ones with ``dataclasses.replace``)."""

    objective: Objective
    # Completed trials the verdict is about, best first (for Hyperband, those
    # that trained for the full max_epochs).
    trials: list[TrialResult]
    failed: list[TrialResult]  # failed trials, in trial order
    tuner: Any = field(repr=False)  # the underlying Keras Tuner object
    stopped_reason: str | None = None  # why the search ended early, if it did
    # Hyperband: completed trials stopped at a smaller budget, in trial order.
    partial: list[TrialResult] = field(default_factory=list)
    # Each hyperparameter: name, type, range or values, conditions.
    search_space: list[dict[str, Any]] = field(default_factory=list)
    # Tuner-specific facts for the report (Hyperband's brackets, sklearn's folds).
    tuner_info: dict[str, Any] = field(default_factory=dict)
    # --hptune-resume: resumed (bool), reused_trials, reason (why not resumed)
    resume: dict[str, Any] | None = None
    # confirm=N: the best configuration's scores with N fresh seeds
    confirmation: list[float] | None = None
    # max_neighbour_drop: each one-step neighbour of the best configuration
    # (name, value, neighbour, scores, mean, drop, and error if it failed)
    neighbours: list[dict[str, Any]] | None = None
    # executions_per_trial='auto': executions added to the best after the search
    topped_up: int = 0
    # Fits in the test process that trained a configuration's already traced
    # model (engine/reuse.py); None when workers trained the trials.
    reused_fits: int | None = None
    # Keras's backend as Keras itself resolved it (KERAS_BACKEND, else its
    # keras.json): the baseline's "backend".
    backend: str | None = None
    # max_time: {"max_time": seconds, "ended_search": whether it stopped the search}
    time_budget: dict[str, Any] | None = None
    # --hptune-compare: the baseline's anchor configuration trained with its
    # seeds (hyperparameters, seeds, scores, trained, reused), or why not
    # ("unavailable": the reason); None when no anchor was asked for.
    anchor: dict[str, Any] | None = None
    # --hptune-save-baseline: this search's best configuration's anchor
    # executions, in the same form, for the new baseline entry.
    best_anchor: dict[str, Any] | None = None
    _best_hp: Any = field(default=None, repr=False)
    _retrain: Any = field(default=None, repr=False)

    @property
    def best(self) -> TrialResult | None:
        return self.trials[0] if self.trials else None

    @property
    def best_hyperparameters(self) -> Any:
        """The best trial's ``keras_tuner.HyperParameters``."""
        return self._best_hp

    def best_model(self) -> Any:
        """A fresh (untrained) model built with the best hyperparameters."""
        if self._best_hp is None:
            raise LookupError("no trial completed: there is no best model")
        if self.tuner.hypermodel is None:
            raise LookupError("the tuner's run_trial() builds its own models: there is no hypermodel to build")
        return self.tuner.hypermodel.build(self._best_hp)

    def retrain(self, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Build a fresh model with the best hyperparameters, train it as the
        trials were trained (the HyperModel's own ``fit()``, seeded) and
        return it, ready to ``evaluate`` on held-out data.

        ``fit_args``/``fit_kwargs`` go to ``fit`` (``model.fit``, or the
        estimator's ``fit(X, y)`` with tuner='sklearn'). Without ``epochs=``
        the model trains for the search's full epochs (``epochs`` setting,
        the search's ``epochs=``, or Hyperband's ``max_epochs``).
        """
        if self._best_hp is None:
            raise LookupError("no trial completed: there is no best model to retrain")
        return self._retrain(self._best_hp, *fit_args, **fit_kwargs)
