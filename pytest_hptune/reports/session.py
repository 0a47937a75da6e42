"""The session's reporting: collects every search record (also from
pytest-xdist workers), has the report plugins write them
(``pytest_hptune_write_reports``) and renders the ``hptune`` section of the
terminal summary. Registered per session, so nested sessions (pytester)
never share state."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from .. import signals
from ..state import PENDING_RECORDS, SessionState
from .outcome import ReportOutcome, exception_text


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class Deferred:
    """A built-in report, loaded when it has something to write (its path
    is set; for the job summary, a search ran): its module brings the
    verdict and report machinery, which a run without an hptune test never
    needs. Registered in its place, so the hook order is the same."""

    def __init__(self, module: str, cls: str, *args: Any, writes: Callable[[list[dict[str, Any]]], bool]) -> None:
        self.module, self.cls, self.args, self.writes = module, cls, args, writes

    def load(self) -> Any:
        return getattr(importlib.import_module(f"{__package__}.{self.module}"), self.cls)(*self.args)

    @pytest.hookimpl(tryfirst=True)
    def pytest_hptune_write_reports(self, records: list[dict[str, Any]]) -> Any:
        if not self.writes(records):
            return []
        return self.load().pytest_hptune_write_reports(records=records)


def builtin_reports(state: SessionState) -> list[tuple[str, Any]]:
    """(plugin name, plugin) of each built-in report, in the order of their
    lines in the terminal summary. A report without a path writes nothing."""

    def file(module: str, cls: str, path: Any) -> Deferred:
        return Deferred(module, cls, path, writes=lambda records: path is not None)

    return [
        ("hptune-json", file("json_file", "JsonReport", state.json_path)),
        ("hptune-markdown", file("markdown", "MarkdownReport", state.markdown_path)),
        ("hptune-baseline", file("baseline_file", "BaselineReport", state.save_baseline)),
        ("hptune-plot", file("plot", "PlotReport", state.plot_dir)),
        ("hptune-html", file("html", "HtmlReport", state.html_path)),
        ("hptune-step-summary", Deferred("markdown", "StepSummary", writes=bool)),  # when a search ran
    ]


def register(config: pytest.Config, state: SessionState) -> None:
    """The session's Reporter, and the built-in reports: pluggy calls the
    plugin registered last first, hence the reverse order."""
    config.pluginmanager.register(Reporter(config, state), "hptune-reporter")
    for name, report in reversed(builtin_reports(state)):
        config.pluginmanager.register(report, name)


def call_each_report(config: pytest.Config, records: list[dict[str, Any]]) -> list[Any]:
    """``pytest_hptune_write_reports`` of each plugin in pluggy's order, one
    at a time so that one that raises never hides the others (nor their
    outcomes): its exception becomes a problem outcome, and so does an
    interrupt (Ctrl-C, or a SIGTERM that cut a report of the user's short:
    the plugin's own reports still run). Returns each one's result but None."""
    hook = config.hook.pytest_hptune_write_reports
    impls = [impl for impl in hook.get_hookimpls() if not (impl.wrapper or impl.hookwrapper)]
    results: list[Any] = []
    for impl in reversed(impls):  # pluggy calls the last one first
        others = [other.plugin for other in impls if other is not impl]
        only = config.pluginmanager.subset_hook_caller(hook.name, others)
        try:
            with signals.cancellable(config, interruptible=not impl.plugin_name.startswith("hptune-")):
                results += only(config=config, records=records)
        except KeyboardInterrupt:
            text = f"the report of {impl.plugin_name} was interrupted (Ctrl-C or SIGTERM): exit code 2"
            results.append(ReportOutcome(text, problem=True))
            signals.note_interrupt(config)
        except Exception as exc:  # a report never becomes an INTERNALERROR
            text = f"the report of {impl.plugin_name} failed: {exception_text(exc)}"
            results.append(ReportOutcome(text, problem=True))
    return results


class Reporter:
    """Per-session collector of the records, caller of the report hook, and
    the terminal summary's ``hptune`` section."""

    def __init__(self, config: pytest.Config, state: SessionState) -> None:
        self.config = config
        self.state = state

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """The records the fixture handed over (``PENDING_RECORDS``) move to
        the report, as a plain, JSON-serialisable attribute that
        pytest-xdist ships to the controller, and their JUnit XML properties
        to the item's ``user_properties`` (the teardown report's, which
        ``--junitxml`` writes) and this report's."""
        report = yield
        pending = item.stash.get(PENDING_RECORDS, None)
        if pending:
            from .junit import properties

            junit = [pair for record in pending for pair in properties(record)]
            item.user_properties.extend(junit)
            report.user_properties.extend(junit)
            report.hptune = list(pending)
            pending.clear()
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = getattr(report, "hptune", None)
        if records:
            self.state.records.extend(records)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if is_xdist_worker(self.config):
            return  # the controller writes every report, once
        # A test interrupted (Ctrl-C, SIGTERM) after a search finished makes
        # no report: its finished searches are still on the item.
        for item in session.items:
            pending = item.stash.get(PENDING_RECORDS, None)
            if pending:
                self.state.records.extend(pending)
                pending.clear()
        for result in call_each_report(self.config, list(self.state.records)):
            for outcome in result if isinstance(result, (list, tuple)) else [result]:
                self._note(outcome)
        self._fail_on_problems(session)
        if signals.received(self.config) and session.exitstatus != pytest.ExitCode.INTERRUPTED:
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            self.state.problems.append("the run was interrupted (SIGTERM or Ctrl-C): exit code 2")

    def _fail_on_problems(self, session: pytest.Session) -> None:
        """A report that could not be written fails a run that passed: CI
        must not believe in a file that is not there (unless
        --hptune-report-errors=warn)."""
        if not self.state.problems or self.state.report_errors != "fail":
            return
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            self.state.problems.append(
                "a report could not be written: exit code 1 (--hptune-report-errors=warn only reports it)"
            )

    def _note(self, outcome: object) -> None:
        if not isinstance(outcome, ReportOutcome):
            self.state.problems.append(f"a report hook returned {outcome!r}, not a ReportOutcome")
        elif outcome.problem:
            self.state.problems.append(outcome.text)
        else:
            self.state.written.append(outcome.text)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        state = self.state
        if is_xdist_worker(self.config) or not (state.records or state.problems):
            return
        from ..verdict.compare import family_line
        from .terminal import format_summary

        try:
            terminalreporter.section("hptune")
            width = self.config.get_terminal_writer().fullwidth
            verbose = self.config.get_verbosity() > 0
            for text, markup in format_summary(state.records, width, verbose):
                terminalreporter.write_line(text, **markup)
            family = family_line(state.records)
            if family:
                terminalreporter.write_line(family)
            for line in state.written:
                terminalreporter.write_line(line)
            for problem in state.problems:
                terminalreporter.write_line(f"hptune: {problem}", red=True, bold=True)
        except Exception as exc:  # a report never turns into an INTERNALERROR
            terminalreporter.write_line(
                f"hptune: could not render the summary: {exception_text(exc)}",
                red=True,
            )
