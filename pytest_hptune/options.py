"""The command-line options and their ini keys: one table, :data:`OPTIONS`.

Each row is one ``--hptune-*`` option: its name, its ini key, its help, its
metavar and its parser (text -> validated value, raising
:class:`~pytest_hptune.settings.SettingError` naming the source). The plugin
registers every row (``pytest_addoption``) and the session reads every row
(:class:`~pytest_hptune.state.SessionState`) through this table, with one
rule: the command line, else the ini file.

The rows of per-search settings (``--hptune-trials``, ...) take their
default, validator and help from :data:`~pytest_hptune.settings.SPECS`, the
settings model. This module imports nothing heavy: it is loaded with the
plugin.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pytest

from .settings import SPECS, SettingError, SettingTextError, parse_setting

# How an option takes its value on the command line.
VALUE = "value"  # --hptune-x=TEXT, parsed by argparse with the row's parser
PATH = "path"  # --hptune-x=PATH; relative to the working directory (ini: to the ini file)
FLAG = "flag"  # --hptune-x; the ini key is a bool
OPTIONAL_PATH = "optional path"  # --hptune-x or --hptune-x=PATH; the ini key is the path


@dataclass(frozen=True)
class Option:
    """One row: a --hptune-* option and its ini key."""

    name: str  # --hptune-<name>
    ini: str  # the ini key
    about: str  # what it does: the help, less the default and ini notes
    metavar: str | None
    parse: Callable[[Any, str], Any]  # (text, where) -> value, raises SettingError naming where
    kind: str = VALUE
    default: str | None = None  # the default, in words, for the help
    setting: str | None = None  # the per-search setting (SPECS key) it sets
    ini_about: str | None = None  # the ini key's help when it is not the option's
    const: Any = None  # a VALUE row's value when given without one (--hptune-x alone)

    @property
    def flag(self) -> str:
        return "--hptune-" + self.name

    @property
    def dest(self) -> str:
        return "hptune_" + self.name.replace("-", "_")

    @property
    def help(self) -> str:
        notes = ([f"default: {self.default}"] if self.default else []) + [f"ini: {self.ini}"]
        return f"{self.about} ({'; '.join(notes)})"

    @property
    def ini_help(self) -> str:
        if self.ini_about:
            return self.ini_about
        return f"{self.about} (default: {self.default})" if self.default else self.about

    @property
    def ini_type(self) -> Literal["bool", "string"]:
        return "bool" if self.kind == FLAG else "string"

    @property
    def ini_default(self) -> Any:
        return False if self.kind == FLAG else ""

    def convert(self, text: str) -> Any:
        """argparse's type converter: bad text is a usage error, not a traceback."""
        try:
            return self.parse(text, self.flag)
        except SettingTextError as exc:
            raise argparse.ArgumentTypeError(exc.reason) from None  # argparse names the option
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def addoption_kwargs(self) -> dict[str, Any]:
        """``parser.addoption``'s keywords for this row."""
        kwargs: dict[str, Any] = {"dest": self.dest, "default": None, "help": self.help}
        if self.kind == FLAG:
            return {**kwargs, "action": "store_true"}
        kwargs["metavar"] = self.metavar
        if self.kind == OPTIONAL_PATH:
            return {**kwargs, "nargs": "?", "const": ""}  # "": the ini path or the default path
        if self.kind == VALUE:
            kwargs["type"] = self.convert
            if self.const is not None:
                kwargs.update(nargs="?", const=self.const)
        return kwargs


