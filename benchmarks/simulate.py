"""Calibration of the search-level comparison and of the interval gates by
simulation, against the project's own code (pure: NumPy and SciPy).

A search of K trials draws K configurations whose true means vary (sd tau;
or a "needle" space: one configuration in eight 4 sigma above the rest) and
trains each n times (execution noise sd sigma); it keeps the trial with the
best mean. An unchanged model rerun is another such search. Each cell draws
``--draws`` baseline/candidate pairs and decides them with the code
``verdict.compare.compare()`` runs (``verdict.searchnull``, vectorised over
the draws): the false-alarm rate at nominal 1 - confidence, the p-values'
Kolmogorov-Smirnov distance from uniform, and the power against a drop of
every configuration by 1, 2 and 3 sigma. Under executions_per_trial="auto"
each trial runs up to max_executions, and the comparison takes the first
``compare._leading`` executions, as ``against()`` does.

The gate cells: K configurations whose true mean sits exactly at a
``min_lower_bound`` threshold; the best trial passes when its interval's
lower bound (``stats.interval`` at ``gates.interval_level``) reaches it.
Nominal: (1 - confidence) / 2.

    python benchmarks/simulate.py --draws 20000 --jobs 16 --out summary.json
    python benchmarks/simulate.py --draws 20000 --cell 1x2,1x2,0.01,0 --cell 5x3,5x3,0.01,0.01,needle
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_hptune.verdict import compare, gates, searchnull

ALPHA = 0.05
DROPS = (1, 2, 3)  # in sigma
CHUNK = 500


def _side(
    rng: np.random.Generator, s: int, k: int, n: int, sigma: float, tau: float, needle: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(S, K) trial means and (S,) within-trial sum of squares of S searches."""
    mu = tau * rng.standard_normal((s, k))
    if needle:
        mu = mu + (rng.random((s, k)) < 1 / 8) * 4 * sigma
    x = mu[..., None] + sigma * rng.standard_normal((s, k, n))
    means = x.mean(axis=2)
    return means, ((x - means[..., None]) ** 2).sum(axis=(1, 2))


def search_cell(cell: dict[str, Any], draws: int, seed: int) -> dict[str, Any]:
    """One cell of the comparison grid: baseline kb x nb, candidate kc x nc."""
    kb, nb, kc, nc = cell["kb"], cell["nb"], cell["kc"], cell["nc"]
    sigma, tau, needle = cell["sigma"], cell["tau"], cell.get("needle", False)
    if cell.get("auto"):
        # Each trial ran min..max executions, as the scores decided; the
        # comparison takes the leading ones (compare._leading), whose
        # distribution does not depend on how many more ran: drawn directly.
        nb = nc = compare._leading({"executions_per_trial": "auto", "min_executions": nb})
    rng = np.random.default_rng(seed)
    p_null: list[np.ndarray] = []
    p_drop: dict[int, list[np.ndarray]] = {d: [] for d in DROPS}
    for lo in range(0, draws, CHUNK):
        s = min(CHUNK, draws - lo)
        # Same configuration on both sides when one trial a side (otherwise refused).
        mb, ssb = _side(rng, s, kb, nb, sigma, tau if kb + kc > 2 else 0.0, needle and kb + kc > 2)
        mc, ssc = _side(rng, s, kc, nc, sigma, tau if kb + kc > 2 else 0.0, needle and kb + kc > 2)
        d = mc.max(axis=1) - mb.max(axis=1)
        df_w = kb * (nb - 1) + kc * (nc - 1)
        null = searchnull.null_draws(mb, nb, mc, nc, ssb + ssc, df_w, rng, no_search_spread=kb + kc == 2)
        p_null.append(searchnull.p_values(d, null))
        for drop in DROPS:
            p_drop[drop].append(searchnull.p_values(d - drop * sigma, null))
    p = np.concatenate(p_null)
    return {
        **cell,
        "draws": draws,
        "false_alarm": float((p <= ALPHA).mean()),
        "ks": float(sps.kstest(p, "uniform").statistic),
        "power": {str(d): float((np.concatenate(p_drop[d]) <= ALPHA).mean()) for d in DROPS},
    }


def per_baseline(cell: dict[str, Any], baselines: int, candidates: int, seed: int) -> dict[str, Any]:
    """One saved baseline is itself a draw: the false-alarm rate of each of
    ``baselines`` saved baselines over ``candidates`` unchanged reruns."""
    kb, nb, kc, nc, sigma, tau = (cell[k] for k in ("kb", "nb", "kc", "nc", "sigma", "tau"))
    rng = np.random.default_rng(seed)
    rates = []
    for _ in range(baselines):
        mb, ssb = _side(rng, 1, kb, nb, sigma, tau, cell.get("needle", False))
        mc, ssc = _side(rng, candidates, kc, nc, sigma, tau, cell.get("needle", False))
        mb, ssb = np.repeat(mb, candidates, axis=0), np.repeat(ssb, candidates)
        null = searchnull.null_draws(mb, nb, mc, nc, ssb + ssc, kb * (nb - 1) + kc * (nc - 1), rng)
        rates.append(float((searchnull.p_values(mc.max(axis=1) - mb.max(axis=1), null) <= ALPHA).mean()))
    r = np.array(rates)
    return {
        **cell,
        "baselines": baselines,
        "candidates": candidates,
        "mean": float(r.mean()),
        "p90": float(np.quantile(r, 0.9)),
        "over_25": float((r > 0.25).mean()),
        "max": float(r.max()),
    }


