"""Fingerprints of a search, for ``--hptune-resume``.

A search is resumed only when what decides its trials is unchanged: the test
id, the search space, the settings (gates aside: they judge trials, they do
not change them), the data handed to ``fit`` and the library versions.
Each part is hashed on its own so that a fresh start can say what changed.

Hand-written rather than a library (``joblib.hash`` would do) because the
rules are ours: gates and ``verbose``/``callbacks`` are left out, and data
that cannot be hashed faithfully (a generator, a ``tf.data`` pipeline) must
force a fresh start instead of hashing its ``repr``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..settings import SPEED_SETTINGS, VERDICT_SETTINGS

# Settings that leave a search's trials as they are.
GATES = VERDICT_SETTINGS + SPEED_SETTINGS

FILENAME = "hptune-fingerprint.json"
VERSION = 1

# fit() keywords that do not change what a trial computes (callbacks are
# described by ``_callbacks``: EarlyStopping changes the scores).
IGNORED_FIT_KWARGS = frozenset({"callbacks", "verbose"})
# Callback attributes that say where output goes, not what is computed.
_WHERE = ("dir", "path", "file")


class Unhashable(Exception):
    """Data the fingerprint cannot describe faithfully."""


def _canonical(value: Any, path: str) -> Any:
    """A JSON-able stand-in for a fit argument; arrays become digests."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v, f"{path}[{k!r}]") for k, v in sorted(value.items(), key=str)}
    to_numpy = getattr(value, "to_numpy", None)  # pandas
    if callable(to_numpy) and not hasattr(value, "__array_interface__"):
        value = to_numpy()
    if hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype"):
        import numpy as np

        array = np.ascontiguousarray(np.asarray(value))
        if array.dtype == object:
            raise Unhashable(f"{path} is an object array")
        digest = hashlib.sha256(array.view(np.uint8).reshape(-1).data).hexdigest()
        return {"array": digest, "shape": list(array.shape), "dtype": str(array.dtype)}
    raise Unhashable(f"{path} is a {type(value).__name__}")


def _callbacks(callbacks: Any) -> list[dict[str, Any]]:
    """Each callback's class and plain settings (EarlyStopping's monitor,
    patience, ...): what can change a trial's scores."""
    out = []
    for callback in callbacks or ():
        kind = type(callback)
        plain = {
            k: v
            for k, v in sorted(vars(callback).items())
            if not k.startswith("_")
            and isinstance(v, (bool, int, float, str, type(None)))
            and not any(w in k for w in _WHERE)
        }
        out.append({"class": f"{kind.__module__}.{kind.__qualname__}", "settings": plain})
    return out


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compute(
    nodeid: str,
    settings: Mapping[str, Any],
    space: list[dict[str, Any]],
    fit_args: tuple[Any, ...],
    fit_kwargs: Mapping[str, Any],
    versions: Mapping[str, str],
) -> dict[str, str]:
    """Digest per part. Raises Unhashable when the data cannot be described."""
    data = {
        "args": _canonical(list(fit_args), "fit argument"),
        "kwargs": _canonical({k: v for k, v in fit_kwargs.items() if k not in IGNORED_FIT_KWARGS}, "fit argument"),
    }
    return {
        "test id": _digest(nodeid),
        "settings": _digest({k: v for k, v in settings.items() if k not in GATES}),
        "search space": _digest(space),
        "data": _digest(data),
        "callbacks": _digest(_callbacks(fit_kwargs.get("callbacks"))),
        "library versions": _digest(dict(versions)),
    }


def differences(saved: Mapping[str, Any], parts: Mapping[str, str], settings: Mapping[str, Any]) -> str | None:
    """What changed since the saved fingerprint, in words; None if nothing."""
    changed = []
    for part, digest in parts.items():
        if saved["parts"].get(part) == digest:
            continue
        if part == "settings":
            old = saved.get("settings") or {}
            keys = [k for k in settings if k not in GATES and old.get(k) != settings[k]]
            changed.append(
                "settings (" + ", ".join(f"{k}: {old.get(k)!r} -> {settings[k]!r}" for k in keys) + ")"
                if keys
                else "settings"
            )
        else:
            changed.append(part)
    if not changed:
        return None
    listed = changed[0] if len(changed) == 1 else ", ".join(changed[:-1]) + " and " + changed[-1]
    return f"{listed} changed since the earlier run"


def read(project_dir: Path) -> dict[str, Any] | None:
    """The saved fingerprint, or None when there is none or it cannot be read."""
    try:
        saved = json.loads((project_dir / FILENAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("version") != VERSION or not isinstance(saved.get("parts"), dict):
        return None
    return saved


def write(project_dir: Path, parts: Mapping[str, str], settings: Mapping[str, Any]) -> None:
    """Atomically: a run killed while writing leaves the old file or none."""
    project_dir.mkdir(parents=True, exist_ok=True)
    content = {"version": VERSION, "parts": dict(parts), "settings": dict(settings)}
    write_text(project_dir / FILENAME, json.dumps(content, indent=1, default=repr))
