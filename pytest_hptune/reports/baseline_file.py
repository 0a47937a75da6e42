"""The baseline file (``--hptune-save-baseline``): each search's best trial
(per-execution scores, hyperparameters, settings, versions), in a file meant
to be committed. The comparison itself is ``verdict.compare``."""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import stats
from ..atomic import write_text
from ..verdict.compare import key, versions
from ..verdict.record import best_trial
from .outcome import FileReport

__all__ = [
    "BaselineError",
    "BaselineMissing",
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
        **({"anchor": {k: anchor[k] for k in ("hyperparameters", "seeds", "scores")}} if anchor.get("scores") else {}),
    }


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


class BaselineMissing(BaselineError):
    """There is no baseline file yet (the gates alone judge, "not compared"; a broken file fails)."""


def load(path: Path) -> dict:
    """The baseline file, every entry checked; raises BaselineMissing when
    there is none and BaselineError, naming the entry and the field, when
    it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineMissing(f"no baseline file {path}: create it with --hptune-save-baseline={path}") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(
            f"the baseline file {path} cannot be read ({type(exc).__name__}: {exc}); fix it (a merge "
            "conflict?) or remove it and save it again with --hptune-save-baseline"
        ) from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("entries"), dict):
        raise BaselineError(
            f"{path} is not a version-{VERSION} pytest-hptune baseline; remove it and save it again with "
            "--hptune-save-baseline"
        )
    problem = _first_problem(data)
    if problem:
        raise BaselineError(f"the baseline file {path}: {problem}; fix or remove it, or save it again")
    return data


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scores(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_number(v) for v in value)


# Each field an entry needs, and what it must be.
FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "scores": ("a non-empty list of finite numbers", _scores),
    "mean": ("a finite number", _number),
    "std": ("a finite number", _number),
    "best_trial_id": ("a string", lambda v: isinstance(v, str)),
    "hyperparameters": ("an object", lambda v: isinstance(v, dict)),
    "settings": ("an object", lambda v: isinstance(v, dict)),
    "objective": (
        'an object with a "name" and a "direction" of "min" or "max"',
        lambda v: isinstance(v, dict) and isinstance(v.get("name"), str) and v.get("direction") in ("min", "max"),
    ),
}


def _seed(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _anchor_problem(anchor: Any) -> str | None:
    """What is wrong with an entry's anchor, or None (an absent one is fine:
    the comparison then falls back to the search level)."""
    if anchor is None:
        return None
    if not isinstance(anchor, dict) or not isinstance(anchor.get("hyperparameters"), dict):
        return 'an object with "hyperparameters", "seeds" and "scores"'
    seeds, scores = anchor.get("seeds"), anchor.get("scores")
    if not isinstance(seeds, list) or not seeds or not all(_seed(s) for s in seeds):
        return '"seeds": a non-empty list of non-negative integers'
    if not isinstance(scores, list) or not _scores(scores) or len(scores) != len(seeds):
        return '"scores": finite numbers, one per seed'
    return None


def _first_problem(data: dict) -> str | None:
    """What makes the file unusable, naming the test id and the field."""
    if not isinstance(data.get("versions", {}), dict):
        return '"versions" is not an object'
    for name, saved in data["entries"].items():
        if not isinstance(saved, dict):
            return f"the entry {name!r} is not an object"
        for field, (what, ok) in FIELDS.items():
            if field not in saved or not ok(saved[field]):
                return f"the entry {name!r} has no usable {field!r} ({what})"
        problem = _anchor_problem(saved.get("anchor"))
        if problem:
            return f"the entry {name!r} has no usable 'anchor' ({problem})"
        trials = saved.get("trials", [])
        if not isinstance(trials, list) or not all(isinstance(t, dict) and _scores(t.get("scores")) for t in trials):
            return f"the entry {name!r} has no usable 'trials' (a list of objects with scores)"
        problem = _inconsistency(saved)
        if problem:
            return f"the entry {name!r} {problem}"
    return None


# Scores beyond this would overflow the comparison's sums of squares (a
# score of 1e308 is finite, its square is not); no metric comes near it.
MAX_ABS_SCORE = 1e100


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _inconsistency(saved: dict) -> str | None:
    """Values that are numbers but cannot be right: out of range, a
    negative std, a mean or std that contradicts the scores they summarise
    (the comparison would print one and compute with the other)."""
    everything = list(saved["scores"]) + [v for t in saved.get("trials", []) for v in t["scores"]]
    for value in everything + [saved["mean"], saved["std"]]:
        if abs(value) > MAX_ABS_SCORE:
            return f"has a score of {value!r} (in 'scores', 'mean', 'std' or 'trials'), beyond +-{MAX_ABS_SCORE:g}"
    if saved["std"] < 0:
        return f"has 'std' {saved['std']!r}, below 0"
    scores = saved["scores"]
    for field, value in (("mean", stats.mean(scores)), ("std", stats.std(scores))):
        assert value is not None  # scores is a non-empty list
        if not _close(saved[field], value):
            return f"has '{field}' {saved[field]!r}, but its 'scores' {scores!r} have {field} {value!r}"
    return None


def lock_path(path: Path) -> Path:
    """The lock file of a save: beside the baseline file, only while a save
    holds it (removed before the lock is released)."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def _locked(path: Path):
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


def save(path: Path, keyed_records: list[tuple[str, dict]], versions: dict[str, str]) -> int:
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


def save_records(path: Path, records: list[dict]) -> int:
    """Save every search of the session, keyed by test id and search number."""
    keyed = [(key(r["nodeid"], r.get("search", 0)), r) for r in records]
    backends = {r.get("backend") for r in records} - {None}
    return save(path, keyed, versions(backends.pop() if len(backends) == 1 else None))


class BaselineReport(FileReport):
    """``--hptune-save-baseline[=PATH]`` as a report plugin."""

    what = "baseline"
    write = staticmethod(save_records)
