"""The rules of each kind of tuner, applied to resolved settings: the
scikit-learn tuner's defaults (its executions are its folds), the settings
of one strategy given to another, an Oracle or a tuner the test constructed
(its objective and max_trials are the search's), and the checks of vary=
and direction= against the tuner and objective."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .errors import SettingError
from .kinds import CUSTOM, is_oracle_instance, keras_tuner_bases, kind_of, tuner_name
from .resolved import Settings
from .table import BAYESIAN_SETTINGS, DEFAULT_FOLDS, ORACLE_OPTIONS, TUNER_OPTIONS, TUNER_SETTINGS

SKLEARN_OBJECTIVE = "score"
# General settings that mean nothing to the scikit-learn tuner: an error when
# a test sets them, ignored when they come from the command line or ini (a
# session-wide --hptune-executions must not break a suite's sklearn tests).
NOT_FOR_SKLEARN = {
    "executions_per_trial": "its executions are the cross-validation folds: set cv=N",
    "min_executions": "its executions are the cross-validation folds: set cv=N",
    "max_executions": "its executions are the cross-validation folds: set cv=N",
    "epochs": "scikit-learn estimators are not trained in epochs",
    "vary": "its executions are the cross-validation folds: set cv=N",
    "max_model_size": "it builds scikit-learn estimators, not Keras models",
    "optimizer": "scikit-learn estimators are not compiled",
    "loss": "scikit-learn estimators are not compiled",
    "metrics": "scikit-learn estimators are not compiled: choose the score with scoring=",
    "distribution_strategy": "scikit-learn estimators are not built under a tf.distribute.Strategy",
}


def check(settings: Settings) -> Settings:
    """The tuner's rules, in order; an Oracle the test constructed is adopted
    (its objective and max_trials become the search's)."""
    _check_tuner_settings(settings)
    _check_oracle(settings)
    _check_tuner_options(settings)
    if is_oracle_instance(settings.oracle):
        settings = _adopt_oracle(settings)
    _check_direction(settings)
    _check_vary(settings)
    return settings


def _given(settings: Settings, name: str) -> str:
    """'tuner=MyTuner (from hptune marker on t.py::t)' for a message."""
    value = getattr(settings, name)
    shown = repr(value) if isinstance(value, str) else tuner_name(value) if isinstance(value, type) else None
    if shown is None:
        shown = f"<{type(value).__name__} instance>"
    return f"{name}={shown} (from {settings.sources.get(name, 'the default')})"


def _check_tuner_settings(settings: Settings) -> None:
    """Settings of one strategy given to another tuner."""
    sources = settings.sources
    for name, tuners in TUNER_SETTINGS.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if tuners == ("bayesian",) and settings.kind in ("sklearn", CUSTOM):
            if settings.strategy != "bayesian":
                oracle = repr(settings.strategy) if settings.oracle is None else _given(settings, "oracle")
                raise SettingError(
                    f"{name}={value!r} (from {sources[name]}) is a setting of the "
                    f"Bayesian strategy, not of {_given(settings, 'tuner')} with "
                    f"oracle={oracle.removeprefix('oracle=')}: remove it or set oracle='bayesian'"
                )
        elif settings.kind not in tuners:
            raise SettingError(
                f"{name}={value!r} (from {sources[name]}) is a setting of the "
                f"{' / '.join(map(repr, tuners))} tuner, not of {_given(settings, 'tuner')}: "
                f"remove it or set tuner={tuners[0]!r}"
            )


def _check_oracle(settings: Settings) -> None:
    """oracle= goes with tuner='sklearn', a Tuner subclass that takes an
    oracle, or (an Oracle object) the default tuner."""
    if settings.oracle is None or settings.kind in ("sklearn", CUSTOM):
        return
    if isinstance(settings.tuner, type):
        why = (
            f"{tuner_name(settings.tuner)} is a keras_tuner.{keras_tuner_bases(settings.tuner)[0]} "
            "subclass, which builds its own oracle: subclass keras_tuner.Tuner to choose its oracle"
        )
    elif isinstance(settings.oracle, str):
        why = f"it picks the strategy of tuner='sklearn' or of a Tuner subclass: set tuner={settings.oracle!r} instead"
    else:
        why = f"tuner={settings.tuner!r} builds its own oracle: leave tuner= unset to search with this Oracle"
    raise SettingError(f"{_given(settings, 'oracle')} does not apply to {_given(settings, 'tuner')}: {why}")


def _check_tuner_options(settings: Settings) -> None:
    """Keras Tuner's own constraints on its options, checked before a search."""
    oracle_options = ORACLE_OPTIONS + BAYESIAN_SETTINGS
    if is_oracle_instance(settings.oracle):
        given = [n for n in oracle_options if getattr(settings, n) is not None]
        given += [n for n in ("max_consecutive_failed_trials",) if n in settings.sources]
        if given:
            raise SettingError(
                f"{given[0]}={getattr(settings, given[0])!r} (from {settings.sources[given[0]]}) is an "
                f"option of the oracle, and {_given(settings, 'oracle')} is one you constructed: "
                "pass it to the Oracle's constructor instead"
            )
    for name in ("tune_new_entries", "allow_new_entries"):
        if getattr(settings, name) is False and settings.hyperparameters is None and settings.oracle is None:
            raise SettingError(
                f"{name}=False (from {settings.sources[name]}) restricts the search to the space given "
                "as hyperparameters=, which is not set: give hyperparameters=keras_tuner.HyperParameters() "
                "with the hyperparameters to tune"
            )
    if isinstance(settings.tuner, type):
        for name in ("confirm", "max_neighbour_drop"):
            if getattr(settings, name):
                raise SettingError(
                    f"{name}={getattr(settings, name)!r} (from {settings.sources[name]}) does not apply to "
                    f"{_given(settings, 'tuner')}: the plugin would retrain configurations with the "
                    f"hypermodel's fit(), not through {tuner_name(settings.tuner)}.run_trial(); remove it"
                )


def _adopt_oracle(settings: Settings) -> Settings:
    """An Oracle the test constructed: its objective is the search's, and its
    max_trials (see _oracle_max_trials)."""
    oracle, sources = settings.oracle, dict(settings.sources)
    where = f"oracle=<{type(oracle).__name__}> (from {sources['oracle']})"
    objective = _oracle_objective(settings, oracle, where)
    max_trials, own = _oracle_max_trials(settings, oracle)
    if own:
        sources["max_trials"] = where
    sources["objective"] = where
    sources.pop("direction", None)
    return replace(
        settings, objective=objective, direction=None, max_trials=max_trials, sources=MappingProxyType(sources)
    )


def _oracle_objective(settings: Settings, oracle: Any, where: str) -> Any:
    """The objective of an oracle the test constructed; an objective= or
    direction= set to something else is an error."""
    objective: Any = getattr(oracle, "objective", None)
    if not isinstance(getattr(objective, "name", None), str) or getattr(objective, "direction", None) not in (
        "min",
        "max",
    ):
        raise SettingError(f"{where} has objective {objective!r}: the plugin needs one objective, not a list")
    for name, value in (("objective", settings.objective_name), ("direction", settings.direction)):
        ours = objective.name if name == "objective" else objective.direction
        if name in settings.sources and value is not None and value != ours:
            raise SettingError(
                f"{name}={value!r} (from {settings.sources[name]}) differs from that of {where}, {ours!r}: "
                f"remove {name}= (the oracle's objective is the search's)"
            )
    return objective


def _oracle_max_trials(settings: Settings, oracle: Any) -> tuple[int, bool]:
    """An oracle the test constructed runs its own max_trials, lowered to a
    max_trials that is set (marker, hptune.search(), ini, command line); one
    without max_trials takes the setting's. (max_trials, whether the oracle's)"""
    own = getattr(oracle, "max_trials", None)
    if own is None or ("max_trials" in settings.sources and settings.max_trials < own):
        return settings.max_trials, False
    return own, True


# What configures a tuner, which a tuner the test constructed already is:
# given by the test itself, an error with the reason (from the command line
# or an ini file, ignored).
NOT_FOR_CONSTRUCTED = {
    "executions_per_trial": "pass executions_per_trial= to its constructor; Keras Tuner keeps the mean of a "
    "trial's executions only, so each trial counts as one execution",
    "min_executions": "adaptive executions run in the plugin's own tuners only",
    "max_executions": "adaptive executions run in the plugin's own tuners only",
    "vary": "the plugin varies the data between executions in its own tuners only",
    "max_time": "the plugin stops between trials only the tuners it builds",
    "confirm": "the plugin retrains configurations only for the tuners it builds",
    "max_neighbour_drop": "the plugin retrains configurations only for the tuners it builds",
    **{name: "" for name in ("tuner", "seed", "max_consecutive_failed_trials", "oracle")},
    **{name: "" for name in (*TUNER_SETTINGS, *ORACLE_OPTIONS, *TUNER_OPTIONS)},
}


# What a tuner the test constructed does without being told: settings that
# say so ask for nothing else.
_NOTHING_ASKED = {"confirm": 0, "max_neighbour_drop": None, "max_time": None}


def _agrees(tuner: Any, key: str, value: Any) -> bool:
    """Whether a setting says what the constructed tuner already does
    (executions_per_trial=1 for a tuner built with one execution, its own
    seed, its own class, ...): no conflict then."""
    if key in _NOTHING_ASKED:
        agrees: bool = value == _NOTHING_ASKED[key]
        return agrees
    if key == "tuner":
        return value is type(tuner) or (isinstance(value, str) and value == kind_of(tuner))
    if key == "executions_per_trial":  # Keras Tuner keeps one score a trial: the mean of its executions
        return value == 1 and getattr(tuner, "executions_per_trial", None) == 1
    oracle = getattr(tuner, "oracle", None)
    if key == "oracle":
        return value is oracle
    for owner in (tuner, oracle):
        if owner is not None and key in vars(owner):
            own = vars(owner)[key]
            try:
                return own is value or bool(own == value)
            except Exception:  # an object whose == is no truth value (an array)
                return False
    return False


def for_constructed_tuner(settings: Settings, tuner: Any, per_test: Iterable[str]) -> Settings:
    """The settings of a search on a tuner the test constructed and passed
    to hptune.search(): run as it is, with its oracle's objective and
    max_trials (lowered to a max_trials that is set), one execution a trial."""
    name = type(tuner).__qualname__
    where = f"the {name} passed to hptune.search()"
    for key in per_test:
        if key in NOT_FOR_CONSTRUCTED and not _agrees(tuner, key, getattr(settings, key)):
            why = NOT_FOR_CONSTRUCTED[key] or f"pass it to {name}(...) when constructing it"
            raise SettingError(
                f"{key}={getattr(settings, key)!r} (from {settings.sources[key]}) does not apply to {where}, "
                f"which is constructed already: {why}"
            )
    objective = _oracle_objective(settings, tuner.oracle, where)
    max_trials, own = _oracle_max_trials(settings, tuner.oracle)
    sources = dict(settings.sources, tuner=where, objective=where, executions_per_trial=where)
    if own:
        sources["max_trials"] = where
    sources.pop("direction", None)
    return replace(
        settings,
        tuner=type(tuner),
        objective=objective,
        direction=None,
        max_trials=max_trials,
        executions_per_trial=1,
        sources=MappingProxyType(sources),
    )


def _check_vary(settings: Settings) -> None:
    """K-fold validation needs a fixed number of folds; Hyperband's
    continuation trials load weights trained on another execution's rows, so
    a fresh hold-out per execution would validate on training data."""
    if settings.vary != "seed" and settings.kind == "hyperband":  # also a Hyperband subclass
        raise SettingError(
            f"vary={settings.vary!r} (from {settings.sources.get('vary')}) does not apply to "
            f"{_given(settings, 'tuner')}, a Hyperband: its continuation trials start from weights trained on "
            "other rows, so they would be validated on training data; use vary='seed' or another tuner"
        )
    if settings.vary == "folds" and (settings.adaptive or settings.first_executions < 2):
        raise SettingError(
            f"vary='folds' (from {settings.sources.get('vary')}) makes each execution a validation "
            f"fold, so it needs a fixed executions_per_trial of 2 or more (the number of folds); "
            f"got executions_per_trial={settings.executions_per_trial!r} (from "
            f"{settings.sources.get('executions_per_trial', 'the default')})"
        )


def _check_direction(settings: Settings) -> None:
    """An explicit Objective carries its direction: a different direction=
    would silently flip the verdict."""
    objective, direction = settings.objective, settings.direction
    if objective is None or isinstance(objective, str) or direction is None:
        return
    if direction != objective.direction:
        raise SettingError(
            f"direction={direction!r} (from {settings.sources.get('direction')}) contradicts "
            f"objective=Objective({objective.name!r}, {objective.direction!r}) (from "
            f"{settings.sources.get('objective')}): remove direction= or change the Objective"
        )


def sklearn_defaults(values: dict[str, Any], sources: dict[str, Any], per_test: set[str]) -> None:
    """The scikit-learn tuner's executions are its folds and its objective is
    the fold score: reject per-test settings that say otherwise, and replace
    session-wide ones."""
    tuner_source = sources.get("tuner", "the default")
    for name, why in NOT_FOR_SKLEARN.items():
        if name in per_test:
            raise SettingError(
                f"{name}={values[name]!r} (from {sources[name]}) does not apply to "
                f"tuner='sklearn' (from {tuner_source}): {why}"
            )
        values.pop(name, None)
        sources.pop(name, None)
    objective = values.get("objective", SKLEARN_OBJECTIVE)
    name = objective if isinstance(objective, str) else objective.name
    if name != SKLEARN_OBJECTIVE:
        raise SettingError(
            f"objective={name!r} (from {sources.get('objective')}) does not apply "
            f"to tuner='sklearn' (from {tuner_source}): its objective is the "
            "cross-validation score; choose the metric with scoring= "
            "(e.g. scoring='f1_macro') and remove objective="
        )
    if "objective" not in values:
        values["objective"] = SKLEARN_OBJECTIVE
        sources["objective"] = "tuner='sklearn'"
    if values.get("direction") is None and isinstance(objective, str):
        # scikit-learn scorers are "greater is better".
        values["direction"] = "max"
        sources["direction"] = "tuner='sklearn'"
    cv = values.get("cv", DEFAULT_FOLDS)
    folds = cv if isinstance(cv, int) else fold_count(cv)
    values["executions_per_trial"] = folds
    sources["executions_per_trial"] = sources.get("cv", "tuner='sklearn' (folds)")
    _sklearn_refusals(values, sources)


def _sklearn_refusals(values: dict[str, Any], sources: dict[str, Any]) -> None:
    """Follow-up trainings the scikit-learn tuner does not run."""
    if values.get("confirm"):
        raise SettingError(
            f"confirm={values['confirm']} (from {sources['confirm']}) does not apply to "
            "tuner='sklearn': its folds already score the configuration on every part of the data"
        )
    if values.get("max_neighbour_drop") is not None:
        raise SettingError(
            f"max_neighbour_drop={values['max_neighbour_drop']} (from {sources['max_neighbour_drop']}) "
            "does not apply to tuner='sklearn' yet: the neighbours are trained as Keras "
            "executions; remove it (near_best / min_near_best_share do apply)"
        )


def count_folds(settings: Settings, fit_args: tuple[Any, ...], fit_kwargs: Mapping[str, Any]) -> Settings:
    """tuner='sklearn' with a splitter that counts its folds only from the
    data (LeaveOneGroupOut: from the groups): counted from hptune.search()'s
    (X, y, sample_weight, groups), as SklearnTuner.search() takes them, so
    that executions_per_trial is the number of folds, never None."""
    if settings.tuner != "sklearn" or settings.executions_per_trial is not None:
        return settings
    named = dict(zip(("X", "y", "sample_weight", "groups"), fit_args))
    named.update(fit_kwargs)
    try:
        folds = settings.cv.get_n_splits(named.get("X"), named.get("y"), named.get("groups"))
    except Exception:  # the splitter's own check of its arguments
        folds = None
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise SettingError(
            f"cv={settings.cv!r} (from {settings.sources.get('cv')}) cannot count its folds from the data given "
            "to hptune.search() (its get_n_splits(X, y, groups) gave "
            f"{folds!r}): pass what it needs (groups=...) or give cv=N folds"
        )
    return replace(settings, executions_per_trial=folds)


def fold_count(splitter: Any) -> int | None:
    """The folds a scikit-learn splitter makes, or None when it counts them
    only from the data (LeaveOneGroupOut: from the groups)."""
    try:
        n = splitter.get_n_splits()
    except (TypeError, ValueError):  # e.g. LeaveOneGroupOut needs the groups: known when it runs
        return None
    return n if isinstance(n, int) and n > 0 else None
