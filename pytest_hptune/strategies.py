"""Hypothesis strategies over a Keras Tuner search space (see
``pytest_hptune.engine.strategies``). Importing this module is cheap: Keras
Tuner loads when a strategy is built."""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # the [hypothesis] extra
    raise ImportError(
        "pytest_hptune.strategies needs Hypothesis, which is not installed: "
        "pip install 'pytest-hptune[hypothesis]' (or pip install hypothesis)"
    ) from exc

from .engine.strategies import build, hyperparameters, space, train_briefly

__all__ = ["build", "hyperparameters", "space", "train_briefly"]
