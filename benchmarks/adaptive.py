"""Fits saved by executions_per_trial='auto' on the example project.

Runs the example project's Keras tests (the scikit-learn test's executions
are its folds) twice through pytest, as CI would, with the same seeds:

* fixed: ``--hptune-executions=N`` (N = --max, the "large fixed count");
* auto:  ``--hptune-executions=auto --hptune-max-executions=N``.

Two extra gate scenarios on the same ConvNet are added to a scratch copy of
the project, so that a clear failure and a tight spread gate are measured
too. For each test it prints the verdict, the fits and the best trial under
both, and checks that the verdicts agree.

    .venv/bin/python benchmarks/adaptive.py [--max 8] [--trials 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench import run_pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"

EXTRA = textwrap.dedent(
    """
    import pytest

    from digits_model import build_model


    @pytest.mark.hptune(max_trials=3, epochs=5, min_score=0.995)
    def test_bench_clear_failure(hptune, digits):
        (x, y), _ = digits
        hptune.search(build_model, x, y, validation_split=0.2, batch_size=32)


    @pytest.mark.hptune(max_trials=3, epochs=5, min_score=0.95, max_std=0.01)
    def test_bench_tight_spread(hptune, digits):
        (x, y), _ = digits
        hptune.search(build_model, x, y, validation_split=0.2, batch_size=32)
    """
)


def run(project: Path, name: str, options: list[str]) -> tuple[dict[str, Any], float]:
    report = project / f"{name}.json"
    start = time.perf_counter()
    run_pytest(
        ["-k", "not classic_estimators", f"--hptune-json={report}", *options],
        project,
        dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        check=False,
    )
    wall = time.perf_counter() - start
    return {r["nodeid"].rsplit("::", 1)[1]: r for r in json.loads(report.read_text())["tests"]}, wall


def best(record: dict[str, Any]) -> str:
    if record["best_trial_id"] is None:
        return "-"
    trial = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
    return f"trial {trial['trial_id']} {trial['mean']:.4f} ({len(trial['scores'])} ex)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max", type=int, default=8, help="the fixed count, and auto's max_executions")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hptune-adaptive-") as tmp:
        project = Path(tmp) / "example_project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.json", "__pycache__", ".pytest_cache"))
        (project / "test_bench_gates.py").write_text(EXTRA)
        common = [f"--hptune-trials={args.trials}"]
        fixed, fixed_wall = run(project, "fixed", [*common, f"--hptune-executions={args.max}"])
        auto, auto_wall = run(
            project, "auto", [*common, "--hptune-executions=auto", f"--hptune-max-executions={args.max}"]
        )
    print(f"{'test':<48} {'fixed ' + str(args.max):>24} {'auto':>24}  fits  saved")
    agree = True
    total_fixed = total_auto = 0
    for name in fixed:
        f, a = fixed[name], auto[name]
        same = f["passed"] == a["passed"]
        agree &= same
        total_fixed += f["fits"]
        total_auto += a["fits"]
        verdicts = f"{'pass' if f['passed'] else 'FAIL'}/{'pass' if a['passed'] else 'FAIL'}"
        print(
            f"{name:<48} {best(f):>24} {best(a):>24}  {f['fits']:>3}->{a['fits']:<3} "
            f"{1 - a['fits'] / f['fits']:5.0%}  verdict {verdicts}{'' if same else '  DIFFERENT'}"
        )
        if a.get("adaptive", {}).get("undecided"):
            print(f"{'':<48} auto left undecided: {', '.join(a['adaptive']['undecided'])}")
    print(
        f"total fits {total_fixed} -> {total_auto} ({1 - total_auto / total_fixed:.0%} saved); "
        f"session {fixed_wall:.0f} s -> {auto_wall:.0f} s; verdicts {'all agree' if agree else 'DIFFER'}"
    )
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
