"""Session state kept in ``config.stash``: the command-line and ini layers of
settings (validated once, at configure time), report paths and the records
of every search seen by this process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .reports import baseline_file as baseline

from .settings import (
    OPTION_SETTINGS,
    SPECS,
    Layer,
    SettingError,
    ini_name,
    option_name,
    parse_chief,
    parse_ini,
    parse_workers,
)

PENDING_RECORDS = pytest.StashKey[list]()  # on an item: records not yet reported


def dest(option: str) -> str:
    return "hptune_" + option.replace("-", "_")


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
    _baseline: Any = None  # the loaded baseline file (or the BaselineError)
    resume: bool = False
    workers: int = 0
    chief: str | None = None  # --hptune-chief: serve (also) external workers
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shown in the summary
    written: list[str] = field(default_factory=list)  # report files written

    @classmethod
    def from_config(cls, config: pytest.Config) -> "SessionState":
        inifile = str(config.inipath) if config.inipath else "the ini file"
        ini_base = config.inipath.parent if config.inipath else config.rootpath
        cli: dict[str, Any] = {}
        ini: dict[str, Any] = {}
        for setting in OPTION_SETTINGS:
            value = config.getoption(dest(SPECS[setting].option))
            if value is not None:
                cli[setting] = value  # validated by the argparse type converter
            text = config.getini(ini_name(setting))
            if text:
                try:
                    ini[setting] = parse_ini(setting, text, inifile)
                except SettingError as exc:
                    raise pytest.UsageError(str(exc)) from None

        def path(option: str) -> Path | None:
            value = config.getoption(dest(option))
            if value:
                return Path(value).expanduser().absolute()
            text = config.getini(dest(option))
            if text:
                return (ini_base / Path(text).expanduser()).absolute()
            return None

        resume = config.getoption(dest("resume")) or config.getini("hptune_resume")
        workers = config.getoption(dest("workers"))
        chief = config.getoption(dest("chief"))
        try:
            if workers is None and config.getini("hptune_workers"):
                workers = parse_workers(config.getini("hptune_workers"), f"ini option hptune_workers in {inifile}")
            if chief is None and config.getini("hptune_chief"):
                chief = parse_chief(config.getini("hptune_chief"), f"ini option hptune_chief in {inifile}")
        except SettingError as exc:
            raise pytest.UsageError(str(exc)) from None
        directory = path("dir")
        if resume and directory is None:
            cache = getattr(config, "cache", None)
            if cache is None:
                raise pytest.UsageError(
                    "--hptune-resume keeps tuning directories in pytest's cache, which "
                    "is disabled (-p no:cacheprovider): pass --hptune-dir=PATH as well"
                )
            directory = Path(cache.mkdir("hptune"))
        def baseline_path(option: str) -> Path | None:
            value = config.getoption(dest(option))
            if value is None:
                return None
            if value:
                return Path(value).expanduser().absolute()
            text = config.getini("hptune_baseline")
            if text:
                return (ini_base / Path(text).expanduser()).absolute()
            return config.rootpath / baseline.DEFAULT_PATH

        return cls(
            save_baseline=baseline_path("save-baseline"),
            compare_baseline=baseline_path("compare"),
            compare_strict=bool(config.getoption(dest("compare-strict"))),
            cli_layer=Layer("command line", cli),
            ini_layer=Layer(f"ini ({inifile})", ini),
            directory=directory,
            json_path=path("json"),
            markdown_path=path("markdown"),
            plot_dir=path("plot"),
            html_path=path("html"),
            resume=bool(resume),
            workers=workers or 0,
            chief=chief,
        )

    def baseline_data(self) -> dict:
        """The --hptune-compare file, loaded once; raises BaselineError."""
        if self._baseline is None:
            try:
                self._baseline = baseline.load(self.compare_baseline)
            except baseline.BaselineError as exc:
                self._baseline = exc
        if isinstance(self._baseline, Exception):
            raise self._baseline
        return self._baseline

    def source_label(self, setting: str) -> str | None:
        if setting in self.cli_layer.values:
            return option_name(setting)
        if setting in self.ini_layer.values:
            return ini_name(setting)
        return None
