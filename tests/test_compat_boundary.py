"""Keras's and Keras Tuner's private names stay behind ``engine/compat.py``.

Read from the package's source: no other module imports ``keras.src`` or
``keras_tuner.src``, reaches them as an attribute chain, or names (as an
attribute, a method it overrides, or a string for ``getattr``) a private
name of Keras's or Keras Tuner's classes or one that compat lists. And
compat's tables hold against the installed releases: every name exists with
the parameters the plugin relies on, an override replaces a method that
Keras Tuner still calls, and pyproject.toml's Keras Tuner range is compat's.
"""

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import TWO_SEARCHES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pytest_hptune"
COMPAT = PACKAGE / "engine" / "compat.py"
PRIVATE_ROOTS = ("keras.src", "keras_tuner.src")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != COMPAT)


def _chain(node: ast.AST) -> str | None:
    """``a.b.c`` of an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def mentions(source: str, private: set[str]) -> list[str]:
    """What in ``source`` reaches a private module of Keras or Keras Tuner
    (import, attribute chain, module name in a string) or names one of
    ``private`` (an attribute, a method defined in a class, a string
    constant such as getattr's), one description per place."""
    found = []
    tree = ast.parse(source)
    methods = {id(item) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for item in node.body}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        private_modules = [n for n in names if n.startswith(PRIVATE_ROOTS)]
        found += [f"line {line}: imports {n}" for n in private_modules]
        if isinstance(node, ast.Attribute):
            chain = _chain(node)
            if chain is not None and chain.startswith(PRIVATE_ROOTS) and chain.count(".") == 1:
                found.append(f"line {line}: {chain}")
            if node.attr in private:
                found.append(f"line {line}: .{node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) in methods:
            if node.name in private:
                found.append(f"line {line}: def {node.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in private or node.value.startswith(PRIVATE_ROOTS):
                found.append(f"line {line}: {node.value!r}")
    return found


@pytest.fixture(scope="module")
def private_names(heavy_modules: None) -> set[str]:
    """Every private name compat lists (in REQUIRED, OVERRIDES, the Keras
    tables) and every private attribute of the Keras and Keras Tuner
    classes the engine uses or subclasses."""
    import keras
    import keras_tuner

    from pytest_hptune.engine import compat

    listed = set(compat.OVERRIDES.values()) | set(compat.COMPILED_MODEL_ATTRIBUTES)
    for _, path, *_ in compat.REQUIRED + compat.KERAS_PRIVATE:
        parts = [part.removesuffix("()") for part in path.split(".")]
        listed |= {part for part in parts if part.startswith("_") and not part.startswith("__")}
        if "()" in path:  # an attribute that __init__ sets: no other module reads it
            listed.add(parts[-1])
    classes = [
        keras_tuner.Tuner,
        keras_tuner.Hyperband,
        keras_tuner.SklearnTuner,
        keras_tuner.HyperModel,
        keras_tuner.HyperParameters,
        keras_tuner.Objective,
        keras_tuner.oracles.HyperbandOracle,
        keras_tuner.oracles.BayesianOptimizationOracle,
        keras_tuner.oracles.GridSearchOracle,
        compat.module("engine.trial").Trial,
        compat.oracle_servicer_class(),
        keras.Model,
        keras.callbacks.Callback,
        keras.optimizers.Optimizer,
    ]
    inherited = {name for cls in classes for name in dir(cls) if name.startswith("_") and not name.startswith("__")}
    assert {"_try_build", "_get_size", "stop_triggered", "_compile_loss"} <= listed
    return listed | inherited


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_but_compat_touches_a_private_keras_or_keras_tuner_name(path: Path, private_names: set[str]) -> None:
    found = mentions(path.read_text(), private_names)
    assert found == [], f"{path.relative_to(PACKAGE)}: {found}: go through engine/compat.py"


@pytest.mark.parametrize(
    "line",
    [
        "from keras.src.backend.common import global_state",
        "import keras_tuner.src.engine.tuner",
        "x = keras.src.backend",
        "model = keras_tuner.Tuner._build_hypermodel(tuner, hp)",
        "brackets = self._get_size(b, r)",
        "brackets = super()._get_num_brackets()",
        "class T(keras_tuner.Tuner):\n    def _try_build(self, hp):\n        pass",
        "loss = getattr(model, '_compile_loss', None)",
        "done = servicer.stop_triggered",
        "module = importlib.import_module('keras_tuner.src.engine.oracle')",
    ],
)
def test_the_reader_sees_each_way_of_reaching_a_private_name(line: str, private_names: set[str]) -> None:
    assert mentions(line, private_names) != []


def test_the_reader_lets_the_plugins_own_private_names_be(private_names: set[str]) -> None:
    source = "def _plain(value):\n    return value\n\nclass Chief:\n    def _silent(self):\n        return self._keep_budget()\n"
    assert mentions(source, private_names) == []


def test_every_required_internal_exists_with_the_parameters_relied_on(heavy_modules: None) -> None:
    from pytest_hptune.engine import compat

    assert compat.problems() == ([], [])


def test_a_renamed_internal_and_changed_parameters_are_both_named(
    heavy_modules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune.engine import compat

    tuner = compat.module("engine.tuner").Tuner
    monkeypatch.delattr(tuner, "_get_checkpoint_fname")
    monkeypatch.setattr(tuner, "_try_build", lambda self, hp, budget: None)
    missing, changed = compat.problems()
    assert missing == ["keras_tuner.src.engine.tuner.Tuner._get_checkpoint_fname"]
    assert changed == [
        "keras_tuner.src.engine.tuner.Tuner._try_build(self, hp, budget), where the plugin relies on (self, hp)"
    ]


def test_an_attribute_that_init_no_longer_sets_is_missing(heavy_modules: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_hptune.engine import compat

    servicer = compat.oracle_servicer_class()
    monkeypatch.setattr(servicer, "__init__", lambda self, oracle: setattr(self, "oracle", oracle))
    missing, _ = compat.problems()
    assert missing == ["keras_tuner.src.distribute.oracle_chief.OracleServicer().stop_triggered"]


def test_parameters_are_written_as_a_signature_reads(heavy_modules: None) -> None:
    from pytest_hptune.engine import compat

    def f(a: Any, b: int = 1, *args: Any, c: Any, d: int = 2, **kwargs: Any) -> None:
        pass

    def g(a: Any, *, key: Any) -> None:
        pass

    assert compat.parameters(f) == "a, b, *args, c, d, **kwargs"
    assert compat.parameters(g) == "a, *, key"


def test_every_override_replaces_a_method_required_with_its_parameters(heavy_modules: None) -> None:
    from pytest_hptune.engine import compat, hyperband, tuners

    required = {path.rsplit(".", 1)[-1]: rest for _, path, *rest in compat.REQUIRED}
    for ours, theirs in compat.OVERRIDES.items():
        assert required.get(theirs), f"{theirs} (overridden by {ours}) is not in REQUIRED with its parameters"
    # Each override is installed where Keras Tuner looks it up.
    assert tuners.HptuneTunerMixin._try_build is tuners.HptuneTunerMixin.hptune_try_build
    oracle = hyperband.HptuneHyperbandOracle
    assert oracle._get_num_brackets is oracle.hptune_num_brackets


def test_keras_tuner_calls_the_plugins_override(heavy_modules: None) -> None:
    # A 27-epoch Hyperband (factor 3) has 4 brackets of 4, 6+2, 12+4+2 and
    # 27+9+3+1 trials: a budget of 10 trials fits the first two, as Keras
    # Tuner's own __init__ counts them through the override.
    import keras_tuner

    from pytest_hptune.engine import hyperband

    hb = hyperband.HptuneHyperbandOracle(keras_tuner.Objective("score", "max"), max_trials=10, max_epochs=27, factor=3)
    assert len(hb.plan()["brackets"]) == 2 and hb.plan()["all_brackets"] == 4
    assert hb._current_bracket == 1  # Keras Tuner starts with the last bracket it counted


def test_a_missing_override_target_fails_the_check(heavy_modules: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_hptune.engine import compat

    oracle = compat.module("tuners.hyperband").HyperbandOracle
    monkeypatch.delattr(oracle, "_get_num_brackets")
    missing, _ = compat.problems()
    assert missing == ["keras_tuner.src.tuners.hyperband.HyperbandOracle._get_num_brackets"]


def test_a_changed_parameter_fails_each_search_with_one_line(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune.engine import compat

    tuner = compat.module("engine.tuner").Tuner
    monkeypatch.setattr(tuner, "_build_hypermodel", lambda self, hp, strategy=None: None)
    monkeypatch.setattr(compat, "_checked", [])
    project.makepyfile(test_compat=TWO_SEARCHES)
    result = project.runpytest()
    result.assert_outcomes(failed=2)
    import keras_tuner

    line = (
        f"*could not run: pytest-hptune needs keras-tuner>=1.4.7,<1.5; the installed keras-tuner "
        f"{keras_tuner.__version__} has keras_tuner.src.engine.tuner.Tuner._build_hypermodel(self, hp, strategy), "
        "where the plugin relies on (self, hp): install a supported release (pip install 'keras-tuner>=1.4.7,<1.5')"
    )
    result.stdout.fnmatch_lines([line, line])
    assert "TypeError" not in result.stdout.str()


def test_keras_private_names_hold_for_the_installed_keras(heavy_modules: None) -> None:
    # Not checked before a search (a Keras without them only turns reuse
    # off): checked here, so that such a release is noticed.
    from pytest_hptune.engine import compat

    assert compat.problems(compat.KERAS_PRIVATE, importlib.import_module, "") == ([], [])


def test_reuse_reads_keras_compiled_model_and_seed_generator_state(heavy_modules: None) -> None:
    import keras
    import numpy as np

    from pytest_hptune.engine import compat

    keras.backend.clear_session(free_memory=False)
    assert not compat.global_seed_generator_used()
    keras.random.uniform((1,))  # unseeded: creates Keras's global seed generator
    assert compat.global_seed_generator_used()
    keras.backend.clear_session(free_memory=False)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    assert all(hasattr(model, name) for name in compat.COMPILED_MODEL_ATTRIBUTES)
    assert compat.metrics_unbuilt(model)
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
    assert not compat.metrics_unbuilt(model)


def test_pyprojects_keras_tuner_range_is_compats(heavy_modules: None) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from pytest_hptune.engine import compat

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ranges = [re.sub(r"\s", "", d).removeprefix("keras-tuner") for d in dependencies if d.startswith("keras-tuner")]
    assert ranges == [compat.SUPPORTED]
