"""One execution's score (the objective at its best epoch, as Keras Tuner
computes it) and the buffered best-epoch checkpoint."""

from __future__ import annotations

import errno
import math
import os
import secrets
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np

from .. import atomic
from .failures import ObjectiveNotFound, PluginFatalTypeError

errors = keras_tuner.errors


def execution_score(result: Any, objective: Any, source: str = "HyperModel.fit()") -> float:
    """One execution's objective value, chosen as Keras Tuner does (best
    epoch); ``source`` is what returned ``result``, for the error."""
    name = objective.name
    if isinstance(result, keras.callbacks.History):
        logs = result.history
        for epoch, loss in enumerate(logs.get("loss", ()), start=1):
            if not math.isfinite(loss):
                raise errors.FailedTrialError(f"loss is {loss} at epoch {epoch}")
        if name not in logs:
            raise ObjectiveNotFound(name, list(logs))
        values = [float(v) for v in logs[name] if math.isfinite(v)]
        if not values:
            raise errors.FailedTrialError(f"{name} is never finite: {logs[name]}")
        return max(values) if objective.direction == "max" else min(values)
    if isinstance(result, dict):
        if name not in result:
            raise ObjectiveNotFound(name, list(result))
        value = float(result[name])
    elif isinstance(result, (int, float, np.floating)):
        value = float(result)
    else:
        forgot = " (did you forget to return the metrics?)" if result is None else ""
        raise PluginFatalTypeError(
            f"{source} must return a keras History, a dict of metrics or a float; got {type(result).__name__}{forgot}"
        )
    if not math.isfinite(value):
        raise errors.FailedTrialError(f"{name} is {value}")
    return value


class BestEpochWeights(keras.callbacks.Callback):
    """Keras Tuner's ``SaveBestEpoch``, buffered: the weights of the best epoch
    across a trial's executions are kept in memory and written once, when the
    trial ends, instead of at every improving epoch (three writes per fit on
    the example's ConvNet, the largest part of what a trial costs beyond its
    fits). The file is the same: the best epoch's weights, where Keras Tuner
    (Hyperband's next round, ``get_best_models``) looks for them."""

    def __init__(self, objective: Any, filepath: str) -> None:
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = float("-inf") if objective.direction == "max" else float("inf")
        self.best_model: Any = None
        self.best_weights: Any = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.objective.has_value(logs):
            value = self.objective.get_value(logs)
            if not self.objective.better_than(value, self.best_value):
                return
            self.best_value = value
        self.best_model = self.model
        self.best_weights = self.model.get_weights()

    def write(self) -> None:
        if self.best_model is not None:
            self.best_model.set_weights(self.best_weights)
            write_weights(self.best_model, self.filepath)
            self.best_model = self.best_weights = None


# An HDF5 weights file's size beyond its arrays: about 8 KiB, plus about
# 2 KiB per variable (measured on Keras 3.15 / h5py 3.14 for 1 to 42
# variables); the estimate doubles both.
H5_BASE_BYTES = 16 * 1024
H5_BYTES_PER_VARIABLE = 4 * 1024


def weights_size(weights: list[Any]) -> int:
    """A generous estimate of the HDF5 file that holds ``weights``."""
    return sum(int(w.nbytes) for w in weights) + H5_BASE_BYTES + H5_BYTES_PER_VARIABLE * len(weights)


def check_free_space(directory: Path, needed: int) -> None:
    """Raise OSError(ENOSPC) unless ``directory`` has room for twice
    ``needed`` bytes: HDF5 must never meet a full disk, since its clean-up of
    a half-written file can crash the process (a segfault at exit)."""
    if not hasattr(os, "statvfs"):  # Windows: no check
        return
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    if free < 2 * needed:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device: {free} bytes free, a weights file of about {needed} bytes "
            "needs twice that to be written safely",
            str(directory),
        )


def write_weights(model: Any, filepath: str) -> None:
    """``model.save_weights(filepath)``, safe on a full or failing disk: the
    free space is checked first (check_free_space), the file is written
    beside the target and renamed onto it, so a failed write leaves no
    half-written checkpoint where Keras Tuner would load it."""
    target = Path(filepath)
    check_free_space(target.parent, weights_size(model.get_weights()))
    # Keras insists on the suffix.
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp.weights.h5"
    try:
        model.save_weights(str(tmp))
        os.replace(tmp, target)
    except BaseException:
        atomic.discard(tmp)
        raise
