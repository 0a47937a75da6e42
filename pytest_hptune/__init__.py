"""pytest-hptune: gate a model's tuned score and its stability across seeds.

Importing this package is cheap; Keras and Keras Tuner load only when a
search runs.
"""

# The one version source: pyproject.toml reads it (dynamic = ["version"]).
__version__ = "0.1.0"

from .verdict.advice import HptuneAdvice  # noqa: E402

__all__ = ["HptuneAdvice", "__version__"]
