"""Judging one search: the gates, the advice, the adaptive summary and the
baseline comparison, applied to the engine's complete outcome. Nothing here
calls back into the engine; the result is the search's record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import adaptive
from ..result import SearchResult, TrialResult
from ..settings import Settings
from . import advice, compare, gates
from .record import build_record, robustness


def judged_trial(result: SearchResult | None) -> TrialResult | None:
    """What the gates judge: the best trial, or its confirmation runs."""
    if not result or not result.best:
        return None
    best = result.best
    if result.confirmation:
        # The gates judge the confirmation runs, not the lucky tuned scores.
        return TrialResult(best.trial_id, best.hyperparameters, tuple(result.confirmation), best.status)
    return best


def judge(
    nodeid: str,
    index: int,
    settings: Settings,
    result: SearchResult | None,
    error: str | None,
    duration: float,
    directory: str,
    fit_data: tuple[Sequence[Any], dict] = ((), {}),
    baseline: compare.Baseline | None = None,
) -> dict:
    """The record of one search, with its verdict (``passed``)."""
    judged = judged_trial(result)
    verdicts = []
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        values, notes = robustness(settings, result)
        verdicts = gates.evaluate(settings, judged, values, notes, result.objective.direction)
    record = build_record(nodeid, settings, result, verdicts, error, duration, directory)
    record["search"] = index
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        if not result.confirmation and len(result.trials) >= 2:
            # The best of several trials is a maximum: biased upward.
            record["selection"] = {"trials": len(result.trials), "optimistic": True}
        if settings.adaptive and not result.confirmation:
            record["adaptive"] = {
                "executions": len(judged.scores),
                "undecided": adaptive.undecided(settings, judged.scores),
                "topped_up": result.topped_up,
            }
    if baseline is not None and record["best_trial_id"] is not None:
        record["comparison"] = compare.against(baseline, record, settings)
        if record["comparison"]["status"] in ("regressed", "broken"):
            record["passed"] = False
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        folds = (result.tuner_info or {}).get("folds")
        samples = advice.validation_samples(settings, fit_data[0], fit_data[1], folds)
        regressed = (record.get("comparison") or {}).get("status") == "regressed"
        record["advice"] = advice.compute(settings, judged.scores, samples, baseline is not None, regressed)
    return record
