"""A finished search's trials, read back into one ``SearchResult``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras_tuner
import numpy as np

from ..result import COMPLETED, FAILED, Objective, SearchResult, TrialResult, rank, trial_order
from ..settings import Settings, fold_count
from . import compat
from .fresh import fresh_model
from .hyperband import HptuneHyperbandOracle
from .seeding import execution_seed
from .silence import quiet_keras
from .space import HIDDEN_PREFIX, _plain, search_space
from .storage import load_message, load_scores

# tuner_info["executions"]: how a trial's executions were counted, when not
# by executions_per_trial.
COUNTED = "counted from the scores: one per value run_trial returned, one per execution of the plugin's loop"
ORACLE_SCORES = "one per trial: the oracle's score (the tuner was constructed by the test; Keras Tuner keeps a mean)"


def _oracle_score(trial: Any) -> tuple[float, ...]:
    """A trial of a tuner the plugin did not build: Keras Tuner's score."""
    score = trial.score
    return (float(score),) if score is not None and math.isfinite(score) else ()


def collect(tuner: Any, settings: Settings, stopped_reason: str | None) -> SearchResult:
    oracle = tuner.oracle
    objective = Objective(oracle.objective.name, oracle.objective.direction)
    full_budget = oracle.max_epochs if isinstance(oracle, keras_tuner.oracles.HyperbandOracle) else None
    constructed = not hasattr(tuner, "hptune_scores")  # passed to hptune.search() as it was
    trials = []
    for trial_id in sorted(oracle.trials, key=trial_order):
        trial = oracle.trials[trial_id]
        hp = trial.hyperparameters
        values = {k: _plain(v) for k, v in hp.values.items() if not k.startswith(HIDDEN_PREFIX) and hp.is_active(k)}
        budget = hp.values.get("tuner/epochs") if full_budget else None
        scores = _oracle_score(trial) if constructed else load_scores(tuner, trial_id)
        status = trial.status
        if status == COMPLETED and not scores:
            status = FAILED  # defensive: a completed trial always has scores
        message = None if status == COMPLETED else (load_message(tuner, trial) or "")
        trials.append(TrialResult(trial_id, values, scores, status, message, budget))
    eligible = [t for t in trials if full_budget is None or t.budget == full_budget]
    ranked = rank(eligible, objective)
    best_hp = oracle.trials[ranked[0].trial_id].hyperparameters if ranked else None
    info: dict[str, Any] = {}
    if isinstance(oracle, HptuneHyperbandOracle):
        info = oracle.plan()
    elif settings.tuner == "sklearn":
        info = {"folds": fold_count(tuner.cv), "oracle": settings.strategy}
    if constructed:
        info["executions"] = ORACLE_SCORES
    elif getattr(tuner, "hptune_counted", None):
        info["executions"] = COUNTED
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


def _retrainer(tuner: Any, settings: Settings, full_budget: int | None) -> Callable[..., Any]:
    """``result.retrain(*fit_args, **fit_kwargs)``: a fresh best model trained
    the way a trial trains it (the HyperModel's own fit(), seeded), for the
    full epochs of the search unless ``epochs=`` says otherwise."""

    def retrain(hp: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
        hypermodel = tuner.hypermodel
        if hypermodel is None:
            raise LookupError("the tuner's run_trial() builds its own models: there is no hypermodel to retrain")
        if isinstance(tuner, keras_tuner.SklearnTuner):
            np.random.seed(execution_seed(settings.seed, "retrain", 0))
            model = hypermodel.build(hp)
            model.fit(*fit_args, **fit_kwargs)
            return model
        epochs = full_budget or settings.epochs
        if epochs is not None:
            fit_kwargs.setdefault("epochs", epochs)
        fit_kwargs.setdefault("verbose", 0)
        with quiet_keras():
            # Built as a trial builds it (compile overrides), not from a checkpoint.
            model = fresh_model(
                execution_seed(settings.seed, "retrain", 0), lambda: compat.build_hypermodel_fresh(tuner, hp)
            )
            hypermodel.fit(hp, model, *fit_args, **fit_kwargs)
        return model

    return retrain
