"""The package's layering, read from its source: only ``engine/`` imports
Keras, Keras Tuner or a backend; only ``engine/compat.py`` imports Keras
Tuner's private modules; nothing outside the engine imports the engine except
the fixture (which runs it) and the public ``strategies`` re-export."""

import ast
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TWO_SEARCHES

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_hptune"
HEAVY = ("keras", "keras_tuner", "tensorflow", "jax", "torch")


def imports(path: Path) -> list[str]:
    """Every module an ``import`` or ``from ... import`` in the file names,
    relative imports resolved against the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1]
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


# The one-way rule, as a table: data flows settings -> engine -> one
# complete outcome (result.py) -> verdict -> record -> reports, and nothing
# calls back up. Each module belongs to the first group whose paths match it
# (relative to pytest_hptune/, without ".py"; "x/" is every module under x/);
# what it may import of the package is its own group, the package root (the
# version, the public exception) and the groups listed.
GROUPS: dict[str, tuple[str, ...]] = {
    "public": ("__init__", "strategies"),  # the version, HptuneAdvice, the strategies' re-export
    "plugin": ("plugin", "hookspecs"),  # what pytest loads: wires the rest
    "options": ("options",),  # the options table
    "state": ("state",),  # session state: the option layers, report paths
    "settings": ("settings", "settings/"),  # validated, frozen Settings
    # runs the engine, hands the outcome to the verdict, the verdict to pytest
    "fixture": ("fixture", "search_settings", "conclude"),
    # the worker processes' command line, from pytest's config and the session
    "workers": ("engine/workers",),
    "engine": ("engine/",),  # Keras and Keras Tuner: the search and every fit
    "outcome": ("result",),  # the one complete outcome of a search
    "message": ("verdict/message",),  # the failure message: from the record alone
    "verdict": ("verdict/",),  # gates, advice, comparison: the record
    "reports": ("reports/",),  # everything shown or written, from the records
    "inputs": ("baseline_input",),  # the baseline file, an input of the verdict
    # Small helpers any layer may use; events/worker_env are neutral ground
    # between the engine and the reports.
    "helpers": (
        "stats",
        "atomic",
        "signals",
        "quiet",
        "anchor",
        "adaptive",
        "sensitivity",
        "events",
        "worker_env",
    ),
}
MAY_IMPORT: dict[str, set[str]] = {
    "public": {"engine", "verdict"},
    "plugin": {"options", "settings", "state", "fixture", "reports", "helpers"},
    "options": {"settings"},
    "state": {"options", "settings", "inputs"},
    "settings": set(),
    "fixture": {"settings", "state", "engine", "workers", "outcome", "verdict", "message", "inputs", "helpers"},
    "workers": {"settings", "state", "engine", "helpers"},
    "engine": {"settings", "outcome", "helpers", "workers"},
    "outcome": {"helpers"},
    "verdict": {"settings", "outcome", "message", "helpers"},
    "message": {"verdict"},
    "reports": {"state", "verdict", "message", "inputs", "helpers"},
    "inputs": {"helpers"},
    "helpers": {"settings"},
}
# Groups that may import pytest itself, and reach pytest's terminal (its
# terminal reporter or capture manager, by name).
PYTEST = {"plugin", "options", "state", "fixture", "workers", "reports", "helpers"}
TERMINAL = {"plugin", "reports"}
# Groups that read the records, never the outcome's attributes.
RECORD_ONLY = {"message", "reports"}
TERMINAL_NAMES = {"terminalreporter", "capturemanager", "TerminalReporter", "get_terminal_writer"}
# Known violations another change of issue 20 removes: (module, what) ->
# why. The test expects exactly these, so it fails once one is gone: then
# delete its line.
PENDING: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    """'engine/search', 'settings', 'settings/__init__' -> 'settings'."""
    name = path.relative_to(PACKAGE).with_suffix("").as_posix()
    return name.removesuffix("/__init__") if name != "__init__" else name


def group_of(name: str) -> str | None:
    for group, paths in GROUPS.items():
        if any(name in (p, p.rstrip("/")) or (p.endswith("/") and name.startswith(p)) for p in paths):
            return group
    return None


def _module_of(dotted: str) -> str | None:
    """The package module a dotted name is, or is an attribute of."""
    parts = dotted.split(".")
    if parts[0] != "pytest_hptune":
        return None
    while len(parts) > 1:
        where = PACKAGE.joinpath(*parts[1:])
        if where.with_suffix(".py").exists() or (where / "__init__.py").exists():
            return "/".join(parts[1:])
        parts.pop()
    return "__init__"


def package_imports(path: Path) -> set[str]:
    """The package modules the file imports (inside functions and
    TYPE_CHECKING blocks too): 'from .settings import Settings' is
    'settings', 'from . import stats' is 'stats'."""
    named = imports(path)
    found = {_module_of(m) for m in named}
    # 'from . import stats' also lists the package itself: only the module counts.
    bases = {m.rsplit(".", 1)[0] for m in named if _module_of(m) not in (None, "__init__")}
    return {m for m in found if m is not None} - ({"__init__"} if "pytest_hptune" in bases else set())


def violations(path: Path) -> set[str]:
    """What the module does that its row of the table does not allow: a
    group it imports, 'pytest', 'terminal', or 'outcome attribute NAME'."""
    name = module_name(path)
    group = group_of(name)
    assert group is not None, f"{name} is in no group of the layering table: add it to GROUPS"
    allowed = MAY_IMPORT[group] | {group}
    found = set()
    for module in package_imports(path) - {"__init__"}:
        target = group_of(module)
        if target not in allowed:
            found.add(target or module)
    externals = {m.split(".")[0] for m in imports(path)}
    if externals & {"pytest", "_pytest"} and group not in PYTEST:
        found.add("pytest")
    tree = ast.parse(path.read_text())
    words = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    words |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    words |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if words & TERMINAL_NAMES and group not in TERMINAL:
        found.add("terminal")
    if group in RECORD_ONLY:
        # The engine's events share field names with the outcome (trial_id).
        events = event_names() if "events" in package_imports(path) else set()
        found |= {f"outcome attribute {a}" for a in outcome_reads(tree) - events}
    return found


def event_names() -> set[str]:
    """The fields of the events the engine sends a listener."""
    from pytest_hptune import events

    return {f.name for cls in vars(events).values() if dataclasses.is_dataclass(cls) for f in dataclasses.fields(cls)}


def outcome_names() -> set[str]:
    """The attributes of a SearchResult and of its TrialResults."""
    from pytest_hptune.result import SearchResult, TrialResult

    names: set[str] = set()
    for cls in (SearchResult, TrialResult):
        names |= {f.name for f in dataclasses.fields(cls)}
        names |= {n for n in vars(cls) if not n.startswith("__")}
    return names


def outcome_reads(tree: ast.AST) -> set[str]:
    """``x.best``, ``trial.scores``...: an outcome's attributes read off a
    variable (a class's own attributes, ``ReportOutcome.failed``, are not)."""
    names = outcome_names()
    return {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and n.attr in names
        and not (isinstance(n.value, ast.Name) and (n.value.id[:1].isupper() or n.value.id in ("self", "cls")))
    }


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    """Nothing calls back up: the table above, for every module."""
    name = module_name(path)
    expected = {what for (module, what) in PENDING if module == name}
    assert violations(path) == expected, f"{name} ({group_of(name)}): see GROUPS, MAY_IMPORT and PENDING"


def test_every_group_and_pending_violation_names_something_real() -> None:
    names = {module_name(p) for p in modules()}
    assert set(MAY_IMPORT) == set(GROUPS)
    for group in GROUPS:
        assert any(group_of(n) == group for n in names), f"group {group} has no module"
        assert set(MAY_IMPORT[group]) <= set(GROUPS), group
    for module, _ in PENDING:
        assert module in names, f"PENDING names {module}, which is gone: delete its line"


def test_the_outcome_cannot_be_changed_after_it_is_built() -> None:
    """The engine builds the SearchResult once; a later step makes a new
    one (dataclasses.replace), so the verdict judges what the engine built."""
    from pytest_hptune.result import Objective, SearchResult, TrialResult

    result = SearchResult(Objective("val_accuracy", "max"), [TrialResult("0", {}, (0.5,), "COMPLETED")], [], None)
    for field in dataclasses.fields(SearchResult):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field.name, None)
    for path in modules():
        assert "__setattr__" not in path.read_text(), f"{module_name(path)} writes past a frozen dataclass"


