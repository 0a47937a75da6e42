"""Trials that failed on an error of the user's code (a build function, a
fit, a callback that raised), as opposed to the ways a configuration is
meant to fail: Keras Tuner's ``FailedTrialError`` (how a user skips an
invalid configuration; the plugin raises it for a NaN loss too), a full
disk (the search's stopped reason) or a killed worker. Judged from the
trial's message, Keras Tuner's traceback of the error: it is what reaches
the chief from a worker of ``--hptune-workers`` too."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TRACEBACK = "Traceback (most recent call last):"


def exception_line(message: str | None) -> str | None:
    """'ValueError: boom', the last exception of a Python traceback; None
    when ``message`` is not one."""
    if not message or TRACEBACK not in message:
        return None
    lines = message.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if not frames:
        return None
    for line in lines[frames[-1] + 1 :]:
        if line and not line[0].isspace():
            return line
    return None


def exception_type(line: str) -> str:
    """The exception's class name, without its module."""
    return line.split(":", 1)[0].strip().rsplit(".", 1)[-1]


def is_code_error(message: str | None) -> bool:
    line = exception_line(message)
    if line is None or exception_type(line) == "FailedTrialError":
        return False
    # A full disk is the search's stopped reason (engine/failures.py), not a bug.
    return not re.search(r"No space left on device|[Ee]rrno( =)? (28|122)\b|Disk quota exceeded", line)


def ends_in_failed_trial_error(message: str) -> bool:
    """Keras Tuner's FailedTrialError is the expected way to fail a trial: its
    reason says it all, the traceback is noise."""
    return "FailedTrialError:" in message.strip().splitlines()[-1]


def keeps_traceback(message: str | None) -> bool:
    """Whether a failed trial's record keeps its full message (its
    ``traceback``), which the failure message prints: an error of the
    user's code, or anything but a FailedTrialError."""
    if not message or not message.strip():
        return False
    return not ends_in_failed_trial_error(message) or is_code_error(message)


def code_errors(failed: Iterable[Any]) -> list[Any]:
    """The failed trials (TrialResult) whose reason is an error of the user's code."""
    return [t for t in failed if is_code_error(t.message)]
