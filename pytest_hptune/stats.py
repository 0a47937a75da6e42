"""Statistics of per-execution scores.

The standard library's ``statistics`` module covers mean and sample standard
deviation exactly (``fmean``/``stdev`` use exact summation), without importing
NumPy at plugin load; interval estimates that need distributions use SciPy.
"""

from __future__ import annotations

import statistics
from typing import Sequence


def mean(scores: Sequence[float]) -> float | None:
    return statistics.fmean(scores) if scores else None


def std(scores: Sequence[float]) -> float | None:
    """Sample standard deviation (ddof=1); 0.0 for a single score."""
    if not scores:
        return None
    if len(scores) == 1:
        return 0.0
    return statistics.stdev(scores)
