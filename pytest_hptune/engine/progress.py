"""After each trial: one progress report to the fixture's callback, if any."""

from __future__ import annotations

from ..result import COMPLETED
from .. import stats


def report_progress(tuner, trial) -> None:
    """After each trial: (done, total, trial id, status, its mean, best id,
    best mean) to the fixture's progress callback, if any."""
    callback = getattr(tuner, "hptune_progress", None)
    if callback is None:
        return
    try:
        direction = tuner.oracle.objective.direction
        means = {
            tid: stats.mean(s) for tid, s in tuner.hptune_scores.items() if s and tid in tuner.oracle.trials
            and tuner.oracle.trials[tid].status == COMPLETED
        }
        best = (max if direction == "max" else min)(means, key=means.get) if means else None
        callback(
            len(tuner.oracle.trials), tuner.oracle.max_trials, trial.trial_id, trial.status,
            means.get(trial.trial_id), best, means.get(best),
        )
    except Exception:  # progress is a courtesy: it never breaks a search
        pass
