"""Calibration of the anchored, paired comparison on REAL reseeds (issue 24).

Every pair is independent: a distinct baseline run (``--hptune-save-baseline``
at its own search seed) and a distinct candidate run (``--hptune-compare``
against that entry, another search seed), both at the plugin's defaults
(3 trials x 3 executions, 6 anchor executions). The anchor reuses the
baseline's seeds, so a "reseed" must change how the model's own code
consumes randomness: the candidate's model draws ``offset`` extra numbers
from Keras' global generator before each build (other initial weights) and
reads its training rows in an ``offset``-seeded order (other batches), with
a distinct offset per pair; the validation rows never change.

Variants (``--variants``):

* ``digits-null``: an MLP on scikit-learn's digits (Dense units 64|128,
  Adam learning rate 3e-3|1e-2|3e-2, 3 epochs, validation_split 0.25),
  unchanged: every flag is a false alarm;
* ``cancer-null``: an MLP on scikit-learn's breast_cancer (standardised,
  Dense units 8|16, learning rate 1e-3|3e-3|1e-2, 10 epochs), unchanged;
* ``digits-noisy``: the digits MLP with 20 % of its training labels shuffled;
* ``digits-slow``: the digits MLP with every learning rate 3x too small.

It prints, per variant, the share flagged (95 % Clopper-Pearson interval),
the p-values' KS distance from uniform (null variants), the median
minimum detectable drop beside the power a resampling of the observed null
differences shifted by that drop gives (it should read about 80 %), the
search-level verdict on the same runs, and the cost (the candidate's fits
over the search's alone). ``--out`` gets a compact JSON summary.

Pairs run in ``--jobs`` parallel worker processes (each a pytest session
per phase, one CPU thread each). TensorFlow is optional: the lead's run is

    KERAS_BACKEND=jax python benchmarks/paired_calibration.py --pairs 100 --regressions 20 --jobs 16 --out paired.json

and a smoke test here is ``--pairs 2 --regressions 2 --jobs 1``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run_pytest  # noqa: E402

VARIANTS = {
    "digits-null": "digits MLP, unchanged (a flag is a false alarm)",
    "cancer-null": "breast_cancer MLP, unchanged (a flag is a false alarm)",
    "digits-noisy": "digits MLP, 20 % of training labels shuffled",
    "digits-slow": "digits MLP, learning rate 3x too small",
}
TARGETS = {
    "digits-null": ("<=", 0.05),
    "cancer-null": ("<=", 0.05),
    "digits-noisy": (">=", 0.95),
    "digits-slow": (">=", 0.75),
}

PROJECT = textwrap.dedent(
    """
    import json
    import os

    import keras
    import numpy as np
    import pytest
    from sklearn.datasets import load_breast_cancer, load_digits

    CASES = json.loads(os.environ["CALIBRATION_CASES"])  # [[variant, pair], ...]
    CANDIDATE = os.environ["CALIBRATION_PHASE"] == "candidate"
    SPLIT = 0.25


    def data(variant, pair, offset):
        if variant.startswith("digits"):
            x, y = load_digits(return_X_y=True)
            x = x / 16.0
        else:
            x, y = load_breast_cancer(return_X_y=True)
            x = (x - x.mean(axis=0)) / x.std(axis=0)
        order = np.random.default_rng(12345).permutation(len(x))  # one fixed split for every run
        x, y = x[order].astype("float32"), y[order].astype("int32")
        train = int(np.ceil(len(x) * (1 - SPLIT)))  # Keras keeps the last SPLIT for validation
        if offset:  # a reseed: the training rows in another order
            rows = np.random.default_rng(offset).permutation(train)
            x[:train], y[:train] = x[rows], y[rows]
        if CANDIDATE and variant == "digits-noisy":
            rng = np.random.default_rng(777_000 + pair)
            picked = rng.choice(train, size=int(0.2 * train), replace=False)
            y[picked] = y[rng.permutation(picked)]
        return x, y


    def builder(variant, offset):
        digits = variant.startswith("digits")

        def build(hp):
            for _ in range(offset % 5 + 1 if offset else 0):
                keras.random.uniform((1,))  # a reseed: the global generator moves on
            if digits:
                units = hp.Choice("units", [64, 128])
                learning_rate = hp.Choice("learning_rate", [3e-3, 1e-2, 3e-2])
            else:
                units = hp.Choice("units", [8, 16])
                learning_rate = hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2])
            if CANDIDATE and variant == "digits-slow":
                learning_rate /= 3
            out = keras.layers.Dense(10, activation="softmax") if digits else keras.layers.Dense(1, activation="sigmoid")
            model = keras.Sequential(
                [keras.Input((64 if digits else 30,)), keras.layers.Dense(units, activation="relu"), out]
            )
            loss = "sparse_categorical_crossentropy" if digits else "binary_crossentropy"
            model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=["accuracy"])
            return model

        return build


    @pytest.mark.parametrize("variant,pair", CASES, ids=[f"{v}-{p}" for v, p in CASES])
    def test_pair(hptune, variant, pair):
        offset = 1000 + pair if CANDIDATE else 0
        seed = (2 * pair + 1 if CANDIDATE else 2 * pair) + (0 if variant.startswith("digits") else 50_000)
        x, y = data(variant, pair, offset)
        epochs = 3 if variant.startswith("digits") else 10
        hptune.search(builder(variant, offset), x, y, validation_split=SPLIT, seed=seed, epochs=epochs)
    """
)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    alpha = 1 - level
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def _env(cases: list[Any], phase: str) -> dict[str, Any]:
    threads = "1"
    return dict(
        os.environ,
        CALIBRATION_CASES=json.dumps(cases),
        CALIBRATION_PHASE=phase,
        TF_CPP_MIN_LOG_LEVEL="2",
        OMP_NUM_THREADS=threads,
        TF_NUM_INTRAOP_THREADS=threads,
        TF_NUM_INTEROP_THREADS=threads,
        XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip(),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )


def run_chunk(project: Path, job: int, cases: list[Any]) -> list[dict[str, Any]]:
    """One worker: save the chunk's baselines, then compare its candidates."""
    base, report = f"base-{job}.json", f"report-{job}.json"
    common = ["-p", "no:randomly", "test_pairs.py"]
    saved = run_pytest([*common, f"--hptune-save-baseline={base}"], project, _env(cases, "baseline"), check=False)
    if not (project / base).exists():
        print(f"job {job}: no baseline saved:\n{saved.stdout[-3000:]}\n{saved.stderr[-1500:]}", flush=True)
        return []
    compared = run_pytest(
        [*common, f"--hptune-compare={base}", f"--hptune-json={report}"], project, _env(cases, "candidate"), check=False
    )
    if not (project / report).exists():
        print(f"job {job}: no report:\n{compared.stdout[-3000:]}\n{compared.stderr[-1500:]}", flush=True)
        return []
    return [_pair(record) for record in json.loads((project / report).read_text())["tests"]]


