"""The one place that touches Keras Tuner's and Keras's private names
(``keras_tuner.src``, ``keras.src``, attributes that start with ``_``).

Keras Tuner keeps what the plugin needs (the per-execution loop's helpers,
Hyperband's bracket arithmetic, the oracle's lock, the gRPC servicer) out
of its public API. Every such name is listed in ``REQUIRED`` with the
parameters the plugin relies on, and checked at the first search of a
session: a Keras Tuner release that renames one, or changes its parameters,
fails every hptune test with one line naming the installed version and the
supported range, instead of an AttributeError or TypeError in the middle of
a search (or, for a method the plugin overrides, an override that Keras
Tuner no longer calls). The rest of the engine calls the small functions
below, never a private name.

Keras's private names (``KERAS_PRIVATE``) only switch an optimisation on
(reuse.py): a Keras release without one costs time, never a result, so
they are not checked before a search; the suite checks them against the
installed Keras (tests/test_compat_boundary.py).
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

import keras_tuner

# The Keras Tuner releases supported; pyproject.toml's dependency says the
# same (tests/test_compat_boundary.py).
SUPPORTED = ">=1.4.7,<1.5"

# (module under keras_tuner.src, attribute path[, parameters]) for every
# private name used. The parameters, when given, are those the plugin
# passes or receives (an override), compared with inspect.signature's in
# order, ``*``/``**`` marking variadic ones. ``Class().name``: an attribute
# that __init__ sets, read on an instance made with None for each argument.
REQUIRED: tuple[tuple[str, ...], ...] = (
    ("config", "DEBUG"),
    ("engine.tuner_utils", "TunerCallback", "tuner, trial"),
    (
        "engine.base_tuner",
        "BaseTuner.__init__",
        "self, oracle, hypermodel, directory, project_name, overwrite, **kwargs",
    ),
    ("engine.base_tuner", "BaseTuner._populate_initial_space", "self"),
    ("engine.tuner", "Tuner._build_and_fit_model", "self, trial, *args, **kwargs"),
    ("engine.tuner", "Tuner._deepcopy_callbacks", "self, callbacks"),
    ("engine.tuner", "Tuner._configure_tensorboard_dir", "self, callbacks, trial, execution"),
    ("engine.tuner", "Tuner._get_checkpoint_fname", "self, trial_id"),
    ("engine.tuner", "Tuner._get_build_config_fname", "self, trial_id"),
    ("engine.tuner_utils", "validate_trial_results", "results, objective, func_name"),
    ("engine.tuner", "Tuner._try_build", "self, hp"),  # called, and overridden (OVERRIDES)
    ("engine.tuner", "Tuner._build_hypermodel", "self, hp"),
    ("engine.trial", "Trial.__init__", "self, hyperparameters, trial_id, status, message"),
    ("engine.metrics_tracking", "infer_metric_direction", "metric"),
    ("engine.oracle", "LOCKS"),
    ("engine.oracle", "THREADS"),
    ("tuners.hyperband", "HyperbandOracle._get_num_brackets", "self"),  # called, and overridden (OVERRIDES)
    ("tuners.hyperband", "HyperbandOracle._get_size", "self, bracket_num, round_num"),
    ("tuners.hyperband", "HyperbandOracle._get_epochs", "self, bracket_num, round_num"),
    ("distribute.oracle_chief", "OracleServicer.__init__", "self, oracle"),
    ("distribute.oracle_chief", "OracleServicer().stop_triggered"),
    ("protos", "get_service_grpc", ""),
)

# The plugin's methods that replace a private method of Keras Tuner's (see
# ``overrides``): the plugin's name -> Keras Tuner's, whose parameters
# REQUIRED checks (an override of a renamed method would never be called).
OVERRIDES = {
    "hptune_try_build": "_try_build",
    "hptune_num_brackets": "_get_num_brackets",
}

# Keras's private names (module, attribute path[, parameters]), and the
# attributes of a compiled keras.Model, that reuse.py reads through the
# functions below; a Keras without one turns reuse off.
KERAS_PRIVATE: tuple[tuple[str, ...], ...] = (
    ("keras.src.backend.common.global_state", "get_global_attribute", "name, default, set_to_default"),
)
COMPILED_MODEL_ATTRIBUTES = ("_compile_loss", "_compile_metrics")


class IncompatibleKerasTuner(Exception):
    """An internal the plugin relies on is missing from the installed Keras Tuner."""


_checked: list[str] = []  # the problem found by the first check ("" when fine)


def module(name: str) -> ModuleType:
    """``keras_tuner.src.<name>``."""
    return importlib.import_module(f"keras_tuner.src.{name}")


def parameters(function: Any) -> str:
    """A callable's parameter names as REQUIRED lists them: in order,
    ``*args`` and ``**kwargs`` starred, ``*`` before keyword-only ones."""
    names = []
    starred = False
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            names.append(f"*{parameter.name}")
            starred = True
        elif parameter.kind is parameter.VAR_KEYWORD:
            names.append(f"**{parameter.name}")
        else:
            if parameter.kind is parameter.KEYWORD_ONLY and not starred:
                names.append("*")
                starred = True
            names.append(parameter.name)
    return ", ".join(names)


def resolve(root: ModuleType, path: str) -> Any:
    """The object at ``path`` under ``root`` (see REQUIRED for ``Class()``)."""
    target: Any = root
    for part in path.split("."):
        if part.endswith("()"):
            cls = getattr(target, part[:-2])
            target = cls(*[None] * len(inspect.signature(cls).parameters))
        else:
            target = getattr(target, part)
    return target


def problems(
    table: tuple[tuple[str, ...], ...] | None = None, load: Any = module, prefix: str = "keras_tuner.src."
) -> tuple[list[str], list[str]]:
    """What of ``table`` (REQUIRED) the installed release lacks, and which of
    its callables take other parameters than the plugin relies on (described)."""
    missing, changed = [], []
    for name, path, *expected in REQUIRED if table is None else table:
        where = f"{prefix}{name}.{path}"
        try:
            target = resolve(load(name), path)
        except Exception:  # ImportError, AttributeError; an instance that does not construct
            missing.append(where)
            continue
        if expected:
            try:
                found = parameters(target)
            except (TypeError, ValueError):  # no signature to read
                found = "?"
            if found != expected[0]:
                changed.append(f"{where}({found}), where the plugin relies on ({expected[0]})")
    return missing, changed


def check() -> None:
    """Raise IncompatibleKerasTuner (once per check, remembered for the
    session) when a private name the plugin needs is gone or takes other
    parameters."""
    if not _checked:
        missing, changed = problems()
        found = []
        if missing:
            found.append(f"lacks {', '.join(missing)}")
        if changed:
            found.append(f"has {'; '.join(changed)}")
        _checked.append(
            f"pytest-hptune needs keras-tuner{SUPPORTED}; the installed keras-tuner "
            f"{keras_tuner.__version__} {' and '.join(found)}: install a supported "
            f"release (pip install 'keras-tuner{SUPPORTED}')"
            if found
            else ""
        )
    if _checked[0]:
        raise IncompatibleKerasTuner(_checked[0])


def overrides(cls: type) -> type:
    """Class decorator: each method of ``cls`` named in OVERRIDES also
    replaces the private Keras Tuner method it stands for."""
    for ours, theirs in OVERRIDES.items():
        if ours in vars(cls):
            setattr(cls, theirs, vars(cls)[ours])
    return cls


def tuner_callback(tuner: Any, trial: Any) -> Any:
    """Keras Tuner's callback that reports epochs to the oracle."""
    return module("engine.tuner_utils").TunerCallback(tuner, trial)


