"""Keras Tuner's strategies with the plugin's execution loop: seeded
executions, per-execution scores, adaptive executions, no gc per build."""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Iterator
from typing import Any

import keras
import keras_tuner

from .. import adaptive, atomic, stats
from ..result import COMPLETED
from ..settings import BAYESIAN_SETTINGS, CUSTOM, ORACLE_OPTIONS, TUNER_OPTIONS, Settings, kind_of, tuner_name
from . import compat, splits
from . import objective as objectives
from .budget import TimeBudget
from .custom import HptuneScoreKeeper, own_method
from .failures import PluginFatalTypeError, PluginFatalValueError, SearchError, tuning_directory_errors
from .fresh import collect_garbage_now
from .hyperband import (
    HYPERBAND_DEFAULT_FACTOR,
    HptuneHyperbandOracle,
    hyperband_max_epochs,
)
from .progress import report_progress
from .reuse import ModelReuse
from .reuse import for_tuner as reuse_for_tuner
from .scoring import BestEpochWeights, execution_score
from .seeding import execution_seed, oracle_seed
from .sklearn_tuner import HptuneSklearnTuner, sklearn_cv, sklearn_estimator_check, sklearn_scoring
from .storage import save_message, save_scores

errors = keras_tuner.errors


@contextlib.contextmanager
def _objective_named(name: str) -> Iterator[None]:
    """Keras Tuner's own check of a dict from fit() names no metrics: say
    which the model reports (and the closest one)."""
    try:
        yield
    except errors.FatalValueError as exc:
        names = objectives.reported_names(str(exc))
        if names is None or name in names:
            raise
        raise PluginFatalValueError(objectives.unusable(name, names)) from None


