import importlib
import importlib.util
import json
import pkgutil
import textwrap
from typing import Any

import pytest

import pytest_hptune

# pytester's in-process runs drop the modules first imported inside a run, but
# a package keeps its attribute for a dropped submodule: in a second run,
# "-W ignore::pytest_hptune.HptuneAdvice" named a new class while the fixture
# warned with the old one, and a test's monkeypatch of pytest_hptune.atomic
# patched a module the engine no longer used. Every module imported once here
# stays one module for the whole session, whatever order the tests run in.
# A module of an optional extra is left out where the extra is not installed
# (.ci/oldest installs no extras).
OPTIONAL = {"pytest_hptune.strategies": "hypothesis", "pytest_hptune.engine.strategies": "hypothesis"}
for _module in pkgutil.walk_packages(pytest_hptune.__path__, "pytest_hptune."):
    _extra = OPTIONAL.get(_module.name)
    if _extra is None or importlib.util.find_spec(_extra) is not None:
        importlib.import_module(_module.name)

pytest_plugins = ["pytester"]

# Two tests of one fast search each: what fails once per search fails twice.
TWO_SEARCHES = """
import pytest
from models import FastModel

@pytest.mark.hptune(max_trials=1, executions_per_trial=1)
def test_one(hptune):
    hptune.search(FastModel())

@pytest.mark.hptune(max_trials=1, executions_per_trial=1)
def test_two(hptune):
    hptune.search(FastModel())
"""

# A model module written next to every pytester test file.
# FastModel: a real (tiny) Keras build, but fit() returns a score computed from
# the hyperparameters and the seeded global RNG, so searches cost milliseconds
# while still exercising seeding, per-execution scores and the reports.
# build_dense: a real model trained with model.fit for the end-to-end checks
# that need Keras training.
MODELS = textwrap.dedent(
    '''
    import math
    import os
    import signal

    import keras
    import keras_tuner
    import numpy as np


    def data(n=120):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(n, 4)).astype("float32")
        y = (x[:, 0] + x[:, 1] > 0).astype("int32")
        return x, y


    def count_build():
        path = os.environ.get("HPTUNE_TEST_BUILDS")
        if path:
            with open(path, "a") as fh:
                fh.write("build\\n")


    def build_dense(hp):
        count_build()
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu")(inputs)
        if hp.Boolean("diverge", default=False):
            hidden = keras.layers.Rescaling(float("nan"))(hidden)
        outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(
            keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3])),
            "binary_crossentropy",
            metrics=["accuracy"],
        )
        return model


    def build_small(hp):
        """build_dense without the diverging option: every trial trains."""
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3])),
            "binary_crossentropy",
            metrics=["accuracy"],
        )
        return model


    class FastModel(keras_tuner.HyperModel):
        """fail_fits: numbers (1-based) of the fits that return NaN, or "all"."""

        def __init__(self, fail_fits=(), name=None):
            super().__init__(name=name)
            self.fail_fits = fail_fits
            self.fits = 0

        def build(self, hp):
            count_build()
            hp.Choice("units", [4, 8, 16, 32])
            hp.Float("dropout", 0.0, 0.5, step=0.1)
            return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

        def fit(self, hp, model, *args, **kwargs):
            self.fits += 1
            if os.environ.get("HPTUNE_TEST_FIT_SLEEP"):
                import time

                time.sleep(float(os.environ["HPTUNE_TEST_FIT_SLEEP"]))
            worker = os.environ.get("KERASTUNER_TUNER_ID")
            if str(self.fits) == os.environ.get("HPTUNE_TEST_KILL_AT_FIT") and (
                os.environ.get("HPTUNE_TEST_KILL_WORKER", worker) == worker
            ):
                os.kill(os.getpid(), signal.SIGKILL)  # a killed CI runner
            if self.fail_fits == "all" or self.fits in self.fail_fits:
                return {"val_accuracy": float("nan")}
            noise = 0.02 * np.random.random()
            return {"val_accuracy": 0.6 + hp["units"] / 100 - hp["dropout"] / 10 + noise}
    '''
)


@pytest.fixture(scope="session")
def heavy_modules() -> None:
    """Load TensorFlow, Keras and Keras Tuner once, before any pytester
    snapshot: pytester unloads modules first imported during a test, and
    TensorFlow cannot be loaded twice in one process."""
    import keras  # noqa: F401
    import keras_tuner  # noqa: F401

    import pytest_hptune.engine.search  # noqa: F401


@pytest.fixture
def project(heavy_modules: None, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project with the model module in place."""
    # Our own CI's job summary is not the place for the inner runs' reports.
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile(models=MODELS)
    return pytester


def load_json(pytester: pytest.Pytester, name: str = "report.json") -> Any:
    return json.loads((pytester.path / name).read_text())
