"""Executions 2..n of a configuration fit the model its first execution
traced (engine/reuse.py): the same scores as fresh builds, fewer traces,
and a fresh build wherever reuse cannot be shown safe."""

import json
from typing import Any

import keras
import pytest
import reuse_check
from conftest import MODELS

from pytest_hptune.engine.reuse import ModelReuse, in_memory, plain_fit, reusable


@pytest.fixture(scope="module")
def fresh_histories() -> list[list[list[float]]]:
    histories, reused = reuse_check.histories(False)
    assert reused == 0
    return histories


def test_reused_models_score_like_fresh_builds_to_the_last_digit(fresh_histories: list[list[list[float]]]) -> None:
    with reuse_check.counting_fits() as fits:
        reused, count = reuse_check.histories(True)
    assert count == 2
    assert reused == fresh_histories
    # The seeds matter: otherwise equality would prove nothing.
    assert len({json.dumps(h) for h in fresh_histories}) == len(reuse_check.SEEDS)
    # One fit per execution: a reused execution runs no warm-up fit.
    assert len(fits) == len(reuse_check.SEEDS)


@pytest.mark.parametrize("variant", [v for v in reuse_check.FIT_VARIANTS if v != "split"])
def test_reuse_is_exact_however_the_fit_shuffles(variant: Any) -> None:
    compared = reuse_check.compare(variant)
    assert compared["count"] == 2 and compared["fits"] == len(reuse_check.SEEDS)
    assert compared["reused"] == compared["fresh"]


# On JAX and PyTorch: tests/test_backends.py runs reuse_check there.


class OwnStep(keras.Model):
    def train_step(self, *args: Any, **kwargs: Any) -> Any:
        return super().train_step(*args, **kwargs)


class OwnAdam(keras.optimizers.Adam):
    pass


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: reuse_check.build(model_class=OwnStep), id="own train_step"),
        pytest.param(lambda: reuse_check.build(optimizer=OwnAdam(0.01)), id="optimizer of the user's"),
    ],
)
def test_models_that_may_keep_state_elsewhere_are_built_fresh(make: Any) -> None:
    assert not reusable(make())
    reuse = ModelReuse(True)
    first = reuse.model_for(make(), (), {})
    assert reuse.model_for(make(), (), {}) is not first and reuse.reused == 0


def test_no_reuse_under_a_distribution_strategy_or_when_turned_off() -> None:
    for reuse in (ModelReuse(True, distribution_strategy=object()), ModelReuse(False)):
        first = reuse.model_for(reuse_check.build(), (), {})
        assert reuse.model_for(reuse_check.build(), (), {}) is not first and reuse.reused == 0


def lazy() -> Any:
    """No keras.Input: the variables appear in the first fit."""
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


class UnseededNoise(keras.layers.Layer):
    def call(self, inputs: Any, training: bool = False) -> Any:
        # keras.random without a seed: Keras's global seed generator.
        return inputs + keras.random.normal(keras.ops.shape(inputs)) if training else inputs


def noisy() -> Any:
    inputs = keras.Input((6,))
    hidden = UnseededNoise()(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lazy, id="variables created on first use"),
        pytest.param(noisy, id="unseeded keras.random"),
    ],
)
def test_models_whose_state_a_copy_would_miss_are_trained_fresh(make: Any) -> None:
    fresh, _ = reuse_check.histories(False, make=make, seeds=(1, 2))
    reused, count = reuse_check.histories(True, make=make, seeds=(1, 2))
    assert count == 0
    assert reused == fresh
    assert len({json.dumps(h) for h in fresh}) == 2


def test_only_arrays_in_memory_are_reused() -> None:
    import numpy as np
    import tensorflow as tf

    x = np.zeros((4, 2))
    assert in_memory(x) and in_memory({"a": x, "b": x}) and in_memory((x, x)) and in_memory(tf.zeros((4, 2)))
    assert not in_memory(iter([x])) and not in_memory(tf.data.Dataset.from_tensor_slices(x))
    assert not in_memory(keras.utils.PyDataset()) and not in_memory([0, 1])
    reuse = ModelReuse(True)
    first = reuse.model_for(reuse_check.build(), (tf.data.Dataset.from_tensor_slices(x),), {})
    assert reuse.model_for(reuse_check.build(), (tf.data.Dataset.from_tensor_slices(x),), {}) is not first


def test_a_callback_that_freezes_a_layer_ends_reuse_for_the_configuration(
    fresh_histories: list[list[list[float]]],
) -> None:
    class Freeze(keras.callbacks.Callback):
        def on_train_end(
            self, logs: dict[str, Any] | None = None
        ) -> None:  # after training: a fresh model trains as without it
            self.model.layers[1].trainable = False

    reused, count = reuse_check.histories(True, callbacks=lambda: [Freeze()])
    assert count == 0
    assert reused == fresh_histories


def test_a_hypermodel_with_its_own_fit_is_not_reused() -> None:
    import keras_tuner

    class OwnFit(keras_tuner.HyperModel):
        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            return model.fit(*args, **kwargs)

    assert plain_fit(keras_tuner.HyperModel())
    assert not plain_fit(OwnFit())


SEARCH = """
import json, os
import pytest
from models import build_dense, data

@pytest.mark.hptune(max_trials=1, executions_per_trial=3, epochs=1, confirm=2, max_std=1.0, vary="split")
def test_search(hptune):
    hptune.search(build_dense, *data(), validation_split=0.25, batch_size=16)
"""


