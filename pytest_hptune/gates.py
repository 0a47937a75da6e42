"""Gates: the thresholds a search's best trial must meet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import stats
from .result import TrialResult
from .settings import GATE_NAMES, Settings


@dataclass(frozen=True)
class GateResult:
    name: str
    threshold: float
    value: float | None  # None: undefined (an interval of one execution)
    passed: bool
    note: str | None = None  # why the value is undefined, when it is not the interval

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "threshold": self.threshold,
            "value": self.value,
            "passed": self.passed,
        }
        if self.note:
            out["note"] = self.note
        return out


def describe(gate: Mapping[str, Any]) -> str:
    """'0.9512 >= 0.9000 passed' for a gate record (``GateResult.to_dict()``)."""
    relation = ">=" if gate["name"].startswith("min_") else "<="
    if not gate["passed"]:
        relation = {">=": "<", "<=": ">"}[relation]
    verdict = "passed" if gate["passed"] else "FAILED"
    if gate["value"] is None:
        why = gate.get("note") or "an interval needs 2 or more executions"
        return f"undefined ({why}), threshold {gate['threshold']:.4f} {verdict}"
    return f"{gate['value']:.4f} {relation} {gate['threshold']:.4f} {verdict}"


def evaluate(
    settings: Settings,
    best: TrialResult,
    robustness: Mapping[str, float | None] | None = None,
    notes: Mapping[str, str] | None = None,
) -> list[GateResult]:
    """The gates asked for by ``settings``, applied to the best trial;
    ``robustness`` holds the observed values of the gates about the rest of
    the search (max_neighbour_drop, min_near_best_share)."""
    bounds = stats.interval(best.scores, settings.confidence)
    observed = {
        "min_score": best.mean,
        "max_score": best.mean,
        "max_std": best.std,
        # Undefined with one execution (None): the gate fails and says why.
        "min_lower_bound": bounds[0] if bounds else None,
        "max_upper_bound": bounds[1] if bounds else None,
        "min_worst": min(best.scores),
        "max_worst": max(best.scores),
        **(robustness or {}),
    }
    results = []
    for name in GATE_NAMES:
        if name not in observed:
            continue
        value = observed[name]
        threshold = getattr(settings, name)
        if threshold is None:
            continue
        if value is None:
            passed = False
        else:
            passed = value >= threshold if name.startswith("min_") else value <= threshold
        results.append(GateResult(name, threshold, value, passed, (notes or {}).get(name)))
    return results


# Gates on the mean: decided once the mean's interval excludes the threshold.
MEAN_GATES = ("min_score", "max_score", "min_lower_bound", "max_upper_bound")


def undecided(settings: Settings, scores) -> list[str]:
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
    names = [n for n in MEAN_GATES + ("max_std",) if getattr(settings, n) is not None]
    if len(scores) < 2 or (len(set(scores)) == 1 and len(scores) < settings.max_executions):
        # Identical scores (common with accuracies on small validation sets)
        # say nothing about the spread: the intervals would be one point.
        return names
    confidence = look_confidence(settings)
    mean_bounds = stats.interval(scores, confidence)
    std_bounds = stats.std_interval(scores, confidence)
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