def _pair(record: dict[str, Any]) -> dict[str, Any]:
    case = record["nodeid"].split("[", 1)[1].rstrip("]")
    variant, pair = case.rsplit("-", 1)
    comparison = record.get("comparison") or {}
    search = comparison.get("search_level") or (comparison if comparison.get("kind") == "search" else {})
    anchor = comparison.get("anchor") or {}
    return {
        "variant": variant,
        "pair": int(pair),
        "kind": comparison.get("kind"),
        "status": comparison.get("status"),
        "reason": comparison.get("reason") or comparison.get("anchor_fallback"),
        "p_value": comparison.get("p_value"),
        "difference": comparison.get("difference"),
        "mdd": comparison.get("mdd"),
        "differences": anchor.get("differences"),
        "search_status": search.get("status"),
        "search_p_value": search.get("p_value"),
        "search_fits": record["fits"],
        "anchor_fits": anchor.get("trained") or 0,
        "error": record.get("error"),
    }


def power_at(differences: list[list[float]], drop: float, draws: int = 4000) -> float | None:
    """The paired test's power at a true drop ``drop`` when the per-seed
    differences are resampled from the observed null ones (centred)."""
    import numpy as np
    from scipy import stats as sps

    rows = [d for d in differences if d]
    if not rows:
        return None
    n = len(rows[0])
    pool = np.concatenate([np.asarray(d) - np.mean(d) for d in rows])
    rng = np.random.default_rng(0)
    sample = rng.choice(pool, size=(draws, n)) - drop
    mean, sd = sample.mean(axis=1), sample.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / math.sqrt(n))
    # paired.test's rule: the t-test, or the sign test (2^-n) without spread.
    caught = np.where(sd > 1e-12, t < -sps.t.ppf(0.95, n - 1), (mean < 0) & (0.5**n < 0.05))
    return float(caught.mean())


