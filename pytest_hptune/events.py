"""What the engine tells a listener while a search runs (the progress line
in ``reports/progress.py`` is one). Neutral ground: the engine emits these,
the reports read them, neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TrialFinished:
    """One trial ended: ``done`` of ``total`` trials the oracle knows (a
    resumed search's reused ones too), this trial's mean score (None when
    it has none, e.g. failed), and the best completed trial so far."""

    done: int
    total: int | None
    trial_id: str
    status: str
    mean: float | None
    best_id: str | None
    best_mean: float | None


class SearchListener(Protocol):
    """Receives a search's events. An OSError it raises (a closed terminal)
    stops the events, never the search."""

    def trial_finished(self, event: TrialFinished) -> None: ...
