"""The search runner around Keras Tuner.

Imported only when a test calls ``hptune.search()``: this is where TensorFlow,
Keras and Keras Tuner are loaded. What it adds to Keras Tuner:

* every execution of a trial is seeded from (seed, trial, execution), so a
  rerun reproduces hyperparameters and scores and executions differ;
* every execution's score is kept (Keras Tuner averages them away);
* a misnamed objective stops the search after the first execution, naming the
  metrics that exist; a NaN loss fails that trial only;
* no ``gc.collect()`` on every build (Keras Tuner calls it twice per build,
  which is most of its overhead on small models).
"""

from __future__ import annotations

import os

# Must be set before TensorFlow is imported; a user's own value wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import copy  # noqa: E402
import difflib  # noqa: E402
import errno  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Sequence  # noqa: E402

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
from keras_tuner.src import config as kt_config  # noqa: E402
from keras_tuner.src.engine import tuner_utils  # noqa: E402

from . import gates, stats  # noqa: E402
from .result import (  # noqa: E402
    COMPLETED,
    FAILED,
    Objective,
    SearchResult,
    TrialResult,
    rank,
    trial_order,
)
from . import fingerprint  # noqa: E402
from .settings import DEFAULT_FOLDS, Settings  # noqa: E402

errors = keras_tuner.errors


class SearchError(Exception):
    """The search could not run at all; the message says why and what to do."""


# A tuning directory that cannot take writes (full, read-only, no access).
DIRECTORY_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})
DIRECTORY_WORDS = ("No space left", "Read-only file system", "Permission denied", "Disk quota")


class TuningDirectoryError(errors.FatalError):
    """Aborts the search: no trial can be saved."""


def is_directory_error(exc: BaseException, directory=None) -> bool:
    """OSError from Python's file IO, or the TensorFlow file-system error
    Keras Tuner's ``tf.io.gfile`` calls raise on the TensorFlow backend.

    A full disk is a full disk; a permission error counts only when it is
    about the tuning directory (not, say, the user's own CSVLogger path)."""
    full = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OSError) and exc.errno in full:
        return True
    if not (isinstance(exc, OSError) or type(exc).__module__.startswith("tensorflow")):
        return False
    if not (
        (isinstance(exc, OSError) and exc.errno in DIRECTORY_ERRNOS)
        or any(w in str(exc) for w in DIRECTORY_WORDS)
    ):
        return False
    if directory is None:
        return True
    where = getattr(exc, "filename", None) or str(exc)
    return str(directory) in str(where) or any(w in str(exc) for w in ("No space left", "Disk quota"))


def check_writable(project_dir: Path) -> None:
    """Before any training: the project directory can be created and written."""
    try:
        project_dir.mkdir(parents=True, exist_ok=True)
        probe = project_dir / f".hptune-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise SearchError(directory_error(project_dir, exc)) from None


def directory_error(directory, exc: OSError) -> str:
    return (
        f"the tuning directory {directory} cannot be written ({type(exc).__name__}: {exc}); "
        "free some space or point --hptune-dir (ini hptune_dir) at a writable directory"
    )


@contextlib.contextmanager
def tuning_directory_errors(tuner):
    """Inside a trial: a full or read-only directory aborts the search with
    one clear reason instead of failing trial after trial."""
    try:
        yield
    except Exception as exc:
        if is_directory_error(exc, tuner.project_dir):
            raise TuningDirectoryError(directory_error(tuner.project_dir, exc)) from exc
        raise


class ObjectiveNotFound(errors.FatalValueError):
    def __init__(self, name: str, available: Sequence[str]):
        names = ", ".join(sorted(available)) or "(none)"
        hint = ""
        if name.startswith("val_") and not any(a.startswith("val_") for a in available):
            hint = (
                " The model was fit without validation data: pass "
                "validation_split= or validation_data= to hptune.search()."
            )
        super().__init__(
            f"objective {name!r} is not among the metrics the model reports: "
            f"{names}.{hint} Set objective= on the hptune marker to one of them "
            "(or compile the model with the metric)."
        )


def execution_seed(seed: int, trial_id: str, execution: int) -> int:
    """A well-mixed, stable seed for one execution of one trial."""
    index = int(trial_id) if trial_id.isdigit() else zlib.crc32(trial_id.encode())
    state = np.random.SeedSequence(seed, spawn_key=(index, execution))
    return int(state.generate_state(1)[0] % (2**31 - 1))


def oracle_seed(seed: int) -> int:
    # Keras Tuner's oracle treats 0 as "no seed" (``seed or randint``): derive
    # a seed that is never 0.
    state = np.random.SeedSequence(seed, spawn_key=(2**32 - 1,))
    return int(state.generate_state(1)[0] % (2**31 - 2)) + 1


