"""The result model: what a search found, free of Keras Tuner objects.

``TrialResult`` and the record produced by ``SearchResult.to_record()`` are
plain data: they travel to the terminal summary, the JSON report and, under
pytest-xdist, from workers to the controller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

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
        }


def trial_order(trial_id: str) -> tuple[int, str]:
    """Sort key putting Keras Tuner's trial ids in trial order ("9" < "10")."""
    return (len(trial_id), trial_id)


def rank(trials: Sequence[TrialResult], objective: Objective) -> list[TrialResult]:
    """Completed trials, best mean first; ties keep trial order."""
    done = [t for t in trials if t.status == COMPLETED and t.scores]
    sign = -1.0 if objective.direction == "max" else 1.0
    return sorted(done, key=lambda t: sign * t.mean)


@dataclass
class SearchResult:
    """What ``hptune.search()`` returns."""

    objective: Objective
    trials: list[TrialResult]  # completed, best first
    failed: list[TrialResult]  # failed trials, in trial order
    tuner: Any = field(repr=False)  # the underlying Keras Tuner object
    stopped_reason: str | None = None  # why the search ended early, if it did
    _best_hp: Any = field(default=None, repr=False)

    @property
    def best(self) -> TrialResult | None:
        return self.trials[0] if self.trials else None

    @property
    def best_hyperparameters(self):
        """The best trial's ``keras_tuner.HyperParameters``."""
        return self._best_hp

    def best_model(self):
        """A fresh (untrained) model built with the best hyperparameters."""
        if self._best_hp is None:
            raise LookupError("no trial completed: there is no best model")
        return self.tuner.hypermodel.build(self._best_hp)
