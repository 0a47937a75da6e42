"""The regression check against a saved baseline (``--hptune-compare``).

The check is a one-sided Welch t-test on the per-execution scores (scipy):
a search regressed when, with probability ``confidence``, its best trial's
mean is worse than the baseline's by more than ``max_drop``. The report also
gives the difference of the means with its Welch interval and the
probability of improvement P(new > baseline) from the Mann-Whitney U
statistic. SciPy is imported only when a comparison runs.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import stats
from ..settings import VERDICT_SETTINGS


def describe(comparison: dict) -> str:
    """One line for the reports."""
    if comparison["status"] == "missing":
        return f"no baseline: {comparison['reason']}"
    low, high = comparison["interval"]
    verdict = "REGRESSED" if comparison["regressed"] else "no regression"
    level = round(comparison["confidence"] * 100)
    return (
        f"vs baseline {comparison['baseline']['mean']:.4f}: difference "
        f"{comparison['difference']:+.4f} ({level}% CI {low:+.4f}..{high:+.4f}), "
        f"P(improvement) {comparison['p_improvement']:.2f}, p {comparison['p_value']:.3g}, "
        f"max_drop {comparison['max_drop']:g}: {verdict}"
    )


def compare(
    scores: list[float],
    baseline_scores: list[float],
    direction: str,
    max_drop: float,
    confidence: float,
) -> dict[str, Any]:
    """Did the new best trial regress against the baseline's?

    Scores are oriented so that higher is better (negated for a "min"
    objective); the difference is new minus baseline in that orientation.
    """
    from scipy import stats as sps

    sign = 1.0 if direction == "max" else -1.0
    new = [sign * s for s in scores]
    old = [sign * s for s in baseline_scores]
    difference = stats.mean(new) - stats.mean(old)
    alpha = 1.0 - confidence
    varies = len(new) >= 2 and len(old) >= 2 and (stats.std(new) > 0 or stats.std(old) > 0)
    if varies:
        shifted = [s + max_drop for s in new]
        with warnings.catch_warnings():
            # Nearly identical scores: SciPy warns of precision loss in the
            # moments; the test is still the right answer (and a user's
            # -W error must not turn the comparison into a crash).
            warnings.simplefilter("ignore", RuntimeWarning)
            p_value = float(sps.ttest_ind(shifted, old, equal_var=False, alternative="less").pvalue)
            interval = sps.ttest_ind(new, old, equal_var=False).confidence_interval(confidence)
        low, high = float(interval.low), float(interval.high)
    else:
        # No spread to test against (one execution, or identical scores):
        # the means decide.
        p_value = 0.0 if difference < -max_drop else 1.0
        low = high = difference
    u = sps.mannwhitneyu(new, old, alternative="two-sided").statistic
    return {
        "difference": difference,
        "interval": [low, high],
        "confidence": confidence,
        "p_value": p_value,
        "p_improvement": float(u) / (len(new) * len(old)),
        "max_drop": max_drop,
        "regressed": p_value < alpha,
        "method": "one-sided Welch t-test" if varies else "difference of the means",
    }


def mismatches(saved: dict, record: dict, versions: dict, saved_versions: dict) -> list[str]:
    """Differences that make the comparison less meaningful (reported, not fatal)."""
    notes = []
    skip = VERDICT_SETTINGS
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


def against(baseline: Baseline, record: dict, settings) -> dict:
    """The comparison entry of a record with its baseline entry."""
    name = key(record["nodeid"], record["search"])
    path = baseline.path
    if baseline.data is None:
        return {"status": "missing", "reason": baseline.error, "key": name, "path": str(path)}
    saved = baseline.data["entries"].get(name)
    if saved is None:
        return {
            "status": "missing",
            "reason": f"no entry {name!r} in {path}: save one with --hptune-save-baseline",
            "key": name,
            "path": str(path),
        }
    best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
    comparison = compare(
        best["scores"], saved["scores"], record["objective"]["direction"],
        settings.max_drop, settings.confidence,
    )
    comparison.update(
        status="regressed" if comparison["regressed"] else "ok",
        key=name,
        path=str(path),
        baseline={k: saved[k] for k in ("scores", "mean", "std", "hyperparameters", "best_trial_id")},
        notes=mismatches(saved, record, versions(), baseline.data.get("versions") or {}),
    )
    return comparison
