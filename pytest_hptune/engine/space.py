"""The search space: as Keras Tuner populates it, and described for reports."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import keras
import keras_tuner
import numpy as np

from ..settings import Settings
from . import compat
from .silence import quiet_keras

log = logging.getLogger(__name__)


HIDDEN_PREFIX = "tuner/"  # Hyperband's bookkeeping values (epochs, bracket, ...)


def search_space(hyperparameters: Any) -> list[dict[str, Any]]:
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


def populated_space(hypermodel: Any, explore_branches: bool = False) -> Any:
    """The ``keras_tuner.HyperParameters`` Keras Tuner populates before the
    first trial, found with a throwaway oracle. ``explore_branches`` also
    builds once per value of every Choice and Boolean, to find the scopes
    opened inside ``if hp.Boolean(...)`` that Keras Tuner only finds when a
    trial takes the branch."""
    with tempfile.TemporaryDirectory(prefix="hptune-space-") as tmp, quiet_keras():
        oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("score", "max"), max_trials=1)
        scratch = compat.base_tuner_class()(
            oracle=oracle, hypermodel=hypermodel, directory=tmp, project_name="space", overwrite=True
        )
        compat.populate_initial_space(scratch)
        if explore_branches:
            _explore_branches(scratch, oracle)
        return oracle.hyperparameters


def _explore_branches(tuner: Any, oracle: Any) -> None:
    explored: set[Any] = set()
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
                except Exception as exc:  # the user's build error: a property finds it when it draws this value
                    log.info(
                        "hptune: %s=%r does not build (%s: %s); its branch is not explored",
                        hp.name,
                        value,
                        type(exc).__name__,
                        exc,
                    )
                    continue
                oracle.update_space(trial_hp)
        if len(oracle.hyperparameters.space) == before:
            return


def initial_space(hypermodel: Any, settings: Settings) -> list[dict[str, Any]]:
    """The search space as Keras Tuner populates it, for the fingerprint."""
    hyperparameters = populated_space(hypermodel)
    if settings.tuner != "sklearn":
        keras.backend.clear_session(free_memory=False)
    return search_space(hyperparameters)
