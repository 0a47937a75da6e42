"""The machine-readable report (``--hptune-json``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


def document(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "tests": records}


def write(path: Path, records: list[dict[str, Any]]) -> None:
    """Write atomically: a reader never sees a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document(records), fh, indent=2, allow_nan=False, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