def test_a_search_scores_the_same_with_and_without_reuse(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(models=MODELS, test_search=SEARCH)
    reports = {}
    for reuse in ("on", "off"):
        # Two confirmation runs on 30 rows may score the same: that warning is not this test's.
        args = ("-W", "ignore::pytest_hptune.HptuneAdvice")
        result = pytester.runpytest(f"--hptune-reuse={reuse}", f"--hptune-json={reuse}.json", *args)
        result.assert_outcomes(passed=1)
        (reports[reuse],) = json.loads((pytester.path / f"{reuse}.json").read_text())["tests"]
    on, off = reports["on"], reports["off"]
    assert [t["scores"] for t in on["trials"]] == [t["scores"] for t in off["trials"]]
    assert [t["hyperparameters"] for t in on["trials"]] == [t["hyperparameters"] for t in off["trials"]]
    assert on["confirmation"] == off["confirmation"]
    # The trial's executions 2 and 3, and the confirmation's second fit.
    assert (on["reused_fits"], off["reused_fits"]) == (3, 0)


def test_a_bad_reuse_value_names_the_option_and_the_choices(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--hptune-reuse=maybe")
    assert result.ret != 0
    assert "--hptune-reuse" in result.stderr.str() + result.stdout.str()
    assert "on or off" in result.stderr.str() + result.stdout.str()


def test_a_bad_reuse_in_a_marker_names_the_setting_and_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.hptune(reuse="yes")
        def test_x(hptune):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*invalid reuse='yes' from hptune marker*True or False*"])


def test_resume_and_baselines_ignore_reuse() -> None:
    from pytest_hptune.engine import fingerprint
    from pytest_hptune.verdict import compare

    parts = {
        reuse: fingerprint.compute("t.py::t", {"seed": 0, "reuse": reuse}, [], (), {}, {}) for reuse in (True, False)
    }
    assert parts[True] == parts[False]
    # The check is not blind: another setting does change the fingerprint.
    assert fingerprint.compute("t.py::t", {"seed": 1, "reuse": True}, [], (), {}, {}) != parts[True]
    saved = {"settings": {"seed": 0, "reuse": True}}
    assert compare.mismatches(saved, {"settings": {"seed": 0, "reuse": False}}, {}, {}) == []
    assert compare.mismatches(saved, {"settings": {"seed": 1, "reuse": True}}, {}, {}) != []


OWN_WAYS = """
import keras_tuner
import pytest
from models import build_small, data

SEEN = []


class OwnFit(keras_tuner.HyperModel):
    def build(self, hp):
        return build_small(hp)

    def fit(self, hp, model, *args, **kwargs):
        SEEN.append(getattr(model, "seen", False))
        model.seen = True
        return model.fit(*args, **kwargs)


CALLS = []


class OwnBuildAndFit(keras_tuner.RandomSearch):
    def _build_and_fit_model(self, trial, *args, **kwargs):
        CALLS.append(trial.trial_id)
        return super()._build_and_fit_model(trial, *args, **kwargs)


@pytest.mark.hptune(max_trials=1, executions_per_trial=3, epochs=1)
def test_own_fit(hptune):
    result = hptune.search(OwnFit(), *data(), validation_split=0.25)
    assert SEEN == [False, False, False] and len(result.best.scores) == 3


@pytest.mark.hptune(max_trials=1, executions_per_trial=3, epochs=1, tuner=OwnBuildAndFit)
def test_own_build_and_fit(hptune):
    hptune.search(build_small, *data(), validation_split=0.25)
    assert len(CALLS) == 3
"""


def test_a_hypermodel_fit_or_a_tuner_build_and_fit_of_the_users_gets_fresh_models(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(models=MODELS, test_own=OWN_WAYS)
    pytester.runpytest("--hptune-json=r.json").assert_outcomes(passed=2)
    reports = json.loads((pytester.path / "r.json").read_text())["tests"]
    assert [r["reused_fits"] for r in reports] == [0, 0]


BOOKKEEPING = """
import pytest
from models import build_small, data
from pytest_hptune import atomic

WRITES = []


# Keras warns that the checkpoint's optimizer variables are not loaded (as
# with Keras Tuner alone): the model's weights are.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.hptune(max_trials=2, executions_per_trial=3, epochs=2)
def test_search(hptune, monkeypatch):
    original = atomic.write_text

    def counted(path, *args, **kwargs):
        WRITES.append(str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(atomic, "write_text", counted)
    x, y = data()
    result = hptune.search(build_small, x, y, validation_split=0.25)
    assert len([w for w in WRITES if w.endswith("build_config.json")]) == len(result.trials)
    # Keras Tuner's get_best_models still builds each model from its build
    # config and loads its best epoch: the best trial's model scores its
    # best execution's best epoch on the validation rows.
    (model,) = result.tuner.get_best_models(1)
    held_out = slice(len(x) - len(x) // 4, None)
    _, accuracy = model.evaluate(x[held_out], y[held_out], verbose=0)
    assert accuracy == pytest.approx(max(result.best.scores), abs=1e-6)
"""


def test_one_build_config_write_per_trial_and_get_best_models_still_loads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(models=MODELS, test_bookkeeping=BOOKKEEPING)
    result = pytester.runpytest("--hptune-json=r.json")
    result.assert_outcomes(passed=1)
    (report,) = json.loads((pytester.path / "r.json").read_text())["tests"]
    assert report["reused_fits"] == 4
