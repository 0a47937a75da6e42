"""SIGTERM as Ctrl-C: a CI job that is cancelled or times out sends SIGTERM,
which would kill pytest before its reports are written. While a session
runs, the main process turns SIGTERM into ``KeyboardInterrupt``, so pytest
ends the run as it does on Ctrl-C: the reports are written with the searches
that finished, the summary is printed and the exit code is 2 (interrupted).
Once the reports are being written, a SIGTERM raises only inside a report
hook of the user's (cutting a slow upload short); anywhere else it is
remembered, and the exit code is 2 all the same: never a raw traceback out
of ``pytest_sessionfinish``, never a cancel lost in code that swallowed the
interrupt.

Only in the main thread of the process that reports: pytest-xdist workers
and ``--hptune-workers`` worker processes keep dying on SIGTERM (their
controller or chief notices), and a handler installed by the user or by
another plugin is left alone. Imports nothing heavy (loaded with the plugin).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from .worker_env import worker_id

INSTALLED = pytest.StashKey[bool]()  # this session's handler is in place
SESSION = pytest.StashKey[pytest.Session]()  # the session whose reports are written
INTERRUPTED = pytest.StashKey[bool]()  # a report was cut short by an interrupt


class _Term:
    """The process's SIGTERM state (one session at a time owns the handler)."""

    received = False  # a SIGTERM arrived: the run ends with exit code 2, however it went on
    reporting = False  # the reports are being written (pytest_sessionfinish and after)
    in_report = False  # a report of the user's (or another plugin's) is running


def sigterm_as_interrupt(signum: int, frame: Any) -> None:
    _Term.received = True
    if not _Term.reporting:
        # Once: a second SIGTERM while pytest winds down is ignored (a CI
        # runner that insists sends SIGKILL); the reports re-arm it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")
    if _Term.in_report:
        # Cuts a slow report hook of the user's (an upload) short; the
        # built-in reports, quick local writes, still run.
        raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")
    # Between the reports or in the summary: remembered, never raised where
    # it would become a raw traceback; the exit code says it (2).


def is_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker, or a worker of ``--hptune-workers`` (the same
    test run by the chief with Keras Tuner's worker variables set)."""
    return hasattr(config, "workerinput") or worker_id() is not None


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
    _Term.received = _Term.reporting = _Term.in_report = False
    config.stash[INSTALLED] = True


def start_reporting(session: pytest.Session) -> None:
    """From pytest_sessionfinish on: a SIGTERM no longer raises where it
    would escape pytest as a raw traceback (exit code 130), only inside a
    report hook that is not the plugin's own (see ``cancellable``); it is
    remembered for the exit code. Re-arms the handler a first SIGTERM left
    ignored, so that a second can still cut a slow upload short."""
    config = session.config
    config.stash[SESSION] = session
    if not config.stash.get(INSTALLED, False):
        return
    _Term.reporting = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, sigterm_as_interrupt)


@contextlib.contextmanager
def cancellable(config: pytest.Config, interruptible: bool) -> Iterator[None]:
    """Around one report hook: an interruptible one (not the plugin's) may
    be cut short by a SIGTERM (KeyboardInterrupt, caught by the caller)."""
    if not (interruptible and config.stash.get(INSTALLED, False)):
        yield
        return
    _Term.in_report = True
    try:
        yield
    finally:
        _Term.in_report = False


def note_interrupt(config: pytest.Config) -> None:
    """A report was cut short by an interrupt (SIGTERM, Ctrl-C)."""
    config.stash[INTERRUPTED] = True


def received(config: pytest.Config) -> bool:
    """Whether this session was interrupted: its handler saw a SIGTERM
    (even one whose KeyboardInterrupt the code it landed in swallowed), or
    an interrupt cut a report short."""
    return config.stash.get(INTERRUPTED, False) or (config.stash.get(INSTALLED, False) and _Term.received)


def end_as_interrupted(config: pytest.Config) -> None:
    """A SIGTERM seen during the session makes its exit code 2, never 0."""
    session = config.stash.get(SESSION, None)
    if received(config) and session is not None:
        session.exitstatus = pytest.ExitCode.INTERRUPTED


def uninstall(config: pytest.Config) -> None:
    """Restore the default handler found at configure, unless someone
    replaced ours since."""
    end_as_interrupted(config)
    if not config.stash.get(INSTALLED, False):
        return
    _Term.received = _Term.reporting = _Term.in_report = False
    del config.stash[INSTALLED]
    # Ours, or SIG_IGN as ours leaves it after it fired once.
    if signal.getsignal(signal.SIGTERM) in (sigterm_as_interrupt, signal.SIG_IGN):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
