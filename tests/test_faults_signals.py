"""Signals: SIGTERM (a cancelled or timed-out CI job) ends the run as Ctrl-C
does, in the process that reports only; workers keep dying on it."""

import json
import signal
import subprocess
import sys
import time

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


def run_until(pytester, marker, *args, timeout=120.0):
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


def test_sigterm_during_a_search_keeps_the_finished_searches_and_the_summary(project):
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


def handlers(pytester):
    return sorted((pytester.path / "handlers.txt").read_text().splitlines())


def test_only_the_reporting_process_turns_sigterm_into_an_interrupt(pytester, monkeypatch):
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


def test_a_handler_of_the_user_is_kept_and_the_default_restored_after_the_session(pytester):
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


def test_an_interrupt_inside_a_test_keeps_its_finished_searches(project):
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
