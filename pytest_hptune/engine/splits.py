"""What varies between a trial's executions (``vary=``).

* ``seed`` (default): each execution's seed, so the initial weights,
  dropout and the shuffling of the training data differ.
* ``split``: also the validation data: each execution holds out its own
  shuffled ``validation_split`` share of ``(x, y)`` (Keras always holds out
  the *last* rows, so without this every execution validates on the same
  rows: the largest source of variance Bouthillier et al. 2021 measured).
* ``folds``: K-fold cross-validation for Keras models, K =
  ``executions_per_trial``: execution k trains on the other folds and
  validates on fold k; the folds are shuffled once, from the search's seed.

Hand-written rather than scikit-learn's splitters: scikit-learn is an
optional extra, and a permutation and ``numpy.array_split`` are all it takes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..settings import Settings
from .failures import SearchError
from .seeding import execution_seed


def _xy(fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> tuple[Any, Any, tuple[Any, ...], dict[str, Any]]:
    """(x, y, the other positional arguments, the other keyword arguments)."""
    args, kwargs = list(fit_args), dict(fit_kwargs)
    x = args.pop(0) if args else kwargs.pop("x", None)
    y = args.pop(0) if args else kwargs.pop("y", None)
    return x, y, tuple(args), kwargs


def _rows(data: Any, where: np.ndarray) -> Any:
    if isinstance(data, dict):
        return {k: _rows(v, where) for k, v in data.items()}
    take = getattr(data, "iloc", None)  # pandas
    return take[where] if take is not None else np.asarray(data)[where]


def _length(data: Any) -> int | None:
    if isinstance(data, dict):
        lengths = {_length(v) for v in data.values()}
        return lengths.pop() if len(lengths) == 1 else None
    if hasattr(data, "shape") and getattr(data, "shape", None):
        return int(data.shape[0])
    if isinstance(data, (list, tuple)):
        return len(data)
    return None


def check(settings: Settings, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
    """Before any training: the data can be split as ``vary`` asks."""
    if settings.vary == "seed" or settings.tuner == "sklearn":
        return
    x, y, _, kwargs = _xy(fit_args, fit_kwargs)
    where = f"vary={settings.vary!r} (from {settings.sources.get('vary')})"
    n = _length(x)
    if y is None or n is None or _length(y) != n:
        raise SearchError(
            f"{where} splits the data itself: pass x and y to hptune.search() as arrays (NumPy, "
            "pandas or a dict of arrays) of the same length, not a dataset or generator"
        )
    if "validation_data" in kwargs:
        raise SearchError(f"{where} chooses the validation rows itself: remove validation_data=")
    split = kwargs.get("validation_split")
    if settings.vary == "split" and not (isinstance(split, (int, float)) and 0 < split < 1):
        raise SearchError(f"{where} holds out validation_split= of the data: pass e.g. validation_split=0.2")
    if settings.vary == "folds" and split is not None:
        raise SearchError(f"{where} validates on one fold in {settings.first_executions}: remove validation_split=")


def execution_data(
    settings: Settings, execution: int, seed: int, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The fit arguments of one execution: unchanged for ``vary='seed'``;
    else its training rows as x, y and its validation rows as
    ``validation_data``."""
    if settings.vary == "seed" or settings.tuner == "sklearn":
        return fit_args, fit_kwargs
    x, y, rest, kwargs = _xy(fit_args, fit_kwargs)
    n = _length(x)
    assert n is not None  # check() ran before any training
    if settings.vary == "split":
        fraction = kwargs.pop("validation_split")
        order = np.random.default_rng(seed).permutation(n)
        held = max(1, int(round(n * fraction)))
        validation, training = order[:held], order[held:]
    else:
        folds = settings.first_executions
        order = np.random.default_rng(execution_seed(settings.seed, "folds", 0)).permutation(n)
        parts = np.array_split(order, folds)
        validation = parts[execution % folds]
        training = np.concatenate([p for i, p in enumerate(parts) if i != execution % folds])
    kwargs["validation_data"] = (_rows(x, validation), _rows(y, validation))
    return (_rows(x, training), _rows(y, training), *rest), kwargs