def validate_fit_results(results: Any, objective: Any) -> None:
    """Keras Tuner's check of what HyperModel.fit() returned."""
    module("engine.tuner_utils").validate_trial_results(results, objective, "HyperModel.fit()")


def build_config_path(tuner: Any, trial_id: str) -> str:
    """Where Keras Tuner keeps a trial's build config (for get_best_models)."""
    return tuner._get_build_config_fname(trial_id)  # type: ignore[no-any-return]


def base_tuner_class() -> type:
    return module("engine.base_tuner").BaseTuner  # type: ignore[no-any-return]


def populate_initial_space(tuner: Any) -> None:
    tuner._populate_initial_space()


def infer_direction(metric: str) -> str | None:
    """'min' or 'max' as Keras Tuner infers it for a metric name, or None."""
    direction = module("engine.metrics_tracking").infer_metric_direction(metric)
    return direction if direction in ("min", "max") else None


def get_debug() -> bool:
    return bool(module("config").DEBUG)


def set_debug(value: bool) -> None:
    config: Any = module("config")  # Keras Tuner's module: its DEBUG flag is not typed
    config.DEBUG = value


def oracle_locks() -> tuple[Any, Any]:
    """Keras Tuner's per-oracle lock table and lock-holder table."""
    oracle_module = module("engine.oracle")
    return oracle_module.LOCKS, oracle_module.THREADS


