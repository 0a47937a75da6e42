"""Model styles: HyperModel subclasses that override fit(), conditional
search spaces, objectives and retraining the best model."""

import json
from collections.abc import Callable

import pytest

HYPERMODEL = """
import keras
import keras_tuner
import numpy as np


class BatchTuned(keras_tuner.HyperModel):
    '''Tunes batch_size in fit(), and a conditional hidden layer.'''

    def __init__(self):
        super().__init__()
        self.fit_calls = []

    def build(self, hp):
        inputs = keras.Input((4,))
        x = inputs
        if hp.Boolean("hidden"):
            with hp.conditional_scope("hidden", [True]):
                x = keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu")(x)
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
        model = keras.Model(inputs, outputs)
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        batch_size = hp.Choice("batch_size", [16, 32])
        self.fit_calls.append((batch_size, kwargs.get("epochs")))
        return model.fit(*args, batch_size=batch_size, **kwargs)
"""


def test_hypermodel_fit_override_training_metric_and_retrain(project: pytest.Pytester) -> None:
    project.makepyfile(hypermodels=HYPERMODEL)
    project.makepyfile(
        test_hm="""
        import keras
        import pytest
        from hypermodels import BatchTuned
        from models import data

        @pytest.mark.hptune(objective="accuracy", max_trials=3, executions_per_trial=1, epochs=2)
        def test_hm(hptune):
            hypermodel = BatchTuned()
            result = hptune.search(hypermodel, *data())
            assert result.objective.name == "accuracy"
            assert result.objective.direction == "max"
            searched = len(hypermodel.fit_calls)
            model = result.retrain(*data())
            assert isinstance(model, keras.Model)
            # retrain goes through the HyperModel's fit() (its batch_size), for
            # the search's epochs, on a fresh model
            batch_size, epochs = hypermodel.fit_calls[searched]
            assert batch_size == result.best.hyperparameters["batch_size"]
            assert epochs == 2
            again = result.retrain(*data())
            assert again is not model
            # seeded: retraining twice gives the same weights
            for a, b in zip(model.get_weights(), again.get_weights()):
                assert (a == b).all()
            assert result.retrain(*data(), epochs=1) is not None
            assert hypermodel.fit_calls[-1][1] == 1
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    (entry,) = json.loads((project.path / "report.json").read_text())["tests"]
    for trial in entry["trials"]:
        hps = trial["hyperparameters"]
        assert "batch_size" in hps
        assert ("units" in hps) == hps["hidden"], hps  # inactive: absent, not None
    space = {e["name"]: e for e in entry["search_space"]}
    assert space["units"]["conditions"] == [{"parent": "hidden", "values": [True]}]
    assert space["batch_size"] == {"name": "batch_size", "type": "Choice", "default": 16, "values": [16, 32]}


def test_direction_override_and_objective_object(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_dir="""
        import keras_tuner
        import pytest
        from models import FastModel, data

        class R2(FastModel):
            def fit(self, hp, model, *args, **kwargs):
                return {"val_r2_score": super().fit(hp, model)["val_accuracy"]}

        @pytest.mark.hptune(objective="val_r2_score", direction="max", executions_per_trial=1)
        def test_override(hptune):
            result = hptune.search(R2(), *data())
            assert result.objective.direction == "max"
            assert result.best.mean == max(t.mean for t in result.trials)

        @pytest.mark.hptune(objective=keras_tuner.Objective("val_r2_score", "max"), executions_per_trial=1)
        def test_object(hptune):
            assert hptune.search(R2(), *data()).objective.direction == "max"

        @pytest.mark.hptune(objective="val_r2_score", executions_per_trial=1)
        def test_inferred(hptune):
            # Keras Tuner infers "min" for r2: the report shows what was used.
            assert hptune.search(R2(), *data()).objective.direction == "min"
        """
    )
    result = project.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*objective val_r2_score (max)*", "*objective val_r2_score (min)*"])


def test_retrain_and_best_model_without_a_completed_trial_say_why() -> None:
    import pytest

    from pytest_hptune.result import Objective, SearchResult

    empty = SearchResult(Objective("val_accuracy", "max"), [], [], tuner=None)
    calls: tuple[Callable[[], object], ...] = (empty.retrain, empty.best_model)
    for call in calls:
        with pytest.raises(LookupError, match="no trial completed"):
            call()
