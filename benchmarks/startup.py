"""What the installed plugin costs a pytest run that selects no hptune test.

Runs the same pytest session (a project of plain tests, no hptune marker, no
Keras import) with the plugin loaded and with ``-p no:hptune``, alternating
the two so that both see the same machine state, and compares median wall
times of whole ``python -m pytest`` processes.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--tests 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def session(project: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, str(project)],
        check=True,
        capture_output=True,
        cwd=project,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        body = "\n\n".join(f"def test_{i}():\n    assert {i} + 1 > {i}" for i in range(args.tests))
        (project / "test_plain.py").write_text(body + "\n")
        session(project)  # warm the file cache and byte-code
        with_plugin, without = [], []
        for _ in range(args.runs):
            with_plugin.append(session(project))
            without.append(session(project, "-p", "no:hptune"))
    a, b = statistics.median(with_plugin), statistics.median(without)
    print(f"pytest session, {args.tests} plain tests, median of {args.runs} runs each")
    print(f"{'way':<34}{'median s':>10}{'min s':>8}")
    print(f"{'with pytest-hptune':<34}{a:>10.3f}{min(with_plugin):>8.3f}")
    print(f"{'-p no:hptune':<34}{b:>10.3f}{min(without):>8.3f}")
    print(f"ratio with / without: {a / b:.3f}x")


if __name__ == "__main__":
    main()
