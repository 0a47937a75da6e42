"""The failure message of a search that fails its test: what failed, by how
much, the best trial and its executions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .code_errors import ends_in_failed_trial_error
from .compare import describe as describe_comparison
from .gates import describe as describe_gate
from .record import best_trial, completed_trials, direction_suffix, failed_trials, signed


def num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def describe_neighbour(n: dict[str, Any]) -> str:
    """'learning_rate 0.001 -> 0.0001: 0.8123 (12.3 % worse)'."""
    if n.get("reference") and n.get("error"):
        return f"the best configuration retrained from scratch: FAILED: {n['error']}"
    if n.get("reference"):
        return (
            f"the best configuration retrained from scratch: {n['mean']:.4f} (Hyperband "
            "continued it from an earlier round; the drops are measured from this)"
        )
    head = f"{n['name']} {num(n['value'])} -> {num(n['neighbour'])}: "
    if n.get("error"):
        return head + f"FAILED: {n['error']}"
    drop = n["drop"]
    # A drop that rounds to 0.0 % is "the same", never "0.0% better".
    how = f"{abs(drop):.1%} " + ("worse" if drop > 0 else "better") if round(abs(drop), 3) else "the same"
    return head + f"{n['mean']:.4f} ({how})"


def _fmt_scores(scores: Iterable[float]) -> str:
    return ", ".join(f"{s:.4f}" for s in scores)


def failure_message(record: dict[str, Any]) -> str | None:
    """Why this search fails its test, or None when it passes. Read from
    the search's record alone (the verdict's output), never from the
    engine's outcome."""
    head = f"hptune: search in {record['nodeid']}"
    if record["error"]:
        return f"{head} could not run: {record['error']}"
    best = best_trial(record)
    if best is None:
        return _nothing_completed(head, record)
    lines = []
    if record["stopped_reason"]:
        lines.append(f"{head} stopped early: {record['stopped_reason']}.")
        for trial in failed_trials(record):
            lines.append(f"  trial {trial['trial_id']}: {trial['message']}")
    comparison = record.get("comparison") or {}
    if comparison.get("status") in ("regressed", "inconclusive"):
        lines += _regressed(head, comparison, best)
    if any(not g["passed"] for g in record["gates"]):
        lines += _failed_gates(head, record, best)
    lines += _raised(head, record)
    return "\n".join(lines) or None


def _raised(head: str, record: dict[str, Any]) -> list[str]:
    """Trials whose build, fit or callback raised, beyond max_failed_trials:
    each with its configuration and its own traceback."""
    code_errors = record.get("code_errors") or {}
    ids = set(code_errors.get("trials") or ())
    raised = [t for t in record["trials"] if t["trial_id"] in ids]
    allowed = code_errors.get("allowed", 0)
    if len(raised) <= allowed:
        return []
    lines = [
        f"{head}: {len(raised)} trial(s) failed on an error raised by the model code, "
        f"more than max_failed_trials={allowed} tolerates (raise keras_tuner.errors.FailedTrialError "
        "to skip a configuration on purpose):"
    ]
    for trial in raised:
        lines.append(f"--- trial {trial['trial_id']} {trial['status']} {trial['hyperparameters']}:")
        lines.append(trial.get("traceback") or trial["message"] or "")
    return lines


def _nothing_completed(head: str, record: dict[str, Any]) -> str:
    failed = failed_trials(record)
    # No trial was judged: every completed one stopped short of the full budget.
    partial = completed_trials(record)
    if partial:
        full = (record.get("tuner_info") or {}).get("max_epochs")
        lines = [
            f"{head}: no trial completed at the full budget of {full} epochs "
            f"({len(partial)} completed at fewer epochs, {len(failed)} "
            "failed); the gates judge only full-budget trials. "
            + (
                "The time budget ended the search first: raise max_time."
                if (record.get("time_budget") or {}).get("ended_search")
                else "Raise max_trials or lower max_epochs."
            )
        ]
        for trial in failed:
            lines.append(f"--- trial {trial['trial_id']} {trial['status']}: {trial['message']}")
        return "\n".join(lines)
    lines = [f"{head}: no trial completed ({len(failed)} failed)."]
    if record["stopped_reason"]:
        lines.append(record["stopped_reason"] + ".")
    for trial in failed:
        reason = trial["message"] or "no reason recorded"
        lines.append(f"--- trial {trial['trial_id']} {trial['status']} {trial['hyperparameters']}: {reason}")
        traceback = trial.get("traceback")
        if traceback and not ends_in_failed_trial_error(traceback):
            lines.append(traceback)  # an unexpected error: its traceback
    return "\n".join(lines)


