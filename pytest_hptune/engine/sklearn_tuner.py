"""Keras Tuner's scikit-learn tuner, keeping every fold's score."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any, cast

import keras_tuner
import numpy as np

from ..settings import DEFAULT_FOLDS, Settings
from .budget import TimeBudget
from .failures import PluginFatalTypeError, SearchError, tuning_directory_errors
from .progress import report_progress
from .seeding import execution_seed
from .storage import save_scores

errors = keras_tuner.errors


class HptuneSklearnTuner(keras_tuner.SklearnTuner):
    """Keras Tuner's scikit-learn tuner, keeping every fold's score.

    Its ``run_trial`` scores each fold through ``self.scoring`` and keeps
    only the mean; a recording scorer keeps the folds, so Keras Tuner's own
    cross-validation loop runs unchanged. Each trial is seeded (NumPy's
    global RNG, used by estimators without a ``random_state``).
    """

    def hptune_setup(self, seed: int, scoring: Callable[..., Any] | None) -> None:
        self.hptune_seed = seed
        self.hptune_scores: dict[str, list[float]] = {}
        self.hptune_folds: list[float] = []
        self.hptune_budget = TimeBudget(None)  # run_search sets the search's own

        def record(model: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
            if scoring is None:
                score = model.score(X, y, sample_weight=sample_weight)
            else:
                score = scoring(model, X, y, sample_weight=sample_weight)
            self.hptune_folds.append(float(score))
            return score

        self.scoring = record

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        self.hptune_budget.after_trial(self.oracle)
        report_progress(self, trial)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
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


def sklearn_estimator_check(hypermodel: Any) -> Callable[[Any], Any]:
    """Wrap the build function so a non-estimator fails with a clear reason."""
    build = hypermodel.build if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel

    def checked(hp: Any) -> Any:
        model = build(hp)
        if not callable(getattr(model, "fit", None)):
            raise PluginFatalTypeError(
                "with tuner='sklearn' the build function must return a scikit-learn "
                f"estimator (with fit()); it returned {model!r} of type "
                f"{type(model).__name__}"
            )
        return model

    return checked


def sklearn_scoring(scoring: str | Callable[..., Any] | None) -> Callable[..., Any] | None:
    if not isinstance(scoring, str):
        return scoring
    import sklearn.metrics

    try:
        return cast(Callable[..., Any], sklearn.metrics.get_scorer(scoring))  # sklearn ships no types
    except ValueError:
        close = difflib.get_close_matches(scoring, sklearn.metrics.get_scorer_names(), n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise SearchError(
            f"scoring={scoring!r} is not a scikit-learn scorer name{hint}; see "
            "sklearn.metrics.get_scorer_names() or pass a scorer callable"
        ) from None


def sklearn_cv(settings: Settings) -> Any:
    import sklearn.model_selection

    cv = settings.cv if settings.cv is not None else DEFAULT_FOLDS
    if isinstance(cv, int):
        # Shuffled like Keras Tuner's default splitter, seeded by the search.
        return sklearn.model_selection.KFold(cv, shuffle=True, random_state=execution_seed(settings.seed, "cv", 0))
    return cv
