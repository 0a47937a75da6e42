"""Sensitivity of the best configuration: its one-step neighbours in the
search space, the relative drop of each, and the share of trials near the
best. Pure logic on the search-space records (``SearchResult.search_space``);
``engine/followup.py`` trains the neighbours. Hand-written: the neighbourhood follows
Keras Tuner's own notion of a step (a multiplicative step for log sampling),
which no library knows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# A linear Float without a step moves by this share of its range.
FLOAT_MOVE = 0.1


def neighbours(entry: Mapping[str, Any], value: Any) -> list[Any]:
    """The values one step away from ``value`` for the hyperparameter
    described by ``entry`` (a ``search_space`` record), inside its range,
    lower one first:

    * Choice: the neighbouring values in the declared order;
    * Boolean: the other value;
    * Int/Float with linear sampling: -step and +step (a Float without a step:
      a tenth of its range);
    * Int/Float with log sampling: / step and x step (no step: x0.5 and x2),
      as Keras Tuner's log sampling steps multiply;
    * Fixed: none.
    """
    kind = entry["type"]
    if kind == "Choice":
        values = list(entry["values"])
        if value not in values:
            return []
        i = values.index(value)
        return [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]
    if kind == "Boolean":
        return [not value]
    if kind not in ("Int", "Float"):
        return []
    low, high = entry["min"], entry["max"]
    step = entry.get("step")
    if entry.get("sampling") == "log":
        factor = step if step and step > 1 else 2
        moved = [value / factor, value * factor]
    else:
        if not step:
            step = 1 if kind == "Int" else (high - low) * FLOAT_MOVE
        moved = [value - step, value + step]
    out = []
    for candidate in moved:
        v = min(max(candidate, low), high)
        if kind == "Int":
            v = int(round(v))
        if v != value and v not in out:
            out.append(v)
    return out


def relative_drop(best_mean: float, other_mean: float, direction: str) -> float:
    """How much worse ``other_mean`` is than ``best_mean``, relative to the
    best's magnitude (0.05: 5 % worse; negative: better). With a best of 0
    the drop is absolute."""
    worse = best_mean - other_mean if direction == "max" else other_mean - best_mean
    scale = abs(best_mean)
    return worse / scale if scale > 0 else worse


def near_best_share(means: Sequence[float], best_mean: float, epsilon: float) -> float:
    """The share of trials (the best included) whose mean is within
    ``epsilon`` of the best's: a plateau rather than a needle."""
    if not means:
        return math.nan
    return sum(abs(m - best_mean) <= epsilon for m in means) / len(means)
