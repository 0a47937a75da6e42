"""Gates: the thresholds a search's best trial must meet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import stats
from ..result import TrialResult
from ..settings import GATE_NAMES, Settings


@dataclass(frozen=True)
class GateResult:
    name: str
    threshold: float
    value: float | None  # None: undefined (an interval or a std of one execution)
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


def interval_level(confidence: float, trials: int) -> float:
    """The interval gates' level when they judge the best of ``trials``
    trials (not fresh confirmation runs): Bonferroni over the trials,
    1 - (1 - confidence) / trials. The best of K configurations whose true
    mean sits at the threshold passes a bound gate at the plain level 6 % of
    the time at K=3 and 13 % at K=10 (nominal 2.5 %); with this level at most
    the nominal rate, whichever configuration was selected
    (benchmarks/simulate.py)."""
    return 1.0 - (1.0 - confidence) / max(trials, 1)


def evaluate(
    settings: Settings,
    best: TrialResult,
    robustness: Mapping[str, float | None] | None = None,
    notes: Mapping[str, str] | None = None,
    direction: str = "max",
    selected_from: int = 1,
) -> list[GateResult]:
    """The gates asked for by ``settings``, applied to the best trial;
    ``robustness`` holds the observed values of the gates about the rest of
    the search (max_neighbour_drop, min_near_best_share). The worst
    execution is the objective's worst: the lowest score of a "max"
    objective, the highest of a "min" one. ``selected_from``: the trials the
    judged one was selected from (1 for fresh confirmation runs): the
    interval gates then use :func:`interval_level`."""
    bounds = stats.interval(best.scores, interval_level(settings.confidence, selected_from))
    notes = dict(notes or {})
    if bounds and bounds[0] == bounds[1]:
        # Identical scores (a quantised accuracy on a small validation set)
        # say nothing about the spread: a zero-width interval would pass
        # any bound gate. Undefined, with the reason.
        bounds = None
        for name in ("min_lower_bound", "max_upper_bound"):
            notes.setdefault(
                name,
                f"all {len(best.scores)} executions scored the same: the interval cannot be "
                "estimated; run more executions or validate on more samples",
            )
    worst = min(best.scores) if direction == "max" else max(best.scores)
    spread = best.std if len(best.scores) >= 2 else None
    if spread is None:
        # One score has no spread: its std of 0.0 would pass any max_std.
        notes.setdefault(
            "max_std",
            f"a std needs 2 or more executions, the best trial has {len(best.scores)}; "
            "set executions_per_trial >= 2 (or confirm >= 2), or remove max_std",
        )
    observed = {
        "min_score": best.mean,
        "max_score": best.mean,
        # Undefined with one execution (None): the gate fails and says why.
        "max_std": spread,
        # Undefined with one execution (None): the gate fails and says why.
        "min_lower_bound": bounds[0] if bounds else None,
        "max_upper_bound": bounds[1] if bounds else None,
        "min_worst": worst,
        "max_worst": worst,
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
        results.append(GateResult(name, threshold, value, passed, notes.get(name)))
    return results
