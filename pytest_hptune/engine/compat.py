"""The one place that touches Keras Tuner's private modules (``keras_tuner.src``).

Keras Tuner keeps what the plugin needs (the per-execution loop's helpers,
Hyperband's bracket arithmetic, the oracle's lock, the gRPC servicer) out
of its public API. Every such name is listed in ``REQUIRED`` and checked at
the first search of a session: a Keras Tuner release that renames one fails
every hptune test with one line naming the installed version and the
supported range, instead of an AttributeError in the middle of a search.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import keras_tuner

SUPPORTED = ">=1.4.7,<1.5"

# (module under keras_tuner.src, attribute path) for every private name used.
REQUIRED: tuple[tuple[str, str], ...] = (
    ("config", "DEBUG"),
    ("engine.tuner_utils", "TunerCallback"),
    ("engine.base_tuner", "BaseTuner._populate_initial_space"),
    ("engine.tuner", "Tuner._build_and_fit_model"),
    ("engine.tuner", "Tuner._deepcopy_callbacks"),
    ("engine.tuner", "Tuner._configure_tensorboard_dir"),
    ("engine.tuner", "Tuner._get_checkpoint_fname"),
    ("engine.tuner", "Tuner._get_build_config_fname"),
    ("engine.tuner_utils", "validate_trial_results"),
    ("engine.tuner", "Tuner._try_build"),
    ("engine.tuner", "Tuner._build_hypermodel"),
    ("engine.trial", "Trial.__init__"),
    ("engine.metrics_tracking", "infer_metric_direction"),
    ("engine.oracle", "LOCKS"),
    ("engine.oracle", "THREADS"),
    ("tuners.hyperband", "HyperbandOracle._get_num_brackets"),
    ("tuners.hyperband", "HyperbandOracle._get_size"),
    ("tuners.hyperband", "HyperbandOracle._get_epochs"),
    ("distribute.oracle_chief", "OracleServicer"),
    ("protos", "get_service_grpc"),
)


class IncompatibleKerasTuner(Exception):
    """An internal the plugin relies on is missing from the installed Keras Tuner."""


_checked: list[str] = []  # the problem found by the first check ("" when fine)


def module(name: str) -> ModuleType:
    """``keras_tuner.src.<name>``."""
    return importlib.import_module(f"keras_tuner.src.{name}")


def _missing() -> list[str]:
    missing = []
    for name, path in REQUIRED:
        try:
            target: Any = module(name)
            for part in path.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            missing.append(f"keras_tuner.src.{name}.{path}")
    return missing


def check() -> None:
    """Raise IncompatibleKerasTuner (once per check, remembered for the
    session) when a private name the plugin needs is gone."""
    if not _checked:
        missing = _missing()
        _checked.append(
            f"pytest-hptune needs keras-tuner{SUPPORTED}; the installed keras-tuner "
            f"{keras_tuner.__version__} lacks {', '.join(missing)}: install a supported "
            "release (pip install 'keras-tuner>=1.4.7,<1.5')"
            if missing
            else ""
        )
    if _checked[0]:
        raise IncompatibleKerasTuner(_checked[0])


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
