"""executions_per_trial='auto': whether a trial's verdict is decided yet.

Pure statistics on the scores (no Keras): the engine asks it whether to run
one more execution, the verdict reports which gates are still undecided."""

from __future__ import annotations

from collections.abc import Sequence

from . import stats
from .settings import Settings

# Gates on the mean: decided once the mean's interval excludes the threshold.
MEAN_GATES = ("min_score", "max_score", "min_lower_bound", "max_upper_bound")


def undecided(settings: Settings, scores: Sequence[float]) -> list[str]:
    """The gates whose verdict on these scores is not statistically decided
    at ``settings.confidence`` (executions_per_trial='auto' adds executions
    while any is):

    * gates on the mean (min/max_score and the interval bounds): the
      threshold lies inside the mean's Student-t interval;
    * max_std: the threshold lies inside the chi-square interval of the std;
    * all scores identical (below max_executions): nothing is known of the
      spread yet, every gate is undecided.

    The worst-execution gates never ask for more executions: more of them can
    only lower the worst score, so a failure is final and a pass is judged on
    the executions run.

    Each look uses the confidence ``1 - (1 - c) / looks`` (Bonferroni over the
    max - min + 1 looks one trial can get), so that stopping at the first
    decided look errs no more often than ``1 - c`` overall: repeated looks at
    a fixed level would decide wrongly more often (optional stopping)."""
    names = [n for n in (*MEAN_GATES, "max_std") if getattr(settings, n) is not None]
    if len(scores) < 2 or (len(set(scores)) == 1 and len(scores) < settings.max_executions):
        # Identical scores (common with accuracies on small validation sets)
        # say nothing about the spread: the intervals would be one point.
        return names
    confidence = look_confidence(settings)
    mean_bounds = stats.interval(scores, confidence)
    std_bounds = stats.std_interval(scores, confidence)
    assert mean_bounds is not None and std_bounds is not None  # two or more scores
    out = []
    for name in names:
        low, high = std_bounds if name == "max_std" else mean_bounds
        if low < getattr(settings, name) < high:
            out.append(name)
    return out


def look_confidence(settings: Settings) -> float:
    """The per-look confidence of executions_per_trial='auto' (see undecided)."""
    looks = max(1, settings.max_executions - settings.min_executions + 1)
    return 1 - (1 - settings.confidence) / looks