def execution_score(result: Any, objective) -> float:
    """One execution's objective value, chosen as Keras Tuner does (best epoch)."""
    name = objective.name
    if isinstance(result, keras.callbacks.History):
        logs = result.history
        for epoch, loss in enumerate(logs.get("loss", ()), start=1):
            if not math.isfinite(loss):
                raise errors.FailedTrialError(f"loss is {loss} at epoch {epoch}")
        if name not in logs:
            raise ObjectiveNotFound(name, list(logs))
        values = [float(v) for v in logs[name] if math.isfinite(v)]
        if not values:
            raise errors.FailedTrialError(f"{name} is never finite: {logs[name]}")
        return max(values) if objective.direction == "max" else min(values)
    if isinstance(result, dict):
        if name not in result:
            raise ObjectiveNotFound(name, list(result))
        value = float(result[name])
    elif isinstance(result, (int, float, np.floating)):
        value = float(result)
    else:
        raise errors.FatalTypeError(
            "HyperModel.fit() must return a keras History, a dict of metrics or "
            f"a float; got {type(result).__name__}"
        )
    if not math.isfinite(value):
        raise errors.FailedTrialError(f"{name} is {value}")
    return value


class BestEpochWeights(keras.callbacks.Callback):
    """Keras Tuner's ``SaveBestEpoch``, buffered: the weights of the best epoch
    across a trial's executions are kept in memory and written once, when the
    trial ends, instead of at every improving epoch (three writes per fit on
    the example's ConvNet, the largest part of what a trial costs beyond its
    fits). The file is the same: the best epoch's weights, where Keras Tuner
    (Hyperband's next round, ``get_best_models``) looks for them."""

    def __init__(self, objective, filepath: str):
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = float("-inf") if objective.direction == "max" else float("inf")
        self.best_model = None
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if self.objective.has_value(logs):
            value = self.objective.get_value(logs)
            if not self.objective.better_than(value, self.best_value):
                return
            self.best_value = value
        self.best_model = self.model
        self.best_weights = self.model.get_weights()

    def write(self) -> None:
        if self.best_model is not None:
            self.best_model.set_weights(self.best_weights)
            self.best_model.save_weights(self.filepath)
            self.best_model = self.best_weights = None


def report_progress(tuner, trial) -> None:
    """After each trial: (done, total, trial id, status, its mean, best id,
    best mean) to the fixture's progress callback, if any."""
    callback = getattr(tuner, "hptune_progress", None)
    if callback is None:
        return
    try:
        direction = tuner.oracle.objective.direction
        means = {
            tid: stats.mean(s) for tid, s in tuner.hptune_scores.items() if s and tid in tuner.oracle.trials
            and tuner.oracle.trials[tid].status == COMPLETED
        }
        best = (max if direction == "max" else min)(means, key=means.get) if means else None
        callback(
            len(tuner.oracle.trials), tuner.oracle.max_trials, trial.trial_id, trial.status,
            means.get(trial.trial_id), best, means.get(best),
        )
    except Exception:  # progress is a courtesy: it never breaks a search
        pass


GC_EVERY = 10
_builds = [0]


def collect_garbage_now() -> None:
    """A full collection every GC_EVERY model builds in this process (not
    per tuner: a session of many small searches is bounded too)."""
    _builds[0] += 1
    if _builds[0] % GC_EVERY == 0:
        gc.collect()


class HptuneTunerMixin(keras_tuner.Tuner):
    """Placed after a Keras Tuner strategy class in the MRO, so strategies that
    override ``run_trial`` (Hyperband) still call this one through ``super()``.
    """

    def hptune_setup(self, settings: Settings) -> None:
        self.hptune_seed = settings.seed
        self.hptune_settings = settings
        self.hptune_scores: dict[str, list[float]] = {}
        # Hyperband: only full-budget trials are judged, so only they lead.
        self.hptune_full_budget = (
            hyperband_max_epochs(settings) if settings.tuner == "hyperband" else None
        )

    def hptune_more(self, trial, scores: list[float]) -> bool:
        """executions_per_trial='auto': one more execution for this trial?
        Only while it leads the completed trials (of the full budget) and the
        gates' verdict on its scores is not statistically decided."""
        settings = self.hptune_settings
        if not settings.adaptive or len(scores) >= settings.max_executions:
            return False
        if not gates.undecided(settings, scores):
            return False
        budget = trial.hyperparameters.values.get("tuner/epochs")
        if self.hptune_full_budget is not None and budget != self.hptune_full_budget:
            return False
        objective = self.oracle.objective
        # Through the oracle, so that a worker of --hptune-workers sees the
        # chief's trials too.
        for other in self.oracle.get_best_trials(1_000_000):
            if other.trial_id == trial.trial_id or other.score is None:
                continue
            if self.hptune_full_budget is not None and (
                other.hyperparameters.values.get("tuner/epochs") != self.hptune_full_budget
            ):
                continue
            return not objective.better_than(other.score, stats.mean(scores))
        return True

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        # Like Tuner.run_trial, plus seeding, per-execution scores and fail-fast
        # checks after each execution.
        checkpoint = BestEpochWeights(
            objective=self.oracle.objective,
            filepath=self._get_checkpoint_fname(trial.trial_id),
        )
        original_callbacks = fit_kwargs.pop("callbacks", [])
        scores = self.hptune_scores[trial.trial_id] = []
        results = []
        execution = 0
        while execution < self.executions_per_trial or self.hptune_more(trial, scores):
            kwargs = copy.copy(fit_kwargs)
            callbacks = self._deepcopy_callbacks(original_callbacks)
            self._configure_tensorboard_dir(callbacks, trial, execution)
            callbacks.append(tuner_utils.TunerCallback(self, trial))
            callbacks.append(checkpoint)
            callbacks.append(keras.callbacks.TerminateOnNaN())
            kwargs["callbacks"] = callbacks
            keras.utils.set_random_seed(
                execution_seed(self.hptune_seed, trial.trial_id, execution)
            )
            with tuning_directory_errors(self):
                result = self._build_and_fit_model(trial, *fit_args, **kwargs)
            scores.append(execution_score(result, self.oracle.objective))
            results.append(result)
            execution += 1
        with tuning_directory_errors(self):
            checkpoint.write()
            save_scores(self, trial.trial_id, scores)
        return results

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        report_progress(self, trial)

    def _try_build(self, hp):
        # Keras Tuner's version runs gc.collect() twice per build (about a
        # quarter of a second each with TensorFlow loaded). Clearing the Keras
        # session is what matters for correctness; the dead models' reference
        # cycles (TensorFlow graphs) are collected every GC_EVERY builds, which
        # bounds memory almost as well for a tenth of the time.
        keras.backend.clear_session(free_memory=False)
        collect_garbage_now()
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise errors.FatalTypeError(
                "the build function (or HyperModel.build) must return a compiled "
                f"keras.Model; it returned {model!r} of type {type(model).__name__}"
            )
        return model


