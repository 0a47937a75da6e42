"""Per-execution scores kept next to Keras Tuner's ``trial.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..atomic import write_text

SCORES_FILE = "hptune-scores.json"


def save_scores(tuner: Any, trial_id: str, scores: list[float]) -> None:
    """Keep a trial's per-execution scores next to Keras Tuner's trial.json,
    so that a resumed search still has them (Keras Tuner keeps the mean
    only). Written atomically."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    write_text(path, json.dumps([float(s) for s in scores]))


MESSAGE_FILE = "hptune-failure.txt"


def save_message(tuner: Any, trial: Any) -> None:
    """A failed trial's reason next to its trial.json: Keras Tuner's gRPC
    protocol does not carry it from a worker to the chief."""
    if trial.message:
        write_text(Path(tuner.get_trial_dir(trial.trial_id)) / MESSAGE_FILE, trial.message)


def load_message(tuner: Any, trial: Any) -> str | None:
    """The trial's failure reason: the oracle's, else the one a worker saved."""
    if trial.message:
        return str(trial.message)
    try:
        return (Path(tuner.get_trial_dir(trial.trial_id)) / MESSAGE_FILE).read_text()
    except OSError:
        return None


def read_scores(tuner: Any, trial_id: str, oracle_score: float | None = None) -> tuple[float, ...]:
    """A trial's saved scores; raises ValueError saying why they cannot be
    used. With ``oracle_score`` (Keras Tuner's score in the trial's
    trial.json, the mean of the executions' scores), their mean must match it."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(saved, list) or not saved:
        raise ValueError(f"{path} holds no scores")
    # Numbers only, as the baseline loader takes them: not "0.9", not true.
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in saved):
        raise ValueError(f"{path} holds something other than numbers")
    scores = tuple(float(s) for s in saved)
    if not all(math.isfinite(s) for s in scores):
        raise ValueError(f"{path} holds a score that is not finite")
    if oracle_score is not None and math.isfinite(oracle_score):
        mean = math.fsum(scores) / len(scores)
        if not math.isclose(mean, oracle_score, rel_tol=1e-6, abs_tol=1e-9):
            raise ValueError(
                f"{path} does not match trial.json: the scores' mean is {mean!r}, Keras Tuner saved {oracle_score!r}"
            )
    return scores


def load_scores(tuner: Any, trial_id: str) -> tuple[float, ...]:
    """The trial's scores: this run's, else those saved by an earlier run
    (checked when a search resumes), else none."""
    scores = getattr(tuner, "hptune_scores", {})
    if trial_id in scores:
        return tuple(scores[trial_id])
    try:
        return read_scores(tuner, trial_id)
    except ValueError:
        return ()