def _regressed(head: str, comparison: dict[str, Any], best: dict[str, Any]) -> list[str]:
    base = comparison["baseline"]
    what = "regressed against" if comparison["status"] == "regressed" else "could not show no drop against"
    lines = [f"{head} {what} its baseline ({comparison['path']}, {comparison['key']}):"]
    if comparison.get("inconclusive_reason"):
        lines.append(f"  {comparison['inconclusive_reason']}")
    lines.append(f"  {describe_comparison(comparison)}")
    anchor = comparison.get("anchor")
    if anchor:
        lines += [
            f"  anchor {anchor['hyperparameters']}, seeds {anchor['seeds']}:",
            f"    baseline   [{_fmt_scores(anchor['baseline'])}]",
            f"    this run   [{_fmt_scores(anchor['candidate'])}]",
            f"    difference [{', '.join(f'{d:+.4f}' for d in anchor['differences'])}]",
        ]
    else:
        lines += [
            f"  new      trial {best['trial_id']} {best['hyperparameters']}: [{_fmt_scores(best['scores'])}]",
            f"  baseline trial {base['best_trial_id']} {base['hyperparameters']}: [{_fmt_scores(base['scores'])}]",
        ]
    lines.append(f"  {comparison['method']}, confidence {comparison['confidence']}")
    return lines + [f"  note: {note}" for note in comparison.get("notes", ())]


def _gate_subjects(settings: dict[str, Any], selection: dict[str, Any] | None = None) -> dict[str, str]:
    """What each gate measures of the best trial, for the message; the
    interval's level is the selection-adjusted one when the best of several
    trials is judged."""
    level = f"{(selection or {}).get('interval_level', settings['confidence']) * 100:.4g}%"
    return {
        "max_std": "std across executions",
        "min_lower_bound": f"{level} interval's lower bound",
        "max_upper_bound": f"{level} interval's upper bound",
        "min_worst": "worst execution",
        "max_worst": "worst execution",
        "max_neighbour_drop": "worst one-step neighbour's relative drop",
        "min_near_best_share": f"share of trials within {settings['near_best']} of it",
    }


def _failed_gates(head: str, record: dict[str, Any], best: dict[str, Any]) -> list[str]:
    failed = [g for g in record["gates"] if not g["passed"]]
    objective = f"{record['objective']['name']}{direction_suffix(record['objective'])}"
    confirmation = record.get("confirmation")
    judged = f", judged on {len(confirmation['scores'])} confirmation runs" if confirmation else ""
    lines = [f"{head} failed {len(failed)} gate(s) on objective {objective}{judged}:"]
    whats = _gate_subjects(record["settings"], record.get("selection"))
    for gate in failed:
        what = whats.get(gate["name"], "mean")
        lines.append(f"  {gate['name']}: best trial {best['trial_id']} {what} {describe_gate(gate)}")
    lines.append(
        f"  best trial {best['trial_id']} {best['hyperparameters']}: scores "
        f"[{_fmt_scores(best['scores'])}], mean {best['mean']:.4f} +- {best['std']:.4f}"
    )
    if any(g["name"] == "max_neighbour_drop" for g in failed):
        lines += [f"  {describe_neighbour(n)}" for n in record.get("neighbours") or ()]
    if confirmation:
        c = confirmation
        lines.append(
            f"  confirmation runs: [{_fmt_scores(c['scores'])}], mean {c['mean']:.4f} "
            f"+- {c['std']:.4f} (tuned {c['tuned_mean']:.4f}, gap {signed(c['gap'])})"
        )
    return lines
