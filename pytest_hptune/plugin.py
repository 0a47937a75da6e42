"""pytest-hptune's pytest plugin: options, marker, fixture and reports.

This is the module pytest loads for every run; it must stay cheap. Nothing
here imports TensorFlow, Keras or Keras Tuner (only ``engine/`` does), and
the fixture, verdict and report machinery load when a test uses the
``hptune`` fixture (or a report has something to write): a run that selects
no hptune test starts as fast as with ``-p no:hptune``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from . import quiet, signals
from .options import OPTIONS
from .reports import session as report_session
from .settings import OPTION_SETTINGS, SPECS, SettingError, Settings, resolve, tuner_name
from .state import SessionState

if TYPE_CHECKING:
    from .fixture import Hptune

STATE = pytest.StashKey[SessionState]()

MARKER_DOC = (
    "hptune("
    + ", ".join(f"{name}={spec.default!r}" for name, spec in SPECS.items())
    + "): settings and gates of the searches run by the hptune fixture in "
    "this test (see pytest-hptune's README)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every row of the options table: a --hptune-* option and its ini key."""
    group = parser.getgroup("hptune", "hyperparameter-tuning gates (pytest-hptune)")
    ini_keys: set[str] = set()
    for row in OPTIONS:
        group.addoption(row.flag, **row.addoption_kwargs())
        if row.ini not in ini_keys:  # --hptune-save-baseline and --hptune-compare share theirs
            ini_keys.add(row.ini)
            parser.addini(row.ini, row.ini_help, type=row.ini_type, default=row.ini_default)


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
    # The records' collector and the built-in reports, as plugins of the
    # pytest_hptune_write_reports hook (hookspecs.py).
    report_session.register(config, state)
    # A cancelled CI job's SIGTERM ends the run as Ctrl-C does: reports
    # written, summary printed (main process only; see signals.py).
    signals.install(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    signals.uninstall(config)
    quiet.uninstall()  # TensorFlow was never imported: no finder left behind


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, object, object]:
    # Outermost: from here on a SIGTERM cannot escape as a raw traceback.
    signals.start_reporting(session)
    try:
        return (yield)
    finally:
        signals.end_as_interrupted(session.config)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    # A SIGTERM whose interrupt the code it landed in swallowed (a weakref
    # callback, an except BaseException): stop after this test all the same.
    if signals.received(item.config) and not item.session.shouldstop:
        item.session.shouldstop = "interrupted by SIGTERM"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def describe(settings: Settings) -> str:
    """The session's settings in the header: 'tuner=random trials=3
    executions=auto 3-10 epochs=fit default seed=0'. (Written here, not with
    the reports' words in reports/text.py, so that a session without hptune
    tests loads no report module; a test holds the two to the same words.)"""
    epochs = "fit default" if settings.epochs is None else settings.epochs
    executions = (
        f"auto {settings.min_executions}-{settings.max_executions}"
        if settings.adaptive
        else settings.executions_per_trial
    )
    return (
        f"tuner={tuner_name(settings.tuner)} trials={settings.max_trials} "
        f"executions={executions} epochs={epochs} seed={settings.seed}"
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(STATE, None)
    if state is None:
        return None
    try:
        defaults = resolve([state.ini_layer, state.cli_layer])
    except SettingError as exc:
        return f"hptune: {exc}"
    origins = [f"{setting} from {label}" for setting in OPTION_SETTINGS if (label := state.source_label(setting))]
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
    if item.get_closest_marker("hptune") is not None and "hptune" not in getattr(item, "fixturenames", ()):
        warnings.warn(
            pytest.PytestWarning(
                f"{item.nodeid} is marked hptune but does not use the hptune fixture: the marker has no effect"
            ),
            stacklevel=2,
        )


@pytest.fixture
def hptune(request: pytest.FixtureRequest) -> Hptune:
    """Run bounded Keras Tuner searches gated by the ``hptune`` marker."""
    __tracebackhide__ = True
    from .fixture import Hptune
    from .reports import progress
    from .search_settings import marker_layer

    try:
        marker = marker_layer(request.node)
        fixture = Hptune(request, request.config.stash[STATE], marker, progress.for_config(request.config))
        fixture.settings()  # validate the marker with ini and command line now
        problem = None
    except SettingError as exc:
        problem = str(exc)
    if problem is not None:
        # Outside the except block: the error is printed once, not chained.
        pytest.fail(problem, pytrace=False)
    return fixture
