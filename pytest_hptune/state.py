"""Session state kept in ``config.stash``: the command-line and ini layers of
settings (validated once, at configure time), report paths and the records
of every search seen by this process."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from . import options
from .options import BY_NAME, BY_SETTING, Reader
from .settings import Layer, SettingError

# The baseline file's default name (--hptune-save-baseline, --hptune-compare).
BASELINE_PATH = "hptune-baseline.json"

PENDING_RECORDS = pytest.StashKey[list[dict[str, Any]]]()  # on an item: records not yet reported


@dataclass
class SessionState:
    cli_layer: Layer
    ini_layer: Layer
    directory: Path | None = None
    json_path: Path | None = None
    markdown_path: Path | None = None
    plot_dir: Path | None = None
    html_path: Path | None = None
    save_baseline: Path | None = None
    compare_baseline: Path | None = None
    compare_strict: bool = False
    family: str = "none"  # --hptune-family: how the session's comparisons share 1 - confidence
    _baseline: dict[str, Any] | Exception | None = None  # the loaded baseline file (or the BaselineError)
    report_errors: str = "fail"  # --hptune-report-errors: an unwritable report fails the run, or warns
    resume: bool = False
    workers: int = 0
    chief: str | None = None  # --hptune-chief: serve (also) external workers
    worker_timeout: float | None = None  # --hptune-worker-timeout: None, the default (distributed.silence_limit)
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shown in the summary
    written: list[str] = field(default_factory=list)  # report files written

    @classmethod
    def from_config(cls, config: pytest.Config) -> SessionState:
        """Every option of the table, from the command line, else the ini file;
        a bad value is a usage error that names its source."""
        read = Reader(config)
        try:
            # Session options (the per-search settings are two layers).
            values = {
                name: read.value(row)
                for name, row in BY_NAME.items()
                if row.setting is None and row.kind != options.OPTIONAL_PATH
            }
            cli = {setting: value for setting, row in BY_SETTING.items() if (value := read.cli(row)) is not None}
            ini = {setting: value for setting, row in BY_SETTING.items() if (value := read.ini(row)) is not None}
            save_baseline = _baseline_path(read, BY_NAME["save-baseline"])
            compare_baseline = _baseline_path(read, BY_NAME["compare"])
        except SettingError as exc:
            raise pytest.UsageError(str(exc)) from None
        _check_extras(values)
        directory = values["dir"]
        if values["resume"] and directory is None:
            cache = getattr(config, "cache", None)
            if cache is None:
                raise pytest.UsageError(
                    "--hptune-resume keeps tuning directories in pytest's cache, which "
                    "is disabled (-p no:cacheprovider): pass --hptune-dir=PATH as well"
                )
            directory = Path(cache.mkdir("hptune"))
        return cls(
            cli_layer=Layer("command line", cli),
            ini_layer=Layer(f"ini ({read.inifile})", ini),
            directory=directory,
            json_path=values["json"],
            markdown_path=values["markdown"],
            plot_dir=values["plot"],
            html_path=values["html"],
            save_baseline=save_baseline,
            compare_baseline=compare_baseline,
            compare_strict=bool(values["compare-strict"]),
            family=values["family"] or "none",
            report_errors=values["report-errors"] or "fail",
            resume=bool(values["resume"]),
            workers=values["workers"] or 0,
            chief=values["chief"],
            worker_timeout=values["worker-timeout"],
        )

    def baseline_data(self) -> dict[str, Any]:
        """The --hptune-compare file, loaded once; raises BaselineError."""
        from . import baseline_input as baseline

        if self._baseline is None:
            path = self.compare_baseline
            assert path is not None  # asked only with --hptune-compare (Hptune._baseline)
            try:
                self._baseline = baseline.load(path)
            except baseline.BaselineError as exc:
                self._baseline = exc
        if isinstance(self._baseline, Exception):
            raise self._baseline
        return self._baseline

    def comparisons(self, nodeids: set[str]) -> int:
        """The comparisons this session makes at most: the baseline file's
        entries whose test was collected (a test's second search is an entry
        ``nodeid#search2``). Known before the first test runs, so each test's
        verdict is decided at its own teardown."""
        from . import baseline_input as baseline

        try:
            entries = self.baseline_data()["entries"]
        except baseline.BaselineError:
            return 1
        return max(1, sum(1 for name in entries if name.split("#search")[0] in nodeids))

    def source_label(self, setting: str) -> str | None:
        if setting in self.cli_layer.values:
            return BY_SETTING[setting].flag
        if setting in self.ini_layer.values:
            return BY_SETTING[setting].ini
        return None


def _baseline_path(read: Reader, row: options.Option) -> Path | None:
    """--hptune-save-baseline / --hptune-compare: off unless given; their PATH,
    else the ini path, else the default file in the rootdir."""
    if not read.given(row):
        return None
    path = read.value(row)
    return path if path is not None else read.config.rootpath / BASELINE_PATH


# Options whose output needs an optional extra: (module, extra).
EXTRAS = {"plot": ("matplotlib", "plot"), "html": ("matplotlib", "plot")}


def _check_extras(values: dict[str, Any]) -> None:
    """Before any test runs: an option whose extra is not installed is a
    usage error naming the extra (not a report missing after every search)."""
    for option, (module, extra) in EXTRAS.items():
        if values.get(option) is not None and find_spec(module) is None:
            raise pytest.UsageError(
                f"--hptune-{option} needs {module}, which is not installed: "
                f"pip install 'pytest-hptune[{extra}]' (or pip install {module})"
            )
