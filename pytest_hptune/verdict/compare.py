"""The regression check against a saved baseline (``--hptune-compare``).

What moves between a baseline run and a rerun of an unchanged model with
other seeds (any refactor that consumes randomness in another order is a
reseed) is more than the best trial's execution noise: the search drew other
configurations and kept the best of them. So the check is a one-sided
Welch-type t-test of "the new best trial's mean is worse than the
baseline's by more than ``max_drop``" whose standard error counts both:

* each side's best-trial execution noise, s^2 / n, and
* the search's own variance: the spread of the baseline's trial means
  beyond their execution noise (the new search's when the entry kept only
  its best trial), added to each side; not when both best trials have the
  same configuration (then the draws did not decide the best),

with Welch-Satterthwaite degrees of freedom. ``regressed`` is p < 1 -
``confidence``; the printed interval is the two-sided interval at
1 - 2 (1 - ``confidence``) (90 % at 0.95), whose upper end is the test's
one-sided bound: REGRESSED exactly when it lies below ``-max_drop``.

A comparison it cannot make is ``status: "missing"`` with
``cannot_compare: true`` and a reason (the gates alone judge; failed under
``--hptune-compare-strict``): a side with one execution (no spread to tell a
drop from noise), non-finite scores, or a baseline entry for another
objective or direction. The report also gives P(new > baseline) from the
Mann-Whitney U statistic. SciPy is imported only when a comparison runs.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import stats
from ..settings import SPEED_SETTINGS, VERDICT_SETTINGS
from .record import best_trial, signed

METHOD = "one-sided Welch t-test, search variance counted"
# The test is judged by its gates alone (never skipped); the reports say so.
NOT_COMPARED = "not compared: no baseline entry"
NO_SPREAD = "difference of the means (no spread at all)"


class CannotCompare(ValueError):
    """The comparison is undefined; the message says why."""


def describe(comparison: dict) -> str:
    """One line for the reports."""
    if comparison["status"] == "broken":
        return f"unusable baseline: {comparison['reason']}"
    if comparison["status"] == "missing":
        return comparison["reason"]  # "not compared: ..." or "cannot compare: ..."
    low, high = comparison["interval"]
    verdict = "REGRESSED" if comparison["regressed"] else "no regression"
    level = round(comparison.get("interval_level", comparison["confidence"]) * 100)
    return (
        f"vs baseline {comparison['baseline']['mean']:.4f}: difference "
        f"{signed(comparison['difference'])} ({level}% CI {signed(low)}..{signed(high)}), "
        f"P(improvement) {comparison['p_improvement']:.2f}, p {comparison['p_value']:.3g}, "
        f"max_drop {comparison['max_drop']:g}: {verdict}"
    )


def _check(name: str, scores: Sequence[float]) -> list[float]:
    values = [float(s) for s in scores]
    if not all(math.isfinite(v) for v in values):
        raise CannotCompare(f"cannot compare: the {name} scores are not all finite ({values})")
    if len(values) < 2:
        raise CannotCompare(
            f"cannot compare: the {name} best trial has {len(values)} execution; a drop cannot be told "
            "from noise without a spread (use executions_per_trial >= 2 on both sides)"
        )
    return values


# 1 / Phi^-1(3/4): the median absolute deviation of a normal sample, as its sd.
MAD_TO_SD = 1.4826


def _mean(scores: Sequence[float]) -> float:
    value = stats.mean(scores)
    assert value is not None, "scores are checked non-empty before"
    return value


def _std(scores: Sequence[float]) -> float:
    value = stats.std(scores)
    assert value is not None, "scores are checked non-empty before"
    return value


def search_variance(sides: Sequence[Sequence[Sequence[float]]]) -> tuple[float, int]:
    """The search's own variance of a best-trial mean, and its degrees of
    freedom: the spread of the trial means within each search (pooled over
    ``sides``, each a list of trials' per-execution scores, oriented) beyond
    what their execution noise explains; 0 with no search of 2+ trials.

    The spread is the median absolute deviation (scaled to a normal sd),
    not the sd: one diverged configuration (0.80 beside 0.97 and 0.95)
    would otherwise inflate it and hide any regression. With two trials the
    two agree within 10 %."""
    spread, df, noise = 0.0, 0, []
    for trials in sides:
        trials = [t for t in trials if len(t) >= 1 and all(math.isfinite(s) for s in t)]
        if len(trials) < 2:
            continue
        means = [_mean(t) for t in trials]
        centre = statistics.median(means)
        scale = MAD_TO_SD * statistics.median(abs(m - centre) for m in means)
        spread += scale**2 * (len(means) - 1)
        df += len(means) - 1
        noise += [_std(t) ** 2 / len(t) for t in trials if len(t) >= 2]
    if df == 0:
        return 0.0, 0
    return max(spread / df - (_mean(noise) if noise else 0.0), 0.0), df


def _test(difference: float, parts: list[tuple[float, int]], max_drop: float, confidence: float):
    """The one-sided t-test of "worse by more than max_drop" on a standard
    error made of ``parts`` (variance, degrees of freedom): (df, p, the
    interval at 1 - 2 alpha, regressed, method)."""
    from scipy import stats as sps

    variance = sum(v for v, _ in parts)
    if not (variance > 0 and math.isfinite(variance)):
        # Every execution of every trial scored the same on both sides: no
        # noise at all was seen, the means decide.
        regressed = difference < -max_drop
        return None, 0.0 if regressed else 1.0, difference, difference, regressed, NO_SPREAD
    se = math.sqrt(variance)
    df = 1.0 / sum((v / variance) ** 2 / d for v, d in parts if v > 0)  # Welch-Satterthwaite
    t = (difference + max_drop) / se
    q = float(sps.t.ppf(confidence, df))
    return df, float(sps.t.cdf(t, df)), difference - q * se, difference + q * se, t < -q, METHOD


def compare(
    scores: Sequence[float],
    baseline_scores: Sequence[float],
    direction: str,
    max_drop: float,
    confidence: float,
    *,
    trials: Sequence[Sequence[float]] | None = None,
    baseline_trials: Sequence[Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Did the new best trial regress against the baseline's?

    ``scores`` / ``baseline_scores``: the best trials' per-execution scores;
    ``trials`` / ``baseline_trials``: every judged trial's scores of each
    search (best included), for the search's own variance (None: the best
    trial alone). Scores are oriented so that higher is better (negated for
    a "min" objective); the difference is new minus baseline in that
    orientation. Raises CannotCompare where the test is undefined.
    """
    from scipy import stats as sps

    sign = 1.0 if direction == "max" else -1.0
    new = [sign * s for s in _check("new", scores)]
    old = [sign * s for s in _check("baseline", baseline_scores)]
    # The search's variance is a property of the unchanged model: estimated
    # from the baseline's trials (a regression that spreads the new trials
    # must not widen its own test); from the new search's when the baseline
    # kept only its best trial.
    sides = [[[sign * s for s in t] for t in group] for group in (baseline_trials, trials) if group]
    search, search_df = search_variance(sides[:1] if len(baseline_trials or ()) >= 2 else sides)
    alpha = 1.0 - confidence
    difference = _mean(new) - _mean(old)
    # Each side: its best trial's execution noise, plus the search's variance.
    parts = [
        (_std(new) ** 2 / len(new), len(new) - 1),
        (_std(old) ** 2 / len(old), len(old) - 1),
        (search, search_df),
        (search, search_df),
    ]
    df, p_value, low, high, regressed, method = _test(difference, parts, max_drop, confidence)
    if method == METHOD and not search_df:
        method = "one-sided Welch t-test"
    notes = []
    if sides and not search_df:
        notes.append("one trial per search: the search's own variance (which configurations were drawn) is not counted")
    u = sps.mannwhitneyu(new, old, alternative="two-sided").statistic
    return {
        "difference": difference,
        "interval": [low, high],
        "interval_level": 1.0 - 2.0 * alpha,
        "confidence": confidence,
        "p_value": p_value,
        "p_improvement": float(u) / (len(new) * len(old)),
        "max_drop": max_drop,
        "regressed": bool(regressed),
        "method": method,
        "df": df,
        "search_variance": search,
        "search_df": search_df,
        "check_notes": notes,
    }


def mismatches(saved: dict, record: dict, versions: dict, saved_versions: dict) -> list[str]:
    """Differences that make the comparison less meaningful (reported, not fatal)."""
    notes = []
    skip = VERDICT_SETTINGS + SPEED_SETTINGS
    changed = [
        f"{k}: {saved['settings'].get(k)!r} -> {v!r}"
        for k, v in record["settings"].items()
        if k not in skip and saved["settings"].get(k) != v
    ]
    if changed:
        notes.append("settings differ from the baseline's (" + ", ".join(changed) + ")")
    if saved_versions:
        moved = [f"{k} {saved_versions.get(k)} -> {v}" for k, v in versions.items() if saved_versions.get(k) != v]
        if moved:
            notes.append("library versions differ (" + ", ".join(moved) + ")")
    return notes


def key(nodeid: str, index: int) -> str:
    """Stable per search: the test id, plus the search's rank in the test."""
    return nodeid if index == 0 else f"{nodeid}#search{index + 1}"


def versions() -> dict[str, str]:
    """Library versions, read from package metadata (imports nothing heavy)."""
    from importlib import metadata

    found = {"backend": os.environ.get("KERAS_BACKEND", "tensorflow")}
    for name in ("keras", "keras-tuner", "tensorflow", "tensorflow-cpu", "jax", "scikit-learn"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


@dataclass(frozen=True)
class Baseline:
    """--hptune-compare's input: the file and its loaded data, or why it
    could not be loaded."""

    path: Path
    data: dict | None
    error: str | None = None
    broken: bool = False  # the file exists but cannot be used (missing: the gates alone judge)


def _judged(trials: list[dict], best: dict) -> list[list[float]]:
    """The scores of the trials judged with the best (same budget: Hyperband's
    partial trials are left out)."""
    return [
        list(t["scores"])
        for t in trials
        if t.get("status", "COMPLETED") == "COMPLETED" and t.get("budget") == best.get("budget") and t["scores"]
    ]


def _cannot(reason: str, name: str, path: Path) -> dict:
    return {"status": "missing", "cannot_compare": True, "reason": reason, "key": name, "path": str(path)}


def against(baseline: Baseline, record: dict, settings) -> dict:
    """The comparison entry of a record with its baseline entry."""
    name = key(record["nodeid"], record["search"])
    path = baseline.path
    if baseline.data is None:
        if baseline.broken:
            return {"status": "broken", "reason": baseline.error, "key": name, "path": str(path)}
        return {"status": "missing", "reason": f"{NOT_COMPARED} ({baseline.error})", "key": name, "path": str(path)}
    saved = baseline.data["entries"].get(name)
    if saved is None:
        return {
            "status": "missing",
            "reason": f"{NOT_COMPARED} ({name!r} is not in {path}: save it with --hptune-save-baseline)",
            "key": name,
            "path": str(path),
        }
    objective, theirs = record["objective"], saved.get("objective") or {}
    if (theirs.get("name"), theirs.get("direction")) != (objective["name"], objective["direction"]):
        return _cannot(
            f"cannot compare: the baseline entry {name!r} in {path} is for objective "
            f"{theirs.get('name')!r} ({theirs.get('direction')}), this search's is {objective['name']!r} "
            f"({objective['direction']}): save the baseline again",
            name,
            path,
        )
    best = best_trial(record)
    assert best is not None  # judge() compares only a search with a best trial
    saved_trials = saved.get("trials")  # absent from entries saved before it was kept
    # The same best configuration on both sides: which configurations the
    # searches drew did not decide the best, its executions' noise is the
    # whole of the difference's. Otherwise the search's variance counts too.
    same = best["hyperparameters"] == saved.get("hyperparameters")
    try:
        comparison = compare(
            best["scores"],
            saved["scores"],
            objective["direction"],
            settings.max_drop,
            settings.confidence,
            trials=None if same else _judged(record["trials"], best),
            baseline_trials=[list(t["scores"]) for t in saved_trials] if saved_trials and not same else None,
        )
    except CannotCompare as exc:
        return _cannot(f"{exc} ({path}, {name})", name, path)
    notes = comparison.pop("check_notes")
    if same:
        notes.append("the same best configuration as the baseline's: its executions' noise alone is counted")
    elif not saved_trials:
        notes.append(
            "the baseline entry keeps only its best trial: the search's variance is estimated from this "
            "search's trials alone"
        )
    comparison["same_configuration"] = same
    comparison.update(
        status="regressed" if comparison["regressed"] else "ok",
        key=name,
        path=str(path),
        baseline={k: saved[k] for k in ("scores", "mean", "std", "hyperparameters", "best_trial_id")},
        notes=notes + mismatches(saved, record, versions(), baseline.data.get("versions") or {}),
    )
    return comparison
