"""The package's layering, read from its source: only ``engine/`` imports
Keras, Keras Tuner or a backend; only ``engine/compat.py`` imports Keras
Tuner's private modules; nothing outside the engine imports the engine except
the fixture (which runs it) and the public ``strategies`` re-export."""

import ast
import json
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_hptune"
HEAVY = ("keras", "keras_tuner", "tensorflow", "jax", "torch")


def imports(path: Path) -> list[str]:
    """Every module an ``import`` or ``from ... import`` in the file names,
    relative imports resolved against the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_the_reader_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    engine = PACKAGE / "engine" / "compat.py"
    assert "keras_tuner" in imports(engine)
    assert "pytest_hptune.engine.compat" in imports(PACKAGE / "engine" / "distributed.py")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_engine_imports_keras_and_keras_tuner(path: Any) -> None:
    heavy = [m for m in imports(path) if m.split(".")[0] in HEAVY]
    if path.relative_to(PACKAGE).parts[0] != "engine":
        assert heavy == [], f"{path.name} imports {heavy}: only pytest_hptune/engine/ may"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_compat_touches_keras_tuner_internals(path: Any) -> None:
    private = [m for m in imports(path) if m.startswith("keras_tuner.src")]
    if path != PACKAGE / "engine" / "compat.py":
        assert private == [], f"{path.name} imports {private}: only engine/compat.py may"
    source = path.read_text()
    if path != PACKAGE / "engine" / "compat.py":
        assert "keras_tuner.src" not in source.replace('"keras_tuner.src', "").replace("``keras_tuner.src", "")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_below_the_engine_calls_back_into_it(path: Any) -> None:
    """verdict/ and reports/ judge and show outcomes: they never run the engine."""
    layer = path.relative_to(PACKAGE).parts[0]
    if layer in ("verdict", "reports") or path.name in ("result.py", "stats.py", "adaptive.py", "sensitivity.py"):
        engine = [m for m in imports(path) if m.startswith("pytest_hptune.engine")]
        assert engine == [], f"{path.name} imports {engine}"
        fixture = [m for m in imports(path) if m.startswith(("pytest_hptune.fixture", "pytest_hptune.plugin"))]
        assert fixture == [], f"{path.name} imports {fixture}"


def test_a_missing_keras_tuner_internal_fails_each_search_with_one_line(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune.engine import compat

    monkeypatch.setattr(compat, "REQUIRED", compat.REQUIRED + (("engine.tuner", "Tuner._renamed_in_a_new_release"),))
    monkeypatch.setattr(compat, "_checked", [])
    project.makepyfile(
        test_compat="""
        import pytest
        from models import FastModel

        @pytest.mark.hptune(max_trials=1, executions_per_trial=1)
        def test_one(hptune):
            hptune.search(FastModel())

        @pytest.mark.hptune(max_trials=1, executions_per_trial=1)
        def test_two(hptune):
            hptune.search(FastModel())
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=2)
    import keras_tuner

    line = (
        f"*could not run: pytest-hptune needs keras-tuner>=1.4.7,<1.5; the installed keras-tuner "
        f"{keras_tuner.__version__} lacks keras_tuner.src.engine.tuner.Tuner._renamed_in_a_new_release: "
        "install a supported release*"
    )
    result.stdout.fnmatch_lines([line, line])
    assert "AttributeError" not in result.stdout.str()


def test_a_session_without_hptune_tests_loads_no_fixture_verdict_or_report_machinery(pytester: pytest.Pytester) -> None:
    # pytest's start-up with the plugin: only options, settings, session
    # state and the report hook's collector load (benchmarks/startup.py).
    pytester.makeconftest(
        """
        import json
        import sys

        def pytest_unconfigure(config):
            loaded = sorted(m for m in sys.modules if m.startswith("pytest_hptune"))
            with open("loaded.json", "w") as fh:
                json.dump(loaded, fh)
        """
    )
    pytester.makepyfile(test_plain="def test_plain():\n    assert True")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    loaded = set(json.loads((pytester.path / "loaded.json").read_text()))
    assert "pytest_hptune.plugin" in loaded
    parts = [m.split(".") for m in loaded]
    heavy = {".".join(p) for p in parts if p[1:2] and p[1] in ("fixture", "verdict", "stats", "engine", "result")}
    heavy |= {".".join(p) for p in parts if p[1:2] == ["reports"] and p[2:3] and p[2] not in ("session", "outcome")}
    assert heavy == set()
