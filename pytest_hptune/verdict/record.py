"""The record of one search: the JSON-serialisable unit every report
consumes, built from the search's outcome and the gates' verdict."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import stats
from ..result import COMPLETED, SearchResult, trial_order
from ..sensitivity import near_best_share
from ..settings import VARIES, Settings, tuner_name
from .code_errors import keeps_traceback

if TYPE_CHECKING:
    from .gates import GateResult


def build_record(
    nodeid: str,
    settings: Settings,
    result: SearchResult | None,
    gates: Sequence[GateResult],
    error: str | None,
    duration: float,
    directory: str,
) -> dict[str, Any]:
    """The JSON-serialisable record of one search (the report's unit)."""
    objective = (
        {"name": result.objective.name, "direction": result.objective.direction}
        if result
        else {"name": settings.objective_name, "direction": _direction(settings)}
    )
    trials = []
    if result is not None:
        everything = {t.trial_id: t for t in result.trials + result.partial + result.failed}
        for trial_id in sorted(everything, key=trial_order):
            entry = everything[trial_id].to_dict()
            if keeps_traceback(entry["message"]):
                entry["traceback"] = entry["message"].rstrip()  # the failure message prints it
            entry["message"] = last_line(entry["message"])
            bounds = stats.interval(entry["scores"], settings.confidence) if entry["scores"] else None
            entry["interval"] = list(bounds) if bounds else None
            trials.append(entry)
    return {
        "nodeid": nodeid,
        "tuner": tuner_name(settings.tuner),
        "objective": objective,
        "settings": _settings(settings, result, trials),
        "varied": [] if _counted(result) else list(VARIES["sklearn" if settings.tuner == "sklearn" else settings.vary]),
        "sources": dict(settings.sources),
        "trials": trials,
        "best_trial_id": result.best.trial_id if result and result.best else None,
        "gates": [g.to_dict() for g in gates],
        "passed": error is None
        and result is not None
        and result.best is not None
        and result.stopped_reason is None
        and all(g.passed for g in gates),
        "error": error,
        "stopped_reason": result.stopped_reason if result else None,
        "fits": sum(len(t["scores"]) for t in trials),
        "reused_fits": result.reused_fits if result else None,
        "backend": result.backend if result else None,
        "duration_s": round(duration, 3),
        "directory": directory,
        "search_space": result.search_space if result else [],
        "tuner_info": result.tuner_info if result else {},
        "resume": result.resume if result else None,
        "time_budget": result.time_budget if result else None,
        "confirmation": _confirmation(result),
        "near_best": _near_best(settings, result),
        "neighbours": result.neighbours if result else None,
        "expected_best": _expected_best(settings, result),
    }


def _settings(settings: Settings, result: SearchResult | None, trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The resolved settings; executions_per_trial as counted from the
    trials' scores when the tuner's run_trial, not the setting, decided them
    (tuner_info "executions" says how): '1', or '1-3' when trials differ."""
    values = settings.as_dict()
    if _counted(result):
        counts = sorted({len(t["scores"]) for t in trials if t["scores"]})
        if counts:
            values["executions_per_trial"] = counts[0] if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return values


def _counted(result: SearchResult | None) -> bool:
    """Whether the tuner, not the plugin, decided a trial's executions (and
    what differs between them)."""
    return result is not None and bool((result.tuner_info or {}).get("executions"))


def _direction(settings: Settings) -> str | None:
    """The direction a search that never ran would have used, where known."""
    if settings.objective is None:
        return "min"  # Keras Tuner's default objective
    return settings.direction or getattr(settings.objective, "direction", None)


def _judged_means(result: SearchResult) -> list[float]:
    """The judged trials' means (a judged trial has scores, so a mean)."""
    means = []
    for trial in result.trials:
        assert trial.mean is not None
        means.append(trial.mean)
    return means


def _near_best(settings: Settings, result: SearchResult | None) -> dict[str, Any] | None:
    """How many of the judged trials are within near_best of the best."""
    if not result or not result.best:
        return None
    means = _judged_means(result)
    best = result.best.mean
    assert best is not None  # the best trial is judged: it has scores
    share = near_best_share(means, best, settings.near_best)
    return {"epsilon": settings.near_best, "share": share, "near": round(share * len(means)), "of": len(means)}


def robustness(settings: Settings, result: SearchResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """Observed values (and notes when undefined) of the gates about the
    search around the best trial."""
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    if settings.min_near_best_share is not None:
        near = _near_best(settings, result)
        assert near is not None  # judged searches only: the result has a best trial
        if near["of"] < 2:
            values["min_near_best_share"] = None
            notes["min_near_best_share"] = f"{near['of']} trial judged: a share needs 2 or more"
        else:
            values["min_near_best_share"] = near["share"]
    if settings.max_neighbour_drop is not None:
        neighbours = result.neighbours
        failed = [n for n in neighbours or () if n.get("error")]
        if neighbours is None:
            values["max_neighbour_drop"] = None
            notes["max_neighbour_drop"] = "the neighbours were not trained"
        elif failed:
            values["max_neighbour_drop"] = None
            first = failed[0]
            notes["max_neighbour_drop"] = (
                f"the best configuration retrained from scratch failed: {first['error']}"
                if first.get("reference")
                else f"neighbour {first['name']}={first['neighbour']!r} failed to train: {first['error']}"
            )
        else:
            # No neighbour at all (every hyperparameter Fixed): nothing drops.
            values["max_neighbour_drop"] = max((n["drop"] for n in neighbours), default=0.0)
    return values, notes


def _expected_best(settings: Settings, result: SearchResult | None) -> dict[str, Any] | None:
    """Random search only (the formula assumes independent draws): the
    expected best trial mean at smaller and larger budgets."""
    if settings.tuner != "random" or not result or len(result.trials) < 2:
        return None
    means = _judged_means(result)
    n = len(means)
    budgets = sorted({1, max(1, n // 2), n, 2 * n, 4 * n})
    return {str(k): stats.expected_best(means, k, result.objective.direction) for k in budgets}


def _confirmation(result: SearchResult | None) -> dict[str, Any] | None:
    if not result or not result.confirmation or not result.best:
        return None
    mean, tuned = stats.mean(result.confirmation), result.best.mean
    assert mean is not None and tuned is not None  # both have scores
    return {
        "scores": list(result.confirmation),
        "mean": mean,
        "std": stats.std(result.confirmation),
        "tuned_mean": tuned,
        "gap": mean - tuned,
    }


def last_line(message: str | None) -> str | None:
    if not message:
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return None
    # "keras_tuner.src.errors.FailedTrialError: why" -> "why" (the expected
    # way for a trial to fail); "pkg.mod.ValueError: why" -> "ValueError: why"
    line = re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+(?:Error|Exception)\b)", "", lines[-1])
    return line.removeprefix("FailedTrialError: ")


def judged_trials(trials: list[dict[str, Any]], best: dict[str, Any]) -> list[dict[str, Any]]:
    """The trial entries judged with the best one: completed, with scores,
    at the best's budget (Hyperband's partial trials are left out). What a
    comparison compares and what a baseline entry keeps."""
    return [t for t in trials if t["status"] == COMPLETED and t.get("budget") == best.get("budget") and t["scores"]]


def completed_trials(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's completed trials, in trial order."""
    return [t for t in record["trials"] if t["status"] == COMPLETED]


def failed_trials(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's failed trials, in trial order."""
    return [t for t in record["trials"] if t["status"] != COMPLETED]


def best_trial(record: dict[str, Any]) -> dict[str, Any] | None:
    """The best trial's entry of a record (None when no trial completed)."""
    return next((t for t in record["trials"] if t["trial_id"] == record["best_trial_id"]), None)


def signed(value: float, digits: int = 4) -> str:
    """A difference with its sign, '+0.0123' or '-0.0123'; one that rounds
    to zero is '0.0000', never '-0.0000'."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def direction_suffix(objective: dict[str, Any]) -> str:
    """' (max)' or ' (min)' after an objective's name; nothing while the
    direction is unknown (a search that stopped before settling it)."""
    return f" ({objective['direction']})" if objective.get("direction") else ""
