"""Advice the gates can give after a search, beside their verdict:

* every execution scoring the same, with a ``max_std`` gate or a comparison
  (a warning): they read no spread;
* a ``max_std`` below the binomial floor of the validation set (an accuracy
  measured on n samples estimates the true accuracy only to about
  sqrt(p (1 - p) / n)): a warning (:class:`HptuneAdvice`). Across
  cross-validation folds the floor is in the spread itself, so the gate cannot
  be met reliably; on one fixed validation set the spread across seeds can be
  smaller, but the gate then judges differences the set cannot resolve;
* a ``max_std`` gate that passed although the std's confidence interval
  still reaches above it (too few executions to know): how many executions
  would show it;
* power analysis (Colas et al. 2018): how many executions per trial detect
  a drop of ``detect_drop`` in the mean with 80 % power, when fewer ran.

Light: imported with the plugin; SciPy is loaded by ``stats`` when used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import stats
from ..settings import Settings

POWER = 0.8


class HptuneAdvice(UserWarning):
    """A gate's threshold that the search's data cannot support (see the
    message). Turn it into an error with ``-W error::pytest_hptune.HptuneAdvice``."""


def _length(x: Any) -> int | None:
    """Rows of an array-like (NumPy, pandas, list; the first input of a dict
    or list of inputs); None for datasets and generators."""
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        x = x[0]
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) and shape[0] is not None:
        try:
            return int(shape[0])
        except (TypeError, ValueError):
            return None
    if isinstance(x, list):
        return len(x)
    return None


def validation_samples(
    settings: Settings, fit_args: Sequence[Any], fit_kwargs: dict[str, Any], folds: int | None
) -> int | None:
    """How many samples each execution's score is measured on, when the
    arguments say: ``validation_data``, ``validation_split`` (Keras validates
    on the last n - floor(n (1 - split)) rows), or a cross-validation fold."""
    x = fit_args[0] if fit_args else fit_kwargs.get("x", fit_kwargs.get("X"))
    if settings.tuner == "sklearn":
        n = _length(x)
        return n // folds if n and folds else None
    data = fit_kwargs.get("validation_data")
    if isinstance(data, (tuple, list)) and data:
        return _length(data[0])
    if settings.vary == "folds":  # each execution validates on one fold
        n = _length(x)
        return n // settings.first_executions if n else None
    split = fit_kwargs.get("validation_split")
    if isinstance(split, (int, float)) and 0 < split < 1:
        n = _length(x)
        if n:
            return n - int(math.floor(n * (1 - split)))
    return None


def _is_accuracy(settings: Settings) -> bool:
    if settings.tuner == "sklearn":
        return bool(settings.scoring == "accuracy")
    return settings.objective_name.endswith("accuracy")


# Advice that is also a warning (HptuneAdvice, attributed to the test), said
# first: what makes the gates' reading doubtful before it is read.
WARNINGS = ("identical_scores", "binomial_floor")


def compute(
    settings: Settings,
    scores: Sequence[float],
    samples: int | None,
    comparing: bool,
    trial_means: Sequence[float] = (),
    regressed: bool = False,
) -> list[dict[str, Any]]:
    """Advice on the judged scores (the best trial's, or its confirmation
    runs'): a list of {"kind", "text"}, the WARNINGS first. On a run that
    regressed against its baseline no advice suggests loosening a gate."""
    out = [
        a
        for a in (
            _identical(settings, scores, samples, comparing),
            _binomial_floor(settings, scores, samples, regressed),
        )
        if a
    ]
    std = stats.std(scores)
    if len(scores) < 2 or std is None or std == 0:
        return out
    power = _power(settings, scores, std, comparing)
    if comparing and len(trial_means) >= 2:
        power = _search_power(settings, scores, std, trial_means)
    return out + [a for a in (_std_undecided(settings, scores, std), power) if a]


def _identical(
    settings: Settings, scores: Sequence[float], samples: int | None, comparing: bool
) -> dict[str, Any] | None:
    """Every execution scored the same: nothing varied between them, so the
    spread that max_std or the comparison reads is no measurement (said
    only when one of them reads it)."""
    if len(scores) < 2 or max(scores) != min(scores) or not (settings.max_std is not None or comparing):
        return None
    why = "the executions did not vary: does the seed reach the model and the data order?"
    if samples and _is_accuracy(settings):
        why = (
            f"an accuracy on {samples} validation samples moves in steps of {1 / samples:.4f}, "
            "too coarse to show the executions' differences: validate on more samples"
        )
    return {
        "kind": "identical_scores",
        "text": (
            f"all {len(scores)} executions of the judged trial scored exactly {scores[0]:.4f}; {why} "
            "(max_std and the baseline comparison see no spread)"
        ),
    }


def _binomial_floor(
    settings: Settings, scores: Sequence[float], samples: int | None, regressed: bool = False
) -> dict[str, Any] | None:
    if settings.max_std is None or not samples or not _is_accuracy(settings):
        return None
    mean = stats.mean(scores)
    assert mean is not None  # judged scores: the best trial's or the confirmation's, never none
    floor = stats.binomial_floor(mean, samples)
    if settings.max_std >= floor:
        return None
    head = (
        f"max_std={settings.max_std:g} (from {settings.sources.get('max_std')}) is below "
        f"the binomial floor of an accuracy of {mean:.4f} measured on {samples} samples "
        f"({floor:.4f})"
    )
    if settings.tuner == "sklearn" or settings.vary != "seed":
        # Each fold (or hold-out) scores other samples: the floor is in the spread.
        each = "each fold" if settings.tuner == "sklearn" or settings.vary == "folds" else "each validation split"
        fix = "use more data per fold" if "fold" in each else "use a larger validation split"
        text = (
            f"{head}: {each} scores different samples, so the spread across them "
            f"carries that much sampling noise and the gate cannot be met reliably; "
            + (fix if regressed else f"raise max_std to {floor:.4f} or more, or {fix}")
        )
    else:
        # One validation set for every seed: the spread across seeds
        # can be smaller, but finer than the set can resolve.
        text = (
            f"{head}: the spread across seeds on this one validation set can be smaller, "
            f"but the set itself only resolves the accuracy to about {floor:.4f}, so the "
            f"gate judges differences it cannot measure; validate on more samples"
            + ("" if regressed else f" (or cross-validate), or raise max_std to {floor:.4f}")
        )
    return {"kind": "binomial_floor", "text": text}


def _std_undecided(settings: Settings, scores: Sequence[float], std: float) -> dict[str, Any] | None:
    if settings.max_std is None or std > settings.max_std:
        return None
    bounds = stats.std_interval(scores, settings.confidence)
    assert bounds is not None  # compute() asks only with two or more scores
    high = bounds[1]
    if high <= settings.max_std:
        return None
    needed = stats.executions_for_std(std, settings.max_std, settings.confidence)
    more = (
        f"about {needed} executions with this spread would show it"
        if needed
        else "no practical number of executions would show it"
    )
    return {
        "kind": "std_undecided",
        "text": (
            f"max_std passed on {len(scores)} executions, but the std's {settings.confidence:.0%} upper "
            f"bound ({high:.4f}) is above max_std={settings.max_std:g}: {more}"
        ),
    }


def _power(settings: Settings, scores: Sequence[float], std: float, comparing: bool) -> dict[str, Any] | None:
    if not ((settings.max_std is not None or comparing) and settings.detect_drop):
        return None
    n, drop = len(scores), settings.detect_drop
    power = stats.detection_power(std, drop, settings.confidence, n)
    if power >= POWER:
        return None
    needed = stats.executions_to_detect(std, drop, settings.confidence, POWER)
    how = (
        f"{needed} executions per trial detect it {POWER:.0%} of the time"
        if needed
        else "no practical number of executions detects it"
    )
    return {
        "kind": "power",
        "text": (
            f"with {n} executions and a std of {std:.4f}, a drop of {drop:g} in the mean "
            f"is detected {power:.0%} of the time at {settings.confidence:.0%} confidence; {how} "
            "(detect_drop sets the drop; Colas et al. 2018)"
        ),
    }


def _search_power(
    settings: Settings, scores: Sequence[float], std: float, means: Sequence[float]
) -> dict[str, Any] | None:
    """The search-level comparison's power: the spread between the trials'
    means beyond their execution noise (tau) counts too, and no number of
    executions takes it away."""
    if not settings.detect_drop:
        return None
    n, k, drop = len(scores), len(means), settings.detect_drop
    spread = max((stats.std(means) or 0.0) ** 2 - std**2 / n, 0.0) ** 0.5
    power = stats.search_detection_power(std, spread, drop, settings.confidence, n, k)
    if power >= POWER:
        return None
    needed = stats.executions_to_detect_search(std, spread, drop, settings.confidence, k, POWER)
    how = (
        f"{needed} executions per trial detect it about {POWER:.0%} of the time"
        if needed
        else f"no number of executions detects it {POWER:.0%} of the time: the spread between configurations "
        f"({spread:.4f}) alone hides it; the comparison of one configuration with the same seeds does not "
        "carry that spread"
    )
    return {
        "kind": "power",
        "text": (
            f"comparing searches of {k} trials x {n} executions (execution std {std:.4f}, spread between "
            f"configurations {spread:.4f}), a drop of {drop:g} in every configuration's mean is caught about "
            f"{power:.0%} of the time at {settings.confidence:.0%} confidence; {how} (detect_drop sets the drop)"
        ),
    }
