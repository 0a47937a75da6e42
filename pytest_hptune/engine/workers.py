"""``--hptune-workers``, the pytest side: where a test's search keeps its
files (the same project in the chief and its workers), the command that runs
the test again in a worker, and a worker's part of the search. Imports no
Keras: the fixture plans with it before the engine loads; the chief's side
is ``distributed.py``."""

from __future__ import annotations

import dataclasses
import re
import sys
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from ..settings import option_name

if TYPE_CHECKING:
    from ..state import SessionState


@dataclasses.dataclass(frozen=True)
class Workers:
    """--hptune-workers: how many local worker processes, the command that
    runs the test in one, and the chief's listening address."""

    count: int
    command: list[str]
    cwd: str
    address: str = "127.0.0.1:0"
    timeout: float | None = None  # --hptune-worker-timeout (None: distributed.silence_limit's default)


def project_name(nodeid: str, searches: int) -> str:
    """The tuning project of a test's search (its first, or its n-th
    after ``searches`` others): readable, bounded and unique."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[-80:]
    name = f"{readable}-{zlib.crc32(nodeid.encode()):08x}"
    return f"{name}-{searches}" if searches else name


def plan(config: pytest.Config, state: SessionState, nodeid: str, directory: str) -> Workers:
    """The workers of a test's first search (--hptune-workers, --hptune-chief)."""
    return Workers(
        state.workers,
        worker_command(config, state, nodeid, directory),
        str(config.rootpath),
        state.chief or "127.0.0.1:0",
        state.worker_timeout,
    )


def worker_command(config: pytest.Config, state: SessionState, nodeid: str, directory: str) -> list[str]:
    """Runs this test again in a worker process (Keras Tuner's variables
    are added per worker): same rootdir, ini file and hptune options, the
    chief's tuning directory."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        nodeid,
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-o",
        "addopts=",
        f"--rootdir={config.rootpath}",
        f"--hptune-dir={directory}",
    ]
    if config.inipath:
        command += ["-c", str(config.inipath)]
    command += chief_options(config)
    for setting, value in state.cli_layer.values.items():
        command.append(f"{option_name(setting)}={value}")
    return command


def chief_options(config: pytest.Config) -> list[str]:
    """The chief's own pytest options that decide what code a worker runs:
    its plugins (-p), ini overrides (-o), warning filters (-W) and import
    mode, as pytest resolved them from the command line, PYTEST_ADDOPTS and
    the ini file's addopts (which the worker's command replaces: -n 2 from
    CI, say, must not reach a worker)."""
    option = config.option
    out: list[str] = []
    for plugin in getattr(option, "plugins", None) or ():
        if plugin.split(":")[-1].split(".")[0] not in ("xdist", "cacheprovider"):
            out += ["-p", plugin]
    for override in getattr(option, "override_ini", None) or ():
        if override.split("=", 1)[0].strip() != "addopts":
            out += ["-o", override]
    for warning in getattr(option, "pythonwarnings", None) or ():
        out += ["-W", warning]
    importmode = getattr(option, "importmode", None)
    if importmode:
        out.append(f"--import-mode={importmode}")
    return out


def work_for_chief(worker: str, first: bool, shared: Any, project: str, run: Callable[[str, str], None]) -> NoReturn:
    """In a worker: join the chief's search (``run(directory, project)``),
    then skip the rest of the test (its verdict is the chief's)."""
    __tracebackhide__ = True
    if not first:
        pytest.skip(f"hptune worker {worker}: only a test's first search is distributed")
    if shared is None:
        pytest.fail(
            f"hptune worker {worker} needs the chief's tuning directory: pass "
            "--hptune-dir=PATH (the same, shared, directory as the chief's)",
            pytrace=False,
        )
    from .distributed import watch_chief

    watch_chief()
    run(str(shared), project)
    pytest.skip(f"hptune worker {worker}: ran trials for the chief")
