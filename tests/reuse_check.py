"""Fresh builds against reused models, on whatever Keras backend is loaded
(run in-process for TensorFlow and in a subprocess for JAX by test_reuse.py).

Every execution builds at its own seed; with reuse, executions 2..n fit the
first execution's model holding the fresh build's initial state. A model
with dropout and batch normalisation, shuffled batches and a validation
split: the seed reaches the initial weights, the dropout masks and the data
order, and the batch statistics are state that a copy could miss.

The fit arguments vary over the ways a first fit's shuffle draws (on JAX,
from NumPy's global generator: reuse.first_fit_draw makes that draw for a
reused model), and every fit is counted: a reused execution fits once, with
no warm-up fit."""

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np

from pytest_hptune.engine.reuse import ModelReuse

SEEDS = (11, 22, 33)

# Fit arguments that change what a fit draws before its first epoch.
FIT_VARIANTS: dict[str, dict[str, Any]] = {
    "split": {},
    "shuffle by batch, default batch size": {"shuffle": "batch", "batch_size": None},
    "no shuffle": {"shuffle": False},
    # Keras ignores validation_split when validation_data is given.
    "validation data beside a split": {"validation": True},
}


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int32")
    return x, y


def build(optimizer: Any = None, model_class: Any = keras.Model) -> Any:
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Dropout(0.3)(hidden)
    model = model_class(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer or keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


@contextlib.contextmanager
def counting_fits() -> Iterator[list[Any]]:
    """Count every keras.Model.fit call (warm-up fits included)."""
    calls: list[Any] = []
    original = keras.Model.fit

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(self)
        return original(self, *args, **kwargs)

    keras.Model.fit = fit
    try:
        yield calls
    finally:
        keras.Model.fit = original


def fit_kwargs(variant: str = "split") -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(validation_split=0.25, epochs=2, batch_size=16, verbose=0)
    kwargs.update(FIT_VARIANTS[variant])
    if kwargs.pop("validation", False):
        x, y = data()
        kwargs["validation_data"] = (x[:24], y[:24])
    return kwargs


def histories(
    reuse_on: bool,
    make: Callable[[], Any] = build,
    callbacks: Callable[[], list[Any]] = list,
    seeds: Sequence[int] = SEEDS,
    variant: str = "split",
) -> tuple[list[list[list[float]]], int]:
    """Each execution's full validation history, and how many executions
    fitted a reused model."""
    reuse = ModelReuse(reuse_on)
    x, y = data()
    kwargs = fit_kwargs(variant)
    out = []
    for seed in seeds:
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        model = reuse.model_for(make(), (x, y), kwargs)
        history = model.fit(x, y, callbacks=callbacks(), **kwargs).history
        reuse.after_fit()
        out.append([history["val_loss"], history["val_accuracy"], history["loss"]])
    return out, reuse.reused


def compare(variant: str = "split") -> dict[str, Any]:
    """Fresh and reused histories for one variant, and the fits counted."""
    fresh, _ = histories(False, variant=variant)
    with counting_fits() as fits:
        reused, count = histories(True, variant=variant)
    return {"fresh": fresh, "reused": reused, "count": count, "fits": len(fits)}


if __name__ == "__main__":
    results = {variant: compare(variant) for variant in FIT_VARIANTS}
    print(json.dumps({"backend": keras.backend.backend(), "variants": results}))