SCORES_FILE = "hptune-scores.json"


def save_scores(tuner, trial_id: str, scores: list[float]) -> None:
    """Keep a trial's per-execution scores next to Keras Tuner's trial.json,
    so that a resumed search still has them (Keras Tuner keeps the mean
    only). Written atomically."""
    path = Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE
    tmp = path.with_name(f".{SCORES_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps([float(s) for s in scores]))
    os.replace(tmp, path)


def load_scores(tuner, trial_id: str) -> tuple[float, ...]:
    if trial_id in tuner.hptune_scores:
        return tuple(tuner.hptune_scores[trial_id])
    try:
        saved = json.loads((Path(tuner.get_trial_dir(trial_id)) / SCORES_FILE).read_text())
        return tuple(float(s) for s in saved)
    except (OSError, ValueError, TypeError):
        return ()


HYPERBAND_DEFAULT_MAX_EPOCHS = 100  # Keras Tuner's default
HYPERBAND_DEFAULT_FACTOR = 3


def hyperband_max_epochs(settings: Settings) -> int:
    """A full-budget trial's epochs: max_epochs (Keras Tuner's default 100),
    bounded by the epochs setting (marker, search(epochs=...), --hptune-epochs)."""
    bounds = [settings.max_epochs or HYPERBAND_DEFAULT_MAX_EPOCHS]
    if settings.epochs is not None:
        bounds.append(settings.epochs)
    return min(bounds)


class HptuneHyperbandOracle(keras_tuner.oracles.HyperbandOracle):
    """Keras Tuner's Hyperband oracle with a trial budget.

    Keras Tuner's Hyperband has no ``max_trials``: it runs whole brackets,
    starting with the most exploratory one (many trials at 1 epoch). A budget
    smaller than that bracket would end before any trial trained for the
    full ``max_epochs``, and the gates would have nothing to judge. So the
    brackets are limited to those whose rounds fit in ``max_trials``: the
    search starts with the most exploratory bracket that reaches the full
    budget within ``max_trials`` trials, goes on through the less exploratory
    ones as Keras Tuner does, and stops at ``max_trials`` trials. With a
    budget that fits the whole algorithm this is Keras Tuner's Hyperband.
    """

    def __init__(self, *args, max_trials: int, **kwargs):
        self.hptune_budget = max_trials  # read by _get_num_brackets in __init__
        super().__init__(*args, **kwargs)
        self.max_trials = max_trials

    def bracket_trials(self, bracket: int) -> int:
        return sum(self._get_size(bracket, r) for r in range(bracket + 1))

    def _get_num_brackets(self) -> int:
        brackets = super()._get_num_brackets()
        fitting = [b for b in range(brackets) if self.bracket_trials(b) <= self.hptune_budget]
        return (max(fitting) + 1) if fitting else 1

    def plan(self) -> dict:
        """How the trial budget maps onto brackets, for the report."""
        brackets = self._get_num_brackets()
        return {
            "max_epochs": self.max_epochs,
            "factor": self.factor,
            "hyperband_iterations": self.hyperband_iterations,
            "brackets": [
                {
                    "bracket": b,
                    "rounds": [
                        {"trials": self._get_size(b, r), "epochs": self._get_epochs(b, r)}
                        for r in range(b + 1)
                    ],
                }
                for b in reversed(range(brackets))
            ],
            "all_brackets": super()._get_num_brackets(),
        }


class HptuneHyperband(keras_tuner.Hyperband, HptuneTunerMixin):
    def __init__(
        self,
        hypermodel,
        objective,
        max_trials,
        max_epochs,
        factor,
        hyperband_iterations,
        seed,
        max_consecutive_failed_trials,
        **kwargs,
    ):
        oracle = HptuneHyperbandOracle(
            objective,
            max_trials=max_trials,
            max_epochs=max_epochs,
            factor=factor,
            hyperband_iterations=hyperband_iterations,
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        # Hyperband.__init__ only builds its own oracle (without a budget)
        # and hands it to Tuner.__init__: do the same with ours.
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


_STRATEGIES = {
    "random": "RandomSearch",
    "bayesian": "BayesianOptimization",
    "grid": "GridSearch",
}
_ORACLES = {
    "random": "RandomSearchOracle",
    "bayesian": "BayesianOptimizationOracle",
    "grid": "GridSearchOracle",
}
_CLASSES: dict[str, type] = {"hyperband": HptuneHyperband}


def tuner_class(name: str) -> type:
    if name not in _CLASSES:
        base = getattr(keras_tuner, _STRATEGIES[name])
        _CLASSES[name] = type(f"Hptune{base.__name__}", (base, HptuneTunerMixin), {})
    return _CLASSES[name]


class HptuneSklearnTuner(keras_tuner.SklearnTuner):
    """Keras Tuner's scikit-learn tuner, keeping every fold's score.

    Its ``run_trial`` scores each fold through ``self.scoring`` and keeps
    only the mean; a recording scorer keeps the folds, so Keras Tuner's own
    cross-validation loop runs unchanged. Each trial is seeded (NumPy's
    global RNG, used by estimators without a ``random_state``).
    """

    def hptune_setup(self, seed: int, scoring) -> None:
        self.hptune_seed = seed
        self.hptune_scores: dict[str, list[float]] = {}
        self.hptune_folds: list[float] = []

        def record(model, X, y, sample_weight=None):
            if scoring is None:
                score = model.score(X, y, sample_weight=sample_weight)
            else:
                score = scoring(model, X, y, sample_weight=sample_weight)
            self.hptune_folds.append(float(score))
            return score

        self.scoring = record

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        report_progress(self, trial)

    def run_trial(self, trial, *args, **kwargs):
        self.hptune_folds = []
        self.hptune_scores[trial.trial_id] = self.hptune_folds
        np.random.seed(execution_seed(self.hptune_seed, trial.trial_id, 0))
        with tuning_directory_errors(self):
            metrics = super().run_trial(trial, *args, **kwargs)
        for i, score in enumerate(self.hptune_folds, start=1):
            if not math.isfinite(score):
                raise errors.FailedTrialError(f"score is {score} on fold {i}")
        with tuning_directory_errors(self):
            save_scores(self, trial.trial_id, self.hptune_folds)
        return metrics


def sklearn_estimator_check(hypermodel):
    """Wrap the build function so a non-estimator fails with a clear reason."""
    build = hypermodel.build if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel

    def checked(hp):
        model = build(hp)
        if not callable(getattr(model, "fit", None)):
            raise errors.FatalTypeError(
                "with tuner='sklearn' the build function must return a scikit-learn "
                f"estimator (with fit()); it returned {model!r} of type "
                f"{type(model).__name__}"
            )
        return model

    return checked


def sklearn_scoring(scoring):
    if not isinstance(scoring, str):
        return scoring
    import sklearn.metrics

    try:
        return sklearn.metrics.get_scorer(scoring)
    except ValueError:
        close = difflib.get_close_matches(scoring, sklearn.metrics.get_scorer_names(), n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise SearchError(
            f"scoring={scoring!r} is not a scikit-learn scorer name{hint}; see "
            "sklearn.metrics.get_scorer_names() or pass a scorer callable"
        ) from None


def sklearn_cv(settings: Settings):
    import sklearn.model_selection

    cv = settings.cv if settings.cv is not None else DEFAULT_FOLDS
    if isinstance(cv, int):
        # Shuffled like Keras Tuner's default splitter, seeded by the search.
        return sklearn.model_selection.KFold(
            cv, shuffle=True, random_state=execution_seed(settings.seed, "cv", 0)
        )
    return cv


def check_hypermodel(hypermodel: Any) -> None:
    if isinstance(hypermodel, type) and issubclass(hypermodel, keras_tuner.HyperModel):
        raise SearchError(
            f"hptune.search() got the class {hypermodel.__name__}; pass an "
            f"instance: hptune.search({hypermodel.__name__}(), ...)"
        )
    if not (isinstance(hypermodel, keras_tuner.HyperModel) or callable(hypermodel)):
        raise SearchError(
            "hptune.search() needs a build function f(hp) -> compiled keras.Model "
            f"or a keras_tuner.HyperModel as its first argument; got {hypermodel!r}"
        )


BAYESIAN_SETTINGS = ("num_initial_points", "alpha", "beta")


def build_tuner(
    hypermodel,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_kwargs: dict,
    overwrite: bool = True,
):
    check_hypermodel(hypermodel)
    objective = settings.objective
    if settings.direction is not None:
        objective = keras_tuner.Objective(settings.objective_name, settings.direction)
    common = dict(
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
    )
    search = dict(
        objective=objective,
        max_trials=settings.max_trials,
        max_consecutive_failed_trials=settings.max_consecutive_failed_trials,
        seed=oracle_seed(settings.seed),
    )
    if settings.strategy == "bayesian":
        search.update(settings.tuner_kwargs(BAYESIAN_SETTINGS))
    if settings.tuner == "sklearn":
        oracle = getattr(keras_tuner.oracles, _ORACLES[settings.strategy])(**search)
        tuner = HptuneSklearnTuner(
            oracle=oracle,
            hypermodel=sklearn_estimator_check(hypermodel),
            cv=sklearn_cv(settings),
            **common,
        )
        tuner.hptune_setup(settings.seed, sklearn_scoring(settings.scoring))
        return tuner
    if settings.tuner == "hyperband":
        search.update(
            max_epochs=hyperband_max_epochs(settings),
            factor=settings.factor or HYPERBAND_DEFAULT_FACTOR,
            hyperband_iterations=settings.hyperband_iterations or 1,
        )
    tuner = tuner_class(settings.tuner)(
        hypermodel=hypermodel,
        executions_per_trial=settings.first_executions,
        **search,
        **common,
    )
    tuner.hptune_setup(settings)
    return tuner


def search_space(hyperparameters) -> list[dict]:
    """Each hyperparameter of the space: name, type, range or values,
    default and the conditions under which it is active."""
    space = []
    for hp in hyperparameters.space:
        config = hp.get_config()
        if config["name"].startswith(HIDDEN_PREFIX):
            continue
        entry = {"name": config.pop("name"), "type": type(hp).__name__}
        conditions = config.pop("conditions", [])
        config.pop("ordered", None)
        for key in ("min_value", "max_value"):
            if key in config:
                entry[key.removesuffix("_value")] = _plain(config.pop(key))
        entry.update({k: _plain(v) for k, v in config.items() if v is not None})
        if "values" in entry:
            entry["values"] = [_plain(v) for v in entry["values"]]
        if conditions:
            entry["conditions"] = [
                {"parent": c["config"]["name"], "values": [_plain(v) for v in c["config"]["values"]]}
                for c in conditions
                if c.get("class_name") == "Parent"
            ]
        space.append(entry)
    return space


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


HIDDEN_PREFIX = "tuner/"  # Hyperband's bookkeeping values (epochs, bracket, ...)


def collect(tuner, settings: Settings, stopped_reason: str | None) -> SearchResult:
    oracle = tuner.oracle
    objective = Objective(oracle.objective.name, oracle.objective.direction)
    full_budget = oracle.max_epochs if isinstance(oracle, HptuneHyperbandOracle) else None
    trials = []
    for trial_id in sorted(oracle.trials, key=trial_order):
        trial = oracle.trials[trial_id]
        hp = trial.hyperparameters
        values = {
            k: _plain(v)
            for k, v in hp.values.items()
            if not k.startswith(HIDDEN_PREFIX) and hp.is_active(k)
        }
        budget = hp.values.get("tuner/epochs") if full_budget else None
        scores = load_scores(tuner, trial_id)
        status = trial.status
        if status == COMPLETED and not scores:
            status = FAILED  # defensive: a completed trial always has scores
        message = None if status == COMPLETED else (trial.message or "")
        trials.append(TrialResult(trial_id, values, scores, status, message, budget))
    eligible = [t for t in trials if full_budget is None or t.budget == full_budget]
    ranked = rank(eligible, objective)
    best_hp = oracle.trials[ranked[0].trial_id].hyperparameters if ranked else None
    info: dict[str, Any] = {}
    if full_budget:
        info = oracle.plan()
    elif settings.tuner == "sklearn":
        info = {"folds": _folds(tuner.cv), "oracle": settings.strategy}
    return SearchResult(
        objective=objective,
        trials=ranked,
        failed=[t for t in trials if t.status != COMPLETED],
        partial=[t for t in trials if t.status == COMPLETED and t not in eligible],
        tuner=tuner,
        stopped_reason=stopped_reason,
        search_space=search_space(oracle.hyperparameters),
        tuner_info=info,
        _best_hp=best_hp,
        _retrain=_retrainer(tuner, settings, full_budget),
    )


def _folds(cv) -> int | None:
    try:
        return int(cv.get_n_splits())
    except Exception:
        return None


def _retrainer(tuner, settings: Settings, full_budget):
    """``result.retrain(*fit_args, **fit_kwargs)``: a fresh best model trained
    the way a trial trains it (the HyperModel's own fit(), seeded), for the
    full epochs of the search unless ``epochs=`` says otherwise."""

    def retrain(hp, *fit_args, **fit_kwargs):
        hypermodel = tuner.hypermodel
        if settings.tuner == "sklearn":
            np.random.seed(execution_seed(settings.seed, "retrain", 0))
            model = hypermodel.build(hp)
            model.fit(*fit_args, **fit_kwargs)
            return model
        epochs = full_budget or settings.epochs
        if epochs is not None:
            fit_kwargs.setdefault("epochs", epochs)
        fit_kwargs.setdefault("verbose", 0)
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(execution_seed(settings.seed, "retrain", 0))
        with quiet_keras():
            model = hypermodel.build(hp)
            hypermodel.fit(hp, model, *fit_args, **fit_kwargs)
        return model

    return retrain


@contextlib.contextmanager
def quiet_keras():
    """Keep library noise out of the test's output while a search runs:
    keras-tuner's deprecated threading calls and failed-trial tracebacks,
    Keras/TensorFlow deprecation warnings and TensorFlow's retracing log lines
    (one per new model)."""
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    # keras-tuner prints every failed trial's traceback to stderr while DEBUG
    # is on (its default); we keep the traceback in the trial and report it.
    debug = kt_config.DEBUG
    kt_config.DEBUG = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                category=DeprecationWarning,
                module=r"(keras|keras_tuner|tensorflow|tensorboard|absl)(\.|$)",
            )
            warnings.filterwarnings(
                "ignore", r"(currentThread|getName)\(\) is deprecated", DeprecationWarning
            )
            # A Hyperband continuation loads the previous round's weights into
            # a fresh model whose optimizer is not built yet: Keras warns that
            # it skips the optimizer state, as it does under Keras Tuner.
            warnings.filterwarnings(
                "ignore", r"Skipping variable loading for optimizer", UserWarning
            )
            yield
    finally:
        tf_logger.setLevel(level)
        kt_config.DEBUG = debug


def populated_space(hypermodel, explore_branches: bool = False):
    """The ``keras_tuner.HyperParameters`` Keras Tuner populates before the
    first trial, found with a throwaway oracle. ``explore_branches`` also
    builds once per value of every Choice and Boolean, to find the scopes
    opened inside ``if hp.Boolean(...)`` that Keras Tuner only finds when a
    trial takes the branch."""
    from keras_tuner.src.engine import base_tuner

    with tempfile.TemporaryDirectory(prefix="hptune-space-") as tmp, quiet_keras():
        oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective("score", "max"), max_trials=1
        )
        scratch = base_tuner.BaseTuner(
            oracle=oracle, hypermodel=hypermodel, directory=tmp, project_name="space", overwrite=True
        )
        scratch._populate_initial_space()
        if explore_branches:
            _explore_branches(scratch, oracle)
        return oracle.hyperparameters


def _explore_branches(tuner, oracle) -> None:
    explored: set = set()
    while True:
        before = len(oracle.hyperparameters.space)
        for hp in list(oracle.hyperparameters.space):
            kind = type(hp).__name__
            choices = hp.get_config().get("values") if kind == "Choice" else [False, True] if kind == "Boolean" else []
            for value in choices:
                if (hp.name, repr(value)) in explored:
                    continue
                explored.add((hp.name, repr(value)))
                trial_hp = oracle.get_space()
                trial_hp.values[hp.name] = value
                trial_hp.ensure_active_values()
                try:
                    tuner.hypermodel.build(trial_hp)
                except Exception:
                    continue  # a branch that does not build is the property's business
                oracle.update_space(trial_hp)
        if len(oracle.hyperparameters.space) == before:
            return


def initial_space(hypermodel, settings: Settings) -> list[dict]:
    """The search space as Keras Tuner populates it, for the fingerprint."""
    hyperparameters = populated_space(hypermodel)
    if settings.tuner != "sklearn":
        keras.backend.clear_session(free_memory=False)
    return search_space(hyperparameters)


def _versions() -> dict[str, str]:
    from . import __version__

    return {
        "pytest-hptune": __version__,
        "keras": keras.__version__,
        "keras-tuner": keras_tuner.__version__,
        "backend": keras.backend.backend(),
    }


def plan_resume(hypermodel, settings, project_dir: Path, nodeid, fit_args, fit_kwargs):
    """(reuse the saved search?, why not, fingerprint parts to save)."""
    try:
        parts = fingerprint.compute(
            nodeid,
            settings.as_dict(),
            initial_space(hypermodel, settings),
            fit_args,
            fit_kwargs,
            _versions(),
        )
    except fingerprint.Unhashable as exc:
        return (
            False,
            f"the data cannot be fingerprinted ({exc}); resuming needs NumPy arrays, "
            "pandas objects or plain values as fit arguments",
            None,
        )
    saved = fingerprint.read(project_dir)
    if saved is None:
        if (project_dir / "oracle.json").exists():
            return False, "the earlier run left no readable fingerprint", parts
        return False, "no earlier run of this search to resume", parts
    changed = fingerprint.differences(saved, parts, settings.as_dict())
    return changed is None, changed, parts


def _fit_kwargs(settings: Settings, fit_kwargs: dict) -> dict:
    fit_kwargs = dict(fit_kwargs)
    if settings.tuner != "sklearn":
        if settings.epochs is not None:
            fit_kwargs["epochs"] = settings.epochs
        fit_kwargs.setdefault("verbose", 0)  # also silences the oracle's display
    return fit_kwargs


def run_worker(hypermodel, settings: Settings, directory: str, project_name: str, fit_args, fit_kwargs) -> None:
    """In a worker process (Keras Tuner's ``KERASTUNER_*`` variables set):
    run the trials the chief hands out until it says stop."""
    check_hypermodel(hypermodel)
    tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs, overwrite=False)
    with quiet_keras():
        tuner.search(*fit_args, **_fit_kwargs(settings, fit_kwargs))


