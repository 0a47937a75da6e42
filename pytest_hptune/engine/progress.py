"""After each trial: one progress report to the fixture's callback, if any."""

from __future__ import annotations

import logging

from .. import stats
from ..result import COMPLETED

log = logging.getLogger(__name__)


def report_progress(tuner, trial) -> None:
    """After each trial: (done, total, trial id, status, its mean, best id,
    best mean) to the fixture's progress callback, if any."""
    callback = getattr(tuner, "hptune_progress", None)
    if callback is None:
        return
    trials = tuner.oracle.trials
    means = {
        tid: mean
        for tid, s in tuner.hptune_scores.items()
        if s and tid in trials and trials[tid].status == COMPLETED and (mean := stats.mean(s)) is not None
    }
    pick = max if tuner.oracle.objective.direction == "max" else min
    best = pick(means, key=lambda tid: means[tid]) if means else None
    try:
        callback(
            len(trials),
            tuner.oracle.max_trials,
            trial.trial_id,
            trial.status,
            means.get(trial.trial_id),
            best,
            means.get(best),
        )
    except OSError as exc:  # a closed terminal: progress is a courtesy, the search goes on
        log.warning("hptune: progress line not shown (%s); no more progress lines", exc)
        tuner.hptune_progress = None
