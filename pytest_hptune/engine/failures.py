"""Why a search cannot go on: a tuning directory that takes no writes, a
misnamed objective. Each message says what to do."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keras_tuner import errors

if TYPE_CHECKING:
    from ..result import TrialResult


class SearchError(Exception):
    """The search could not run at all; the message says why and what to do."""


# A tuning directory that cannot take writes (full, read-only, no access).
DIRECTORY_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})


DIRECTORY_WORDS = ("No space left", "Read-only file system", "Permission denied", "Disk quota")


class PluginFatal(Exception):
    """Mixed into the Keras Tuner fatal errors the plugin raises itself (a
    misnamed objective, a build function that returns no model): the test
    fails with their message. A FatalError from the user's own code is not
    one of these: it propagates as itself."""


class PluginFatalValueError(PluginFatal, errors.FatalValueError):
    pass


class PluginFatalTypeError(PluginFatal, errors.FatalTypeError):
    pass


class TuningDirectoryError(PluginFatal, errors.FatalError):
    """Aborts the search: no trial can be saved."""


def is_directory_error(exc: BaseException, directory: str | Path | None = None) -> bool:
    """OSError from Python's file IO, or the TensorFlow file-system error
    Keras Tuner's ``tf.io.gfile`` calls raise on the TensorFlow backend.

    A full disk is a full disk; a permission error counts only when it is
    about the tuning directory (not, say, the user's own CSVLogger path)."""
    full = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OSError) and exc.errno in full:
        return True
    if not (isinstance(exc, OSError) or type(exc).__module__.startswith("tensorflow")):
        return False
    if not (
        (isinstance(exc, OSError) and exc.errno in DIRECTORY_ERRNOS) or any(w in str(exc) for w in DIRECTORY_WORDS)
    ):
        return False
    if directory is None:
        return True
    where = getattr(exc, "filename", None) or str(exc)
    return str(directory) in str(where) or any(w in str(exc) for w in ("No space left", "Disk quota"))


def check_writable(project_dir: Path) -> None:
    """Before any training: the project directory can be created and written."""
    try:
        project_dir.mkdir(parents=True, exist_ok=True)
        probe = project_dir / f".hptune-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise SearchError(directory_error(project_dir, exc)) from None


def directory_error(directory: str | Path, exc: BaseException) -> str:
    return (
        f"the tuning directory {directory} cannot be written ({type(exc).__name__}: {exc}); "
        "free some space or point --hptune-dir (ini hptune_dir) at a writable directory"
    )


@contextlib.contextmanager
def tuning_directory_errors(tuner: Any) -> Iterator[None]:
    """Inside a trial: a full or read-only directory aborts the search with
    one clear reason instead of failing trial after trial."""
    try:
        yield
    except Exception as exc:
        if is_directory_error(exc, tuner.project_dir):
            raise TuningDirectoryError(directory_error(tuner.project_dir, exc)) from exc
        raise


# How a full disk reads in a failed trial's message when Keras Tuner caught
# the error itself (TensorFlow's and HDF5's messages carry no OSError).
FULL_DISK = re.compile(r"No space left on device|errno = (28|122)\b|Disk quota exceeded")


def directory_failure(directory: str | Path, failed: Iterable[TrialResult]) -> str | None:
    """A failed trial that failed because the tuning directory is full: the
    search's stopped reason, naming the directory (None otherwise)."""
    for trial in failed:
        if trial.message and FULL_DISK.search(trial.message):
            return (
                f"the tuning directory {directory} ran out of space during trial {trial.trial_id}; "
                "free some space or point --hptune-dir (ini hptune_dir) at a writable directory"
            )
    return None


class ObjectiveNotFound(PluginFatalValueError):
    def __init__(self, name: str, available: Sequence[str]):
        names = ", ".join(sorted(available)) or "(none)"
        hint = ""
        if name.startswith("val_") and not any(a.startswith("val_") for a in available):
            hint = (
                " The model was fit without validation data: pass "
                "validation_split= or validation_data= to hptune.search()."
            )
        super().__init__(
            f"objective {name!r} is not among the metrics the model reports: "
            f"{names}.{hint} Set objective= on the hptune marker to one of them "
            "(or compile the model with the metric)."
        )
