"""Per-execution scores kept next to Keras Tuner's ``trial.json``."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_text


SCORES_FILE = "hptune-scores.json"


def save_scores(tuner, trial_id: str, scores: list[float]) -> None:
    """Keep a trial's per-execution scores next to Keras Tuner's trial.json,
    so that a resumed search still has them (Keras Tuner keeps the mean
    only). Written atomically."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    write_text(path, json.dumps([float(s) for s in scores]))


def load_scores(tuner, trial_id: str) -> tuple[float, ...]:
    if trial_id in tuner.hptune_scores:
        return tuple(tuner.hptune_scores[trial_id])
    try:
        saved = json.loads((Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE).read_text())
        return tuple(float(s) for s in saved)
    except (OSError, ValueError, TypeError):
        return ()
