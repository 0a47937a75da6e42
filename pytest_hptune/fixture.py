"""The ``hptune`` fixture object: resolves settings, runs a search, records it
for the reports and applies the gates. Keras is imported only inside
``search()``."""

from __future__ import annotations

import re
import sys
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest

from .settings import (
    SPECS,
    Layer,
    SettingError,
    Settings,
    check_score_gates,
    check_search_keywords,
    count_folds,
    for_constructed_tuner,
    is_tuner_instance,
    make_layer,
    option_name,
    resolve,
)
from .state import PENDING_RECORDS, SessionState
from .verdict import advice
from .verdict.compare import Baseline
from .verdict.judge import judge
from .verdict.message import failure_message


def marker_layer(item: pytest.Item) -> Layer:
    """Merge every ``hptune`` marker on the item (closest wins), validated."""
    where = f"hptune marker on {item.nodeid}"
    merged: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers("hptune"))):
        if mark.args:
            raise SettingError(
                f"{where} takes keyword arguments only, got positional {mark.args!r}; "
                "write e.g. @pytest.mark.hptune(max_trials=3)"
            )
        merged.update(mark.kwargs)
    return make_layer(where, merged)


def _load_engine():
    """The engine (TensorFlow, Keras, Keras Tuner: heavy), or a failed test
    saying which extra to install."""
    __tracebackhide__ = True
    try:
        from .engine import search
    except ImportError as exc:
        pytest.fail(
            f"pytest-hptune could not load Keras and Keras Tuner ({exc}). "
            "Keras needs a backend: pip install 'pytest-hptune[tensorflow]' "
            "(or 'pytest-hptune[jax]' and KERAS_BACKEND=jax)",
            pytrace=False,
        )
    return search


def keeps_default_objective(hypermodel: Any) -> bool:
    """A build function, or a HyperModel with Keras Tuner's own ``fit()``:
    its fit returns a History, so the default objective (``val_accuracy``)
    is the search's. A HyperModel's own ``fit()`` may return a number, which
    makes it Keras Tuner's ``default_objective``."""
    if not hasattr(hypermodel, "build"):
        return callable(hypermodel)
    fit = getattr(type(hypermodel), "fit", None)
    return getattr(fit, "__module__", "").startswith("keras_tuner")