@compat.overrides
class HptuneTunerMixin(keras_tuner.Tuner):
    """Placed after a Keras Tuner strategy class in the MRO, so strategies that
    override ``run_trial`` (Hyperband) still call this one through ``super()``.
    """

    def hptune_setup(self, settings: Settings, provisional: bool = False) -> None:
        self.hptune_seed = settings.seed
        self.hptune_settings = settings
        self.hptune_scores: dict[str, list[float]] = {}
        self.hptune_provisional = provisional  # objective settled after the first execution?
        self.hptune_budget = TimeBudget(settings.max_time)
        # Trials scored from what a run_trial of the user's returned (HptuneScoreKeeper).
        self.hptune_counted: set[str] = set()
        self.hptune_reused = 0  # fits that trained an already traced model (reuse.py)
        # Hyperband: only full-budget trials are judged, so only they lead.
        self.hptune_full_budget = hyperband_max_epochs(settings) if settings.kind == "hyperband" else None

    def hptune_more(self, trial: Any, scores: list[float]) -> bool:
        """executions_per_trial='auto': one more execution for this trial?
        Only while it leads the completed trials (of the full budget) and the
        gates' verdict on its scores is not statistically decided."""
        settings = self.hptune_settings
        if not settings.adaptive or len(scores) >= settings.max_executions:
            return False
        if self.hptune_budget.spent():
            return False
        if not adaptive.undecided(settings, scores):
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

    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> list[Any]:
        # Like Tuner.run_trial, plus seeding, per-execution scores and fail-fast
        # checks after each execution.
        checkpoint = BestEpochWeights(
            objective=self.oracle.objective,
            filepath=compat.checkpoint_path(self, trial.trial_id),
        )
        original_callbacks = fit_kwargs.pop("callbacks", [])
        scores = self.hptune_scores[trial.trial_id] = []
        results = []
        execution = 0
        reuse = reuse_for_tuner(self, own_loop=True)
        while execution < self.executions_per_trial or self.hptune_more(trial, scores):
            kwargs = copy.copy(fit_kwargs)
            callbacks = compat.copy_callbacks(self, original_callbacks)
            compat.configure_tensorboard(self, callbacks, trial, execution)
            callbacks.append(compat.tuner_callback(self, trial))
            callbacks.append(checkpoint)
            callbacks.append(keras.callbacks.TerminateOnNaN())
            kwargs["callbacks"] = callbacks
            seed = execution_seed(self.hptune_seed, trial.trial_id, execution)
            keras.utils.set_random_seed(seed)
            args, kwargs = splits.execution_data(self.hptune_settings, execution, seed, fit_args, kwargs)
            with tuning_directory_errors(self), _objective_named(self.oracle.objective.name):
                result = self.hptune_build_and_fit(trial, reuse, *args, **kwargs)
            if self.hptune_provisional:
                self.oracle.objective = checkpoint.objective = objectives.settle(
                    self.oracle.objective, self.hptune_settings, result
                )
                self.hptune_provisional = False
            scores.append(execution_score(result, self.oracle.objective))
            results.append(result)
            execution += 1
        with tuning_directory_errors(self):
            checkpoint.write()
            save_scores(self, trial.trial_id, scores)
        return results

    def hptune_build_and_fit(self, trial: Any, reuse: ModelReuse, *args: Any, **kwargs: Any) -> Any:
        """Keras Tuner's build and fit of a trial's model, fitting the model that the
        trial's first execution traced where that is safe (reuse.py)."""
        if not reuse.enabled:
            return compat.build_and_fit(self, trial, *args, **kwargs)
        hp = trial.hyperparameters
        fresh = compat.try_build(self, hp)
        model = reuse.model_for(fresh, args, kwargs)
        self.hptune_reused += model is not fresh
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        reuse.after_fit()
        self.hptune_save_build_config(trial.trial_id, model)
        compat.validate_fit_results(results, self.oracle.objective)
        return results

    def hptune_save_build_config(self, trial_id: str, model: Any) -> None:
        """Keras Tuner's build config (read by ``load_model``: Hyperband's
        next round, ``get_best_models``), written as Keras Tuner writes it
        after a fit, but only when it differs from what this trial's
        earlier execution wrote: the same configuration builds the same
        model, so one write per trial instead of one per execution."""
        config = json.dumps(model.get_build_config())
        written = self.__dict__.setdefault("hptune_build_configs", {})
        if written.get(trial_id) != config:
            atomic.write_text(compat.build_config_path(self, trial_id), config)
            written[trial_id] = config

    def on_trial_end(self, trial: Any) -> None:
        if trial.status != COMPLETED:
            with tuning_directory_errors(self):
                save_message(self, trial)
        super().on_trial_end(trial)
        self.hptune_budget.after_trial(self.oracle)
        report_progress(self, trial)

    def hptune_try_build(self, hp: Any) -> Any:
        # Keras Tuner's _try_build, replaced (compat.OVERRIDES): its version runs gc.collect() twice per build (about a
        # quarter of a second each with TensorFlow loaded). Clearing the Keras
        # session is what matters for correctness; the dead models' reference
        # cycles (TensorFlow graphs) are collected every GC_EVERY builds, which
        # bounds memory almost as well for a tenth of the time.
        keras.backend.clear_session(free_memory=False)
        collect_garbage_now()
        model = compat.build_hypermodel(self, hp)
        if not isinstance(model, keras.Model):
            raise PluginFatalTypeError(
                "the build function (or HyperModel.build) must return a compiled "
                f"keras.Model; it returned {model!r} of type {type(model).__name__}"
            )
        # Keras Tuner's max_model_size check (its _try_build, replaced here).
        size = sum(math.prod(w.shape) for w in model.trainable_weights) if model.built else 0
        if self.max_model_size and size > self.max_model_size:
            raise errors.FailedTrialError(f"Oversized model: {size} parameters. Skip model.")
        return model


