"""Judging one search: the gates, the advice, the adaptive summary and the
baseline comparison, applied to the engine's complete outcome. Nothing here
calls back into the engine; the result is the search's record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import adaptive
from ..result import SearchResult, TrialResult
from ..settings import Settings
from . import advice, compare, comparison, gates
from .code_errors import code_errors
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


def lost_trials(result: SearchResult | None) -> dict[str, Any] | None:
    """--hptune-workers: trials never scored because their worker died. Any
    of them may have held the best configuration, so the verdict on the
    others comes with this warning (an advice item, in the summary and the
    JSON), rather than a silent pass."""
    if result is None:
        return None
    lost = set((result.tuner_info or {}).get("lost_trials") or ())
    trials = [t for t in result.failed if t.trial_id in lost]
    if not trials:
        return None
    what = "; ".join(f"trial {t.trial_id} {t.hyperparameters} ({t.message})" for t in trials)
    return {
        "kind": "lost_trials",
        "text": f"never scored, so not judged: {what}; any of them may have been the best: the verdict "
        f"judges the {len(result.trials)} trial(s) that completed; rerun the test to score them",
        "trials": [t.trial_id for t in trials],
    }


def judge(
    nodeid: str,
    index: int,
    settings: Settings,
    result: SearchResult | None,
    error: str | None,
    duration: float,
    directory: str,
    fit_data: tuple[Sequence[Any], dict[str, Any]] = ((), {}),
    baseline: compare.Baseline | None = None,
) -> dict[str, Any]:
    """The record of one search, with its verdict (``passed``)."""
    judged = judged_trial(result)
    verdicts = []
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        values, notes = robustness(settings, result)
        # The best of K trials is selected: the interval gates judge it at the
        # Bonferroni level over K; confirmation runs are fresh (K = 1).
        selected = 1 if result.confirmation else len(result.trials)
        verdicts = gates.evaluate(settings, judged, values, notes, result.objective.direction, selected)
    record = build_record(nodeid, settings, result, verdicts, error, duration, directory)
    record["search"] = index
    if result is not None:
        _code_errors(record, settings, result)
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        _selection_and_adaptive(record, settings, result, judged)
    if result is not None and (result.anchor is not None or result.best_anchor is not None):
        record["anchor"], record["best_anchor"] = result.anchor, result.best_anchor
    if baseline is not None and record["best_trial_id"] is not None:
        record["comparison"] = comparison.against(baseline, record, settings)
        if comparison.failing(record["comparison"]):
            record["passed"] = False
    if judged:
        assert result is not None  # judged_trial finds no trial without a result
        record["advice"] = _advice(record, settings, result, judged, fit_data, baseline is not None)
    lost = lost_trials(result)
    if lost:
        record.setdefault("advice", []).append(lost)
    return record


def _code_errors(record: dict[str, Any], settings: Settings, result: SearchResult) -> None:
    """Failed trials whose model code raised: more than max_failed_trials fail the search."""
    raised = code_errors(result.failed)
    record["code_errors"] = {"trials": [t.trial_id for t in raised], "allowed": settings.max_failed_trials}
    if len(raised) > settings.max_failed_trials:
        record["passed"] = False


def _selection_and_adaptive(
    record: dict[str, Any], settings: Settings, result: SearchResult, judged: TrialResult
) -> None:
    """What the gates' reading depends on: the best of several trials
    (biased upward), and what executions_per_trial="auto" left undecided."""
    if result.confirmation:
        return
    if len(result.trials) >= 2:
        record["selection"] = {
            "trials": len(result.trials),
            "optimistic": True,
            "interval_level": gates.interval_level(settings.confidence, len(result.trials)),
            "adjustment": "bonferroni",
        }
    if settings.adaptive:
        undecided = adaptive.undecided(settings, judged.scores)
        record["adaptive"] = {"executions": len(judged.scores), "undecided": undecided, "topped_up": result.topped_up}
        if settings.min_score is not None and "min_score" in undecided:
            record["adaptive"]["coin_flip"] = (
                f"min_score is still undecided after {len(judged.scores)} executions: the mean sits "
                "within its interval of the threshold, so this verdict is a coin flip at the threshold"
            )


def _advice(
    record: dict[str, Any],
    settings: Settings,
    result: SearchResult,
    judged: TrialResult,
    fit_data: tuple[Sequence[Any], dict[str, Any]],
    comparing: bool,
) -> list[dict[str, Any]]:
    folds = (result.tuner_info or {}).get("folds")
    samples = advice.validation_samples(settings, fit_data[0], fit_data[1], folds)
    means = [t.mean for t in result.trials if t.mean is not None] if not result.confirmation else []
    regressed = (record.get("comparison") or {}).get("status") == "regressed"
    return advice.compute(settings, judged.scores, samples, comparing, means, regressed=regressed)
