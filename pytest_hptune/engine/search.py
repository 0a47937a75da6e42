"""One search, start to finish: resume planning, the tuner, the trials (here
or on workers) and the follow-up fits; returns one complete SearchResult."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import keras_tuner

from ..anchor import AnchorPlan
from ..result import COMPLETED, SearchResult
from ..settings import Settings, is_tuner_instance
from . import compat, fingerprint, keywords, splits
from . import objective as objectives
from .budget import TimeBudget
from .collect import collect
from .custom import takes_keyword, users_run_trial
from .failures import (
    PluginFatal,
    SearchError,
    TuningDirectoryError,
    check_writable,
    directory_error,
    directory_failure,
    is_directory_error,
)
from .followup import confirm, neighbours_of_best, top_up_best, train_anchors
from .resume import plan_resume
from .silence import quiet_keras
from .storage import read_scores
from .tuners import build_tuner, check_hypermodel
from .workers import Workers

if TYPE_CHECKING:
    from ..events import SearchListener

errors = keras_tuner.errors
# What the fixture catches: the engine's own errors, not the user's.
__all__ = ["PluginFatal", "SearchError", "Workers", "errors", "run_search", "run_worker"]


def check_supported() -> None:
    """Every Keras Tuner internal the engine relies on exists (see compat)."""
    try:
        compat.check()
    except compat.IncompatibleKerasTuner as exc:
        raise SearchError(str(exc)) from None


def _fit_kwargs(settings: Settings, fit_kwargs: dict[str, Any], tuner: Any) -> dict[str, Any]:
    """What tuner.search() gets: the epochs setting, and verbose=0, each
    unless a run_trial of the user's takes no such keyword (as plain Keras
    Tuner, which passes run_trial only what search() was given)."""
    fit_kwargs = dict(fit_kwargs)
    if isinstance(tuner, keras_tuner.SklearnTuner):
        return fit_kwargs
    run_trial = users_run_trial(type(tuner))
    if settings.epochs is not None and (run_trial is None or takes_keyword(run_trial, "epochs")):
        fit_kwargs["epochs"] = settings.epochs
    if run_trial is None or takes_keyword(run_trial, "verbose"):
        fit_kwargs.setdefault("verbose", 0)
    return fit_kwargs


def run_worker(
    hypermodel: Any,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
) -> None:
    """In a worker process (Keras Tuner's ``KERASTUNER_*`` variables set):
    run the trials the chief hands out until it says stop."""
    check_supported()
    check_hypermodel(hypermodel, settings)
    keywords.check(hypermodel, settings, fit_kwargs)
    tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs, overwrite=False)
    with quiet_keras():
        tuner.search(*fit_args, **_fit_kwargs(settings, fit_kwargs, tuner))


def run_search(
    hypermodel: Any,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    resume_nodeid: str | None = None,
    workers: Workers | None = None,
    progress: SearchListener | None = None,
    anchor: AnchorPlan | None = None,
) -> SearchResult:
    """Run one bounded search and its follow-up fits; return the complete
    outcome. Raises SearchError or a Keras Tuner FatalError when the search
    cannot go on; failed trials are in the result instead.

    With ``resume_nodeid`` (``--hptune-resume``), a search whose fingerprint
    matches the one saved in its directory continues from its completed
    trials; otherwise it starts fresh and the result says why.

    ``anchor``: the anchor fits asked for (--hptune-compare's baseline
    anchor, --hptune-save-baseline's own), trained after the other fits."""
    check_supported()
    if is_tuner_instance(hypermodel):
        result = _run_constructed(hypermodel, settings, fit_args, fit_kwargs)
        return dataclasses.replace(result, backend=keras.backend.backend())
    check_hypermodel(hypermodel, settings)
    keywords.check(hypermodel, settings, fit_kwargs)
    splits.check(settings, fit_args, fit_kwargs)
    project_dir = Path(directory) / project_name
    check_writable(project_dir)
    tuner, resume = _prepared_tuner(hypermodel, settings, directory, project_name, fit_args, fit_kwargs, resume_nodeid)
    fit_kwargs = _fit_kwargs(settings, fit_kwargs, tuner)
    tuner.hptune_progress = progress
    tuner.hptune_budget = TimeBudget(settings.max_time)  # from the first trial on
    tuner.oracle.verbose = 0  # Keras Tuner's display; a search(verbose=1) turns it on
    if workers is not None:
        result = _serve_workers(tuner, settings, workers, project_dir, resume)
    else:
        result = dataclasses.replace(_search_here(tuner, settings, fit_args, fit_kwargs), resume=resume)
    if result.best is not None and result.stopped_reason is None:
        result = _follow_up(tuner, settings, result, fit_args, fit_kwargs)
        if anchor is not None:
            result = train_anchors(tuner, settings, result, anchor, fit_args, fit_kwargs)
    # The outcome is frozen: each step above returned a new one; this is the last.
    return dataclasses.replace(
        result,
        time_budget=tuner.hptune_budget.report(),
        reused_fits=None if workers is not None else getattr(tuner, "hptune_reused", None),
        backend=keras.backend.backend(),
    )


def _run_constructed(
    tuner: Any, settings: Settings, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> SearchResult:
    """A tuner the test constructed, searched as it is (its directory, oracle
    and seed); max_trials as resolved (settings.for_constructed_tuner). Each
    trial has one score, the oracle's: Keras Tuner keeps no other."""
    keywords.check(tuner, settings, fit_kwargs)
    check_writable(Path(tuner.project_dir))
    tuner.oracle.max_trials = settings.max_trials
    tuner.oracle.verbose = 0
    return _search_here(tuner, settings, fit_args, _fit_kwargs(settings, fit_kwargs, tuner))


def _prepared_tuner(
    hypermodel: Any,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    resume_nodeid: str | None,
) -> tuple[Any, dict[str, Any] | None]:
    """The tuner, fresh or resumed, and the resume entry of the result
    (None without --hptune-resume)."""
    project_dir = Path(directory) / project_name
    resume, reuse, parts = None, False, None
    if resume_nodeid is not None:
        reuse, reason, parts = plan_resume(hypermodel, settings, project_dir, resume_nodeid, fit_args, fit_kwargs)
        resume = {"resumed": reuse, "reused_trials": 0, "reason": reason}
    try:
        tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs, overwrite=not reuse)
    except (SearchError, errors.FatalError):
        raise
    except Exception as exc:
        if is_directory_error(exc):
            raise SearchError(directory_error(project_dir, exc)) from None
        if resume is None or not reuse:
            raise
        # Half-written files from a killed run: start over, say why.
        resume.update(
            resumed=False,
            reason=f"the earlier run's files could not be read ({type(exc).__name__}: {exc})",
        )
        tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs)
    if resume is not None and resume["resumed"]:
        objectives.settle_from_trials(tuner)
        lost = _lost_trials(tuner)
        unreadable = None if lost else _unreadable_scores(tuner)
        if lost or unreadable:
            # A reused trial without its scores would change the verdict.
            why = f"the earlier run's files are incomplete: {lost}" if lost else None
            resume.update(resumed=False, reason=why or f"the earlier run's scores are unusable: {unreadable}")
            tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs)
    if resume is not None:
        if resume["resumed"]:
            resume["reused_trials"] = sum(1 for t in tuner.oracle.trials.values() if t.status == COMPLETED)
        if parts is not None:
            fingerprint.write(project_dir, parts, settings.as_dict())
    return tuner, resume


