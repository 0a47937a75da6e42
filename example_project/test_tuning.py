"""Tuning gates for the digits ConvNet.

    pytest --hptune-trials=3          # what CI runs: a bounded search
"""

import keras
import pytest

from digits_model import build_model


@pytest.mark.hptune(
    max_trials=3,
    executions_per_trial=3,
    epochs=5,
    min_score=0.90,  # the best configuration reaches 90 % validation accuracy...
    max_std=0.03,  # ...with a spread across seeds of at most 3 points
)
def test_digits_convnet_is_tunable_and_stable(hptune, digits):
    (x_train, y_train), (x_test, y_test) = digits
    result = hptune.search(build_model, x_train, y_train, validation_split=0.2, batch_size=32)
    # Extra checks on the result are plain asserts.
    assert result.best.hyperparameters["learning_rate"] != 1e-4, "too slow to learn in 5 epochs"

    # The seed walkthrough's last step: train the best configuration further
    # on all the training data and check it on the held-out test split.
    keras.utils.set_random_seed(0)
    model = result.best_model()
    model.fit(x_train, y_train, epochs=10, batch_size=32, verbose=0)
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert test_accuracy >= 0.93, f"held-out accuracy {test_accuracy:.3f}"


@pytest.mark.hptune(objective="val_loss", max_trials=3, executions_per_trial=2, epochs=5, max_score=0.35)
def test_digits_convnet_validation_loss(hptune, digits):
    """A min-objective gate: the tuned validation loss stays low."""
    (x_train, y_train), _ = digits
    result = hptune.search(build_model, x_train, y_train, validation_split=0.2, batch_size=32)
    assert result.objective.direction == "min"
