"""The baseline file (``--hptune-save-baseline``): each search's best trial
(per-execution scores, hyperparameters, settings, versions), in a file meant
to be committed. The comparison itself is ``verdict.compare``."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..verdict.compare import key, versions
from ..verdict.record import best_trial
from .outcome import FileReport

__all__ = [
    "BaselineError",
    "BaselineReport",
    "DEFAULT_PATH",
    "VERSION",
    "entry",
    "key",
    "load",
    "machine",
    "save",
    "save_records",
    "versions",
]


VERSION = 1


DEFAULT_PATH = "hptune-baseline.json"


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why and what to do."""


def entry(record: dict) -> dict | None:
    """What a baseline keeps of a search: its best trial and its context, and
    every judged trial's per-execution scores (``trials``: the search's own
    variance, which ``--hptune-compare`` counts; entries saved without it
    fall back on the new search's spread)."""
    best = best_trial(record)
    if best is None:
        return None
    judged = [
        t
        for t in record["trials"]
        if t["status"] == "COMPLETED" and t.get("budget") == best.get("budget") and t["scores"]
    ]
    return {
        "nodeid": record["nodeid"],
        "tuner": record["tuner"],
        "objective": record["objective"],
        "settings": {k: v for k, v in record["settings"].items()},
        "best_trial_id": best["trial_id"],
        "hyperparameters": best["hyperparameters"],
        "scores": best["scores"],
        "mean": best["mean"],
        "std": best["std"],
        "passed": record["passed"],
        "trials": [
            {"trial_id": t["trial_id"], "hyperparameters": t["hyperparameters"], "scores": t["scores"]} for t in judged
        ],
    }


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"no baseline file {path}: create it with --hptune-save-baseline={path}"
        ) from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"the baseline file {path} cannot be read ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("entries"), dict):
        raise BaselineError(
            f"{path} is not a version-{VERSION} pytest-hptune baseline; save it again with "
            "--hptune-save-baseline"
        )
    return data


def save(path: Path, keyed_records: list[tuple[str, dict]], versions: dict[str, str]) -> int:
    """Merge these searches into the file (other entries are kept); atomic.
    Returns the number of entries written."""
    try:
        data = load(path)
    except BaselineError:
        data = {"version": VERSION, "entries": {}}
    written = 0
    for name, record in keyed_records:
        saved = entry(record)
        if saved is not None:
            data["entries"][name] = saved
            written += 1
    data["saved"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    data["machine"] = machine()
    if versions:
        data["versions"] = versions
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    return written


def save_records(path: Path, records: list[dict]) -> int:
    """Save every search of the session, keyed by test id and search number."""
    keyed = [(key(r["nodeid"], r.get("search", 0)), r) for r in records]
    return save(path, keyed, versions())


class BaselineReport(FileReport):
    """``--hptune-save-baseline[=PATH]`` as a report plugin."""

    what = "baseline"
    write = staticmethod(save_records)
