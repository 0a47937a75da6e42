"""Calibration of ``--hptune-compare``: false alarms and detection rates.

Writes a tiny pytest project in a temporary directory (an MLP on
scikit-learn's offline digits data: ``Dense(hp.Choice units: 64, 128)`` +
``Adam(hp.Choice learning_rate: 3e-3, 1e-2, 3e-2)``, ``max_trials=2, executions_per_trial=4,
epochs=3, validation_split=0.25``, every other setting at its default), then:

1. saves a baseline of the unchanged model at seed 0
   (``--hptune-save-baseline``);
2. in ONE pytest process (TensorFlow is imported once), reruns the unchanged
   model under ``--seeds`` other seeds, and three real regressions under as
   many seeds each: a learning rate 100x too small, a hidden layer of 2 units,
   labels shuffled for 20 % of the training data; every search is compared
   with a copy of the seed-0 entry (``--hptune-compare``) at the plugin's
   defaults;
3. reads the verdicts from ``--hptune-json`` and prints the false-alarm rate
   (unchanged model flagged) and each detection rate, with 95 %
   Clopper-Pearson intervals.

The raw records (every trial's per-execution scores, the baseline entry and
each comparison) are written to ``--raw`` (default
``benchmarks/calibration-raw.json``) so that decision rules can be evaluated
offline; ``--from-raw PATH`` re-judges saved records with the installed
``verdict.compare`` without training anything.

    .venv/bin/python benchmarks/calibration.py [--seeds 20] [--raw PATH]
    .venv/bin/python benchmarks/calibration.py --from-raw benchmarks/calibration-raw.json

This measures the search-level comparison (an entry without anchor). The
anchored, paired verdict (the default) is measured on independent pairs by
``benchmarks/paired_calibration.py`` (``--jobs N``, ``--out PATH``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "unchanged": "the unchanged model (any flag is a false alarm)",
    "lr_100x_smaller": "learning rate 100x too small",
    "narrow_layer": "hidden layer of 2 units",
    "noisy_labels": "labels shuffled for 20 % of the training data",
}

PROJECT = textwrap.dedent(
    """
    import os

    import keras
    import numpy as np
    import pytest
    from sklearn.datasets import load_digits

    SEEDS = [int(s) for s in os.environ["CALIBRATION_SEEDS"].split(",") if s]
    VARIANTS = os.environ["CALIBRATION_VARIANTS"].split(",")
    CASES = [("baseline", 0)] + [(v, s) for v in VARIANTS for s in SEEDS]
    SPLIT = 0.25


    def data(variant, seed):
        x, y = load_digits(return_X_y=True)
        x = (x / 16.0).astype("float32")
        order = np.random.default_rng(12345).permutation(len(x))  # one fixed split for every run
        x, y = x[order], y[order].astype("int32")
        if variant == "noisy_labels":
            train = int(np.ceil(len(x) * (1 - SPLIT)))  # Keras keeps the last SPLIT for validation
            rng = np.random.default_rng(10_000 + seed)
            picked = rng.choice(train, size=int(0.2 * train), replace=False)
            y = y.copy()
            y[picked] = y[rng.permutation(picked)]
        return x, y


    def builder(variant):
        def build(hp):
            units = hp.Choice("units", [64, 128])
            learning_rate = hp.Choice("learning_rate", [3e-3, 1e-2, 3e-2])
            if variant == "narrow_layer":
                units = 2
            if variant == "lr_100x_smaller":
                learning_rate /= 100
            model = keras.Sequential(
                [
                    keras.Input((64,)),
                    keras.layers.Dense(units, activation="relu"),
                    keras.layers.Dense(10, activation="softmax"),
                ]
            )
            model.compile(
                keras.optimizers.Adam(learning_rate),
                "sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        return build


    @pytest.mark.hptune(max_trials=2, executions_per_trial=4, epochs=3)
    @pytest.mark.parametrize("variant,seed", CASES, ids=[f"{v}-{s}" for v, s in CASES])
    def test_search(hptune, variant, seed):
        x, y = data(variant, seed)
        hptune.search(builder(variant), x, y, validation_split=SPLIT, seed=seed)
    """
)

BASELINE_ID = "test_calibration.py::test_search[baseline-0]"


def pytest_run(project: Path, env: dict[str, Any], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *options],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    alpha = 1 - level
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def variant_of(nodeid: str) -> tuple[str, int]:
    case = nodeid.split("[", 1)[1].rstrip("]")
    variant, seed = case.rsplit("-", 1)
    return variant, int(seed)


def collect(seeds: int, variants: list[str], keep: Path | None) -> dict[str, Any]:
    """Train everything; returns the raw document."""
    with tempfile.TemporaryDirectory(prefix="hptune-calibration-") as tmp:
        project = Path(keep) if keep else Path(tmp)
        project.mkdir(parents=True, exist_ok=True)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_calibration.py").write_text(PROJECT)
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="2",
            CALIBRATION_SEEDS=",".join(str(s) for s in range(1, seeds + 1)),
            CALIBRATION_VARIANTS=",".join(variants),
        )
        start = time.perf_counter()
        saved = pytest_run(
            project, env, "-k", "baseline", "--hptune-save-baseline=seed0.json", "--hptune-json=seed0.json.report"
        )
        if saved.returncode != 0 or not (project / "seed0.json").exists():
            sys.exit(f"saving the baseline failed:\n{saved.stdout[-4000:]}\n{saved.stderr[-2000:]}")
        base = json.loads((project / "seed0.json").read_text())
        entry = base["entries"][BASELINE_ID]
        (baseline_record,) = json.loads((project / "seed0.json.report").read_text())["tests"]
        # Every parametrized node id gets a copy of the seed-0 entry.
        nodeids = [f"test_calibration.py::test_search[{v}-{s}]" for v in variants for s in range(1, seeds + 1)]
        base["entries"] = {nodeid: copy.deepcopy(entry) | {"nodeid": nodeid} for nodeid in nodeids}
        (project / "baseline.json").write_text(json.dumps(base, indent=1))
        print(f"baseline saved at seed 0 ({time.perf_counter() - start:.0f} s); {len(nodeids)} searches to run")
        records = []
        for variant in variants:
            # One pytest process per variant (TensorFlow imported once for
            # each): a crash loses one variant, not the whole run.
            report = project / f"report-{variant}.json"
            compared = pytest_run(
                project,
                env,
                "-k",
                f"test_search and {variant}-",
                "--hptune-compare=baseline.json",
                f"--hptune-json={report}",
            )
            if not report.exists():
                print(f"{variant}: no report written:\n{compared.stdout[-3000:]}\n{compared.stderr[-2000:]}")
                continue
            records += json.loads(report.read_text())["tests"]
            print(f"{variant}: {len(records)} searches so far ({time.perf_counter() - start:.0f} s)", flush=True)
        wall = time.perf_counter() - start
    runs = []
    for record in records:
        variant, seed = variant_of(record["nodeid"])
        runs.append(
            {
                "nodeid": record["nodeid"],
                "variant": variant,
                "seed": seed,
                "objective": record["objective"],
                "settings": record["settings"],
                "best_trial_id": record["best_trial_id"],
                "trials": [
                    {k: t[k] for k in ("trial_id", "hyperparameters", "scores", "mean", "std", "status")}
                    for t in record["trials"]
                ],
                "comparison": record.get("comparison"),
                "error": record["error"],
                "duration_s": record["duration_s"],
            }
        )
    return {
        "baseline": {
            "entry": entry,
            "trials": [
                {k: t[k] for k in ("trial_id", "hyperparameters", "scores", "mean", "std", "status")}
                for t in baseline_record["trials"]
            ],
            "versions": base.get("versions"),
            "machine": base.get("machine"),
        },
        "runs": runs,
        "seeds": seeds,
        "wall_s": round(wall, 1),
    }


def rejudge(raw: dict[str, Any]) -> None:
    """Re-run the installed comparison on the saved records (no training)."""
    from pytest_hptune.settings import Settings
    from pytest_hptune.verdict import compare

    entry = dict(raw["baseline"]["entry"])
    if "trials" not in entry:  # raw saved before entry() kept every trial: what it keeps now
        entry["trials"] = [
            {k: t[k] for k in ("trial_id", "hyperparameters", "scores")}
            for t in raw["baseline"]["trials"]
            if t["status"] == "COMPLETED"
        ]
    for run in raw["runs"]:
        record = {
            "nodeid": run["nodeid"],
            "search": 0,
            "objective": run["objective"],
            "settings": run["settings"],
            "trials": run["trials"],
            "best_trial_id": run["best_trial_id"],
            "confirmation": None,
        }
        data = {"entries": {run["nodeid"]: entry}, "versions": raw["baseline"].get("versions")}
        run["comparison"] = compare.against(compare.Baseline(Path("baseline.json"), data), record, Settings())


def summarise(raw: dict[str, Any]) -> None:
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for run in raw["runs"]:
        by_variant.setdefault(run["variant"], []).append(run)
    entry = raw["baseline"]["entry"]
    print(
        f"baseline (seed 0): best trial {entry['best_trial_id']} {entry['hyperparameters']} "
        f"mean {entry['mean']:.4f} scores {[round(s, 4) for s in entry['scores']]}"
    )
    print(f"{'variant':<16} {'flagged':>8} {'rate':>6}  {'95% Clopper-Pearson':<20} {'other':<8} mean diff")
    for variant, what_changed in VARIANTS.items():
        runs = by_variant.get(variant)
        if not runs:
            continue
        statuses = [(r["comparison"] or {}).get("status") for r in runs]
        flagged = statuses.count("regressed")
        other = len(runs) - flagged - statuses.count("ok")
        low, high = clopper_pearson(flagged, len(runs))
        diffs = [r["comparison"]["difference"] for r in runs if (r["comparison"] or {}).get("difference") is not None]
        mean_diff = sum(diffs) / len(diffs) if diffs else float("nan")
        what = "false alarms" if variant == "unchanged" else "detected"
        print(
            f"{variant:<16} {flagged:>3}/{len(runs):<4} {flagged / len(runs):>6.0%}  "
            f"[{low:.3f}, {high:.3f}]       {other:<8} {mean_diff:+.4f}  ({what}: {what_changed})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="reseeded reruns per variant (seeds 1..N)")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS)
    )
    parser.add_argument(
        "--raw", type=Path, default=ROOT / "benchmarks" / "calibration-raw.json", help="raw records out"
    )
    parser.add_argument("--keep", type=Path, help="write the project here (kept) instead of a temporary directory")
    parser.add_argument("--from-raw", type=Path, help="re-judge saved records with the installed check; no training")
    args = parser.parse_args()
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text())
        rejudge(raw)
        print(f"re-judged {len(raw['runs'])} saved searches ({args.from_raw})")
    else:
        variants = [v for v in args.variants.split(",") if v]
        unknown = set(variants) - set(VARIANTS)
        if unknown:
            parser.error(f"unknown variants {sorted(unknown)}")
        raw = collect(args.seeds, variants, args.keep)
        args.raw.parent.mkdir(parents=True, exist_ok=True)
        args.raw.write_text(json.dumps(raw, indent=1) + "\n")
        print(f"{len(raw['runs'])} searches compared in {raw['wall_s']:.0f} s; raw records: {args.raw}")
    summarise(raw)


if __name__ == "__main__":
    main()
