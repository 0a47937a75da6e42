"""Each search's key figures as JUnit XML properties (``--junitxml``).

The fixture hands each record over (``state.PENDING_RECORDS``); when pytest
makes the test's report, the session's reporter (``reports/session.py``)
adds these to the item's ``user_properties`` (pytest's public channel for
``record_property``), so they reach the XML, and travel with the report
under pytest-xdist.
"""

from __future__ import annotations

import json
from typing import Any

from ..verdict.record import best_trial, direction_suffix


def properties(record: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) pairs for one search record; its ``search`` numbers the
    searches of one test (the first has no suffix)."""
    index = record.get("search", 0)
    prefix = "hptune" if index == 0 else f"hptune{index + 1}"
    best = best_trial(record)
    objective = record["objective"]
    completed = sum(1 for t in record["trials"] if t["status"] == "COMPLETED")
    pairs: list[tuple[str, Any]] = [
        ("tuner", record["tuner"]),
        ("objective", f"{objective['name']}{direction_suffix(objective)}"),
        ("trials", f"{completed}/{len(record['trials'])} completed"),
        ("passed", record["passed"]),
        ("duration_s", record["duration_s"]),
        ("fits", record["fits"]),
    ]
    if best is not None:
        pairs += [
            ("best_trial", best["trial_id"]),
            ("best_mean", round(best["mean"], 6)),
            ("best_std", round(best["std"], 6)),
            ("best_scores", ",".join(f"{s:.6g}" for s in best["scores"])),
            ("best_hyperparameters", json.dumps(best["hyperparameters"], sort_keys=True)),
        ]
    for gate in record["gates"]:
        verdict = "passed" if gate["passed"] else "FAILED"
        value = "undefined" if gate["value"] is None else f"{gate['value']:.6g}"
        pairs.append((f"gate_{gate['name']}", f"{value} vs {gate['threshold']:.6g} {verdict}"))
    comparison = record.get("comparison")
    if comparison:
        pairs.append(("baseline", comparison["status"]))
        if comparison.get("reason"):  # "not compared: no baseline entry (...)", "cannot compare: ..."
            pairs.append(("baseline_reason", comparison["reason"]))
        if comparison["status"] not in ("missing", "broken"):
            low, high = comparison["interval"]
            pairs += [
                ("baseline_kind", comparison.get("kind", "search")),
                ("baseline_difference", round(comparison["difference"], 6)),
                ("baseline_interval", f"{low:.6g}..{high:.6g}"),
                ("baseline_p_value", round(comparison["p_value"], 6)),
            ]
            if comparison.get("p_improvement") is not None:
                pairs.append(("baseline_p_improvement", round(comparison["p_improvement"], 4)))
            if comparison.get("mdd") is not None:
                pairs.append(("baseline_mdd", round(comparison["mdd"], 6)))
            if comparison.get("family"):
                pairs.append(("baseline_alpha", round(comparison["family"]["alpha"], 6)))
    if record.get("error"):
        pairs.append(("error", record["error"]))
    if record.get("stopped_reason"):
        pairs.append(("stopped_reason", record["stopped_reason"]))
    return [(f"{prefix}.{name}", value) for name, value in pairs]