def _slug(nodeid: str) -> str:
    """A directory name for a test id: readable, bounded and unique."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[-80:]
    return f"{readable}-{zlib.crc32(nodeid.encode()):08x}"


class Hptune:
    """What the ``hptune`` fixture returns."""

    def __init__(self, request: pytest.FixtureRequest, state: SessionState, marker: Layer):
        self._request = request
        self._item = request.node
        self._state = state
        self._marker = marker
        self._searches = 0

    def settings(self, **overrides: Any) -> Settings:
        """The settings a search with these keyword overrides would use."""
        where = f"hptune.search() argument in {self._item.nodeid}"
        search_layer = make_layer(where, overrides)
        return resolve([self._state.ini_layer, self._marker, search_layer, self._state.cli_layer])

    def _directory(self) -> tuple[str, str]:
        name = _slug(self._item.nodeid)
        if self._searches:
            name += f"-{self._searches}"
        if self._state.directory is not None:
            return str(self._state.directory), name
        factory = self._request.getfixturevalue("tmp_path_factory")
        return str(factory.mktemp("hptune", numbered=True)), name

    def _record(self, settings, result, error, started, directory, project, data=((), {})) -> dict:
        record = judge(
            self._item.nodeid,
            self._searches - 1,
            settings,
            result,
            error,
            time.perf_counter() - started,
            str(Path(directory) / project),
            data,
            self._baseline(),
        )
        self._item.stash.setdefault(PENDING_RECORDS, []).append(record)
        # The search's table is printed once, in the hptune section of the
        # summary (from the record): not again as a captured section here.
        return record

    def _baseline(self) -> Baseline | None:
        """--hptune-compare's baseline file, loaded once per session."""
        path = self._state.compare_baseline
        if path is None:
            return None
        from .baseline_input import BaselineError, BaselineMissing

        try:
            data = self._state.baseline_data()
        except BaselineError as exc:
            return Baseline(path, None, str(exc), broken=not isinstance(exc, BaselineMissing))
        family = 1
        if self._state.family == "bonferroni":
            family = self._state.comparisons({item.nodeid for item in self._item.session.items})
        return Baseline(path, data, family=family)

    def _anchor_plan(self, settings: Settings):
        """The anchor fits this search owes: the baseline entry's anchor
        under --hptune-compare (loaded before the search: an input), and
        its own best configuration's under --hptune-save-baseline."""
        from .anchor import AnchorPlan, from_entry
        from .verdict.compare import key

        baseline = self._baseline()
        saved = None
        if baseline is not None and baseline.data is not None:
            saved = baseline.data["entries"].get(key(self._item.nodeid, self._searches - 1))
        compared = from_entry(saved)
        keep = settings.anchor_executions if self._state.save_baseline is not None else 0
        if compared is None and not keep:
            return None
        return AnchorPlan(compared.hyperparameters if compared else None, compared.seeds if compared else (), keep)

    def search(self, hypermodel=None, *fit_args: Any, **fit_kwargs: Any):
        """Run a bounded Keras Tuner search and apply the gates.

        ``hypermodel``: a build function or HyperModel; None for a ``tuner=``
        Tuner subclass whose run_trial builds none; or a tuner the test
        constructed, searched as it is. ``fit_args``/``fit_kwargs`` go to
        ``model.fit`` as in ``Tuner.search``; keyword arguments named like a
        setting (``max_trials``, ``objective``, ``min_score``, ``epochs``,
        ...) set it for this search.
        """
        __tracebackhide__ = True
        overrides = {k: fit_kwargs.pop(k) for k in list(fit_kwargs) if k in SPECS}
        constructed = is_tuner_instance(hypermodel)
        try:
            settings = count_folds(self._search_settings(hypermodel, overrides, fit_kwargs), fit_args, fit_kwargs)
            problem = None
        except SettingError as exc:
            problem = str(exc)
        if problem is not None:  # failed outside the except block: printed once
            pytest.fail(problem, pytrace=False)
        engine = _load_engine()
        from .engine.distributed import worker_environment

        worker_id = worker_environment()
        if worker_id is not None and not constructed:
            self._work_for_chief(worker_id, engine, hypermodel, settings, fit_args, fit_kwargs)
        directory, project, workers = self._placement(engine, hypermodel if constructed else None)
        self._searches += 1
        started = time.perf_counter()
        error = None
        result = None
        try:
            result = engine.run_search(
                hypermodel,
                settings,
                directory,
                project,
                fit_args,
                fit_kwargs,
                resume_nodeid=self._item.nodeid if self._state.resume and not constructed else None,
                workers=workers,
                progress=self._progress(),
                anchor=None if constructed else self._anchor_plan(settings),
            )
        except engine.SearchError as exc:
            error = str(exc)
        except engine.PluginFatal as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            # The user's own error (a build function that raises while Keras
            # Tuner reads the search space, a Keras Tuner FatalError from the
            # model's code): record the search, then let the error propagate
            # as itself (pytest.raises can catch it).
            self._record(settings, None, f"{type(exc).__name__}: {exc}", started, directory, project)
            raise
        record = self._record(settings, result, error, started, directory, project, (fit_args, fit_kwargs))
        self._conclude(record, result)
        return result

    def _search_settings(self, hypermodel, overrides: dict, fit_kwargs: dict) -> Settings:
        """The settings of one search; raises SettingError."""
        where = f"hptune.search() argument in {self._item.nodeid}"
        check_search_keywords(fit_kwargs, where)
        settings = self.settings(**overrides)
        if is_tuner_instance(hypermodel):
            return for_constructed_tuner(settings, hypermodel, set(self._marker.values) | set(overrides))
        if keeps_default_objective(hypermodel) and isinstance(settings.tuner, str):
            check_score_gates(settings, default_objective_holds=True)
        return settings

    def _placement(self, engine, constructed) -> tuple[str, str, Any]:
        """The search's tuning directory, project and workers; a tuner the
        test constructed keeps its own directory, and is not distributed."""
        if constructed is not None:
            return str(constructed.directory), str(constructed.project_name), None
        directory, project = self._directory()
        return directory, project, self._workers(engine, directory)

    def _workers(self, engine, directory: str):
        """--hptune-workers / --hptune-chief: only a test's first search."""
        if not (self._state.workers or self._state.chief) or self._searches:
            return None
        return engine.Workers(
            self._state.workers,
            self._worker_command(directory),
            str(self._request.config.rootpath),
            self._state.chief or "127.0.0.1:0",
            self._state.worker_timeout,
        )

    def _conclude(self, record: dict, result) -> None:
        """Fail the test on a failed verdict. A missing baseline entry is no
        skip: the gates judged the search, and the reports say it was not
        compared (--hptune-compare-strict fails it)."""
        __tracebackhide__ = True
        problems = [failure_message(record), self._warn(record)]
        if any(problems):
            problems.append(
                f"(every trial of this search: the hptune section of the summary below, {record['nodeid']})"
            )
            pytest.fail("\n".join(p for p in problems if p), pytrace=False)
        comparison = record.get("comparison")
        if comparison and comparison["status"] == "broken":
            pytest.fail(f"hptune: {comparison['reason']} (an unusable baseline fails the comparison)", pytrace=False)
        if comparison and comparison["status"] == "missing" and self._state.compare_strict:
            pytest.fail(f"hptune: {comparison['reason']} (--hptune-compare-strict)", pytrace=False)

    def _warn(self, record: dict) -> str | None:
        """The advice that is also a warning (HptuneAdvice: identical scores,
        a validation set too small for max_std), once the search is
        recorded, attributed to the test's own file and line (pytest's
        warnings summary names the test, not the plugin); under
        ``-W error::pytest_hptune.HptuneAdvice`` it fails the test with its
        text (returned) instead of a traceback."""
        filename = str(self._item.path)
        lineno = (self._item.location[1] or 0) + 1
        for item in record.get("advice") or ():
            if item["kind"] not in advice.WARNINGS:
                continue
            message = advice.HptuneAdvice(f"{self._item.nodeid}: {item['text']}")
            try:
                warnings.warn_explicit(message, advice.HptuneAdvice, filename, lineno, module=self._item.nodeid)
            except advice.HptuneAdvice as exc:
                return f"hptune: {exc} (a warning turned into an error)"
        return None

    def _progress(self):
        """A progress line per trial, in the terminal while the test runs,
        with -v only: a quiet run by default keeps pytest's one line of dots
        per file intact (pytest writes the test's own line again after
        these, as it does after live logs). Never in a pytest-xdist worker."""
        config = self._request.config
        if config.get_verbosity() < 1 or hasattr(config, "workerinput"):
            return None
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        # The capture manager is how capsys.disabled() gets past capturing.
        capture = config.pluginmanager.get_plugin("capturemanager")
        if terminal is None or not hasattr(capture, "global_and_fixture_disabled"):
            return None

        def show(done, total, trial_id, status, mean, best_id, best_mean):
            what = f"{mean:.4f}" if mean is not None else status
            line = f"    hptune: trial {done}/{total} ({trial_id}) {what}"
            if best_id is not None:
                line += f", best {best_mean:.4f} (trial {best_id})"
            with capture.global_and_fixture_disabled():
                terminal.write_line(line)

        return show

    def _worker_command(self, directory: str) -> list[str]:
        """Runs this test again in a worker process (Keras Tuner's variables
        are added per worker): same rootdir, ini file and hptune options, the
        chief's tuning directory."""
        config = self._request.config
        command = [
            sys.executable,
            "-m",
            "pytest",
            self._item.nodeid,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-o",
            "addopts=",
            f"--rootdir={config.rootpath}",
            f"--hptune-dir={directory}",
        ]
        if config.inipath:
            command += ["-c", str(config.inipath)]
        command += _chief_options(config)
        for setting, value in self._state.cli_layer.values.items():
            command.append(f"{option_name(setting)}={value}")
        return command

    def _work_for_chief(self, worker_id, engine, hypermodel, settings, fit_args, fit_kwargs):
        """In a worker: join the chief's search, then skip the rest of the test
        (its verdict is the chief's)."""
        __tracebackhide__ = True
        if self._searches:
            pytest.skip(f"hptune worker {worker_id}: only a test's first search is distributed")
        if self._state.directory is None:
            pytest.fail(
                f"hptune worker {worker_id} needs the chief's tuning directory: pass "
                "--hptune-dir=PATH (the same, shared, directory as the chief's)",
                pytrace=False,
            )
        from .engine.distributed import watch_chief

        watch_chief()
        directory, project = self._directory()
        self._searches += 1
        engine.run_worker(hypermodel, settings, directory, project, fit_args, fit_kwargs)
        pytest.skip(f"hptune worker {worker_id}: ran trials for the chief")


def _chief_options(config: pytest.Config) -> list[str]:
    """The chief's own pytest options that decide what code a worker runs:
    its plugins (-p), ini overrides (-o), warning filters (-W) and import
    mode, as pytest resolved them from the command line, PYTEST_ADDOPTS and
    the ini file's addopts (which the worker's command replaces: -n 2 from
    CI, say, must not reach a worker)."""
    option = config.option
    out: list[str] = []
    for plugin in getattr(option, "plugins", None) or ():
        if plugin.split(":")[-1].split(".")[0] not in ("xdist", "cacheprovider"):
            out += ["-p", plugin]
    for override in getattr(option, "override_ini", None) or ():
        if override.split("=", 1)[0].strip() != "addopts":
            out += ["-o", override]
    for warning in getattr(option, "pythonwarnings", None) or ():
        out += ["-W", warning]
    importmode = getattr(option, "importmode", None)
    if importmode:
        out.append(f"--import-mode={importmode}")
    return out