def oracle_servicer_class() -> type:
    return module("distribute.oracle_chief").OracleServicer  # type: ignore[no-any-return]


def add_servicer_to_server(servicer: Any, server: Any) -> None:
    module("protos").get_service_grpc().add_OracleServicer_to_server(servicer, server)


def checkpoint_path(tuner: Any, trial_id: str) -> str:
    """Where Keras Tuner keeps a trial's best weights (Hyperband's next round reads them)."""
    return tuner._get_checkpoint_fname(trial_id)  # type: ignore[no-any-return]


def copy_callbacks(tuner: Any, callbacks: list[Any]) -> list[Any]:
    """Keras Tuner's deep copy of the search's callbacks, with its error for one that does not copy."""
    return tuner._deepcopy_callbacks(callbacks)  # type: ignore[no-any-return]


def configure_tensorboard(tuner: Any, callbacks: list[Any], trial: Any, execution: int) -> None:
    """Keras Tuner's per-trial log directory for a TensorBoard callback."""
    tuner._configure_tensorboard_dir(callbacks, trial, execution)


def build_and_fit(tuner: Any, trial: Any, *args: Any, **kwargs: Any) -> Any:
    """The tuner's _build_and_fit_model (a subclass's, AutoKeras-style, or Keras Tuner's)."""
    return tuner._build_and_fit_model(trial, *args, **kwargs)


def builds_and_fits_as_keras_tuner(tuner: Any) -> bool:
    """The tuner's class keeps Keras Tuner's own _build_and_fit_model."""
    return type(tuner)._build_and_fit_model is module("engine.tuner").Tuner._build_and_fit_model


def try_build(tuner: Any, hp: Any) -> Any:
    """The tuner's _try_build (the plugin's, see OVERRIDES): a trial's model."""
    return tuner._try_build(hp)


def build_hypermodel(tuner: Any, hp: Any) -> Any:
    """The model the tuner builds for a trial (compile overrides, distribution
    strategy; Hyperband's continues an earlier round's checkpoint)."""
    return tuner._build_hypermodel(hp)


def build_hypermodel_fresh(tuner: Any, hp: Any) -> Any:
    """The model a trial builds, always from scratch: Keras Tuner's
    Tuner._build_hypermodel, not Hyperband's (which loads a checkpoint)."""
    return module("engine.tuner").Tuner._build_hypermodel(tuner, hp)


def num_brackets(oracle: Any) -> int:
    """Hyperband's number of brackets (``super()`` inside an override: Keras Tuner's count)."""
    return oracle._get_num_brackets()  # type: ignore[no-any-return]


def bracket_size(oracle: Any, bracket: int, round_num: int) -> int:
    """Trials in a round of a Hyperband bracket."""
    return oracle._get_size(bracket, round_num)  # type: ignore[no-any-return]


def bracket_epochs(oracle: Any, bracket: int, round_num: int) -> int:
    """Epochs a trial of a round of a Hyperband bracket trains to."""
    return oracle._get_epochs(bracket, round_num)  # type: ignore[no-any-return]


def servicer_stopped(servicer: Any) -> bool:
    """Keras Tuner's OracleServicer handed a worker a STOPPED trial (the search is over)."""
    return bool(servicer.stop_triggered)


def global_seed_generator_used() -> bool:
    """Has Keras's global seed generator been created since the session was
    cleared (did a model draw unseeded random numbers)? Read from Keras's
    global state, which Keras keeps private: a Keras that moved it counts
    as yes (no reuse)."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:
        return True
    try:
        return global_state.get_global_attribute("global_seed_generator") is not None
    except (AttributeError, TypeError):
        return True


def metrics_unbuilt(model: Any) -> bool:
    """Will the model's first fit build its compiled loss and metrics (and
    so, on JAX, take a batch first)? Read from Keras's private attributes:
    a Keras that renamed them counts as no (no reuse on JAX)."""
    compiled = [getattr(model, name, None) for name in COMPILED_MODEL_ATTRIBUTES]
    return any(getattr(part, "built", True) is False for part in compiled)
