"""The words the reports share, written from a search record's settings:
'2 of 3 trials', '3 executions', 'auto 2-10'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def trials_text(record: Mapping[str, Any]) -> str:
    """'2 trials' as run ('2 of 3 trials' when a search ran fewer than
    max_trials, e.g. a grid that ran out), '1 trial'."""
    planned = record["settings"]["max_trials"]
    ran = len(record.get("trials") or ()) or planned
    noun = "trial" if planned == 1 else "trials"
    return f"{ran} {noun}" if ran == planned else f"{ran} of {planned} {noun}"


def runs_text(settings: Mapping[str, Any]) -> str:
    """'3 executions', '1 execution' or 'auto 2-10 executions'."""
    text = executions_text(settings)
    return f"{text} execution" + ("" if text == "1" else "s")


def executions_text(settings: Mapping[str, Any]) -> str:
    """'3', or 'auto 2-10' (from a settings dict, as in the reports)."""
    if settings.get("executions_per_trial") == "auto":  # adaptive executions
        return f"auto {settings.get('min_executions')}-{settings.get('max_executions')}"
    return str(settings.get("executions_per_trial"))
