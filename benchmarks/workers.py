"""The speed-up of --hptune-workers on this machine.

Runs the example project's digits ConvNet search through pytest with the
test process training (``--hptune-workers=0``) and with N worker processes,
and compares the search's duration (from the JSON report; it includes the
workers' start-up) and the whole pytest session's wall time. The two runs
must report the same trials and scores (random search, seeded executions).

    .venv/bin/python benchmarks/workers.py [--workers 2] [--trials 4] [--executions 2] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench import run_pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"

TEST = textwrap.dedent(
    """
    from digits_model import build_model, load_data

    def test_bench(hptune):
        (x, y), _ = load_data()
        hptune.search(build_model, x, y, validation_split=0.2, batch_size=32)
    """
)


def run(tmp: Path, args: argparse.Namespace, workers: int) -> dict[str, Any]:
    report = tmp / f"report-{workers}.json"
    env = dict(os.environ, PYTHONPATH=str(EXAMPLE), TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    run_pytest(
        [
            f"--rootdir={tmp}",
            "test_bench.py",
            f"--hptune-trials={args.trials}",
            f"--hptune-executions={args.executions}",
            f"--hptune-epochs={args.epochs}",
            f"--hptune-workers={workers}",
            f"--hptune-json={report}",
        ],
        tmp,
        env,
    )
    wall = time.perf_counter() - start
    (entry,) = json.loads(report.read_text())["tests"]
    return {
        "search": entry["duration_s"],
        "wall": wall,
        "trials": [(t["hyperparameters"], t["scores"]) for t in entry["trials"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--executions", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        (tmp / "test_bench.py").write_text(TEST)
        one = run(tmp, args, 0)
        many = run(tmp, args, args.workers)
    same = one["trials"] == many["trials"]
    print(
        f"digits ConvNet, {args.trials} trials x {args.executions} executions x {args.epochs} epochs, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'way':<34}{'search s':>10}{'session s':>11}")
    print(f"{'in the test process':<34}{one['search']:>10.1f}{one['wall']:>11.1f}")
    print(f"{f'--hptune-workers={args.workers}':<34}{many['search']:>10.1f}{many['wall']:>11.1f}")
    print(f"speed-up of the search: {one['search'] / many['search']:.2f}x; same trials and scores: {same}")


if __name__ == "__main__":
    main()
