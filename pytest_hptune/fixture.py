"""The ``hptune`` fixture object: resolves a search's settings
(``search_settings.py``), runs the engine once, hands the outcome to the
verdict and the record to the reports. Keras is imported only inside
``search()``."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pytest

from .conclude import conclude
from .engine import workers
from .search_settings import for_search, resolve_search
from .settings import Layer, SettingError, Settings, is_tuner_instance
from .state import PENDING_RECORDS, SessionState
from .verdict.compare import Baseline
from .verdict.judge import judge
from .worker_env import worker_id

if TYPE_CHECKING:
    from .anchor import AnchorPlan
    from .result import SearchResult


def _load_engine() -> ModuleType:
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


class Hptune:
    """What the ``hptune`` fixture returns."""

    def __init__(self, request: pytest.FixtureRequest, state: SessionState, marker: Layer, progress: Any = None):
        """``progress``: the listener of the engine's events (the reports'
        progress line, from the plugin), or None."""
        self._request = request
        self._item = request.node
        self._state = state
        self._marker = marker
        self._progress = progress
        self._searches = 0

    def settings(self, **overrides: Any) -> Settings:
        """The settings a search with these keyword overrides would use."""
        return resolve_search(self._state, self._marker, self._item.nodeid, overrides)

    def _record(
        self,
        settings: Settings,
        result: SearchResult | None,
        error: str | None,
        started: float,
        directory: str,
        project: str,
        data: tuple[Sequence[Any], dict[str, Any]] = ((), {}),
    ) -> dict[str, Any]:
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

    def _anchor_plan(self, settings: Settings) -> AnchorPlan | None:
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

    def search(self, hypermodel: Any = None, *fit_args: Any, **fit_kwargs: Any) -> SearchResult:
        """Run a bounded Keras Tuner search and apply the gates.

        ``hypermodel``: a build function or HyperModel; None for a ``tuner=``
        Tuner subclass whose run_trial builds none; or a tuner the test
        constructed, searched as it is. ``fit_args``/``fit_kwargs`` go to
        ``model.fit`` as in ``Tuner.search``; keyword arguments named like a
        setting (``max_trials``, ``objective``, ``min_score``, ``epochs``,
        ...) set it for this search.
        """
        __tracebackhide__ = True
        settings = self._search_settings(hypermodel, fit_args, fit_kwargs)
        engine = _load_engine()
        constructed = hypermodel if is_tuner_instance(hypermodel) else None
        worker = worker_id()
        if worker is not None and constructed is None:
            first, self._searches = not self._searches, self._searches + 1
            project = workers.project_name(self._item.nodeid, 0)
            run = functools.partial(engine.run_worker, hypermodel, settings, fit_args=fit_args, fit_kwargs=fit_kwargs)
            workers.work_for_chief(worker, first, self._state.directory, project, run)
        directory, project, plan = self._placement(constructed)
        self._searches += 1
        started = time.perf_counter()
        error = result = None
        try:
            result = engine.run_search(
                hypermodel,
                settings,
                directory,
                project,
                fit_args,
                fit_kwargs,
                resume_nodeid=self._item.nodeid if self._state.resume and constructed is None else None,
                workers=plan,
                progress=self._progress,
                anchor=None if constructed is not None else self._anchor_plan(settings),
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
        conclude(self._item, record, self._state.compare_strict)
        # None only with an error, and conclude() failed the test on it.
        return cast("SearchResult", result)

    def _search_settings(self, hypermodel: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> Settings:
        """The search's settings (the keywords named like a setting leave
        ``fit_kwargs``), or a failed test naming the bad one."""
        __tracebackhide__ = True
        try:
            return for_search(self._state, self._marker, self._item.nodeid, hypermodel, fit_args, fit_kwargs)
        except SettingError as exc:
            problem = str(exc)
        pytest.fail(problem, pytrace=False)  # outside the except block: printed once

    def _placement(self, constructed: Any) -> tuple[str, str, workers.Workers | None]:
        """The search's tuning directory, project and workers (--hptune-workers,
        --hptune-chief: only a test's first search); a tuner the test
        constructed keeps its own directory, and is not distributed."""
        if constructed is not None:
            return str(constructed.directory), str(constructed.project_name), None
        project = workers.project_name(self._item.nodeid, self._searches)
        directory = self._state.directory
        if directory is None:
            directory = self._request.getfixturevalue("tmp_path_factory").mktemp("hptune", numbered=True)
        plan = None
        if (self._state.workers or self._state.chief) and not self._searches:
            plan = workers.plan(self._request.config, self._state, self._item.nodeid, str(directory))
        return str(directory), project, plan
