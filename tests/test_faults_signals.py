"""Signals: SIGTERM (a cancelled or timed-out CI job) ends the run as Ctrl-C
does, in the process that reports only; workers keep dying on it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")

TESTS = """
import os
from pathlib import Path

from models import FastModel, data

def test_a(hptune):
    hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=1)

def test_b(hptune):
    os.environ["HPTUNE_TEST_FIT_SLEEP"] = "120"  # a long search, cancelled by CI
    Path("second-started").write_text("")
    hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=1)
"""


def run_until(pytester: pytest.Pytester, marker: str, *args: str, timeout: float = 120.0) -> tuple[int, str]:
    """pytest in a subprocess; SIGTERM once ``marker`` exists. Returns (rc, output)."""
    process = pytester.popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while not (pytester.path / marker).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{marker} never appeared:\n{process.communicate()[0].decode()}")
        time.sleep(0.1)
    time.sleep(0.5)  # into the second test's search
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return process.returncode, out.decode()


def test_sigterm_during_a_search_keeps_the_finished_searches_and_the_summary(project: pytest.Pytester) -> None:
    project.makepyfile(test_term=TESTS)
    rc, out = run_until(project, "second-started", "--hptune-json=report.json", "--hptune-markdown=report.md")
    assert rc == pytest.ExitCode.INTERRUPTED, out
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [t["nodeid"] for t in tests] == ["test_term.py::test_a"]
    assert "### `test_term.py::test_a`" in (project.path / "report.md").read_text()
    assert "= hptune =" in out and "JSON report: " in out, out
    assert "KeyboardInterrupt" in out and "INTERNALERROR" not in out


# Records, in each process of the run, the SIGTERM handler it runs with.
RECORDER = """
import os
import signal

def pytest_sessionstart(session):
    handler = signal.getsignal(signal.SIGTERM)
    name = "default" if handler is signal.SIG_DFL else getattr(handler, "__name__", repr(handler))
    role = "worker" if hasattr(session.config, "workerinput") else "main"
    with open(os.path.join(str(session.config.rootpath), "handlers.txt"), "a") as fh:
        fh.write(f"{role} {name}\\n")
"""


def handlers(pytester: pytest.Pytester) -> list[str]:
    return sorted((pytester.path / "handlers.txt").read_text().splitlines())


def test_only_the_reporting_process_turns_sigterm_into_an_interrupt(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert handlers(pytester) == ["main sigterm_as_interrupt"]
    # pytest-xdist: the controller reports, its worker keeps the default.
    (pytester.path / "handlers.txt").unlink()
    pytester.runpytest_subprocess("-n", "1").assert_outcomes(passed=1)
    assert handlers(pytester) == ["main sigterm_as_interrupt", "worker default"]
    # A --hptune-workers worker is the test run again with Keras Tuner's
    # worker variables: it keeps the default (the chief notices its death).
    (pytester.path / "handlers.txt").unlink()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker0")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert handlers(pytester) == ["main default"]


def test_a_handler_of_the_user_is_kept_and_the_default_restored_after_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    script = """
import signal, sys
import pytest

def own(signum, frame):
    pass

pytest.main(["-q", "-p", "no:cacheprovider"])
after_ours = signal.getsignal(signal.SIGTERM)
signal.signal(signal.SIGTERM, own)
pytest.main(["-q", "-p", "no:cacheprovider"])
print("after:", after_ours is signal.SIG_DFL, signal.getsignal(signal.SIGTERM) is own)
"""
    result = pytester.run(sys.executable, "-c", script)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["after: True True"])
    assert handlers(pytester) == ["main own", "main sigterm_as_interrupt"]


def test_an_interrupt_inside_a_test_keeps_its_finished_searches(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_two="""
        import keras
        import keras_tuner
        import pytest
        from models import FastModel


        class Interrupted(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("units", [4])
                return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

            def fit(self, hp, model, *args, **kwargs):
                raise KeyboardInterrupt  # Ctrl-C, or SIGTERM turned into one


        def test_two_searches(hptune):
            hptune.search(FastModel(), max_trials=1, executions_per_trial=2)
            hptune.search(Interrupted(), max_trials=1, executions_per_trial=1)
        """
    )
    # A subprocess: an in-process run would hand the interrupt to this session.
    result = project.runpytest_subprocess("--hptune-json=report.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    (record,) = json.loads((project.path / "report.json").read_text())["tests"]
    assert record["nodeid"].endswith("test_two_searches") and len(record["trials"][0]["scores"]) == 2
    result.stdout.fnmatch_lines(["*== hptune ==*"])


ONE_SEARCH = """
from models import FastModel, data

def test_a(hptune):
    hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=2)
