"""SIGTERM as Ctrl-C: a CI job that is cancelled or times out sends SIGTERM,
which would kill pytest before its reports are written. While a session
runs, the main process turns SIGTERM into ``KeyboardInterrupt``, so pytest
ends the run as it does on Ctrl-C: the reports are written with the searches
that finished, the summary is printed and the exit code is 2 (interrupted).

Only in the main thread of the process that reports: pytest-xdist workers
and ``--hptune-workers`` worker processes keep dying on SIGTERM (their
controller or chief notices), and a handler installed by the user or by
another plugin is left alone. Imports nothing heavy (loaded with the plugin).
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

INSTALLED = pytest.StashKey[bool]()  # this session's handler is in place


def sigterm_as_interrupt(signum: int, frame: Any) -> None:
    # Once: a second SIGTERM while the reports are written is ignored (a CI
    # runner that insists sends SIGKILL), so it cannot cut them short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")


def is_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker, or a worker of ``--hptune-workers`` (the same
    test run by the chief with Keras Tuner's worker variables set)."""
    if hasattr(config, "workerinput"):
        return True
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
    return bool(tuner_id and "chief" not in tuner_id and os.environ.get("KERASTUNER_ORACLE_IP"))


def install(config: pytest.Config) -> None:
    """Turn SIGTERM into KeyboardInterrupt for this session, when it is ours to."""
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or threading.current_thread() is not threading.main_thread() or is_worker(config):
        return
    # SIG_IGN, a Python handler (the user's, another plugin's, an outer
    # session's) or one set from C (None) is theirs: left alone.
    if signal.getsignal(sigterm) is not signal.SIG_DFL:
        return
    try:
        signal.signal(sigterm, sigterm_as_interrupt)
    except (OSError, ValueError):
        return
    config.stash[INSTALLED] = True


def uninstall(config: pytest.Config) -> None:
    """Restore the default handler found at configure, unless someone
    replaced ours since."""
    if not config.stash.get(INSTALLED, False):
        return
    del config.stash[INSTALLED]
    # Ours, or SIG_IGN as ours leaves it after it fired once.
    if signal.getsignal(signal.SIGTERM) in (sigterm_as_interrupt, signal.SIG_IGN):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
