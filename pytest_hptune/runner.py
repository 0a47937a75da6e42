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
import copy  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
import zlib  # noqa: E402
from typing import Any, Sequence  # noqa: E402

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
from keras_tuner.src import config as kt_config  # noqa: E402
from keras_tuner.src.engine import tuner_utils  # noqa: E402

from .result import (  # noqa: E402
    COMPLETED,
    FAILED,
    Objective,
    SearchResult,
    TrialResult,
    rank,
    trial_order,
)
from .settings import Settings  # noqa: E402

errors = keras_tuner.errors


class SearchError(Exception):
    """The search could not run at all; the message says why and what to do."""


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


class HptuneTunerMixin(keras_tuner.Tuner):
    """Placed after a Keras Tuner strategy class in the MRO, so strategies that
    override ``run_trial`` (Hyperband) still call this one through ``super()``.
    """

    def hptune_setup(self, seed: int) -> None:
        self.hptune_seed = seed
        self.hptune_scores: dict[str, list[float]] = {}
        self.hptune_fits = 0

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        # Like Tuner.run_trial, plus seeding, per-execution scores and fail-fast
        # checks after each execution.
        checkpoint = tuner_utils.SaveBestEpoch(
            objective=self.oracle.objective,
            filepath=self._get_checkpoint_fname(trial.trial_id),
        )
        original_callbacks = fit_kwargs.pop("callbacks", [])
        scores = self.hptune_scores[trial.trial_id] = []
        results = []
        for execution in range(self.executions_per_trial):
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
            result = self._build_and_fit_model(trial, *fit_args, **kwargs)
            self.hptune_fits += 1
            scores.append(execution_score(result, self.oracle.objective))
            results.append(result)
        return results

    def _try_build(self, hp):
        # Keras Tuner's version runs gc.collect() twice per build (about a
        # quarter of a second each with TensorFlow loaded); clearing the Keras
        # session is what matters for correctness, Python's collector still
        # runs on its own schedule.
        keras.backend.clear_session(free_memory=False)
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise errors.FatalTypeError(
                "the build function (or HyperModel.build) must return a compiled "
                f"keras.Model; it returned {model!r} of type {type(model).__name__}"
            )
        return model


_STRATEGIES = {
    "random": "RandomSearch",
    "bayesian": "BayesianOptimization",
    "grid": "GridSearch",
}
_CLASSES: dict[str, type] = {}


def tuner_class(name: str) -> type:
    if name not in _CLASSES:
        base = getattr(keras_tuner, _STRATEGIES[name])
        _CLASSES[name] = type(f"Hptune{base.__name__}", (base, HptuneTunerMixin), {})
    return _CLASSES[name]


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


def build_tuner(hypermodel, settings: Settings, directory: str, project_name: str):
    check_hypermodel(hypermodel)
    objective = settings.objective
    if settings.direction is not None:
        objective = keras_tuner.Objective(settings.objective_name, settings.direction)
    tuner = tuner_class(settings.tuner)(
        hypermodel=hypermodel,
        objective=objective,
        max_trials=settings.max_trials,
        executions_per_trial=settings.executions_per_trial,
        max_consecutive_failed_trials=settings.max_consecutive_failed_trials,
        seed=oracle_seed(settings.seed),
        directory=directory,
        project_name=project_name,
        overwrite=True,
        **settings.tuner_kwargs(),
    )
    tuner.hptune_setup(settings.seed)
    return tuner


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def collect(tuner, stopped_reason: str | None) -> SearchResult:
    oracle = tuner.oracle
    objective = Objective(oracle.objective.name, oracle.objective.direction)
    trials = []
    for trial_id in sorted(oracle.trials, key=trial_order):
        trial = oracle.trials[trial_id]
        hp = trial.hyperparameters
        values = {k: _plain(v) for k, v in hp.values.items() if hp.is_active(k)}
        scores = tuple(tuner.hptune_scores.get(trial_id, ()))
        status = trial.status
        if status == COMPLETED and not scores:
            status = FAILED  # defensive: a completed trial always has scores
        message = None if status == COMPLETED else (trial.message or "")
        trials.append(TrialResult(trial_id, values, scores, status, message))
    ranked = rank(trials, objective)
    best_hp = oracle.trials[ranked[0].trial_id].hyperparameters if ranked else None
    return SearchResult(
        objective=objective,
        trials=ranked,
        failed=[t for t in trials if t.status != COMPLETED],
        tuner=tuner,
        stopped_reason=stopped_reason,
        _best_hp=best_hp,
    )


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
            yield
    finally:
        tf_logger.setLevel(level)
        kt_config.DEBUG = debug


def run_search(
    hypermodel,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_args: tuple,
    fit_kwargs: dict,
) -> SearchResult:
    """Run one bounded search. Raises SearchError or a Keras Tuner FatalError
    when the search cannot go on; failed trials are in the result instead."""
    tuner = build_tuner(hypermodel, settings, directory, project_name)
    fit_kwargs = dict(fit_kwargs)
    if settings.epochs is not None:
        fit_kwargs["epochs"] = settings.epochs
    fit_kwargs.setdefault("verbose", 0)  # also silences the oracle's display
    stopped = None
    with quiet_keras():
        try:
            tuner.search(*fit_args, **fit_kwargs)
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            stopped = (
                f"Keras Tuner stopped the search after "
                f"{settings.max_consecutive_failed_trials} consecutive failed "
                "trials (raise max_consecutive_failed_trials to go on)"
            )
    return collect(tuner, stopped)