"""

# Pauses the report whose file name ends with $HPTUNE_TEST_PAUSE_AT in the
# middle of its write (after marking the moment), for a SIGTERM to land there.
PAUSING_WRITES = """
import os
import time
from pathlib import Path

import pytest_hptune.atomic as atomic
import pytest_hptune.reports.plot as plot

_write = atomic.write_bytes


def pausing_write(path, data):
    pause = os.environ.get("HPTUNE_TEST_PAUSE_AT")
    if pause and str(path).endswith(pause) and not Path("pausing").exists():
        Path("pausing").write_text(str(path))
        time.sleep(4)
    _write(path, data)


atomic.write_bytes = plot.write_bytes = pausing_write
"""

EVERY_REPORT = (
    "--hptune-json=report.json",
    "--hptune-markdown=report.md",
    "--hptune-save-baseline=baseline.json",
    "--hptune-plot=plots",
    "--hptune-html=report.html",
)


def assert_every_report_written(path: Path) -> None:
    assert json.loads((path / "report.json").read_text())["tests"][0]["nodeid"] == "test_one.py::test_a"
    assert "test_one.py::test_a" in (path / "report.md").read_text()
    assert "test_one.py::test_a" in (path / "baseline.json").read_text()
    assert list((path / "plots").glob("*.png"))
    assert "test_one.py::test_a" in (path / "report.html").read_text()


def sigterm_at(
    pytester: pytest.Pytester, marker: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> tuple[int, str, float]:
    """pytest in a subprocess; SIGTERM as soon as ``marker`` exists. Returns (rc, output, seconds after the signal)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
    )
    deadline = time.monotonic() + timeout
    while not (pytester.path / marker).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{marker} never appeared:\n{process.communicate()[0].decode()}")
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    out, _ = process.communicate(timeout=60)
    return process.returncode, out.decode(), time.monotonic() - sent


@pytest.mark.parametrize("report", ["report.json", "report.md", "baseline.json", ".png", "report.html"])
def test_sigterm_during_each_report_write_keeps_every_report_and_exits_2(project: pytest.Pytester, report: str) -> None:
    pytest.importorskip("matplotlib")
    project.makeconftest(PAUSING_WRITES)
    project.makepyfile(test_one=ONE_SEARCH)
    rc, out, _ = sigterm_at(project, "pausing", *EVERY_REPORT, env={"HPTUNE_TEST_PAUSE_AT": report})
    assert rc == pytest.ExitCode.INTERRUPTED, out
    assert report in (project.path / "pausing").read_text()
    # The write it landed in finished, and every other report was written.
    assert_every_report_written(project.path)
    assert "= hptune =" in out and "the run was interrupted (SIGTERM or Ctrl-C): exit code 2" in out, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out


SLOW_UPLOAD = """
import time
from pathlib import Path

import pytest


def pytest_hptune_write_reports(config, records):
    Path("uploading").write_text("")
    time.sleep(120)  # an upload that hangs
"""


def test_sigterm_in_a_slow_report_hook_of_the_user_cuts_it_short_and_keeps_the_others(project: pytest.Pytester) -> None:
    pytest.importorskip("matplotlib")
    project.makeconftest(SLOW_UPLOAD)
    project.makepyfile(test_one=ONE_SEARCH)
    rc, out, seconds = sigterm_at(project, "uploading", *EVERY_REPORT)
    assert rc == pytest.ExitCode.INTERRUPTED, out
    assert seconds < 60, out  # not the upload's 120 s
    assert_every_report_written(project.path)
    assert "the report of " in out and "was interrupted (Ctrl-C or SIGTERM): exit code 2" in out, out
    assert "= hptune =" in out and "Traceback" not in out, out


SWALLOWED = """
import time
from pathlib import Path

from models import FastModel, data


class Swallows(FastModel):
    def fit(self, hp, model, *args, **kwargs):
        if not Path("swallowing").exists():
            Path("swallowing").write_text("")
            try:
                time.sleep(60)
            except BaseException:  # a library that swallows the interrupt
                pass
        return super().fit(hp, model, *args, **kwargs)


def test_a(hptune):
    hptune.search(Swallows(), *data(), max_trials=2, executions_per_trial=1)


def test_b():
    Path("second-ran").write_text("")
"""


def test_a_swallowed_sigterm_still_stops_the_run_with_exit_code_2(project: pytest.Pytester) -> None:
    project.makepyfile(test_swallow=SWALLOWED)
    rc, out, _ = sigterm_at(project, "swallowing", "--hptune-json=report.json")
    assert rc == pytest.ExitCode.INTERRUPTED, out
    assert not (project.path / "second-ran").exists(), out
    assert json.loads((project.path / "report.json").read_text())["tests"][0]["nodeid"] == "test_swallow.py::test_a"
    assert "= hptune =" in out and "INTERNALERROR" not in out, out