def parse_workers(text: str, where: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise SettingError(f"invalid workers={text!r} from {where}: expected an integer >= 0")
    return value


def parse_chief(text: str, where: str) -> str:
    host, sep, port = str(text).strip().rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise SettingError(f"invalid chief address {text!r} from {where}: expected HOST:PORT, e.g. 0.0.0.0:8000")
    return f"{host}:{int(port)}"


def parse_worker_timeout(text: str, where: str) -> float:
    from .settings.validators import seconds

    value = seconds("worker-timeout", text, where)
    assert value is not None  # text is never None here
    return value


def _one_of(name: str, text: str, where: str, choices: dict[str, str]) -> str:
    """``text`` as one of ``choices`` (value: what it means), case-insensitive."""
    value = str(text).strip().lower()
    if value not in choices:
        expected = " or ".join(f"'{k}' ({meaning})" for k, meaning in choices.items())
        raise SettingError(f"invalid {name}={text!r} from {where}: expected {expected}")
    return value


REPORT_ERRORS = {"fail": "a report that cannot be written fails the run", "warn": "it is only reported"}


def parse_report_errors(text: str, where: str) -> str:
    return _one_of("report-errors", text, where, REPORT_ERRORS)


FAMILIES = {"none": "each comparison at 1 - confidence", "bonferroni": "the session's comparisons share it"}


def parse_family(text: str, where: str) -> str:
    return _one_of("family", text, where, FAMILIES)


def parse_path(text: str, where: str) -> Path:
    return Path(text).expanduser()


def parse_truth(value: Any, where: str) -> bool:
    """An ini bool: pytest has parsed it (a bad one is reported by Reader.ini)."""
    return bool(value)


NO_DEFAULT = {"epochs": "model.fit's own"}  # what a setting left unset means


def _setting(setting: str, metavar: str, const: Any = None) -> Option:
    """The row of a per-search setting: its name, help and validator are in SPECS."""
    spec = SPECS[setting]
    option = spec.option
    assert option, f"{setting} has no command-line option in SPECS"
    return Option(
        name=option,
        ini="hptune_" + option.replace("-", "_"),
        about=spec.help,
        metavar=metavar,
        parse=partial(parse_setting, setting),
        default=NO_DEFAULT.get(setting, "none") if spec.default is None else str(spec.default),
        setting=setting,
        const=const,
    )


def _path(name: str, about: str, default: str | None = None) -> Option:
    return Option(name, "hptune_" + name, about, "PATH", parse_path, PATH, default)


BASELINE_DEFAULT = "hptune-baseline.json in the rootdir"
BASELINE_INI = f"the baseline file's path for --hptune-save-baseline and --hptune-compare (default {BASELINE_DEFAULT})"

OPTIONS: tuple[Option, ...] = (
    _setting("tuner", "NAME"),
    _setting("max_trials", "N"),
    _setting("executions_per_trial", "N"),
    _setting("min_executions", "N"),
    _setting("max_executions", "N"),
    _setting("vary", "WHAT"),
    _setting("epochs", "N"),
    _setting("max_time", "SECONDS"),
    _setting("seed", "N"),
    _setting("reuse", "on|off"),
    _setting("max_failed_trials", "N"),
    _setting("max_drop", "X"),
    _setting("confidence", "C"),
    _setting("require_no_drop", "on|off", const=True),
    _setting("anchor_executions", "N"),
    _path("dir", "directory for tuning directories", "inside pytest's temporary directory, never the working tree"),
    _path("json", "write a machine-readable JSON report of every search to PATH"),
    _path(
        "markdown",
        "write a Markdown report (a table per search) to PATH; appended to $GITHUB_STEP_SUMMARY too when that is set",
    ),
    _path(
        "plot",
        "write a PNG per search (scores per trial, gates, baseline) into the directory PATH "
        "(needs pytest-hptune[plot])",
    ),
    _path(
        "html",
        "write one self-contained HTML report with the pictures and the trial tables to PATH "
        "(needs pytest-hptune[plot])",
    ),
    Option(
        "report-errors",
        "hptune_report_errors",
        "when a report cannot be written: 'fail' sets a non-zero exit code (a run that otherwise passed "
        "exits 1), 'warn' only reports it",
        "fail|warn",
        parse_report_errors,
        default="fail",
    ),
    Option(
        "resume",
        "hptune_resume",
        "continue interrupted searches from their completed trials when the test id, search space, "
        "settings and data are unchanged (tuning directories then live in pytest's cache, or under --hptune-dir)",
        None,
        parse_truth,
        FLAG,
    ),
    Option(
        "workers",
        "hptune_workers",
        "run each test's first search on N worker processes against a chief oracle served over gRPC "
        "by the test process (Keras Tuner's distributed mode)",
        "N",
        parse_workers,
        default="0: in the test process",
    ),
    Option(
        "chief",
        "hptune_chief",
        "with --hptune-workers: the chief's listening address, for workers on other machines too",
        "HOST:PORT",
        parse_chief,
        default="127.0.0.1 on a free port",
    ),
    Option(
        "worker-timeout",
        "hptune_worker_timeout",
        "with --hptune-workers or --hptune-chief: the longest the chief waits without hearing from any worker "
        "(none connecting, or every one silent) before it stops the search and fails the test, with each "
        "worker's last output (600, '90s', '10m')",
        "SECONDS",
        parse_worker_timeout,
        default="600 s, or twice max_time when that is longer",
    ),
    Option(
        "save-baseline",
        "hptune_baseline",
        "save each search's best trial (per-execution scores, hyperparameters, settings, versions) "
        "to a baseline file meant to be committed",
        "PATH",
        parse_path,
        OPTIONAL_PATH,
        default=BASELINE_DEFAULT,
        ini_about=BASELINE_INI,
    ),
    Option(
        "compare",
        "hptune_baseline",
        "compare each search with its baseline entry and fail the test on a statistically significant "
        "drop (see --hptune-max-drop, --hptune-confidence)",
        "PATH",
        parse_path,
        OPTIONAL_PATH,
        default=BASELINE_DEFAULT,
        ini_about=BASELINE_INI,
    ),
    Option(
        "family",
        "hptune_family",
        "with --hptune-compare: 'bonferroni' splits 1 - confidence over the session's comparisons (the "
        "baseline entries of the collected tests), so that an unchanged repository fails at most that often "
        "in all; 'none' judges each comparison at 1 - confidence",
        "none|bonferroni",
        parse_family,
        default="none",
    ),
    Option(
        "compare-strict",
        "hptune_compare_strict",
        "with --hptune-compare: a missing baseline entry (or a comparison that cannot be made) fails the test; without it the gates alone judge the test and the reports say it was not compared",
        None,
        parse_truth,
        FLAG,
    ),
)

BY_NAME = {row.name: row for row in OPTIONS}
BY_SETTING = {row.setting: row for row in OPTIONS if row.setting}


class Reader:
    """Reads rows of the table from a pytest config: the command line, else
    the ini file. Paths come back absolute: a command-line path relative to
    the working directory, an ini path relative to the ini file."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.inifile = str(config.inipath) if config.inipath else "the ini file"
        self.ini_base = config.inipath.parent if config.inipath else config.rootpath

    def ini_source(self, row: Option) -> str:
        return f"ini option {row.ini} in {self.inifile}"

    def given(self, row: Option) -> bool:
        """Whether the option is on the command line (an optional path without its PATH too)."""
        return self.config.getoption(row.dest) is not None

    def cli(self, row: Option) -> Any:
        """The command-line value, or None. VALUE rows come parsed by argparse."""
        value = self.config.getoption(row.dest)
        if row.kind in (PATH, OPTIONAL_PATH):
            return row.parse(value, row.flag).absolute() if value else None
        return value

    def ini(self, row: Option) -> Any:
        """The ini value, parsed and validated, or None when the ini file does not set it."""
        where = self.ini_source(row)
        try:
            value = self.config.getini(row.ini)
        except (pytest.UsageError, ValueError, TypeError) as exc:  # pytest could not read it as its type
            raise SettingError(f"invalid value from {where}: {exc}") from None
        if value is None or value == "":
            return None
        value = row.parse(value, where)
        if row.kind in (PATH, OPTIONAL_PATH):
            return (self.ini_base / value).absolute()
        return value

    def value(self, row: Option) -> Any:
        """The command-line value, else the ini value, else None."""
        value = self.cli(row)
        return value if value is not None else self.ini(row)
