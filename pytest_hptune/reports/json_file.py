"""The machine-readable report (``--hptune-json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import write_text
from .outcome import FileReport

SCHEMA_VERSION = 1


def document(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "tests": records}


def write(path: Path, records: list[dict[str, Any]]) -> None:
    """Write atomically: a reader never sees a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(document(records), indent=2, allow_nan=False, default=str) + "\n")


class JsonReport(FileReport):
    """``--hptune-json=PATH`` as a report plugin."""

    what = "JSON report"
    write = staticmethod(write)
