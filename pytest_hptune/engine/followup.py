"""Fits after the search, all through one trainer: the top-up of an undecided
best (adaptive executions), the confirmation with fresh seeds and the
one-step neighbours of the best configuration."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import keras
import keras_tuner

from .. import adaptive, sensitivity, stats
from ..anchor import AnchorPlan, misfit
from ..result import SearchResult, rank, trial_order
from ..settings import Settings
from . import compat, splits
from .failures import SearchError, tuning_directory_errors
from .fresh import fresh_model
from .reuse import ModelReuse
from .reuse import for_tuner as reuse_for_tuner
from .scoring import execution_score
from .seeding import execution_seed
from .silence import quiet_keras
from .storage import save_scores

errors = keras_tuner.errors


def _train_configuration(
    tuner: Any,
    hp: Any,
    seeds: Iterable[tuple[int, int]],
    budget: int | None,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    reuse: ModelReuse | None = None,
) -> list[float]:
    """Scores of one configuration trained once per (execution, seed), the
    way a trial runs an execution (the HyperModel's fit(), its split of the
    data under vary=, best epoch of the objective, Hyperband's full budget:
    ``budget``, the best trial's). ``reuse``: the configuration's traced
    model from earlier calls. Raises FailedTrialError on a NaN."""
    kwargs = dict(fit_kwargs)
    if budget:
        kwargs["epochs"] = budget
        kwargs.pop("initial_epoch", None)
    scores = []
    reuse = reuse or reuse_for_tuner(tuner)
    with quiet_keras():
        for execution, seed in seeds:
            # Built as a trial builds it (Keras Tuner's compile overrides,
            # distribution strategy), not from a Hyperband checkpoint.
            model = fresh_model(seed, lambda: compat.build_hypermodel_fresh(tuner, hp))
            # Fresh copies for every fit, as the search's own executions get:
            # a user's callback keeps no state from an earlier fit.
            callbacks = copy.deepcopy(list(kwargs.get("callbacks", [])))
            run = dict(kwargs, callbacks=[keras.callbacks.TerminateOnNaN(), *callbacks])
            args, run = splits.execution_data(tuner.hptune_settings, execution, seed, fit_args, run)
            trained = reuse.model_for(model, args, run)
            tuner.hptune_reused += trained is not model
            history = tuner.hypermodel.fit(hp, trained, *args, **run)
            reuse.after_fit()
            scores.append(execution_score(history, tuner.oracle.objective))
    return scores


def confirm(
    tuner: Any, settings: Settings, result: SearchResult, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> list[float]:
    """Re-run the best configuration with ``settings.confirm`` seeds that the
    search never used."""
    seeds = [(k, execution_seed(settings.seed, "confirm", k)) for k in range(settings.confirm)]
    best = result.best
    assert best is not None  # fits after the search run only when it has a best trial
    try:
        return _train_configuration(tuner, result.best_hyperparameters, seeds, best.budget, fit_args, fit_kwargs)
    except errors.FailedTrialError as exc:
        raise SearchError(f"a confirmation run of the best configuration failed: {exc}") from None


def _with_value(best_hp: Any, name: str, value: Any) -> Any:
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


def neighbours_of_best(
    tuner: Any, settings: Settings, result: SearchResult, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every one-step neighbour of the best configuration (one hyperparameter
    moved, see ``sensitivity.neighbours``), trained with the best trial's own
    execution seeds (a paired comparison: only the hyperparameter differs),
    with its relative drop from the best trial's mean. A Hyperband trial that
    continued an earlier round's model is not comparable with neighbours
    trained from scratch: the best configuration is then retrained from
    scratch with the same seeds, and the drops are measured from that."""
    best = result.best
    assert best is not None  # fits after the search run only when it has a best trial
    seeds = [(k, execution_seed(settings.seed, best.trial_id, k)) for k in range(len(best.scores))]
    direction = result.objective.direction
    space = {entry["name"]: entry for entry in result.search_space}
    best_hp = result.best_hyperparameters
    reference = best.mean
    assert reference is not None  # a ranked trial has scores
    out = []

    def train(hp: Any) -> list[float]:
        return _train_configuration(tuner, hp, seeds, best.budget, fit_args, fit_kwargs)

    if best_hp.values.get("tuner/trial_id"):
        entry: dict[str, Any] = {"name": None, "value": None, "neighbour": None, "reference": True}
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
            if not _train_into(entry, lambda n=name, m=moved: train(_with_value(best_hp, n, m))):
                entry["drop"] = sensitivity.relative_drop(reference, entry["mean"], direction)
            out.append(entry)
    return out


# Callable[..., ...]: a caller's lambda binds the loop's values as defaults
# (lambda n=name: ...), which mypy cannot match to Callable[[], ...].
def _train_into(entry: dict[str, Any], train: Callable[..., list[float]]) -> str | None:
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


def top_up_best(
    tuner: Any, settings: Settings, result: SearchResult, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> SearchResult:
    """executions_per_trial='auto', after the search: a trial that finished
    with its minimum executions can end up best (a lucky start, or a leader
    that dipped). Add executions to the best trial, with its own next seeds,
    while its verdict is undecided; re-rank after each, so that a trial that
    falls behind hands over to the new best. Returns a new outcome: the
    trials re-ranked, the best's hyperparameters and the fits added
    (``topped_up``). Not for Hyperband, whose trials continue earlier
    rounds' models."""
    added = 0
    oracle = tuner.oracle
    reuses: dict[str, ModelReuse] = {}  # per trial: its traced model for its next fit
    trials = list(result.trials)
    while trials:
        best = trials[0]
        if len(best.scores) >= settings.max_executions or not adaptive.undecided(settings, best.scores):
            break
        if tuner.hptune_budget.spent():
            break  # max_time: no new execution
        hp = oracle.trials[best.trial_id].hyperparameters
        seed = execution_seed(settings.seed, best.trial_id, len(best.scores))
        try:
            reuse = reuses.setdefault(best.trial_id, reuse_for_tuner(tuner))
            scores = _train_configuration(
                tuner, hp, [(len(best.scores), seed)], best.budget, fit_args, fit_kwargs, reuse
            )
        except errors.FailedTrialError:
            break  # the verdict stands on the executions that trained
        added += 1
        grown = dataclasses.replace(best, scores=best.scores + tuple(scores))
        with tuning_directory_errors(tuner):
            save_scores(tuner, best.trial_id, list(grown.scores))
        # Ties keep trial order, as in collect().
        ordered = sorted([grown, *trials[1:]], key=lambda t: trial_order(t.trial_id))
        trials = rank(ordered, result.objective)
    best_hp = oracle.trials[trials[0].trial_id].hyperparameters if trials else result.best_hyperparameters
    return dataclasses.replace(result, trials=trials, topped_up=added, _best_hp=best_hp)


def _anchor_fits(
    result: SearchResult,
    values: dict[str, Any],
    seeds: Sequence[int],
    train: Callable[[dict[str, Any], list[tuple[int, int]]], list[float]],
    done: dict[int, float],
) -> dict[str, Any]:
    """The configuration ``values`` trained with execution k seeded
    seeds[k] (``done``: scores already trained with those seeds): the
    anchor's record, with the fits trained and reused, or ``unavailable``
    with the reason."""
    anchor: dict[str, Any] = {"hyperparameters": dict(values), "seeds": [int(s) for s in seeds]}
    reason = misfit(values, result.search_space)
    if reason:
        return dict(anchor, unavailable=f"the anchor configuration does not fit this search space: {reason}")
    done = dict(done)
    todo = [(k, s) for k, s in enumerate(seeds) if k not in done]
    try:
        trained = train(values, todo)
    except errors.FatalError:
        raise
    except Exception as exc:
        why = str(exc) if isinstance(exc, errors.FailedTrialError) else f"{type(exc).__name__}: {exc}"
        return dict(anchor, unavailable=f"an anchor fit failed: {why}")
    done.update({k: score for (k, _), score in zip(todo, trained)})
    return dict(anchor, scores=[done[k] for k in range(len(seeds))], trained=len(todo), reused=len(seeds) - len(todo))


def unanchored(settings: Settings) -> str | None:
    """Why this search cannot train anchor fits, or None."""
    if isinstance(settings.tuner, type):
        return "the plugin retrains configurations only for the tuners it builds, not a Tuner subclass's run_trial()"
    if settings.kind == "sklearn":
        return "tuner='sklearn' has no seeded executions to pair (its folds are the executions)"
    return None


def train_anchors(
    tuner: Any,
    settings: Settings,
    result: SearchResult,
    plan: AnchorPlan,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
) -> SearchResult:
    """The anchor fits of ``plan``, in a new outcome: the baseline's anchor
    (``--hptune-compare``, ``anchor``) and this search's own
    (``--hptune-save-baseline``, ``best_anchor``).

    A new anchor's seeds are fresh (``execution_seed(seed, "anchor", k)``),
    never the best trial's own: those executions are why it was picked (the
    best of K means is biased upward), and a baseline anchored on them
    would read every unchanged rerun as a drop."""
    reason = unanchored(settings)
    best = result.best
    assert best is not None  # fits after the search run only when it has a best trial

    def train(values: dict[str, Any], todo: list[tuple[int, int]]) -> list[float]:
        hp = tuner.oracle.get_space()
        for name, value in values.items():
            hp.values[name] = value
        return _train_configuration(tuner, hp, todo, best.budget, fit_args, fit_kwargs)

    anchor = result.anchor
    if plan.hyperparameters is not None:
        anchor = (
            {"unavailable": reason}
            if reason
            else _anchor_fits(result, dict(plan.hyperparameters), plan.seeds, train, {})
        )
    best_anchor = result.best_anchor
    if plan.keep and not reason:
        seeds = [execution_seed(settings.seed, "anchor", k) for k in range(plan.keep)]
        done = {}
        compared = anchor or {}
        if compared.get("scores") and compared["hyperparameters"] == dict(best.hyperparameters):
            done = {
                k: score
                for k, (seed, score) in enumerate(zip(compared["seeds"], compared["scores"]))
                if k < len(seeds) and seed == seeds[k]
            }
        best_anchor = _anchor_fits(result, dict(best.hyperparameters), seeds, train, done)
    return dataclasses.replace(result, anchor=anchor, best_anchor=best_anchor)