@dataclasses.dataclass(frozen=True)
class Workers:
    """--hptune-workers: how many local worker processes, the command that
    runs the test in one, and the chief's listening address."""

    count: int
    command: list
    cwd: str
    address: str = "127.0.0.1:0"


def run_search(
    hypermodel,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_args: tuple,
    fit_kwargs: dict,
    resume_nodeid: str | None = None,
    workers: Workers | None = None,
    progress=None,
) -> SearchResult:
    """Run one bounded search. Raises SearchError or a Keras Tuner FatalError
    when the search cannot go on; failed trials are in the result instead.

    With ``resume_nodeid`` (``--hptune-resume``), a search whose fingerprint
    matches the one saved in its directory continues from its completed
    trials; otherwise it starts fresh and the result says why."""
    check_hypermodel(hypermodel)
    resume = None
    reuse = False
    project_dir = Path(directory) / project_name
    check_writable(project_dir)
    if resume_nodeid is not None:
        reuse, reason, parts = plan_resume(
            hypermodel, settings, project_dir, resume_nodeid, fit_args, fit_kwargs
        )
        resume = {"resumed": reuse, "reused_trials": 0, "reason": reason}
    try:
        tuner = build_tuner(
            hypermodel, settings, directory, project_name, fit_kwargs, overwrite=not reuse
        )
    except (SearchError, errors.FatalError):
        raise
    except Exception as exc:
        if is_directory_error(exc):
            raise SearchError(directory_error(project_dir, exc)) from None
        if not reuse:
            raise
        # Half-written files from a killed run: start over, say why.
        resume.update(
            resumed=False,
            reason=f"the earlier run's files could not be read ({type(exc).__name__}: {exc})",
        )
        tuner = build_tuner(hypermodel, settings, directory, project_name, fit_kwargs)
    if resume is not None:
        if resume["resumed"]:
            resume["reused_trials"] = sum(
                1 for t in tuner.oracle.trials.values() if t.status == COMPLETED
            )
        if parts is not None:
            fingerprint.write(project_dir, parts, settings.as_dict())
    fit_kwargs = _fit_kwargs(settings, fit_kwargs)
    tuner.hptune_progress = progress
    if settings.tuner == "sklearn":
        tuner.oracle.verbose = 0  # SklearnTuner.search() takes no verbose=
    if workers is not None:
        result = _serve_workers(tuner, settings, workers, project_dir, resume)
    else:
        result = _search_here(tuner, settings, fit_args, fit_kwargs)
        result.resume = resume
    if result.best is not None and result.stopped_reason is None:
        if settings.adaptive and settings.tuner != "hyperband" and not settings.confirm:
            result.topped_up = top_up_best(tuner, settings, result, fit_args, fit_kwargs)
        if settings.confirm:
            result.confirmation = confirm(tuner, settings, result, fit_args, fit_kwargs)
        if settings.max_neighbour_drop is not None:
            result.neighbours = neighbours_of_best(tuner, settings, result, fit_args, fit_kwargs)
    return result


