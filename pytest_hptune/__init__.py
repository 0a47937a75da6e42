"""pytest-hptune: gate a model's tuned score and its stability across seeds.

Importing this package is cheap; Keras and Keras Tuner load only when a
search runs.
"""

from typing import Any

# The one version source: pyproject.toml reads it (dynamic = ["version"]).
__version__ = "0.1.0"

__all__ = ["HptuneAdvice", "__version__"]


def __getattr__(name: str) -> Any:
    # HptuneAdvice loads the verdict machinery: only when asked for (pytest's
    # -W error::pytest_hptune.HptuneAdvice, a search), not at plugin load.
    if name == "HptuneAdvice":
        from .verdict.advice import HptuneAdvice

        return HptuneAdvice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
