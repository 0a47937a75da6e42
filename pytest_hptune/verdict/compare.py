"""The search-level regression check against a saved baseline
(``--hptune-compare``): is the best the new search found worse than the best
the baseline's search found, by more than ``max_drop``?

What moves between a baseline run and a rerun of an unchanged model with
other seeds (any refactor that consumes randomness in another order is a
reseed) is more than the best trial's execution noise: the search drew
other configurations and kept the best of them. So the difference of the
two best means is judged against its null distribution simulated from the
two searches' own trials (:mod:`.searchnull`: execution noise and the spread
between configurations estimated from the trials, each side's own budget of
K trials x n executions, the best of each taken); not against a model with
a fixed number of degrees of freedom. ``regressed`` is p <= alpha (alpha =
1 - ``confidence``, divided by the session's comparisons under
``--hptune-family=bonferroni``); the printed interval is the two-sided one at
1 - 2 alpha (90 % at 0.95) for the shift of the candidate's searches, whose
upper end is the test's one-sided bound: REGRESSED exactly when it lies
below ``-max_drop``. ``mdd`` is the drop caught with 80 % power;
``p_improvement`` the probability that a new search of the candidate beats
a new search of the baseline, with its interval.

Under executions_per_trial="auto" every trial is compared on its first
min_executions executions (later ones ran because of the scores).

A comparison it cannot make is ``status: "missing"`` with
``cannot_compare: true`` and a reason (the gates alone judge; failed under
``--hptune-compare-strict``): a side with one execution, one trial a side of
different configurations (the spread between configurations cannot be
estimated), scores that never vary within a trial (quantised: no execution
noise to estimate), non-finite scores, a baseline entry without its trials,
or one for another objective or direction. SciPy and NumPy are imported only
when a comparison runs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import SPEED_SETTINGS, VERDICT_SETTINGS, Settings
from .record import best_trial, judged_trials, signed

METHOD = "best-of-K difference against its simulated null (both sides' budgets, spread from the trials)"
# The test is judged by its gates alone (never skipped); the reports say so.
NOT_COMPARED = "not compared: no baseline entry"


class CannotCompare(ValueError):
    """The comparison is undefined; the message says why."""


def describe(comparison: dict[str, Any]) -> str:
    """One line for the reports."""
    if comparison["status"] == "broken":
        return f"unusable baseline: {comparison['reason']}"
    if comparison["status"] == "missing":
        return str(comparison["reason"])  # "not compared: ..." or "cannot compare: ..."
    if comparison.get("kind") == "paired":
        from .paired import describe as describe_paired

        return describe_paired(comparison)
    low, high = comparison["interval"]
    verdict = {"regressed": "REGRESSED", "inconclusive": "INCONCLUSIVE"}.get(comparison["status"], "no regression")
    level = round(comparison.get("interval_level", comparison["confidence"]) * 100)
    family = comparison.get("family") or {}
    if family.get("comparisons", 1) > 1:
        verdict += f" (Bonferroni over {family['comparisons']}: p <= {family['alpha']:.3g} needed)"
    improvement = ""
    if comparison.get("p_improvement") is not None:
        improvement = f"P(new search beats baseline's) {comparison['p_improvement']:.2f}, "
    mdd = comparison.get("mdd")
    power = f", detectable drop {mdd:.4f}" if mdd is not None and math.isfinite(mdd) else ""
    unpaired = comparison.get("anchor_fallback")
    return (
        (f"search level, not paired ({unpaired}): " if unpaired else "")
        + f"vs baseline {comparison['baseline']['mean']:.4f}: difference "
        f"{signed(comparison['difference'])} ({level}% CI {signed(low)}..{signed(high)}), "
        f"{improvement}p {comparison['p_value']:.3g}{power}, "
        f"max_drop {comparison['max_drop']:g}: {verdict}"
    )


def _finite(name: str, trials: Sequence[Sequence[float]]) -> list[list[float]]:
    if not all(math.isfinite(float(v)) for t in trials for v in t):
        raise CannotCompare(f"cannot compare: the {name} scores are not all finite ({[list(t) for t in trials]})")
    return [[float(v) for v in t] for t in trials]


def _side(
    name: str, best: Sequence[float], trials: Sequence[Sequence[float]] | None, leading: int | None
) -> tuple[list[list[float]], int, int]:
    """A side's trials, each cut to the side's common number of leading
    executions (``leading``, else the fewest any trial has: a count that did
    not depend on the scores), and the index of its best trial by those."""
    best_list = _finite(name, [best])[0]
    group = [list(t) for t in trials or () if t and all(math.isfinite(float(v)) for v in t)]
    if not group:
        group = [best_list]
    group = [[float(v) for v in t] for t in group]
    n = min(len(t) for t in group)
    if leading is not None:
        n = min(n, leading)
    if n < 2:
        raise CannotCompare(
            f"cannot compare: the {name} best trial has {n} execution; a drop cannot be told "
            "from noise without a spread (use executions_per_trial >= 2 on both sides)"
        )
    cut = [t[:n] for t in group]
    means = [statistics.fmean(t) for t in cut]
    return cut, n, max(range(len(cut)), key=means.__getitem__)


def _refuse(old: list[list[float]], new: list[list[float]], same_configuration: bool) -> float:
    """The within-trial sum of squares, or CannotCompare where the
    search-level test is undefined."""
    ss_w = sum((v - statistics.fmean(t)) ** 2 for t in old + new for v in t)
    if not ss_w > 0:
        raise CannotCompare(
            "cannot compare: every execution of each trial scored the same on both sides (quantised "
            "scores): the execution noise cannot be estimated; run more executions or validate on more samples"
        )
    if len(old) == 1 and len(new) == 1 and not same_configuration:
        raise CannotCompare(
            "cannot compare: one trial on each side, different configurations: how far configurations "
            "differ (the search's own spread) cannot be estimated from one trial a side; use max_trials >= 2"
        )
    return ss_w


def _seed(*groups: Sequence[Sequence[float]]) -> int:
    """The Monte Carlo draws' seed, from the data: the same scores always give
    the same verdict."""
    import zlib

    return zlib.crc32(repr([[[round(v, 12) for v in t] for t in g] for g in groups]).encode())


def compare(
    scores: Sequence[float],
    baseline_scores: Sequence[float],
    direction: str,
    max_drop: float,
    confidence: float,
    *,
    trials: Sequence[Sequence[float]] | None = None,
    baseline_trials: Sequence[Sequence[float]] | None = None,
    same_configuration: bool = False,
    leading: tuple[int | None, int | None] = (None, None),
    family: int = 1,
) -> dict[str, Any]:
    """Is the best the new search found worse than the best the baseline's
    search found, by more than ``max_drop``?

    ``scores`` / ``baseline_scores``: the best trials' per-execution scores;
    ``trials`` / ``baseline_trials``: every judged trial's scores of each
    search (best included; None: the best trial alone). ``leading``: how many
    leading executions of each trial to compare (baseline, new), for
    executions_per_trial="auto" (min_executions: a count the scores did not
    decide). ``same_configuration``: one trial on each side, the same
    configuration (no search spread). ``family``: the comparisons of the
    session sharing 1 - ``confidence`` (Bonferroni). Scores are oriented so
    that higher is better; the difference is new minus baseline. The null
    distribution is :mod:`.searchnull`'s. Raises CannotCompare where the
    test is undefined."""
    import numpy as np

    from . import searchnull

    sign = 1.0 if direction == "max" else -1.0
    old, n_b, best_b = _side("baseline", baseline_scores, baseline_trials, leading[0])
    new, n_c, best_c = _side("new", scores, trials, leading[1])
    old = [[sign * v for v in t] for t in old]
    new = [[sign * v for v in t] for t in new]
    if sign < 0:  # the best by the oriented means
        best_b = max(range(len(old)), key=lambda i: statistics.fmean(old[i]))
        best_c = max(range(len(new)), key=lambda i: statistics.fmean(new[i]))
    ss_w = _refuse(old, new, same_configuration)
    single = len(old) == 1 and len(new) == 1
    df_w = sum(len(t) - 1 for t in old + new)
    base_means = np.array([[statistics.fmean(t) for t in old]])
    cand_means = np.array([[statistics.fmean(t) for t in new]])
    rng = np.random.default_rng(_seed(old, new))
    null = searchnull.null_draws(base_means, n_b, cand_means, n_c, np.array([ss_w]), df_w, rng, no_search_spread=single)
    alpha = (1.0 - confidence) / max(family, 1)
    difference = float(cand_means[0, best_c] - base_means[0, best_b])
    p_value = float(searchnull.p_values(np.array([difference + max_drop]), null)[0])
    low = difference - float(searchnull.upper(null, alpha)[0])
    high = difference - float(searchnull.critical(null, alpha)[0])
    df_t = len(old) + len(new) - 2
    improvement = _improvement(null[0], cand_means[0], base_means[0], alpha)
    notes = []
    if (len(old), n_b) != (len(new), n_c):
        notes.append(
            f"budgets differ (baseline {len(old)} trials x {n_b} executions, new {len(new)} x {n_c}): "
            "the null distribution simulates each side's own budget"
        )
    return {
        "kind": "search",
        "difference": difference,
        "interval": [low, high],
        "interval_level": 1.0 - 2.0 * alpha,
        "confidence": confidence,
        "alpha": alpha,
        "p_value": p_value,
        "p_improvement": improvement[0],
        "p_improvement_interval": improvement[1],
        "max_drop": max_drop,
        "mdd": max_drop + float(searchnull.detectable(null, alpha)[0]),
        "regressed": searchnull.significant(p_value, alpha, null.shape[1]),
        "method": METHOD,
        "df": df_t,
        "df_executions": df_w,
        "budgets": {"baseline": [len(old), n_b], "new": [len(new), n_c]},
        "search_spread": _spread(base_means[0], cand_means[0], ss_w / df_w, (n_b, n_c)),
        "draws": null.shape[1],
        "check_notes": notes,
    }


def _spread(base: Any, cand: Any, sigma2: float, n: tuple[int, int]) -> float | None:
    """The estimated sd of the configurations' true means (tau), or None
    with one trial a side."""
    df_t = len(base) + len(cand) - 2
    if df_t == 0:
        return None
    ss_t = float(((base - base.mean()) ** 2).sum() + ((cand - cand.mean()) ** 2).sum())
    share = ((len(base) - 1) / n[0] + (len(cand) - 1) / n[1]) / df_t
    return math.sqrt(max(ss_t / df_t - sigma2 * share, 0.0))


def _improvement(null: Any, cand: Any, base: Any, alpha: float) -> tuple[float | None, list[float] | None]:
    """The search-level probability of improvement: P(a new search of the
    candidate beats a new search of the baseline), the null's searches with
    the candidate shifted by the estimated shift of its trials' location,
    with the interval of that shift (Student-t at 1 - 2 alpha) carried
    through. None with one trial a side."""
    from scipy import stats as sps

    df_t = len(base) + len(cand) - 2
    if df_t == 0:
        return None, None
    shift = float(cand.mean() - base.mean())
    ss_t = float(((base - base.mean()) ** 2).sum() + ((cand - cand.mean()) ** 2).sum())
    se = math.sqrt(ss_t / df_t * (1 / len(base) + 1 / len(cand)))
    q = float(sps.t.ppf(1 - alpha, df_t))

    def share(d: float) -> float:
        return float((null + d > 0).mean())

    return share(shift), [share(shift - q * se), share(shift + q * se)]


def _percent(rate: float) -> str:
    return f"{rate * 100:.3g}%"


def family_line(records: Sequence[dict[str, Any]]) -> str | None:
    """The session's line about its comparisons taken together: how many,
    and the family-wise false-alarm rate they allow (Bonferroni's bound: the
    sum of the rates each comparison holds)."""
    made = [r["comparison"] for r in records if (r.get("comparison") or {}).get("status") in ("ok", "regressed")]
    if not made:
        return None
    bound = min(1.0, sum(c.get("alpha", 1.0 - c["confidence"]) for c in made))
    family = made[0].get("family")
    count = f"{len(made)} comparison{'s' if len(made) > 1 else ''} with the baseline"
    if family:
        return (
            f"{count}, Bonferroni over {family['comparisons']} (each at {family['alpha']:.3g}): "
            f"family-wise false-alarm rate at most {_percent(bound)}"
        )
    if len(made) == 1:
        return f"{count}: false-alarm rate at most {_percent(bound)}"
    alpha = 1.0 - made[0]["confidence"]
    return (
        f"{count}, each at {_percent(alpha)}: family-wise false-alarm rate up to {_percent(bound)} "
        f"(--hptune-family=bonferroni holds it at {_percent(alpha)})"
    )


def mismatches(
    saved: dict[str, Any], record: dict[str, Any], versions: dict[str, Any], saved_versions: dict[str, Any]
) -> list[str]:
    """Differences that make the comparison less meaningful (reported, not fatal)."""
    notes = []
    skip = VERDICT_SETTINGS + SPEED_SETTINGS
    changed = [
        f"{k}: {saved['settings'].get(k)!r} -> {v!r}"
        for k, v in record["settings"].items()
        if k not in skip and saved["settings"].get(k) != v
    ]
    if changed:
        notes.append("settings differ from the baseline's (" + ", ".join(changed) + ")")
    if saved_versions:
        moved = [f"{k} {saved_versions.get(k)} -> {v}" for k, v in versions.items() if saved_versions.get(k) != v]
        if moved:
            notes.append("library versions differ (" + ", ".join(moved) + ")")
    return notes


def key(nodeid: str, index: int) -> str:
    """Stable per search: the test id, plus the search's rank in the test."""
    return nodeid if index == 0 else f"{nodeid}#search{index + 1}"


