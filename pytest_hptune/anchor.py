"""The anchor of a baseline: its best configuration and the seeds of n
executions of it, which ``--hptune-compare`` trains again (verdict:
``verdict/paired.py``). Pure data and checks; the engine trains the fits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AnchorPlan:
    """The anchor fits a search is asked for, beside its trials.

    ``hyperparameters``/``seeds``: ``--hptune-compare``'s baseline anchor, to
    train again with exactly those seeds (execution k with seeds[k]); None
    when the baseline has no usable anchor. ``keep``: ``--hptune-save-baseline``,
    the executions of this search's best configuration to keep as the new
    baseline's anchor (0: not saving)."""

    hyperparameters: Mapping[str, Any] | None = None
    seeds: tuple[int, ...] = field(default=())
    keep: int = 0


def _active(entry: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return all(c["parent"] in values and values[c["parent"]] in c["values"] for c in entry.get("conditions") or ())


def _outside(entry: Mapping[str, Any], value: Any) -> bool:
    kind = entry.get("type")
    if kind == "Choice":
        return bool(value not in entry.get("values", ()))
    if kind == "Boolean":
        return not isinstance(value, bool)
    if kind == "Fixed":
        return bool(value != entry.get("value"))
    if kind in ("Int", "Float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return True
        low, high = entry.get("min"), entry.get("max")
        tolerance = 1e-9 * max(1.0, abs(value))
        if (low is not None and value < low - tolerance) or (high is not None and value > high + tolerance):
            return True
        step = entry.get("step")
        if kind == "Int" and step and entry.get("sampling", "linear") == "linear" and low is not None:
            return bool((value - low) % step != 0)
    return False


def misfit(values: Mapping[str, Any], space: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the anchor configuration ``values`` cannot be trained in this
    search space (``SearchResult.search_space``), or None when it fits."""
    names = {entry["name"] for entry in space}
    gone = sorted(set(values) - names)
    if gone:
        return f"{', '.join(map(repr, gone))} no longer in the search space"
    for entry in space:
        if not _active(entry, values):
            continue
        name = entry["name"]
        if name not in values:
            return f"the search space has a new hyperparameter {name!r} the anchor has no value for"
        if _outside(entry, values[name]):
            return f"{name}={values[name]!r} is outside the search space's {_range(entry)}"
    return None


def _range(entry: Mapping[str, Any]) -> str:
    if "values" in entry:
        return f"values {entry['values']}"
    if "min" in entry:
        return f"range {entry['min']}..{entry['max']}" + (f" step {entry['step']}" if entry.get("step") else "")
    return f"{entry.get('type', 'hyperparameter')} {entry.get('value', '')}".strip()


def from_entry(saved: Mapping[str, Any] | None) -> AnchorPlan | None:
    """The plan to train a baseline entry's anchor, or None without one."""
    anchor = (saved or {}).get("anchor")
    if not anchor:
        return None
    return AnchorPlan(dict(anchor["hyperparameters"]), tuple(int(s) for s in anchor["seeds"]))
