"""Tuning gates for the digits ConvNet.

pytest --hptune-trials=3          # what CI runs: a bounded search
"""

import pytest
from digits_model import build_estimator, build_model, flat


@pytest.mark.hptune(
    max_trials=3,
    executions_per_trial=3,
    epochs=5,
    min_score=0.90,  # the best configuration reaches 90 % validation accuracy...
    max_std=0.03,  # ...with a spread across seeds of at most 3 points...
    max_neighbour_drop=0.10,  # ...and no single hyperparameter one step away costs 10 %
)
def test_digits_convnet_is_tunable_and_stable(hptune, digits):
    (x_train, y_train), (x_test, y_test) = digits
    result = hptune.search(build_model, x_train, y_train, validation_split=0.2, batch_size=32)
    # Extra checks on the result are plain asserts.
    assert result.best.hyperparameters["learning_rate"] != 1e-4, "too slow to learn in 5 epochs"

    # The seed walkthrough's last step: train the best configuration (a fresh,
    # seeded model) on all the training data and check it on the held-out
    # test split.
    model = result.retrain(x_train, y_train, epochs=10, batch_size=32)
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert test_accuracy >= 0.93, f"held-out accuracy {test_accuracy:.3f}"


@pytest.mark.hptune(
    objective="val_loss",
    max_trials=3,
    executions_per_trial="auto",  # 2 each, more for the leader while the gate is undecided
    min_executions=2,
    max_executions=6,
    epochs=5,
    max_score=0.35,
)
def test_digits_convnet_validation_loss(hptune, digits):
    """A min-objective gate: the tuned validation loss stays low. Adaptive
    executions: a clear verdict costs few fits."""
    (x_train, y_train), _ = digits
    result = hptune.search(build_model, x_train, y_train, validation_split=0.2, batch_size=32)
    assert result.objective.direction == "min"


@pytest.mark.hptune(
    tuner="hyperband",
    max_trials=7,  # one bracket that ends at full budget: 5 x 2 epochs -> 2 x 6 epochs
    max_epochs=6,
    executions_per_trial=2,
    min_score=0.90,
)
def test_digits_convnet_with_hyperband(hptune, digits):
    """Hyperband spends few epochs on weak configurations; the gate judges
    only the trials that trained the full max_epochs. With --hptune-trials=3
    the budget fits only the last bracket: 3 trials at the full 6 epochs."""
    (x_train, y_train), _ = digits
    result = hptune.search(build_model, x_train, y_train, validation_split=0.2, batch_size=32)
    assert all(trial.budget == 6 for trial in result.trials)


@pytest.mark.hptune(tuner="sklearn", cv=5, scoring="accuracy", min_score=0.95, max_std=0.03)
def test_classic_estimators_by_cross_validation(hptune, digits):
    """The same data for scikit-learn models: the five folds are the
    executions, so max_std bounds the spread across folds."""
    (x_train, y_train), (x_test, y_test) = digits
    result = hptune.search(build_estimator, flat(x_train), y_train)
    model = result.retrain(flat(x_train), y_train)
    assert model.score(flat(x_test), y_test) >= 0.95
