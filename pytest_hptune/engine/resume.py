"""``--hptune-resume``: whether a saved search may continue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner

from ..settings import Settings
from . import fingerprint
from .space import initial_space


def _versions() -> dict[str, str]:
    from .. import __version__

    return {
        "pytest-hptune": __version__,
        "keras": keras.__version__,
        "keras-tuner": keras_tuner.__version__,
        "backend": keras.backend.backend(),
    }


def plan_resume(
    hypermodel: Any,
    settings: Settings,
    project_dir: Path,
    nodeid: str,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
) -> tuple[bool, str | None, dict[str, str] | None]:
    """(reuse the saved search?, why not, fingerprint parts to save)."""
    try:
        parts = fingerprint.compute(
            nodeid,
            settings.as_dict(),
            initial_space(hypermodel, settings),
            fit_args,
            fit_kwargs,
            _versions(),
        )
    except fingerprint.Unhashable as exc:
        return (
            False,
            f"the data cannot be fingerprinted ({exc}); resuming needs NumPy arrays, "
            "pandas objects or plain values as fit arguments",
            None,
        )
    saved = fingerprint.read(project_dir)
    if saved is None:
        if (project_dir / "oracle.json").exists():
            return False, "the earlier run left no readable fingerprint", parts
        return False, "no earlier run of this search to resume", parts
    changed = fingerprint.differences(saved, parts, settings.as_dict())
    return changed is None, changed, parts
