"""Hypothesis strategies over a Keras Tuner search space (see
``pytest_hptune.engine.strategies``). Importing this module is cheap: Keras
Tuner loads when a strategy is built."""

from .engine.strategies import build, hyperparameters, space, train_briefly

__all__ = ["build", "hyperparameters", "space", "train_briefly"]
