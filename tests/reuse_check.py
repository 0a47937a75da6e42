"""Fresh builds against reused models, on whatever Keras backend is loaded
(run in-process for TensorFlow and in a subprocess for JAX by test_reuse.py).

Every execution builds at its own seed; with reuse, executions 2..n fit the
first execution's model holding the fresh build's initial state. A model
with dropout and batch normalisation, shuffled batches and a validation
split: the seed reaches the initial weights, the dropout masks and the data
order, and the batch statistics are state that a copy could miss."""

import json

import keras
import numpy as np

from pytest_hptune.engine.reuse import ModelReuse

SEEDS = (11, 22, 33)


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int32")
    return x, y


def build(optimizer=None, model_class=keras.Model):
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.Dropout(0.3)(hidden)
    model = model_class(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer or keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


def histories(reuse_on: bool, make=build, callbacks=lambda: [], seeds=SEEDS):
    """Each execution's full validation history, and how many executions
    fitted a reused model."""
    reuse = ModelReuse(reuse_on)
    x, y = data()
    kwargs = dict(validation_split=0.25, epochs=2, batch_size=16, verbose=0)
    out = []
    for seed in seeds:
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        model = reuse.model_for(make(), (x, y), kwargs)
        history = model.fit(x, y, callbacks=callbacks(), **kwargs).history
        reuse.after_fit()
        out.append([history["val_loss"], history["val_accuracy"], history["loss"]])
    return out, reuse.reused


if __name__ == "__main__":
    fresh, _ = histories(False)
    reused, count = histories(True)
    print(json.dumps({"backend": keras.backend.backend(), "fresh": fresh, "reused": reused, "count": count}))
