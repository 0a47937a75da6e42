"""Where a pytest-hptune run's time goes: a pytest plugin for the benchmarks.

Loaded only by a profiled run (``pytest -p costs`` with this directory on
``PYTHONPATH``), never by the plugin itself, so the normal path pays
nothing. It stamps the run's phases (start-up, collection, the tests, the
session's end) against ``HPTUNE_COSTS_T0`` (the benchmark's clock when it
started the process) and, inside the tests, times named parts of the search
by wrapping the functions that do them. Each part's time is exclusive: a
part called inside another (a ``clear_session`` inside a build) counts for
itself only. Everything is written as JSON to ``HPTUNE_COSTS_OUT`` at the
end of the session.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# (part, module, attribute path): the functions whose time is a part.
PARTS = [
    ("Keras fit: first of a configuration (traces)", "keras", "Model.fit"),
    ("build function (the user's)", "keras_tuner", "Tuner._build_hypermodel"),
    ("clear_session", "keras", "backend.clear_session"),
    ("seeding (keras.utils.set_random_seed)", "keras", "utils.set_random_seed"),
    ("gc.collect", "gc", "collect"),
    ("reuse: optimizer build, state copy, draw", "pytest_hptune.engine.reuse", "ModelReuse.model_for"),
    ("best-epoch weights: copies", "pytest_hptune.engine.scoring", "BestEpochWeights.on_epoch_end"),
    ("best-epoch weights: file", "pytest_hptune.engine.scoring", "BestEpochWeights.write"),
    ("plugin files (scores, build config)", "pytest_hptune.atomic", "write_text"),
    ("plugin files (scores, build config)", "pytest_hptune.engine.storage", "write_text"),
    ("Keras Tuner: new trial", "keras_tuner.src.engine.oracle", "Oracle.create_trial"),
    ("Keras Tuner: trial's score", "keras_tuner.src.engine.oracle", "Oracle.update_trial"),
    ("Keras Tuner: end of trial (oracle, files)", "keras_tuner.src.engine.base_tuner", "BaseTuner.on_trial_end"),
    ("tuner set-up (Keras Tuner, search space)", "pytest_hptune.engine.search", "build_tuner"),
    ("results read back", "pytest_hptune.engine.search", "collect"),
    ("verdict and record", "pytest_hptune.fixture", "judge"),
]
REUSED_FIT = "Keras fit: reused model"
SEARCH = "pytest_hptune.engine.search"


class Clock:
    """Exclusive time per part: entering a part pauses the one around it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.stack: list[list[Any]] = []  # [part, start of its running segment]

    def enter(self, part: str) -> None:
        now = time.perf_counter()
        if self.stack:
            outer = self.stack[-1]
            self.seconds[outer[0]] = self.seconds.get(outer[0], 0.0) + now - outer[1]
        self.stack.append([part, now])
        self.calls[part] = self.calls.get(part, 0) + 1

    def leave(self) -> None:
        now = time.perf_counter()
        part, start = self.stack.pop()
        self.seconds[part] = self.seconds.get(part, 0.0) + now - start
        if self.stack:
            self.stack[-1][1] = now


CLOCK = Clock()
STAMPS: dict[str, float] = {}
FOUND: list[str] = []


def _stamp(name: str) -> None:
    STAMPS[name] = time.time() - float(os.environ.get("HPTUNE_COSTS_T0", time.time()))


def _timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not CLOCK.stack:  # outside the tests (pytest's own gc.collect at the end)
            return function(*args, **kwargs)
        name = part
        if part.startswith("Keras fit") and args:
            name = REUSED_FIT if getattr(args[0], "_hptune_costs_fitted", False) else part
            args[0]._hptune_costs_fitted = True
        CLOCK.enter(name)
        try:
            return function(*args, **kwargs)
        finally:
            CLOCK.leave()

    return wrapper


def _patch() -> None:
    for part, module_name, path in PARTS:
        try:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            continue
        setattr(owner, name, _timed(part, original))
        FOUND.append(f"{module_name}.{path}")


def pytest_configure(config: pytest.Config) -> None:
    _stamp("start-up (interpreter, pytest, plugins)")


def pytest_collection_finish(session: pytest.Session) -> None:
    _stamp("collection (the test module: Keras)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not FOUND:
        start = time.perf_counter()
        importlib.import_module(SEARCH)  # what the first hptune.search() imports
        CLOCK.seconds["engine import (Keras Tuner, the plugin's engine)"] = time.perf_counter() - start
        CLOCK.calls["engine import (Keras Tuner, the plugin's engine)"] = 1
        _patch()
        search: Any = importlib.import_module(SEARCH)
        search.run_search = _timed("search: everything else (loop, callbacks, Keras Tuner)", search.run_search)
    CLOCK.enter("test: everything else (fixture, the test's own code)")
    try:
        yield
    finally:
        CLOCK.leave()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _stamp("tests (set-up, search, teardown)")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    _stamp("session end (summary, reports)")
    path = os.environ.get("HPTUNE_COSTS_OUT")
    if path:
        with open(path, "w") as fh:
            json.dump({"stamps": STAMPS, "seconds": CLOCK.seconds, "calls": CLOCK.calls, "patched": FOUND}, fh)
