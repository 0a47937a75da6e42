"""The progress line (reports/progress.py) fed with the engine's
TrialFinished events, and the engine's side: one event per trial, and a
listener that cannot write (a closed terminal) stops the events, not the
search. End to end: tests/test_ci_reports.py (the lines under -v)."""

import contextlib
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_hptune.events import TrialFinished
from pytest_hptune.reports import progress


class Terminal:
    def __init__(self, capturing: dict[str, bool]) -> None:
        self.capturing = capturing
        self.lines: list[tuple[str, bool]] = []

    def write_line(self, line: str) -> None:
        self.lines.append((line, self.capturing["on"]))


class Capture:
    """capturemanager's global_and_fixture_disabled(): capturing is off inside."""

    def __init__(self) -> None:
        self.state = {"on": True}

    @contextlib.contextmanager
    def global_and_fixture_disabled(self) -> Iterator[None]:
        self.state["on"] = False
        try:
            yield
        finally:
            self.state["on"] = True


def event(**changes: Any) -> TrialFinished:
    fields = dict(done=2, total=3, trial_id="1", status="COMPLETED", mean=0.81234, best_id="0", best_mean=0.9)
    return TrialFinished(**{**fields, **changes})


def test_each_event_is_one_line_written_past_output_capturing() -> None:
    capture = Capture()
    terminal = Terminal(capture.state)
    listener = progress.ProgressLine(terminal, capture)
    listener.trial_finished(event())
    listener.trial_finished(event(done=3, trial_id="2", status="FAILED", mean=None))
    listener.trial_finished(event(done=1, trial_id="0", mean=None, best_id=None, best_mean=None))
    assert terminal.lines == [
        ("    hptune: trial 2/3 (1) 0.8123, best 0.9000 (trial 0)", False),
        ("    hptune: trial 3/3 (2) FAILED, best 0.9000 (trial 0)", False),
        ("    hptune: trial 1/3 (0) COMPLETED", False),
    ]


def config(verbosity: int, xdist_worker: bool = False, capture: bool = True) -> Any:
    plugins = {"terminalreporter": Terminal({"on": True}), "capturemanager": Capture() if capture else object()}
    fake = SimpleNamespace(
        get_verbosity=lambda: verbosity,
        pluginmanager=SimpleNamespace(get_plugin=plugins.get),
    )
    if xdist_worker:
        fake.workerinput = {}
    return fake


def test_the_line_is_shown_with_v_only_and_never_in_an_xdist_worker() -> None:
    assert isinstance(progress.for_config(config(1)), progress.ProgressLine)
    assert progress.for_config(config(0)) is None
    assert progress.for_config(config(2, xdist_worker=True)) is None
    assert progress.for_config(config(1, capture=False)) is None


def tuner_with(listener: Any) -> Any:
    trials = {"0": SimpleNamespace(trial_id="0", status="COMPLETED")}
    return SimpleNamespace(
        oracle=SimpleNamespace(trials=trials, max_trials=4, objective=SimpleNamespace(direction="max")),
        hptune_scores={"0": [0.5, 0.7]},
        get_trial_dir=lambda tid: "/nonexistent",
        hptune_progress=listener,
    )


def test_the_engine_sends_one_event_per_trial_and_a_listener_that_cannot_write_stops_only_the_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pytest_hptune.engine.progress import report_progress

    events: list[TrialFinished] = []
    tuner = tuner_with(SimpleNamespace(trial_finished=events.append))
    report_progress(tuner, tuner.oracle.trials["0"])
    assert events == [TrialFinished(1, 4, "0", "COMPLETED", pytest.approx(0.6), "0", pytest.approx(0.6))]  # type: ignore[arg-type]  # approx stands in for the floats

    def closed(event: TrialFinished) -> None:
        raise OSError(5, "Input/output error")

    tuner = tuner_with(SimpleNamespace(trial_finished=closed))
    with caplog.at_level(logging.WARNING):
        report_progress(tuner, tuner.oracle.trials["0"])  # no exception: the search goes on
    assert tuner.hptune_progress is None
    assert "progress line not shown" in caplog.text
