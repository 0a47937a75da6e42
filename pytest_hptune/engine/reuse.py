"""Executions 2..n of one configuration train the first execution's model.

Every execution still builds its model at its own seed: the build is cheap,
and it draws from the random generators exactly what a fresh execution
draws. What is expensive is the first fit of a new model: TensorFlow traces
its training and evaluation functions, JAX compiles them (each reused fit
saved 0.46 s on a tiny MLP and 0.89 s on the digits ConvNet in
``benchmarks/overhead.py``, 3 epochs each). Reuse copies the fresh model's
initial state (weights, batch-normalisation statistics, the dropout layers'
seed states, the optimizer's initial variables, the learning rate among
them) into the model that the configuration's first execution traced, and
fits that one instead. On CPU the scores are the same as the fresh model's
to the last digit, with dropout and batch normalisation
(``tests/reuse_check.py``, run on TensorFlow by ``tests/test_reuse.py`` and
on JAX by ``tests/test_backends.py``).

Before the copy, the fresh model's optimizer is built on its trainable
variables, as its first fit would build it. Nothing is fitted: the first
fit of a new model also builds its metrics, and on JAX it takes one batch
to do so (``Trainer._symbolic_build``), drawing that batch's shuffle order
from NumPy's global generator, which a traced model's fit skips.
``first_fit_draw`` makes that same draw (the permutation of the training
rows, or of the first batch's with ``shuffle="batch"``), so the epochs that
follow draw what a fresh model's would. On TensorFlow the batch comes from
a ``tf.data`` pipeline and nothing is drawn.

Reuse is used only where it can be shown safe; otherwise the execution fits
its fresh model, as without reuse:

* the TensorFlow and JAX backends (PyTorch runs eagerly: a fit traces
  nothing, so there is nothing to save);
* Keras's own fit (a HyperModel with its own ``fit()`` may build or train
  other models), Keras's own training steps (a model that overrides
  ``train_step``, ``test_step``, ``compute_loss`` or ``compute_metrics``
  may keep state outside its variables), a built-in Keras optimizer, no
  distribution strategy;
* arrays in memory (NumPy, pandas, tensors): the draw made on JAX is that
  of Keras's array adapter; a generator, a ``PyDataset`` or a ``tf.data``
  dataset shuffles (or is consumed) by its own code;
* a model whose variables exist once it is built (``keras.Input``): one
  that creates them on first use (a Sequential without ``Input``, most
  subclassed models) is trained fresh;
* the fresh and the kept model have the same variables (name, shape,
  dtype, trainable) and their optimizers the same variables, so a callback
  that froze a layer or swapped the optimizer ends reuse for that
  configuration;
* no unseeded ``keras.random`` call (Keras's global seed generator): the
  traced model would keep drawing from its first execution's generator.
  Randomness that Keras cannot see (a raw ``tf.random`` op, a
  ``tf.Variable`` of a layer's own) is not part of the model's state
  either: such a model needs ``reuse=False``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from typing import Any

import keras
import keras_tuner
import numpy as np

from . import compat

# Methods a model may not override for its traced training to be reused.
TRAINING_METHODS = ("train_step", "test_step", "compute_loss", "compute_metrics", "fit", "make_train_function")

# Backends whose first fit of a model traces or compiles its training step.
TRACING_BACKENDS = ("tensorflow", "jax")


def backend_traces() -> bool:
    return keras.backend.backend() in TRACING_BACKENDS


def plain_fit(hypermodel: Any) -> bool:
    """The HyperModel trains the model it is given with ``model.fit`` (a
    build function, or a HyperModel without its own ``fit()``)."""
    return type(hypermodel).fit is keras_tuner.HyperModel.fit


def reusable(model: Any, distribution_strategy: Any = None) -> bool:
    """Can a model's traced training serve another execution?"""
    if distribution_strategy is not None or not isinstance(model, keras.Model):
        return False
    if any(getattr(type(model), name) is not getattr(keras.Model, name) for name in TRAINING_METHODS):
        return False
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and type(optimizer).__module__.startswith("keras.")


