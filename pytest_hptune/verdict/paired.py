"""The anchored, paired comparison: the default verdict of ``--hptune-compare``.

The baseline entry keeps an *anchor*: its best configuration and the seeds
of n executions of it, with their scores. The candidate trains that same
configuration with exactly those seeds. Same configuration, same seeds: the
search's variance (which configurations were drawn, which won) is absent
from the comparison, and the share of the noise that the seed decides (the
initial weights, the order of the batches, the split under ``vary=``)
cancels out of each per-seed difference ``d_i = candidate_i - baseline_i``
(oriented so that higher is better).

The test: a one-sided **paired t-test** of "the candidate is worse by more
than ``max_drop``" (H0: mean d <= -max_drop) on the n differences, n - 1
degrees of freedom; ``regressed`` is p < 1 - ``confidence``. The printed
interval is two-sided at 1 - 2 (1 - ``confidence``) (90 % at 0.95): its
upper end is the test's one-sided bound, its lower end is what the
non-inferiority mode (``require_no_drop``) requires to be above -max_drop.

Why the t-test rather than a rank or permutation test: the exact sign-flip
permutation test and the Wilcoxon signed-rank test cannot reject at 5 %
with n <= 4 (their smallest one-sided p-value is 2^-n: 0.125 at n = 3,
0.0625 at n = 4) and stay coarse at n = 6 (multiples of 1/64): with 6
anchors the sign-flip test catches a drop of 1 sd of the differences 65 %
of the time, the t-test 68 % (40,000 normal draws). The t-test is exact
for normal differences; a per-seed difference of two fits of the same
configuration is a difference of two sums of many small effects, and the
t-test's one-sided rate at small n stays within a point of nominal for the
quantised differences of a finite validation set (accuracy moves in steps
of 1/m) and for heavy-tailed (t with 3 df) differences: measured in
``tests/test_paired.py`` (the fast grid, fixed seeds); on real reseeds by
``benchmarks/paired_calibration.py``.

All differences zero (the candidate reproduced every anchor fit to the
bit: a deterministic rerun of an unchanged model) is an exact rule, not a
test: nothing moved, so there is no evidence of a drop and the comparison is
not regressed (with ``max_drop`` >= 0 the observed difference 0 is inside
the tolerance); it is noted. A constant nonzero difference (every seed moved
by the same amount: with a coarse score, one step on every seed) has no
spread either: an exact sign test decides (p = 2^-n when all n lie below
-max_drop, so at least 5 anchors at 95 %), also noted. Its worst case is
the coarsest score: differences of -1, 0, +1 steps (a small validation
set), where the t-test's rate reaches 6.2 % at n = 6 and 6.6 % at n = 5
(200,000 draws; the worst share of steps, about 30 % each way); measured
in the tests too.

The minimum detectable drop (``mdd``): the smallest true drop that this
test, with this n and the observed sd of the differences, catches 80 % of
the time (``max_drop`` plus the noncentral-t effect at 80 % power).
SciPy is imported only when a comparison runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

METHOD = "one-sided paired t-test on the anchor's per-seed differences"
NO_SPREAD = "per-seed differences without spread (exact rule)"
POWER = 0.8


class CannotPair(ValueError):
    """The paired comparison is undefined; the message says why."""


def differences(candidate: Sequence[float], baseline: Sequence[float], direction: str) -> list[float]:
    """candidate_i - baseline_i, oriented so that higher is better."""
    if len(candidate) != len(baseline):
        raise CannotPair(f"the candidate trained {len(candidate)} anchor executions, the baseline kept {len(baseline)}")
    values = [float(c) - float(b) for c, b in zip(candidate, baseline)]
    if not all(math.isfinite(v) for v in values):
        raise CannotPair(f"the anchor scores are not all finite (differences {values})")
    if len(values) < 2:
        raise CannotPair(f"{len(values)} anchor execution: a paired test needs at least 2")
    sign = 1.0 if direction == "max" else -1.0
    return [sign * v for v in values]


def minimum_detectable_drop(sd: float, n: int, confidence: float, power: float = POWER) -> float | None:
    """The true mean drop (beyond ``max_drop``) the one-sided paired t-test
    at level 1 - ``confidence`` detects with probability ``power``, for
    differences of sd ``sd`` and n pairs: the delta solving
    P(T' < -t_{confidence, n-1}) = power, T' noncentral t with noncentrality
    delta sqrt(n) / sd. None when n < 2; 0 when sd is 0 (any drop shows)."""
    from scipy import optimize
    from scipy import stats as sps

    if n < 2 or not math.isfinite(sd):
        return None
    if sd <= 0:
        return 0.0
    df = n - 1
    critical = float(sps.t.ppf(confidence, df))

    def shortfall(effect: float) -> float:  # effect = delta / sd
        return float(sps.nct.sf(critical, df, effect * math.sqrt(n))) - power

    # The normal approximation brackets the root from below; widen upward.
    high = 2.0 * (critical + float(sps.norm.ppf(power))) / math.sqrt(n) + 1.0
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 0.0, high, xtol=1e-10)) * sd


def test(d: Sequence[float], max_drop: float, confidence: float) -> dict[str, Any]:
    """The paired test on oriented differences ``d`` (at least 2)."""
    from scipy import stats as sps

    n = len(d)
    mean = math.fsum(d) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in d) / (n - 1))
    notes: list[str] = []
    if sd <= 1e-12 * max(1.0, abs(mean)):
        # No spread: a sign test. Under a null symmetric about -max_drop, all
        # n differences below it has probability 2^-n.
        p_value = 0.5**n if mean < -max_drop else 1.0
        regressed = p_value < 1.0 - confidence
        if all(x == 0 for x in d):
            notes.append(
                "every anchor execution reproduced the baseline's score exactly: no evidence of a drop (exact rule)"
            )
        else:
            notes.append(
                f"every anchor execution moved by the same {mean:+.4g}: a sign test decides (p = 2^-n below -max_drop)"
            )
        return {
            "difference": mean,
            "interval": [mean, mean],
            "p_value": p_value,
            "regressed": bool(regressed),
            "df": None,
            "sd": 0.0,
            "method": NO_SPREAD,
            "mdd": None,  # no spread seen: no basis for a power figure
            "check_notes": notes,
        }
    df = n - 1
    se = sd / math.sqrt(n)
    q = float(sps.t.ppf(confidence, df))
    t = (mean + max_drop) / se
    return {
        "difference": mean,
        "interval": [mean - q * se, mean + q * se],
        "p_value": float(sps.t.cdf(t, df)),
        "regressed": bool(t < -q),
        "df": df,
        "sd": sd,
        "method": METHOD,
        "mdd": max_drop + (minimum_detectable_drop(sd, n, confidence) or 0.0),
        "check_notes": notes,
    }


def compare(
    candidate: Sequence[float],
    baseline: Sequence[float],
    direction: str,
    max_drop: float,
    confidence: float,
) -> dict[str, Any]:
    """The paired verdict of the anchor's scores; raises CannotPair."""
    d = differences(candidate, baseline, direction)
    result = test(d, max_drop, confidence)
    alpha = 1.0 - confidence
    result.update(
        kind="paired",
        interval_level=1.0 - 2.0 * alpha,
        confidence=confidence,
        max_drop=max_drop,
        differences=d,
    )
    return result


def inconclusive(comparison: dict[str, Any]) -> bool:
    """Non-inferiority (``require_no_drop``): the interval does not show the
    drop is smaller than max_drop (its lower end is at or below -max_drop)."""
    return not comparison["interval"][0] > -comparison["max_drop"]


def describe(comparison: dict[str, Any]) -> str:
    """One line for the reports."""
    low, high = comparison["interval"]
    level = round(comparison["interval_level"] * 100)
    anchor = comparison.get("anchor") or {}
    n = len(anchor.get("seeds") or comparison.get("differences") or ())
    verdict = {"regressed": "REGRESSED", "inconclusive": "INCONCLUSIVE"}.get(comparison["status"], "no regression")
    family = comparison.get("family") or {}
    if family.get("comparisons", 1) > 1:
        verdict += f" (Bonferroni over {family['comparisons']}: p <= {family['alpha']:.3g} needed)"
    mdd = comparison.get("mdd")
    return (
        f"paired on {n} anchor seeds: difference {comparison['difference']:+.4f} "
        f"({level}% CI {low:+.4f}..{high:+.4f}), p {comparison['p_value']:.3g}"
        + (f", detects a drop of {mdd:.4f} (80% power)" if mdd is not None else "")
        + f", max_drop {comparison['max_drop']:g}: {verdict}"
    )
