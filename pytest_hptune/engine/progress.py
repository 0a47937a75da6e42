"""After each trial: one ``TrialFinished`` event to the search's listener,
if any (the fixture passes the progress line of ``reports/progress.py``)."""

from __future__ import annotations

import logging
from typing import Any

from .. import stats
from ..events import TrialFinished
from ..result import COMPLETED
from .storage import load_scores

log = logging.getLogger(__name__)


def completed_means(tuner: Any) -> dict[str, float]:
    """Each completed trial's mean: this run's scores, and those of the
    trials a resumed search reused (or that other workers ran), from disk."""
    trials = tuner.oracle.trials
    means: dict[str, float] = {}
    for tid, trial in trials.items():
        if trial.status != COMPLETED:
            continue
        mean = stats.mean(load_scores(tuner, tid))
        if mean is not None:
            means[tid] = mean
    return means


def report_progress(tuner: Any, trial: Any) -> None:
    """After each trial: a TrialFinished event to the search's listener
    (``tuner.hptune_progress``), if any."""
    listener = getattr(tuner, "hptune_progress", None)
    if listener is None:
        return
    trials = tuner.oracle.trials
    means = completed_means(tuner)
    pick = max if tuner.oracle.objective.direction == "max" else min
    best = pick(means, key=lambda tid: means[tid]) if means else None
    event = TrialFinished(
        done=len(trials),
        total=tuner.oracle.max_trials,
        trial_id=trial.trial_id,
        status=trial.status,
        mean=means.get(trial.trial_id),
        best_id=best,
        best_mean=None if best is None else means[best],
    )
    try:
        listener.trial_finished(event)
    except OSError as exc:  # a closed terminal: progress is a courtesy, the search goes on
        log.warning("hptune: progress line not shown (%s); no more progress lines", exc)
        tuner.hptune_progress = None