def in_memory(value: Any) -> bool:
    """Arrays (or nested lists, tuples, dicts of them), not data that a fit
    consumes as it reads it (generators, PyDataset, tf.data)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return all(in_memory(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(in_memory(v) for v in value)
    return hasattr(value, "shape") and hasattr(value, "__len__")


_DATA = ("x", "y", "sample_weight", "validation_data")


def _data_in_memory(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return all(in_memory(v) for v in args[:3]) and all(in_memory(kwargs.get(name)) for name in _DATA)


def _signature(variables: Iterable[Any]) -> list[tuple[str, tuple[int | None, ...], str, bool]]:
    return [(v.name, tuple(v.shape), str(v.dtype), bool(v.trainable)) for v in variables]


def _same_model(fresh: Any, kept: Any) -> bool:
    return (
        fresh.built
        and type(fresh) is type(kept)
        and type(fresh.optimizer) is type(kept.optimizer)
        and _signature(fresh.variables) == _signature(kept.variables)
    )


def _same_optimizer(fresh: Any, kept: Any) -> bool:
    return (
        fresh.optimizer.built
        and kept.optimizer.built
        and _signature(fresh.optimizer.variables) == _signature(kept.optimizer.variables)
    )


def _copy_state(fresh: Any, kept: Any) -> None:
    for target, source in zip(kept.variables, fresh.variables, strict=True):
        target.assign(source.value)
    for target, source in zip(kept.optimizer.variables, fresh.optimizer.variables, strict=True):
        target.assign(source.value)
    kept.reset_metrics()


def _rows(arrays: Any) -> int | None:
    """The number of rows of the first array in a nest of them."""
    for leaf in keras.tree.flatten(arrays):
        if leaf is not None:
            return int(leaf.shape[0])
    return None


def _keras_fit(
    x: Any = None,
    y: Any = None,
    batch_size: int | None = None,
    epochs: int = 1,
    verbose: str | int = "auto",
    callbacks: list[Any] | None = None,
    validation_split: float = 0.0,
    validation_data: Any = None,
    shuffle: bool | str = True,
    class_weight: dict[int, float] | None = None,
    sample_weight: Any = None,
    initial_epoch: int = 0,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    validation_batch_size: int | None = None,
    validation_freq: int = 1,
) -> None:
    """The signature of Keras 3's ``Model.fit``, to read a fit's arguments
    by name (reusable models do not override ``fit``)."""


def first_fit_draw(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """On JAX, draw from NumPy's global generator what the first fit of a
    fresh ``model`` with these arguments draws before its first epoch: the
    shuffle order of the batch that builds its metrics (Keras's
    ``ArrayDataAdapter``: a permutation of the training rows, or with
    ``shuffle="batch"`` of the first batch's). False when that draw cannot
    be known (the execution then fits its fresh model)."""
    if keras.backend.backend() != "jax":
        return True
    if not compat.metrics_unbuilt(model):
        return False
    try:
        bound = inspect.signature(_keras_fit).bind(*args, **kwargs)
    except TypeError:
        return False
    bound.apply_defaults()
    fit = bound.arguments
    rows = _rows((fit["x"], fit["y"], fit["sample_weight"]))
    if rows is None:
        return False
    if fit["validation_split"] and fit["validation_data"] is None:
        rows = int(math.floor(rows * (1.0 - fit["validation_split"])))
    shuffle = fit["shuffle"]
    if shuffle == "batch":
        steps = fit["steps_per_epoch"]
        batch = fit["batch_size"] or (int(math.ceil(rows / steps)) if steps else 32)
        np.random.permutation(min(batch, rows))
    elif shuffle:
        np.random.permutation(rows)
    return True


def for_tuner(tuner: Any, own_loop: bool = False) -> ModelReuse:
    """A configuration's ModelReuse for a tuner of the plugin's: on when the
    setting asks for it and the HyperModel trains with Keras's fit; with
    ``own_loop`` (the trials' executions), also only when the tuner builds
    and fits as Keras Tuner does (no ``_build_and_fit_model`` of its own)."""
    enabled = tuner.hptune_settings.reuse and plain_fit(tuner.hypermodel)
    if own_loop:
        enabled = enabled and compat.builds_and_fits_as_keras_tuner(tuner)
    return ModelReuse(enabled, tuner.distribution_strategy)


class ModelReuse:
    """One configuration's traced model, handed to each of its executions.

    ``model_for(fresh, args, kwargs)`` is called with the execution's freshly
    built model and its fit arguments, and returns the model to fit:
    the traced one holding ``fresh``'s initial state, or ``fresh`` itself."""

    def __init__(self, enabled: bool, distribution_strategy: Any = None):
        self.enabled = enabled and backend_traces()
        self.distribution_strategy = distribution_strategy
        self.kept: Any = None
        self.reused = 0  # executions that fitted the kept model

    def model_for(self, fresh: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self.enabled or not reusable(fresh, self.distribution_strategy) or not _data_in_memory(args, kwargs):
            self.kept = None
            return fresh
        kept, self.kept = self.kept, fresh
        if kept is None or not _same_model(fresh, kept):
            return fresh  # untouched; the next execution may reuse it
        if not fresh.optimizer.built:  # as the first fit builds it, on these variables
            fresh.optimizer.build(fresh.trainable_variables)
        if not _same_optimizer(fresh, kept) or not first_fit_draw(fresh, args, kwargs):
            return fresh
        _copy_state(fresh, kept)
        self.kept = kept
        self.reused += 1
        return kept

    def after_fit(self) -> None:
        """After every fit: a model that drew unseeded random numbers ends
        reuse for its configuration."""
        if self.enabled and compat.global_seed_generator_used():
            self.enabled = False
            self.kept = None
