"""The plugin on Keras's JAX and PyTorch backends (a subprocess each:
TensorFlow is already the backend of this process)."""

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import MODELS

BACKEND_TESTS = """
import keras
import pytest
from models import build_small as build, data


@pytest.mark.hptune(max_trials=2, executions_per_trial=2, epochs=1, max_std=1.0)
def test_random(hptune):
    assert keras.backend.backend() == "BACKEND"
    result = hptune.search(build, *data(), validation_split=0.25)
    assert len(result.best.scores) == 2
    assert result.retrain(*data()) is not None


# Hyperband's continuation trials reload weights and the build config,
# the part of Keras Tuner that differs between backends.
@pytest.mark.hptune(tuner="hyperband", max_trials=4, max_epochs=3, executions_per_trial=1)
def test_hyperband(hptune):
    result = hptune.search(build, *data(), validation_split=0.25)
    assert result.best.budget == 3 and result.partial


# engine/reuse.py: the same scores as fresh builds; PyTorch traces nothing
# that a reused model would save, so reuse is off there.
# Every way a first fit shuffles (on JAX, reuse makes the draw that fit
# would make), with one fit per execution (no warm-up fit).
@pytest.mark.parametrize("variant", ["split", "shuffle by batch, default batch size", "no shuffle", "validation data beside a split"])
def test_reuse(variant):
    import reuse_check
    compared = reuse_check.compare(variant)
    assert compared["reused"] == compared["fresh"]
    assert compared["count"] == (2 if keras.backend.backend() == "jax" else 0)
    assert compared["fits"] == len(reuse_check.SEEDS)
"""


@pytest.mark.parametrize("backend, module", [("jax", "jax"), ("torch", "torch")])
def test_other_backends_run_searches_end_to_end(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, backend: str, module: str
) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]' installs it)")
    monkeypatch.setenv("KERAS_BACKEND", backend)
    pytester.makepyfile(
        models=MODELS,
        reuse_check=(Path(__file__).parent / "reuse_check.py").read_text(),
        test_backend=BACKEND_TESTS.replace("BACKEND", backend),
    )
    result = pytester.runpytest_subprocess("--hptune-json=report.json", "-W", "error")
    result.assert_outcomes(passed=6)
    tests = json.loads((pytester.path / "report.json").read_text())["tests"]
    assert [t["tuner"] for t in tests] == ["random", "hyperband"]
    assert all(t["passed"] for t in tests)
    assert "tensorflow" not in result.stdout.str().lower()
