"""Which comparison decides (``--hptune-compare``): the anchored, paired one
(``paired``) when the baseline entry has an anchor and this search trained
it, else the search-level one (``compare.against``) with the reason shown.
The search-level result is always computed and reported; under the paired
verdict it is under ``search_level`` and does not decide.

``require_no_drop`` (non-inferiority): a comparison that is not regressed
but whose interval does not show the drop is smaller than ``max_drop``
(lower end at or below -max_drop) is ``inconclusive`` and fails the test,
with the minimum detectable drop in the reason.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from . import compare, paired

# What the reports read of the search-level dict at the top level is kept;
# these are its own, nested under "search_level" when the paired one decides.
_SHARED = ("key", "path", "baseline")


def _fallback(search: dict[str, Any], reason: str) -> dict[str, Any]:
    search["kind"] = "search"
    search["anchor_fallback"] = reason  # compare.describe shows it
    return search


def _why_unpaired(saved: dict[str, Any], record: dict[str, Any]) -> str | None:
    """Why the paired comparison cannot be made, or None."""
    if not saved.get("anchor"):
        return "the baseline entry has no anchor (saved before anchors were kept, or without one): save it again"
    mine = record.get("anchor")
    if not mine:
        return "this search trained no anchor fits (a tuner the test constructed is searched as it is)"
    if mine.get("unavailable"):
        return str(mine["unavailable"])
    if list(mine["seeds"]) != list(saved["anchor"]["seeds"]):
        return "the anchor fits used other seeds than the baseline's"
    return None


def against(baseline: compare.Baseline, record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The comparison entry of a record with its baseline entry."""
    search = compare.against(baseline, record, settings)
    if baseline.data is None or search["status"] == "broken":
        return search
    saved = baseline.data["entries"].get(search["key"])
    if saved is None or (search.get("cannot_compare") and "objective" in search["reason"]):
        return search  # no entry, or one for another objective: nothing to pair either
    reason = _why_unpaired(saved, record)
    result = None
    if reason is None:
        # --hptune-family=bonferroni: the paired verdict shares 1 - confidence
        # over the session's comparisons as the search-level one does.
        alpha = (1.0 - settings.confidence) / max(baseline.family, 1)
        try:
            result = paired.compare(
                record["anchor"]["scores"],
                saved["anchor"]["scores"],
                record["objective"]["direction"],
                settings.max_drop,
                1.0 - alpha,
            )
        except paired.CannotPair as exc:
            reason = f"the paired comparison is undefined: {exc}"
    if result is None:
        return _no_drop(_fallback(search, reason or ""), settings)
    return _no_drop(_paired_entry(result, search, saved, record), settings)


def _paired_entry(
    result: dict[str, Any], search: dict[str, Any], saved: dict[str, Any], record: dict[str, Any]
) -> dict[str, Any]:
    mine, theirs = record["anchor"], saved["anchor"]
    notes = result.pop("check_notes")
    if search.get("status") in ("ok", "regressed"):
        notes.append(f"search level (reported, not deciding): {compare.describe(search)}")
    elif search.get("reason"):
        notes.append(f"search level not compared: {search['reason']}")
    d = result.pop("differences")
    result.update(
        status="regressed" if result["regressed"] else "ok",
        key=search["key"],
        path=search["path"],
        baseline={k: saved[k] for k in ("scores", "mean", "std", "hyperparameters", "best_trial_id")},
        anchor={
            "hyperparameters": theirs["hyperparameters"],
            "seeds": list(theirs["seeds"]),
            "baseline": list(theirs["scores"]),
            "candidate": list(mine["scores"]),
            "differences": d,
            "trained": mine.get("trained"),
            "reused": mine.get("reused"),
        },
        search_level={k: v for k, v in search.items() if k not in _SHARED},
        alpha=1.0 - result["confidence"],
        notes=notes + [n for n in search.get("notes", ()) if n.startswith(("settings differ", "library versions"))],
    )
    if search.get("family"):
        result["family"] = dict(search["family"], alpha=result["alpha"])
    return result


def _no_drop(comparison: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """require_no_drop: an ok comparison whose interval does not exclude a
    drop of max_drop is inconclusive."""
    if not getattr(settings, "require_no_drop", False) or comparison.get("status") != "ok":
        return comparison
    if paired.inconclusive(comparison):
        mdd = comparison.get("mdd")
        power = f"; it could detect a drop of {mdd:.4f} with 80 % power" if mdd is not None else ""
        comparison["status"] = "inconclusive"
        comparison["inconclusive_reason"] = (
            f"require_no_drop: the interval's lower end {comparison['interval'][0]:+.4f} does not show the "
            f"drop is smaller than max_drop {comparison['max_drop']:g}{power}: add anchor executions "
            "(anchor_executions) or raise max_drop"
        )
    return comparison


def failing(comparison: dict[str, Any]) -> bool:
    """Whether this comparison fails its test."""
    return comparison.get("status") in ("regressed", "broken", "inconclusive")
