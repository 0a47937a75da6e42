"""The baseline file (``--hptune-save-baseline``): each search's best trial
(per-execution scores, hyperparameters, settings, versions), in a file meant
to be committed. Loading and checking it (an input of ``--hptune-compare``)
is ``baseline_input.py``; the comparison itself is ``verdict.compare``."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..baseline_input import VERSION, BaselineError, BaselineMissing, load
from ..verdict.compare import key, versions
from ..verdict.record import best_trial, judged_trials
from .outcome import FileReport

__all__ = [
    "BaselineReport",
    "entry",
    "machine",
    "save",
    "save_records",
]


def entry(record: dict[str, Any]) -> dict[str, Any] | None:
    """What a baseline keeps of a search: its best trial and its context,
    every judged trial's per-execution scores (``trials``: the search's own
    variance, which the search-level comparison counts; entries saved
    without it fall back on the new search's spread), and its ``anchor``:
    the best configuration, the integer seeds of its anchor executions and
    their scores (the paired comparison trains them again; absent when the
    search could not train them)."""
    best = best_trial(record)
    if best is None:
        return None
    anchor = record.get("best_anchor") or {}
    judged = judged_trials(record["trials"], best)
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
        **({"anchor": {k: anchor[k] for k in ("hyperparameters", "seeds", "scores")}} if anchor.get("scores") else {}),
    }


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def lock_path(path: Path) -> Path:
    """The lock file of a save: beside the baseline file, only while a save
    holds it (removed before the lock is released)."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the file while it is read, merged and
    replaced: concurrent saves (a CI matrix, parallel jobs) lose nothing.
    The lock file is removed before the lock is released, so none is left
    in the repository to be committed by accident; a save that got the
    lock on a file another save has just removed tries again (its inode
    is no longer the path's). POSIX only (fcntl); elsewhere the save is
    atomic but unlocked."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    where = lock_path(path)
    while True:
        lock = open(where, "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            held, current = os.fstat(lock.fileno()), os.stat(where)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                break
        except FileNotFoundError:
            pass
        lock.close()  # releases the lock on the removed file
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            where.unlink()
        lock.close()


def save(path: Path, keyed_records: list[tuple[str, dict[str, Any]]], versions: dict[str, str]) -> int:
    """Merge these searches into the file (other entries are kept), under a
    lock, atomically. A file that exists but cannot be read is never
    replaced: BaselineError. Returns the number of entries written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        try:
            data = load(path)
        except BaselineMissing:
            data = {"version": VERSION, "entries": {}}
        except BaselineError as exc:
            raise BaselineError(f"{exc}; it was not overwritten") from None
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
        write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    return written


def save_records(path: Path, records: list[dict[str, Any]]) -> int:
    """Save every search of the session, keyed by test id and search number."""
    keyed = [(key(r["nodeid"], r.get("search", 0)), r) for r in records]
    backends = {r.get("backend") for r in records} - {None}
    return save(path, keyed, versions(backends.pop() if len(backends) == 1 else None))


class BaselineReport(FileReport):
    """``--hptune-save-baseline[=PATH]`` as a report plugin."""

    what = "baseline"
    write = staticmethod(save_records)
