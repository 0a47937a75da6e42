"""Per-execution scores kept next to Keras Tuner's ``trial.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..atomic import write_text

SCORES_FILE = "hptune-scores.json"


def save_scores(tuner, trial_id: str, scores: list[float]) -> None:
    """Keep a trial's per-execution scores next to Keras Tuner's trial.json,
    so that a resumed search still has them (Keras Tuner keeps the mean
    only). Written atomically."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    write_text(path, json.dumps([float(s) for s in scores]))


MESSAGE_FILE = "hptune-failure.txt"


def save_message(tuner, trial) -> None:
    """A failed trial's reason next to its trial.json: Keras Tuner's gRPC
    protocol does not carry it from a worker to the chief."""
    if trial.message:
        write_text(Path(tuner.get_trial_dir(trial.trial_id)) / MESSAGE_FILE, trial.message)


def load_message(tuner, trial) -> str | None:
    """The trial's failure reason: the oracle's, else the one a worker saved."""
    if trial.message:
        return str(trial.message)
    try:
        return (Path(tuner.get_trial_dir(trial.trial_id)) / MESSAGE_FILE).read_text()
    except OSError:
        return None


def read_scores(tuner, trial_id: str) -> tuple[float, ...]:
    """A trial's saved scores; raises ValueError saying why they cannot be used."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(saved, list) or not saved:
        raise ValueError(f"{path} holds no scores")
    try:
        scores = tuple(float(s) for s in saved)
    except (TypeError, ValueError):
        raise ValueError(f"{path} holds something other than numbers") from None
    if not all(math.isfinite(s) for s in scores):
        raise ValueError(f"{path} holds a score that is not finite")
    return scores


def load_scores(tuner, trial_id: str) -> tuple[float, ...]:
    """The trial's scores: this run's, else those saved by an earlier run
    (checked when a search resumes), else none."""
    scores = getattr(tuner, "hptune_scores", {})
    if trial_id in scores:
        return tuple(scores[trial_id])
    try:
        return read_scores(tuner, trial_id)
    except ValueError:
        return ()
