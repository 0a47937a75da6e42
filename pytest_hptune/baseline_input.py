"""The baseline file as an input of the verdict (``--hptune-compare``): read
once per session, every entry checked, before any test compares against it.
Saving it is a report (``reports/baseline_file.py``); comparing is
``verdict/compare.py``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import stats

# The file's format version (its default name is state.BASELINE_PATH).
VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why and what to do."""


class BaselineMissing(BaselineError):
    """There is no baseline file yet (the gates alone judge, "not compared"; a broken file fails)."""


def load(path: Path) -> dict[str, Any]:
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


def _first_problem(data: dict[str, Any]) -> str | None:
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


def _inconsistency(saved: dict[str, Any]) -> str | None:
    """Values that are numbers but cannot be right: out of range, a
    negative std, a mean or std that contradicts the scores they summarise
    (the comparison would print one and compute with the other)."""
    everything = list(saved["scores"]) + [v for t in saved.get("trials", []) for v in t["scores"]]
    for value in [*everything, saved["mean"], saved["std"]]:
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