def _search_here(tuner, settings: Settings, fit_args, fit_kwargs) -> SearchResult:
    stopped = None
    with quiet_keras():
        try:
            tuner.search(*fit_args, **fit_kwargs)
        except TypeError as exc:
            if settings.tuner != "sklearn" or "search()" not in str(exc):
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
                f"{settings.max_consecutive_failed_trials} consecutive failed "
                "trials (raise max_consecutive_failed_trials to go on)"
            )
    return collect(tuner, settings, stopped)


def _train_configuration(tuner, hp, seeds, result: SearchResult, fit_args, fit_kwargs) -> list[float]:
    """Scores of one configuration trained once per seed, the way a trial runs
    an execution (the HyperModel's fit(), best epoch of the objective,
    Hyperband's full budget). Raises FailedTrialError on a NaN."""
    kwargs = dict(fit_kwargs)
    if result.best.budget:
        kwargs["epochs"] = result.best.budget
        kwargs.pop("initial_epoch", None)
    scores = []
    with quiet_keras():
        for seed in seeds:
            keras.backend.clear_session(free_memory=False)
            collect_garbage_now()
            keras.utils.set_random_seed(seed)
            model = tuner.hypermodel.build(hp)
            run = dict(kwargs, callbacks=[keras.callbacks.TerminateOnNaN()] + list(kwargs.get("callbacks", [])))
            history = tuner.hypermodel.fit(hp, model, *fit_args, **run)
            scores.append(execution_score(history, tuner.oracle.objective))
    return scores


