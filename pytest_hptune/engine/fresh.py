"""A fresh, seeded model outside a trial: the Keras session cleared, the
seeds set, the configuration built. Every fit after the search (confirmation,
neighbours, top-up, anchors), ``result.retrain`` and
``strategies.train_briefly`` start from it, so that they build what a trial's
execution with the same seed builds."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import keras

GC_EVERY = 10


_builds = [0]


def collect_garbage_now() -> None:
    """A full collection every GC_EVERY model builds in this process (not
    per tuner: a session of many small searches is bounded too)."""
    _builds[0] += 1
    if _builds[0] % GC_EVERY == 0:
        gc.collect()


def fresh_model(seed: int, build: Callable[[], Any]) -> Any:
    """``build()`` after clearing the Keras session (and, every GC_EVERY
    builds, collecting the dead models' reference cycles) and seeding every
    generator with ``seed``: the caller fits the model it returns."""
    keras.backend.clear_session(free_memory=False)
    collect_garbage_now()
    keras.utils.set_random_seed(seed)
    return build()
