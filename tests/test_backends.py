"""The plugin on Keras's JAX backend (a subprocess: TensorFlow is already the
backend of this process)."""

import importlib.util
import json

import pytest
from conftest import MODELS

JAX_TESTS = """
import keras
import pytest
from models import build_small as build, data


@pytest.mark.hptune(max_trials=2, executions_per_trial=2, epochs=1, max_std=1.0)
def test_random(hptune):
    assert keras.backend.backend() == "jax"
    result = hptune.search(build, *data(), validation_split=0.25)
    assert len(result.best.scores) == 2
    assert result.retrain(*data()) is not None


# Hyperband's continuation trials reload weights and the build config,
# the part of Keras Tuner that differs between backends.
@pytest.mark.hptune(tuner="hyperband", max_trials=4, max_epochs=3, executions_per_trial=1)
def test_hyperband(hptune):
    result = hptune.search(build, *data(), validation_split=0.25)
    assert result.best.budget == 3 and result.partial
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed (pip install -e '.[test]')")
def test_jax_backend_runs_searches_end_to_end(pytester, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    pytester.makepyfile(models=MODELS, test_jax=JAX_TESTS)
    result = pytester.runpytest_subprocess("--hptune-json=report.json", "-W", "error")
    result.assert_outcomes(passed=2)
    tests = json.loads((pytester.path / "report.json").read_text())["tests"]
    assert [t["tuner"] for t in tests] == ["random", "hyperband"]
    assert all(t["passed"] for t in tests)
    assert "tensorflow" not in result.stdout.str().lower()