def summarise(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    from scipy import stats as sps

    out: dict[str, Any] = {}
    for variant, what in VARIANTS.items():
        runs = [p for p in pairs if p["variant"] == variant]
        if not runs:
            continue
        flagged = sum(p["status"] in ("regressed", "inconclusive") for p in runs)
        search_flagged = sum(p["search_status"] == "regressed" for p in runs)
        low, high = clopper_pearson(flagged, len(runs))
        p_values = [p["p_value"] for p in runs if p["p_value"] is not None and p["kind"] == "paired"]
        mdds = [p["mdd"] for p in runs if p["mdd"] is not None]
        fits = [(p["search_fits"], p["anchor_fits"]) for p in runs]
        entry = {
            "what": what,
            "pairs": len(runs),
            "paired": sum(p["kind"] == "paired" for p in runs),
            "flagged": flagged,
            "rate": flagged / len(runs),
            "clopper_pearson_95": [low, high],
            "search_level_flagged": search_flagged,
            "mean_difference": statistics.fmean(p["difference"] for p in runs if p["difference"] is not None)
            if any(p["difference"] is not None for p in runs)
            else None,
            "median_mdd": statistics.median(mdds) if mdds else None,
            "cost_ratio": sum(s + a for s, a in fits) / max(1, sum(s for s, _ in fits)),
            "errors": [p["error"] or p["reason"] for p in runs if p["error"] or p["kind"] != "paired"][:5],
        }
        if variant.endswith("null") and p_values:
            entry["ks_distance"] = float(sps.kstest(p_values, "uniform").statistic)
            entry["p_value_deciles"] = [
                sum(int(10 * p) == k or (k == 9 and p == 1.0) for p in p_values) for k in range(10)
            ]
            if entry["median_mdd"] is not None:
                entry["power_at_median_mdd"] = power_at([p["differences"] for p in runs], entry["median_mdd"])
        out[variant] = entry
    return out


def show(summary: dict[str, Any]) -> None:
    for variant, s in summary.items():
        low, high = s["clopper_pearson_95"]
        target = TARGETS[variant]
        line = (
            f"{variant:<13} flagged {s['flagged']:>3}/{s['pairs']:<3} ({s['rate']:.1%}, 95% CI {low:.3f}..{high:.3f}; "
            f"target {target[0]} {target[1]:.0%}), search level {s['search_level_flagged']}/{s['pairs']}, "
            f"paired {s['paired']}/{s['pairs']}, cost x{s['cost_ratio']:.2f}"
        )
        if s["mean_difference"] is not None:
            line += f", mean difference {s['mean_difference']:+.4f}"
        if s["median_mdd"] is not None:
            line += f", median mdd {s['median_mdd']:.4f}"
        if "ks_distance" in s:
            line += f", KS {s['ks_distance']:.3f}, p deciles {s['p_value_deciles']}"
        if s.get("power_at_median_mdd") is not None:
            line += f", power at that mdd (resampled null differences) {s['power_at_median_mdd']:.0%}"
        print(line)
        for error in s["errors"]:
            print(f"    not paired / error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=100, help="independent null pairs per null variant")
    parser.add_argument("--regressions", type=int, default=20, help="pairs per regression variant")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS)
    )
    parser.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    parser.add_argument("--out", type=Path, help="write the JSON summary (and every pair) here")
    parser.add_argument(
        "--chunk",
        type=int,
        default=0,
        help="pairs per pytest session (default: the cases split evenly over the jobs); each finished chunk's "
        "pairs are appended to OUT.jsonl at once, so a run cut short keeps what it finished",
    )
    parser.add_argument("--from-pairs", type=Path, help="summarise the pairs of a .jsonl written before (no runs)")
    parser.add_argument("--keep", type=Path, help="write the project here (kept) instead of a temporary directory")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}")
    if args.from_pairs:
        pairs = [json.loads(line) for line in args.from_pairs.read_text().splitlines() if line.strip()]
        print(f"{len(pairs)} pairs read from {args.from_pairs}")
        show(summarise(pairs))
        return
    cases = [[v, p] for v in variants for p in range(args.pairs if v.endswith("null") else args.regressions)]
    if args.chunk:
        # Interleave the variants so that every chunk mixes them.
        cases = sorted(cases, key=lambda c: (c[1], c[0]))
        chunks = [cases[i : i + args.chunk] for i in range(0, len(cases), args.chunk)]
    else:
        chunks = [cases[j :: args.jobs] for j in range(args.jobs) if cases[j :: args.jobs]]
    stream = args.out.with_suffix(".jsonl") if args.out else None
    if stream:
        stream.parent.mkdir(parents=True, exist_ok=True)
        stream.write_text("")

    def job(index: int) -> list[dict[str, Any]]:
        done = run_chunk(project, index, chunks[index])
        if stream:
            with stream.open("a") as out:  # one write per finished chunk (threads: appends of whole lines)
                out.write("".join(json.dumps(p) + "\n" for p in done))
        print(f"chunk {index}: {len(done)} pairs done at {time.perf_counter() - start:.0f} s", flush=True)
        return done

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hptune-paired-") as tmp:
        project = args.keep or Path(tmp)
        project.mkdir(parents=True, exist_ok=True)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_pairs.py").write_text(PROJECT)
        print(
            f"{len(cases)} pairs in {len(chunks)} jobs, backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}",
            flush=True,
        )
        with ThreadPoolExecutor(max_workers=min(args.jobs, len(chunks))) as pool:
            results = list(pool.map(job, range(len(chunks))))
    pairs = [p for chunk in results for p in chunk]
    wall = time.perf_counter() - start
    summary = summarise(pairs)
    print(f"{len(pairs)} pairs compared in {wall:.0f} s")
    show(summary)
    if args.out:
        document = {
            "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
            "jobs": args.jobs,
            "wall_s": round(wall, 1),
            "summary": summary,
            "pairs": pairs,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, indent=1) + "\n")
        print(f"summary: {args.out}")


if __name__ == "__main__":
    main()
