"""The frozen ``Settings`` a search runs with: one field per row of the
settings table, each defaulting to that row's default (read from the table,
never written here), and ``sources`` saying where each value came from."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .kinds import CUSTOM, kind_of
from .table import SPECS, Spec
from .validators import AUTO

C = TypeVar("C", bound=type)

# The default of a Settings field: its spec's default, filled in from the
# settings table by defaults_from (mypy sees a default; the table holds it).
FROM_TABLE: Any = object()


def defaults_from(specs: Mapping[str, Spec], own: tuple[str, ...] = ("sources",)) -> Callable[[C], C]:
    """A class decorator (under ``@dataclass``): every field but ``own``
    takes its spec's default. A field without a spec, a spec without a
    field, or a field with a default of its own is an error at import."""

    def fill(cls: C) -> C:
        names = [name for name in cls.__annotations__ if name not in own]
        unknown = [name for name in names if name not in specs]
        missing = [name for name in specs if name not in names]
        if unknown or missing:
            raise TypeError(
                f"{cls.__name__} and the settings table differ: fields without a spec {unknown}, "
                f"specs without a field {missing}"
            )
        for name in names:
            if getattr(cls, name, None) is not FROM_TABLE:
                raise TypeError(f"{cls.__name__}.{name} has a default of its own: write it in the settings table")
            setattr(cls, name, specs[name].default)
        return cls

    return fill


@dataclass(frozen=True)
@defaults_from(SPECS)
class Settings:
    """Resolved settings of one search; ``sources`` says where each came from."""

    tuner: Any = FROM_TABLE  # a name, or a keras_tuner.Tuner subclass
    objective: Any = FROM_TABLE
    direction: str | None = FROM_TABLE
    max_trials: int = FROM_TABLE
    executions_per_trial: int | str | None = FROM_TABLE
    min_executions: int = FROM_TABLE
    max_executions: int = FROM_TABLE
    epochs: int | None = FROM_TABLE
    vary: str = FROM_TABLE
    max_time: float | None = FROM_TABLE
    seed: int = FROM_TABLE
    reuse: bool = FROM_TABLE
    max_consecutive_failed_trials: int = FROM_TABLE
    max_failed_trials: int = FROM_TABLE
    num_initial_points: int | None = FROM_TABLE
    alpha: float | None = FROM_TABLE
    beta: float | None = FROM_TABLE
    max_epochs: int | None = FROM_TABLE
    factor: int | None = FROM_TABLE
    hyperband_iterations: int | None = FROM_TABLE
    cv: Any = FROM_TABLE
    scoring: Any = FROM_TABLE
    oracle: Any = FROM_TABLE  # a name, a keras_tuner.Oracle or Oracle subclass
    hyperparameters: Any = FROM_TABLE
    tune_new_entries: bool | None = FROM_TABLE
    allow_new_entries: bool | None = FROM_TABLE
    max_retries_per_trial: int | None = FROM_TABLE
    max_model_size: int | None = FROM_TABLE
    optimizer: Any = FROM_TABLE
    loss: Any = FROM_TABLE
    metrics: Any = FROM_TABLE
    distribution_strategy: Any = FROM_TABLE
    min_score: float | None = FROM_TABLE
    max_score: float | None = FROM_TABLE
    max_std: float | None = FROM_TABLE
    min_lower_bound: float | None = FROM_TABLE
    max_upper_bound: float | None = FROM_TABLE
    min_worst: float | None = FROM_TABLE
    max_worst: float | None = FROM_TABLE
    max_neighbour_drop: float | None = FROM_TABLE
    near_best: float = FROM_TABLE
    min_near_best_share: float | None = FROM_TABLE
    detect_drop: float = FROM_TABLE
    confirm: int = FROM_TABLE
    max_drop: float = FROM_TABLE
    confidence: float = FROM_TABLE
    require_no_drop: bool = FROM_TABLE
    anchor_executions: int = FROM_TABLE
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """The tuner's strategy: 'random', 'bayesian', 'grid', 'hyperband' or
        'sklearn', also for a Tuner subclass of one of them; 'custom' for
        another Tuner subclass, or for the default tuner given an Oracle
        (the plugin then builds a keras_tuner.Tuner on it)."""
        if self.tuner == "random" and self.oracle is not None and not isinstance(self.oracle, str):
            return CUSTOM
        return kind_of(self.tuner)

    @property
    def strategy(self) -> str:
        """How trials are chosen: the tuner, or the oracle of the sklearn
        tuner or of a Tuner subclass ('custom' for an Oracle of the user's)."""
        if self.kind in ("sklearn", CUSTOM):
            return kind_of(self.oracle or "random")
        return self.kind

    def tuner_kwargs(self, names: Iterable[str]) -> dict[str, Any]:
        """The given values among these settings, for a constructor."""
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    @property
    def adaptive(self) -> bool:
        """executions_per_trial='auto'."""
        return self.executions_per_trial == AUTO

    @property
    def first_executions(self) -> int:
        """The executions every trial runs (Keras Tuner's executions_per_trial)."""
        if self.adaptive:
            return self.min_executions
        assert isinstance(self.executions_per_trial, int)  # validated: an int unless 'auto'
        return self.executions_per_trial

    @property
    def objective_name(self) -> str:
        if self.objective is None:
            return "default_objective"  # Keras Tuner's name for it
        return self.objective if isinstance(self.objective, str) else self.objective.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly resolved values."""
        out = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name == "objective" and value is not None and not isinstance(value, str):
                value = {"name": value.name, "direction": value.direction}
            elif not isinstance(value, (str, int, float, type(None))):
                value = describe_object(value)  # a splitter or scorer
            out[f.name] = value
        return out


def describe_object(value: Any) -> str:
    """A stable text for an object setting (reports, resume fingerprints):
    never a memory address."""
    if isinstance(value, type):  # a Tuner or Oracle subclass
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, (list, tuple)):  # metrics
        return "[" + ", ".join(repr(v) if isinstance(v, str) else describe_object(v) for v in value) + "]"
    get_config = getattr(value, "get_config", None)
    if callable(get_config) and not hasattr(value, "get_params"):  # HyperParameters, a Keras optimizer
        try:
            return f"{type(value).__name__}({json.dumps(get_config(), sort_keys=True, default=str)})"
        except (NotImplementedError, TypeError, ValueError):  # no serialisable config: described below
            pass
    get_params = getattr(value, "get_params", None)
    if callable(get_params):  # a scikit-learn splitter
        try:
            params = sorted(get_params().items())
            return f"{type(value).__name__}({', '.join(f'{k}={v!r}' for k, v in params)})"
        except (AttributeError, TypeError):  # not a scikit-learn object after all: described below
            pass
    text = repr(value)
    if " at 0x" in text and hasattr(value, "__qualname__"):  # a function
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    if " at 0x" in text:  # an Oracle, a distribution strategy: its class
        return f"{type(value).__module__}.{type(value).__qualname__}"
    return text
