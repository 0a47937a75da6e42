"""pytest-hptune's pytest plugin: options, marker, fixture and reports.

This is the module pytest loads for every run; it must stay cheap. Nothing
here imports TensorFlow, Keras or Keras Tuner (see ``runner.py``).
"""

from __future__ import annotations

import argparse
import os
import warnings

import pytest

from . import quiet
from .reports import baseline_file as baseline
from .reports import json_file as report_json
from .reports import markdown as report_markdown
from .fixture import Hptune, marker_layer
from .reports.terminal import format_summary
from .settings import (
    CHIEF_HELP,
    COMPARE_HELP,
    SAVE_BASELINE_HELP,
    STRICT_HELP,
    OPTION_SETTINGS,
    RESUME_HELP,
    WORKERS_HELP,
    parse_chief,
    parse_workers,
    SESSION_HELP,
    SPECS,
    SettingError,
    cli_type,
    describe,
    ini_name,
    option_help,
    option_name,
    resolve,
)
from .state import PENDING_RECORDS, SessionState, dest

STATE = pytest.StashKey[SessionState]()

MARKER_DOC = (
    "hptune("
    + ", ".join(f"{name}={spec.default!r}" for name, spec in SPECS.items())
    + "): settings and gates of the searches run by the hptune fixture in "
    "this test (see pytest-hptune's README)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hptune", "hyperparameter-tuning gates (pytest-hptune)")
    for setting in OPTION_SETTINGS:
        option = SPECS[setting].option
        group.addoption(
            option_name(setting),
            dest=dest(option),
            metavar="NAME" if setting == "tuner" else "N",
            type=cli_type(setting),
            default=None,
            help=option_help(setting),
        )
        parser.addini(ini_name(setting), option_help(setting), type="string", default="")
    for option, text in SESSION_HELP.items():
        group.addoption(
            f"--hptune-{option}",
            dest=dest(option),
            metavar="PATH",
            default=None,
            help=f"{text} (ini: hptune_{option})",
        )
        parser.addini(f"hptune_{option}", text, type="string", default="")
    group.addoption(
        "--hptune-resume",
        dest=dest("resume"),
        action="store_true",
        default=None,
        help=f"{RESUME_HELP} (ini: hptune_resume)",
    )
    parser.addini("hptune_resume", RESUME_HELP, type="bool", default=False)
    for option, parse, metavar, text in (
        ("workers", parse_workers, "N", WORKERS_HELP),
        ("chief", parse_chief, "HOST:PORT", CHIEF_HELP),
    ):
        group.addoption(
            f"--hptune-{option}",
            dest=dest(option),
            metavar=metavar,
            type=_converter(parse, f"--hptune-{option}"),
            default=None,
            help=f"{text} (ini: hptune_{option})",
        )
        parser.addini(f"hptune_{option}", text, type="string", default="")
    for option, text in (("save-baseline", SAVE_BASELINE_HELP), ("compare", COMPARE_HELP)):
        group.addoption(
            f"--hptune-{option}",
            dest=dest(option),
            metavar="PATH",
            nargs="?",
            const="",  # the default path
            default=None,
            help=text,
        )
    parser.addini("hptune_baseline", "the baseline file's path (default hptune-baseline.json)",
                  type="string", default="")
    group.addoption("--hptune-compare-strict", dest=dest("compare-strict"), action="store_true",
                    default=False, help=STRICT_HELP)