def confirm(tuner, settings: Settings, result: SearchResult, fit_args, fit_kwargs) -> list[float]:
    """Re-run the best configuration with ``settings.confirm`` seeds that the
    search never used."""
    seeds = [execution_seed(settings.seed, "confirm", k) for k in range(settings.confirm)]
    try:
        return _train_configuration(tuner, result.best_hyperparameters, seeds, result, fit_args, fit_kwargs)
    except errors.FailedTrialError as exc:
        raise SearchError(f"a confirmation run of the best configuration failed: {exc}") from None


def _with_value(best_hp, name: str, value):
    """A copy of the best configuration with one value moved. Values that the
    move activates (the other branch of a conditional scope) take their
    defaults, so the neighbour is one step away, not a random one."""
    hp = best_hp.copy()
    hp.values[name] = value
    changed = True
    while changed:  # nested scopes open one level at a time
        changed = False
        for other in hp.space:
            if other.name not in hp.values and hp.is_active(other):
                hp.values[other.name] = other.default
                changed = True
    return hp


def neighbours_of_best(tuner, settings: Settings, result: SearchResult, fit_args, fit_kwargs) -> list[dict]:
    """Every one-step neighbour of the best configuration (one hyperparameter
    moved, see ``sensitivity.neighbours``), trained with the best trial's own
    execution seeds (a paired comparison: only the hyperparameter differs),
    with its relative drop from the best trial's mean. A Hyperband trial that
    continued an earlier round's model is not comparable with neighbours
    trained from scratch: the best configuration is then retrained from
    scratch with the same seeds, and the drops are measured from that."""
    from . import sensitivity

    best = result.best
    seeds = [execution_seed(settings.seed, best.trial_id, k) for k in range(len(best.scores))]
    direction = result.objective.direction
    space = {entry["name"]: entry for entry in result.search_space}
    best_hp = result.best_hyperparameters
    reference = best.mean
    out = []

    def train(hp):
        return _train_configuration(tuner, hp, seeds, result, fit_args, fit_kwargs)

    if best_hp.values.get("tuner/trial_id"):
        entry = {"name": None, "value": None, "neighbour": None, "reference": True}
        out.append(entry)
        if _train_into(entry, lambda: train(best_hp)):
            return out  # nothing to measure the drops from
        reference = entry["mean"]
        entry["drop"] = 0.0
    for name, value in best.hyperparameters.items():
        if name not in space:
            continue
        for moved in sensitivity.neighbours(space[name], value):
            entry = {"name": name, "value": value, "neighbour": moved}
            if not _train_into(entry, lambda: train(_with_value(best_hp, name, moved))):
                entry["drop"] = sensitivity.relative_drop(reference, entry["mean"], direction)
            out.append(entry)
    return out