def _lost_trials(tuner: Any) -> str | None:
    """Ended trials the oracle lists whose directory is gone (a partially
    restored CI cache): Keras Tuner would fail every later trial on them
    with a KeyError."""
    oracle = tuner.oracle
    lost = sorted({str(t) for t in oracle.end_order} - set(oracle.trials))
    if not lost:
        return None
    where = ", ".join(tuner.get_trial_dir(t) for t in lost)
    return f"trial {', '.join(lost)} of the earlier run is missing (no trial.json in {where})"


def _unreadable_scores(tuner: Any) -> str | None:
    """Why a completed trial of a resumed search has no usable scores file."""
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        if trial.status != COMPLETED:
            continue
        try:
            read_scores(tuner, trial_id, trial.score)
        except ValueError as exc:
            return str(exc)
    return None


def _follow_up(
    tuner: Any, settings: Settings, result: SearchResult, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> SearchResult:
    """The fits after the search, in a new outcome: the top-up of an
    undecided best (auto executions), the confirmation, the neighbours."""
    if settings.adaptive and settings.kind != "hyperband" and not settings.confirm and isinstance(settings.tuner, str):
        result = top_up_best(tuner, settings, result, fit_args, fit_kwargs)
    fits: dict[str, Any] = {}
    if settings.confirm:
        fits["confirmation"] = confirm(tuner, settings, result, fit_args, fit_kwargs)
    if settings.max_neighbour_drop is not None:
        fits["neighbours"] = neighbours_of_best(tuner, settings, result, fit_args, fit_kwargs)
    return dataclasses.replace(result, **fits)


def _search_here(tuner: Any, settings: Settings, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> SearchResult:
    stopped = None
    with quiet_keras():
        try:
            tuner.search(*fit_args, **fit_kwargs)
        except TypeError as exc:
            if not isinstance(tuner, keras_tuner.SklearnTuner) or "search()" not in str(exc):
                raise
            raise SearchError(
                f"with tuner='sklearn', hptune.search() takes (build_estimator, X, y, "
                f"sample_weight=None, groups=None): {exc}"
            ) from None
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            stopped = (
                f"Keras Tuner stopped the search after "
                f"{tuner.oracle.max_consecutive_failed_trials} consecutive failed "
                "trials (raise max_consecutive_failed_trials to go on)"
            )
        except Exception as exc:
            # A full or read-only disk, inside a trial or in Keras Tuner's own
            # bookkeeping: stop, keeping the trials that completed.
            if not isinstance(exc, TuningDirectoryError) and not is_directory_error(exc, tuner.project_dir):
                raise
            stopped = str(exc) if isinstance(exc, TuningDirectoryError) else directory_error(tuner.project_dir, exc)
    result = collect(tuner, settings, stopped)
    if result.stopped_reason is None:
        result = dataclasses.replace(result, stopped_reason=directory_failure(tuner.project_dir, result.failed))
    return result


def _serve_workers(
    tuner: Any, settings: Settings, workers: Workers, project_dir: Path, resume: dict[str, Any] | None
) -> SearchResult:
    from . import distributed

    tuner.oracle.verbose = 0
    tuner.save()
    silence = distributed.silence_limit(workers.timeout, settings.max_time)
    chief = distributed.Chief(tuner.oracle, workers.address, budget=tuner.hptune_budget, silence=silence)
    try:
        chief.start()
    except (OSError, RuntimeError) as exc:
        raise SearchError(
            f"the chief could not listen on {workers.address} ({exc}); pick another --hptune-chief=HOST:PORT"
        ) from None
    try:
        chief.spawn(workers.count, workers.command, workers.cwd, project_dir)
        with quiet_keras():
            stopped = chief.serve()
    except BaseException:
        chief.stop()
        raise
    result = collect(tuner, settings, stopped)
    return dataclasses.replace(
        result,
        resume=resume,
        tuner_info=dict(
            result.tuner_info,
            workers=[{"id": w.tuner_id, "exit_code": w.process.returncode} for w in chief.workers],
            lost_trials=list(chief.lost),
            chief=f"{workers.address.rsplit(':', 1)[0]}:{chief.port}",
        ),
    )
