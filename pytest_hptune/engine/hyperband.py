"""Hyperband with a trial budget (``max_trials``)."""

from __future__ import annotations

from typing import Any

import keras_tuner

from ..settings import Settings
from . import compat

HYPERBAND_DEFAULT_MAX_EPOCHS = 100  # Keras Tuner's default


HYPERBAND_DEFAULT_FACTOR = 3


def hyperband_max_epochs(settings: Settings) -> int:
    """A full-budget trial's epochs: max_epochs (Keras Tuner's default 100),
    bounded by the epochs setting (marker, search(epochs=...), --hptune-epochs)."""
    bounds = [settings.max_epochs or HYPERBAND_DEFAULT_MAX_EPOCHS]
    if settings.epochs is not None:
        bounds.append(settings.epochs)
    return min(bounds)


@compat.overrides
class HptuneHyperbandOracle(keras_tuner.oracles.HyperbandOracle):
    """Keras Tuner's Hyperband oracle with a trial budget.

    Keras Tuner's Hyperband has no ``max_trials``: it runs whole brackets,
    starting with the most exploratory one (many trials at 1 epoch). A budget
    smaller than that bracket would end before any trial trained for the
    full ``max_epochs``, and the gates would have nothing to judge. So the
    brackets are limited to those whose rounds fit in ``max_trials``: the
    search starts with the most exploratory bracket that reaches the full
    budget within ``max_trials`` trials, goes on through the less exploratory
    ones as Keras Tuner does, and stops at ``max_trials`` trials. With a
    budget that fits the whole algorithm this is Keras Tuner's Hyperband.
    """

    def __init__(self, *args: Any, max_trials: int, **kwargs: Any) -> None:
        self.hptune_budget = max_trials  # read by hptune_num_brackets in __init__
        super().__init__(*args, **kwargs)
        self.max_trials = max_trials

    def bracket_trials(self, bracket: int) -> int:
        return sum(compat.bracket_size(self, bracket, r) for r in range(bracket + 1))

    def hptune_num_brackets(self) -> int:
        # Keras Tuner's count of brackets, replaced (compat.OVERRIDES).
        brackets = compat.num_brackets(super())
        fitting = [b for b in range(brackets) if self.bracket_trials(b) <= self.hptune_budget]
        return (max(fitting) + 1) if fitting else 1

    def plan(self) -> dict[str, Any]:
        """How the trial budget maps onto brackets, for the report."""
        brackets = compat.num_brackets(self)
        return {
            "max_epochs": self.max_epochs,
            "factor": self.factor,
            "hyperband_iterations": self.hyperband_iterations,
            "brackets": [
                {
                    "bracket": b,
                    "rounds": [
                        {"trials": compat.bracket_size(self, b, r), "epochs": compat.bracket_epochs(self, b, r)}
                        for r in range(b + 1)
                    ],
                }
                for b in reversed(range(brackets))
            ],
            "all_brackets": compat.num_brackets(super()),
        }
