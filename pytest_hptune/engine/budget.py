"""max_time: a search's time budget. When it runs out, no new trial starts
(Keras Tuner's oracle is told the budget of trials is spent) and, under
executions_per_trial='auto', no new execution; what completed is judged."""

from __future__ import annotations

import time
from typing import Any


class TimeBudget:
    def __init__(self, max_time: float | None) -> None:
        self.max_time = max_time
        self.started = time.monotonic()
        self.ended = False  # the budget stopped the search

    def spent(self) -> bool:
        return self.max_time is not None and time.monotonic() - self.started >= self.max_time

    def after_trial(self, oracle: Any) -> None:
        """After a trial ends: past the budget, no further trial starts. On a
        worker of --hptune-workers the oracle is the chief's (a client without
        the trials): the chief keeps the budget (distributed.Chief)."""
        trials = getattr(oracle, "trials", None)
        if trials is None or oracle.max_trials is None:
            return
        if self.spent() and len(trials) < oracle.max_trials:
            oracle.max_trials = len(oracle.trials)  # the oracle stops at max_trials
            self.ended = True

    def report(self) -> dict[str, Any] | None:
        if self.max_time is None:
            return None
        return {"max_time": self.max_time, "ended_search": self.ended}