def keras_tuner_class_names() -> set[str]:
    """Every class Keras Tuner exports (tuners, oracles, their bases)."""
    import inspect

    import keras_tuner

    names = set()
    for namespace in (keras_tuner, keras_tuner.tuners, keras_tuner.oracles):
        for value in vars(namespace).values():
            if inspect.isclass(value):
                names |= {c.__name__ for c in value.__mro__ if c.__module__.split(".")[0] == "keras_tuner"}
    return names


@pytest.mark.xfail(
    strict=True,
    reason="settings recognises Keras Tuner's classes by name (KERAS_TUNER_KINDS, _keras_tuner_bases); "
    "issue 20 moves that to the engine: delete this mark then",
)
def test_settings_knows_no_keras_tuner_class_by_name() -> None:
    """Which Keras Tuner class a value is belongs to the engine, which
    imports Keras Tuner; settings validate values without naming its classes."""
    classes = keras_tuner_class_names()
    assert {"RandomSearch", "Hyperband", "Oracle", "Tuner"} <= classes  # the reader works
    settings = [p for p in modules() if group_of(module_name(p)) == "settings"]
    named = {
        n.value
        for p in settings
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in classes
    }
    assert named == set()


@pytest.mark.parametrize("path", sorted((PACKAGE / "engine").glob("*.py")), ids=lambda p: p.name)
def test_the_engine_emits_events_and_never_writes_to_pytests_terminal(path: Path) -> None:
    """The progress line is a report (reports/progress.py), fed by the
    engine's TrialFinished events (events.py): no engine module imports a
    report or reaches pytest's terminal or capture plugins."""
    reports = [m for m in imports(path) if m.startswith("pytest_hptune.reports")]
    assert reports == [], f"{path.name} imports {reports}"
    source = path.read_text()
    assert "terminalreporter" not in source and "capturemanager" not in source


def test_a_missing_keras_tuner_internal_fails_each_search_with_one_line(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune.engine import compat

    monkeypatch.setattr(compat, "REQUIRED", (*compat.REQUIRED, ("engine.tuner", "Tuner._renamed_in_a_new_release")))
    monkeypatch.setattr(compat, "_checked", [])
    project.makepyfile(test_compat=TWO_SEARCHES)
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
