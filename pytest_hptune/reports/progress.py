"""The progress line: one line per trial in the terminal while the test
runs, from the engine's ``TrialFinished`` events (``events.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from ..events import TrialFinished


def line(event: TrialFinished) -> str:
    """``    hptune: trial 2/3 (1) 0.8123, best 0.8123 (trial 1)``; a trial
    without a mean shows its status."""
    what = f"{event.mean:.4f}" if event.mean is not None else event.status
    text = f"    hptune: trial {event.done}/{event.total} ({event.trial_id}) {what}"
    if event.best_id is not None:
        text += f", best {event.best_mean:.4f} (trial {event.best_id})"
    return text


class ProgressLine:
    """A search listener writing each event's line to pytest's terminal,
    past output capturing (as ``capsys.disabled()`` does)."""

    def __init__(self, terminal: Any, capture: Any):
        self._terminal = terminal
        self._capture = capture

    def trial_finished(self, event: TrialFinished) -> None:
        with self._capture.global_and_fixture_disabled():
            self._terminal.write_line(line(event))


def for_config(config: pytest.Config) -> ProgressLine | None:
    """The progress line with -v only: a quiet run by default keeps pytest's
    one line of dots per file intact (pytest writes the test's own line
    again after these, as it does after live logs). Never in a pytest-xdist
    worker."""
    if config.get_verbosity() < 1 or hasattr(config, "workerinput"):
        return None
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if terminal is None or not hasattr(capture, "global_and_fixture_disabled"):
        return None
    return ProgressLine(terminal, capture)