def versions(backend: str | None = None) -> dict[str, str]:
    """Library versions, read from package metadata (imports nothing heavy),
    and Keras's backend as the engine found it (a record's "backend";
    left out when unknown)."""
    from importlib import metadata

    found = {"backend": backend} if backend else {}
    for name in ("keras", "keras-tuner", "tensorflow", "tensorflow-cpu", "jax", "scikit-learn"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


@dataclass(frozen=True)
class Baseline:
    """--hptune-compare's input: the file and its loaded data, or why it
    could not be loaded."""

    path: Path
    data: dict[str, Any] | None
    error: str | None = None
    broken: bool = False  # the file exists but cannot be used (missing: the gates alone judge)
    family: int = 1  # --hptune-family=bonferroni: the session's comparisons sharing 1 - confidence


def _leading(settings: dict[str, Any]) -> int | None:
    """How many leading executions of each trial a side compares: its
    min_executions under executions_per_trial="auto" (the later ones ran
    because of the scores), else all."""
    if settings.get("executions_per_trial") == "auto":
        return int(settings.get("min_executions") or 2)
    return None


def _judged(trials: list[dict[str, Any]], best: dict[str, Any]) -> list[list[float]]:
    """The scores of the trials judged with the best (record.judged_trials)."""
    return [list(t["scores"]) for t in judged_trials(trials, best)]


def _cannot(reason: str, name: str, path: Path) -> dict[str, Any]:
    return {"status": "missing", "cannot_compare": True, "reason": reason, "key": name, "path": str(path)}


def against(baseline: Baseline, record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The comparison entry of a record with its baseline entry."""
    name = key(record["nodeid"], record["search"])
    path = baseline.path
    if baseline.data is None:
        if baseline.broken:
            return {"status": "broken", "reason": baseline.error, "key": name, "path": str(path)}
        return {"status": "missing", "reason": f"{NOT_COMPARED} ({baseline.error})", "key": name, "path": str(path)}
    saved = baseline.data["entries"].get(name)
    if saved is None:
        return {
            "status": "missing",
            "reason": f"{NOT_COMPARED} ({name!r} is not in {path}: save it with --hptune-save-baseline)",
            "key": name,
            "path": str(path),
        }
    objective, theirs = record["objective"], saved.get("objective") or {}
    if (theirs.get("name"), theirs.get("direction")) != (objective["name"], objective["direction"]):
        return _cannot(
            f"cannot compare: the baseline entry {name!r} in {path} is for objective "
            f"{theirs.get('name')!r} ({theirs.get('direction')}), this search's is {objective['name']!r} "
            f"({objective['direction']}): save the baseline again",
            name,
            path,
        )
    best = best_trial(record)
    assert best is not None  # judge() compares only a search with a best trial
    saved_trials = saved.get("trials")  # absent from entries saved before it was kept
    if not saved_trials:
        return _cannot(
            f"cannot compare: the baseline entry {name!r} in {path} keeps only its best trial, not the "
            "search's other trials the comparison needs: save the baseline again",
            name,
            path,
        )
    mine = _judged(record["trials"], best)
    # One trial a side, the same configuration: no search spread to count.
    same = best["hyperparameters"] == saved.get("hyperparameters")
    leading = (_leading(saved.get("settings") or {}), _leading(record["settings"]))
    try:
        comparison = compare(
            best["scores"],
            saved["scores"],
            objective["direction"],
            settings.max_drop,
            settings.confidence,
            trials=mine,
            baseline_trials=[list(t["scores"]) for t in saved_trials],
            same_configuration=same and len(mine) == 1 and len(saved_trials) == 1,
            leading=leading,
            family=baseline.family,
        )
    except CannotCompare as exc:
        return _cannot(f"{exc} ({path}, {name})", name, path)
    notes = comparison.pop("check_notes")
    if any(n is not None for n in leading):
        notes.append(
            "executions_per_trial='auto': every trial is compared on its first "
            f"{min(n for n in leading if n is not None)} executions, a count the scores did not decide"
        )
    if baseline.family > 1:
        comparison["family"] = {
            "method": "bonferroni",
            "comparisons": baseline.family,
            "alpha": comparison["alpha"],
        }
    comparison["same_configuration"] = same
    comparison.update(
        status="regressed" if comparison["regressed"] else "ok",
        key=name,
        path=str(path),
        baseline={k: saved[k] for k in ("scores", "mean", "std", "hyperparameters", "best_trial_id")},
        notes=notes + mismatches(saved, record, versions(record.get("backend")), baseline.data.get("versions") or {}),
    )
    return comparison