def gate_cell(cell: dict[str, Any], draws: int, seed: int) -> dict[str, Any]:
    """K configurations at the threshold: how often the best passes
    min_lower_bound, at the plain and at the selection-adjusted level."""
    k, n, confidence = cell["k"], cell["n"], 0.95
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((draws, k, n))
    means = x.mean(axis=2)
    best = means.argmax(axis=1)
    rows = np.arange(draws)
    sd = x.std(axis=2, ddof=1)[rows, best]
    out = {}
    for name, level in (("plain", confidence), ("adjusted", gates.interval_level(confidence, k))):
        q = sps.t.ppf((1 + level) / 2, n - 1)  # stats.interval's two-sided Student-t bound
        out[name] = float((means[rows, best] - q * sd / np.sqrt(n) >= 0).mean())
    return {**cell, "draws": draws, "nominal": (1 - confidence) / 2, **out}


def grid() -> list[dict[str, Any]]:
    cells = [
        {"kb": k, "nb": n, "kc": k, "nc": n, "sigma": s, "tau": t}
        for k, n, s, t in itertools.product(range(1, 6), (2, 3, 4), (0.005, 0.01, 0.02), (0.0, 0.01, 0.03))
        if k > 1 or t == 0.0  # one trial a side: only the same configuration is compared
    ]
    cells += [
        {"kb": k, "nb": 3, "kc": k, "nc": 3, "sigma": 0.01, "tau": t, "needle": True}
        for k in range(2, 6)
        for t in (0.0, 0.01)
    ]
    cells += [
        {"kb": kb, "nb": nb, "kc": kc, "nc": nc, "sigma": 0.01, "tau": t}
        for (kb, nb, kc, nc) in ((5, 3, 2, 3), (2, 3, 5, 3), (3, 4, 3, 2), (3, 2, 3, 4))
        for t in (0.0, 0.01, 0.03)
    ]
    cells += [
        {"kb": k, "nb": 3, "kc": k, "nc": 3, "sigma": 0.01, "tau": t, "auto": True, "max_executions": 10}
        for k in (2, 3, 5)
        for t in (0.0, 0.01)
    ]
    return cells


def gate_grid() -> list[dict[str, Any]]:
    return [{"k": k, "n": n} for k in (1, 2, 3, 5, 10) for n in (2, 3, 4)]


def parse_cell(text: str) -> dict[str, Any]:
    """'KBxNB,KCxNC,SIGMA,TAU[,needle|auto]' -> a comparison cell."""
    parts = text.split(",")
    (kb, nb), (kc, nc) = (map(int, side.split("x")) for side in parts[:2])
    cell = {"kb": kb, "nb": nb, "kc": kc, "nc": nc, "sigma": float(parts[2]), "tau": float(parts[3])}
    if "needle" in parts[4:]:
        cell["needle"] = True
    if "auto" in parts[4:]:
        cell.update(auto=True, max_executions=10)
    return cell


def _run(args: tuple[str, dict[str, Any], int, int]) -> dict[str, Any]:
    kind, cell, draws, seed = args
    return (search_cell if kind == "search" else gate_cell)(cell, draws, seed)


def run(
    draws: int,
    jobs: int,
    search_cells: list[dict[str, Any]] | None = None,
    gate_cells: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    work = [("search", c, draws, i) for i, c in enumerate(search_cells if search_cells is not None else grid())]
    work += [
        ("gate", c, draws * 5, 10_000 + i) for i, c in enumerate(gate_cells if gate_cells is not None else gate_grid())
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_run, work))
    else:
        results = [_run(w) for w in work]
    search = [r for r, w in zip(results, work) if w[0] == "search"]
    gate = [r for r, w in zip(results, work) if w[0] == "gate"]
    return {"alpha": ALPHA, "search": search, "gates": gate}


def _label(c: dict[str, Any]) -> str:
    extra = " needle" if c.get("needle") else " auto" if c.get("auto") else ""
    return f"{c['kb']}x{c['nb']} vs {c['kc']}x{c['nc']} sigma {c['sigma']} tau {c['tau']}{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--cell",
        action="append",
        type=parse_cell,
        help="only this comparison cell (no gate cells), e.g. 1x2,1x2,0.01,0 or 5x3,5x3,0.01,0.01,needle; repeatable",
    )
    parser.add_argument(
        "--per-baseline",
        type=parse_cell,
        help="instead: the false-alarm rate of each of 200 saved baselines over 200 reruns, for this cell",
    )
    args = parser.parse_args()
    if args.per_baseline:
        r = per_baseline(args.per_baseline, 200, 200, seed=1)
        print(
            f"{_label(r)}: false alarms per saved baseline: mean {r['mean']:.4f}, 90th percentile "
            f"{r['p90']:.4f}, max {r['max']:.4f}; baselines over 25 %: {r['over_25']:.1%}"
        )
        return
    start = time.perf_counter()
    summary = run(args.draws, args.jobs, args.cell, [] if args.cell else None)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    for c in summary["search"]:
        power = " ".join(f"{d}sd {c['power'][d]:.2f}" for d in c["power"])
        print(f"{_label(c):<42} false alarms {c['false_alarm']:.4f}  KS {c['ks']:.3f}  power {power}")
    worst = max(summary["search"], key=lambda c: c["false_alarm"])
    summary["worst"] = worst
    print(f"worst cell: {_label(worst)}: {worst['false_alarm']:.4f} (nominal {ALPHA})")
    for g in summary["gates"]:
        print(
            f"gate min_lower_bound, {g['k']} trials x {g['n']}: passes at the threshold "
            f"{g['plain']:.4f} plain, {g['adjusted']:.4f} adjusted (nominal {g['nominal']:.3f})"
        )
    print(f"{args.draws} draws a cell, {summary['seconds']} s")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
