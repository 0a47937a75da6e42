"""What the benchmarks share: a pytest session in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def run_pytest(args: list[str], cwd: Path, env: dict[str, Any], check: bool = True) -> subprocess.CompletedProcess[str]:
    """``pytest -q`` without its cache, output captured as text."""
    return subprocess.run([*PYTEST, *args], cwd=cwd, env=env, capture_output=True, text=True, check=check)