def _train_into(entry: dict, train) -> str | None:
    """Run ``train()`` (a configuration's scores) into ``entry``: scores and
    mean, or the error (a NaN, or a configuration that does not build),
    which is also returned."""
    try:
        scores = train()
    except errors.FatalError:
        raise
    except Exception as exc:
        why = str(exc) if isinstance(exc, errors.FailedTrialError) else f"{type(exc).__name__}: {exc}"
        entry.update(scores=[], mean=None, drop=None, error=why)
        return why
    entry.update(scores=scores, mean=stats.mean(scores))
    return None


def top_up_best(tuner, settings: Settings, result: SearchResult, fit_args, fit_kwargs) -> int:
    """executions_per_trial='auto', after the search: a trial that finished
    with its minimum executions can end up best (a lucky start, or a leader
    that dipped). Add executions to the best trial, with its own next seeds,
    while its verdict is undecided; re-rank after each, so that a trial that
    falls behind hands over to the new best. Returns the fits added.
    Not for Hyperband, whose trials continue earlier rounds' models."""
    added = 0
    oracle = tuner.oracle
    while result.trials:
        best = result.trials[0]
        if len(best.scores) >= settings.max_executions or not gates.undecided(settings, best.scores):
            break
        hp = oracle.trials[best.trial_id].hyperparameters
        seed = execution_seed(settings.seed, best.trial_id, len(best.scores))
        try:
            scores = _train_configuration(tuner, hp, [seed], result, fit_args, fit_kwargs)
        except errors.FailedTrialError:
            break  # the verdict stands on the executions that trained
        added += 1
        grown = dataclasses.replace(best, scores=best.scores + tuple(scores))
        with tuning_directory_errors(tuner):
            save_scores(tuner, best.trial_id, list(grown.scores))
        # Ties keep trial order, as in collect().
        ordered = sorted([grown] + result.trials[1:], key=lambda t: trial_order(t.trial_id))
        result.trials = rank(ordered, result.objective)
    if result.trials:
        result._best_hp = oracle.trials[result.trials[0].trial_id].hyperparameters
    return added


def _serve_workers(tuner, settings, workers: Workers, project_dir: Path, resume):
    from . import distributed

    tuner.oracle.verbose = 0
    tuner.save()
    chief = distributed.Chief(tuner.oracle, workers.address)
    try:
        chief.start()
    except (OSError, RuntimeError) as exc:
        raise SearchError(
            f"the chief could not listen on {workers.address} ({exc}); pick another "
            "--hptune-chief=HOST:PORT"
        ) from None
    try:
        chief.spawn(workers.count, workers.command, workers.cwd, project_dir)
        with quiet_keras():
            stopped = chief.serve()
    except BaseException:
        chief.stop()
        raise
    result = collect(tuner, settings, stopped)
    result.resume = resume
    result.tuner_info = dict(
        result.tuner_info,
        workers=[{"id": w.tuner_id, "exit_code": w.process.returncode} for w in chief.workers],
        chief=f"{workers.address.rsplit(':', 1)[0]}:{chief.port}",
    )
    return result