def _converter(parse, option):
    def convert(text):
        try:
            return parse(text, option)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    # TensorFlow reads this once, at its import, which may come from the
    # user's own modules during collection: set it now (a user's value wins).
    # Only an environment variable: nothing heavy is imported here.
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        quiet.install()
    state = SessionState.from_config(config)
    config.stash[STATE] = state
    config.pluginmanager.register(Reporter(config, state), "hptune-reporter")


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    try:
        defaults = resolve([state.ini_layer, state.cli_layer])
    except SettingError as exc:
        return f"hptune: {exc}"
    origins = [
        f"{setting} from {label}"
        for setting in OPTION_SETTINGS
        if (label := state.source_label(setting))
    ]
    where = state.directory or "pytest's temporary directory"
    text = f"hptune: {describe(defaults)} dir={where}"
    if state.resume:
        text += " resume=on"
    if state.workers:
        text += f" workers={state.workers}"
    if state.chief:
        text += f" chief={state.chief}"
    if origins:
        text += f" ({'; '.join(origins)})"
    return text


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Warned at setup, not collection: under filterwarnings=error this makes
    # the test an error instead of the whole session an INTERNALERROR.
    if item.get_closest_marker("hptune") is not None and "hptune" not in getattr(
        item, "fixturenames", ()
    ):
        warnings.warn(
            pytest.PytestWarning(
                f"{item.nodeid} is marked hptune but does not use the hptune "
                "fixture: the marker has no effect"
            )
        )


@pytest.fixture
def hptune(request: pytest.FixtureRequest) -> Hptune:
    """Run bounded Keras Tuner searches gated by the ``hptune`` marker."""
    try:
        marker = marker_layer(request.node)
        fixture = Hptune(request, request.config.stash[STATE], marker)
        fixture.settings()  # validate the marker with ini and command line now
    except SettingError as exc:
        pytest.fail(str(exc), pytrace=False)
    return fixture


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    pending = item.stash.get(PENDING_RECORDS, None)
    if pending:
        # A plain, JSON-serialisable attribute: pytest-xdist ships it to the
        # controller with the report.
        report.hptune = list(pending)
        pending.clear()
    return report


def _write_plots(directory, records) -> None:
    from .reports import plot as report_plot  # matplotlib: only when asked for

    report_plot.write_pngs(directory, records)


def _write_html(path, records) -> None:
    from .reports import plot as report_plot

    report_plot.write_html(path, records)


def _save_baseline(path, records) -> None:
    keyed = [(baseline.key(r["nodeid"], r.get("search", 0)), r) for r in records]
    baseline.save(path, keyed, baseline.versions())


class Reporter:
    """Per-session collector and writer of the reports. Registered as a plugin
    object so that nested sessions (pytester) never share state."""

    def __init__(self, config: pytest.Config, state: SessionState):
        self.config = config
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        records = getattr(report, "hptune", None)
        if records:
            self.state.records.extend(records)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self.state
        if _is_xdist_worker(self.config):
            return  # the controller writes every report, once
        writers = [
            ("JSON report", state.json_path, report_json.write),
            ("Markdown report", state.markdown_path, report_markdown.write),
            ("baseline", state.save_baseline, _save_baseline),
            ("plots", state.plot_dir, _write_plots),
            ("HTML report", state.html_path, _write_html),
        ]
        for what, path, write in writers:
            if path is None:
                continue
            try:
                write(path, state.records)
                state.written.append(f"{what}: {path}")
            except Exception as exc:  # a report never becomes an INTERNALERROR
                state.problems.append(f"could not write the {what} {path}: {exc}")
        try:
            summary = report_markdown.append_step_summary(state.records)
            if summary is not None:
                state.written.append(f"GitHub job summary: {summary}")
        except Exception as exc:  # a report never becomes an INTERNALERROR
            state.problems.append(f"could not append to ${report_markdown.STEP_SUMMARY}: {exc}")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        state = self.state
        if _is_xdist_worker(self.config) or not (state.records or state.problems):
            return
        try:
            terminalreporter.section("hptune")
            width = self.config.get_terminal_writer().fullwidth
            verbose = self.config.get_verbosity() > 0
            for text, markup in format_summary(state.records, width, verbose):
                terminalreporter.write_line(text, **markup)
            for line in state.written:
                terminalreporter.write_line(line)
            for problem in state.problems:
                terminalreporter.write_line(f"hptune: {problem}", red=True, bold=True)
        except Exception as exc:  # a report never turns into an INTERNALERROR
            terminalreporter.write_line(
                f"hptune: could not render the summary: {type(exc).__name__}: {exc}",
                red=True,
            )