class HptuneHyperband(keras_tuner.Hyperband, HptuneTunerMixin):
    def __init__(
        self,
        hypermodel: Any,
        objective: Any,
        max_trials: int,
        max_epochs: int,
        factor: int,
        hyperband_iterations: int,
        seed: int | None,
        max_consecutive_failed_trials: int,
        **kwargs: Any,
    ) -> None:
        options = {name: kwargs.pop(name) for name in ORACLE_OPTIONS if name in kwargs}
        oracle = HptuneHyperbandOracle(
            objective,
            max_trials=max_trials,
            max_epochs=max_epochs,
            factor=factor,
            hyperband_iterations=hyperband_iterations,
            seed=seed,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **options,
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


def user_tuner_class(user: type) -> type:
    """The user's Tuner subclass between the score keeper and the plugin's
    execution loop (Hyperband's, for a Hyperband subclass)."""
    loop = HptuneHyperband if kind_of(user) == "hyperband" else HptuneTunerMixin
    return type(f"Hptune{user.__name__}", (HptuneScoreKeeper, user, loop), {})


def check_hypermodel(hypermodel: Any, settings: Settings) -> None:
    if hypermodel is None:
        if isinstance(settings.tuner, type) and own_method(settings.tuner, "run_trial"):
            return  # its run_trial may build what it likes
        raise SearchError(
            "hptune.search() needs a build function f(hp) -> compiled keras.Model or a "
            "keras_tuner.HyperModel as its first argument (only a tuner= Tuner subclass whose "
            "own run_trial() builds no hypermodel can do without: hptune.search(None, x, ...))"
        )
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


def _unconstructible(what: str, kwargs: dict[str, Any], exc: TypeError) -> SearchError | None:
    """A class of the user's that does not take the plugin's arguments."""
    if "argument" not in str(exc):
        return None
    return SearchError(
        f"{what} could not be constructed with {', '.join(f'{k}=' for k in sorted(kwargs))} ({exc}); "
        "its __init__ must take them (or pass **kwargs on to Keras Tuner's)"
    )


def make_oracle(settings: Settings, search: dict[str, Any]) -> Any:
    """The oracle of the sklearn tuner or of a Tuner subclass: by name, the
    user's Oracle class constructed with the search's arguments, or a copy of
    the user's Oracle (its objective; max_trials as resolved)."""
    oracle = settings.oracle
    if oracle is None or isinstance(oracle, str):
        return getattr(keras_tuner.oracles, _ORACLES[settings.strategy])(**search)
    if isinstance(oracle, type):
        try:
            return oracle(**search)
        except TypeError as exc:
            error = _unconstructible(f"oracle={oracle.__qualname__}", search, exc)
            if error is None:
                raise
            raise error from None
    oracle = copy.deepcopy(oracle)  # the instance in a marker serves every run of its test
    oracle.max_trials = settings.max_trials
    return oracle


def _construct(settings: Settings, search: dict[str, Any], options: dict[str, Any]) -> Any:
    """The tuner of a Tuner subclass of the user's, or of an Oracle of theirs."""
    user = settings.tuner if isinstance(settings.tuner, type) else None
    cls = user_tuner_class(user) if user is not None else HptuneTunerMixin
    if settings.kind == CUSTOM:
        kwargs = dict(options, oracle=make_oracle(settings, search))
    else:  # a RandomSearch, ..., Hyperband subclass builds its own oracle
        kwargs = dict(options, **search)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        error = _unconstructible(f"tuner={tuner_name(user or cls)}", kwargs, exc)
        if error is None:
            raise
        raise error from None


def build_tuner(
    hypermodel: Any,
    settings: Settings,
    directory: str,
    project_name: str,
    fit_kwargs: dict[str, Any],
    overwrite: bool = True,
) -> Any:
    objective, provisional = objectives.initial(settings)
    common = dict(directory=directory, project_name=project_name, overwrite=overwrite)
    search = dict(
        objective=objective,
        max_trials=settings.max_trials,
        max_consecutive_failed_trials=settings.max_consecutive_failed_trials,
        seed=oracle_seed(settings.seed),
        **settings.tuner_kwargs(ORACLE_OPTIONS),
    )
    if settings.hyperparameters is not None:  # the oracle adds to it: not to the marker's
        search["hyperparameters"] = settings.hyperparameters.copy()
    if settings.strategy == "bayesian":
        search.update(settings.tuner_kwargs(BAYESIAN_SETTINGS))
    if settings.tuner == "sklearn":
        tuner = HptuneSklearnTuner(
            oracle=make_oracle(settings, search),
            hypermodel=sklearn_estimator_check(hypermodel),
            cv=sklearn_cv(settings),
            **common,
        )
        tuner.hptune_setup(settings.seed, sklearn_scoring(settings.scoring))
        return tuner
    if settings.kind == "hyperband":
        search.update(
            max_epochs=hyperband_max_epochs(settings),
            factor=settings.factor or HYPERBAND_DEFAULT_FACTOR,
            hyperband_iterations=settings.hyperband_iterations or 1,
        )
    options = dict(
        hypermodel=hypermodel,
        executions_per_trial=settings.first_executions,
        **settings.tuner_kwargs(TUNER_OPTIONS),
        **common,
    )
    if isinstance(settings.tuner, type) or settings.kind == CUSTOM:
        tuner = _construct(settings, search, options)
    else:
        tuner = tuner_class(settings.tuner)(**search, **options)
    tuner.hptune_setup(settings, provisional)
    return tuner
