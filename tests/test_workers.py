"""--hptune-workers: trials on worker processes against a chief oracle served
over gRPC (Keras Tuner's distributed mode)."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=4, executions_per_trial=2, min_score=0.5)
def test_parallel(hptune):
    result = hptune.search(FastModel(), *data())
    assert len(result.trials) + len(result.failed) == 4
"""


def entries(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((pytester.path / "report.json").read_text())["tests"]
    return records


def trials(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[float], str]]:
    return [(t["trial_id"], t["hyperparameters"], t["scores"], t["status"]) for t in entry["trials"]]


def test_workers_run_the_trials_with_the_same_results_as_one_process(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    # The chief also trains the confirmation runs and the best's neighbours.
    project.makepyfile(test_parallel=TEST.replace("min_score=0.5", "min_score=0.5, confirm=1, max_neighbour_drop=1.0"))
    result = project.runpytest_subprocess("--hptune-workers=2", "--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    (distributed,) = entries(project)
    assert len(distributed["confirmation"]["scores"]) == 1
    assert {n["name"] for n in distributed["neighbours"]} == {"units", "dropout"}
    assert [w["exit_code"] for w in distributed["tuner_info"]["workers"]] == [0, 0]
    assert distributed["tuner_info"]["chief"].startswith("127.0.0.1:")
    assert distributed["fits"] == 8
    result.stdout.fnmatch_lines(["*workers=2*", "*gate min_score*passed"])

    result = project.runpytest("--hptune-json=report.json")
    (local,) = entries(project)
    # Random search hands out the same configurations whichever process asks,
    # and executions are seeded by (seed, trial, execution): same results.
    assert trials(distributed) == trials(local)
    # This process cannot count the workers' fits; FastModel has its own
    # fit(), so no model is reused in either.
    assert distributed["reused_fits"] is None and local["reused_fits"] == 0


def test_a_worker_killed_mid_trial_is_reported_and_the_others_finish_the_search(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # worker1 dies in its first trial; fits slow enough that worker0 cannot
    # take every trial before worker1 has started.
    monkeypatch.setenv("HPTUNE_TEST_KILL_AT_FIT", "1")
    monkeypatch.setenv("HPTUNE_TEST_KILL_WORKER", "worker1")
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "1.5")
    project.makepyfile(test_parallel=TEST)
    result = project.runpytest_subprocess("--hptune-workers=2", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    (entry,) = entries(project)
    (failed,) = [t for t in entry["trials"] if t["status"] == "FAILED"]
    assert failed["message"].startswith("worker worker1 was killed by signal 9")
    assert len(entry["trials"]) == 4 and entry["stopped_reason"] is None
    assert [w["exit_code"] for w in entry["tuner_info"]["workers"]] == [0, -9]
    # The lost trial may have held the best configuration: the verdict says so.
    (lost,) = [a for a in entry["advice"] if a["kind"] == "lost_trials"]
    assert lost["trials"] == [failed["trial_id"]] and "may have been the best" in lost["text"]
    result.stdout.fnmatch_lines([f"*advice: never scored, so not judged: trial {failed['trial_id']} *"])


def test_a_search_whose_workers_all_die_fails_with_the_reason(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HPTUNE_TEST_KILL_AT_FIT", "1")
    project.makepyfile(test_parallel=TEST)
    result = project.runpytest_subprocess("--hptune-workers=1", "--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    (entry,) = entries(project)
    (trial,) = entry["trials"]
    assert trial["status"] == "FAILED"
    assert trial["message"].startswith("worker worker0 was killed by signal 9")
    assert entry["stopped_reason"].startswith("every worker died before the search finished")
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*stopped early: every worker died before the search finished*"])


def test_a_worker_without_the_chiefs_directory_says_what_to_pass(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker9")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    project.makepyfile(test_parallel=TEST)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hptune worker worker9 needs the chief's tuning directory: pass --hptune-dir=PATH*"])


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--hptune-workers=-1"],
            "*--hptune-workers: invalid workers='-1' from --hptune-workers: expected an integer >= 0",
        ),
        (["--hptune-chief=nohost"], "*invalid chief address 'nohost' from --hptune-chief: expected HOST:PORT*"),
    ],
)
def test_bad_worker_options_are_usage_errors(project: pytest.Pytester, args: list[str], expected: str) -> None:
    project.makepyfile(test_x="def test_x(): pass")
    result = project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])


def test_a_cluster_worker_started_by_hand_joins_a_chief(project: pytest.Pytester) -> None:
    """The README's cluster recipe: the chief listens on a fixed address with
    no local workers; a worker elsewhere sets Keras Tuner's variables and runs
    the same test against the same (shared) tuning directory."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    project.makepyfile(test_parallel=TEST)
    common = [
        sys.executable,
        "-m",
        "pytest",
        "test_parallel.py::test_parallel",
        "-p",
        "no:cacheprovider",
        "--hptune-dir=shared",
    ]
    chief = subprocess.Popen(
        [*common, f"--hptune-chief=127.0.0.1:{port}", "--hptune-json=report.json"],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Start the worker once the chief listens (the README says: chief first).
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and chief.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    env = dict(
        os.environ, KERASTUNER_TUNER_ID="worker7", KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(port)
    )
    worker = subprocess.run(
        [*common, "-rs"], cwd=project.path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    out, _ = chief.communicate(timeout=300)
    assert chief.returncode == 0, out
    assert "hptune worker worker7: ran trials for the chief" in worker.stdout
    (entry,) = entries(project)
    assert len(entry["trials"]) == 4 and entry["passed"]
    assert entry["tuner_info"]["workers"] == [] and entry["tuner_info"]["chief"] == f"127.0.0.1:{port}"


def test_consecutive_failures_on_workers_end_the_search_instead_of_hanging(project: pytest.Pytester) -> None:
    # Keras Tuner raises "too many consecutive failures" inside the chief's
    # gRPC handler and leaves its oracle lock held: the chief must not hang.
    project.makepyfile(
        test_broken="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=5, executions_per_trial=1)
        def test_broken(hptune):
            hptune.search(FastModel(fail_fits="all"), *data())
        """
    )
    result = project.runpytest_subprocess("--hptune-workers=1", "--hptune-json=report.json", timeout=240)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Keras Tuner stopped the search*consecutive failures*"])
    # Each failed trial keeps its reason, though Keras Tuner's gRPC protocol
    # drops it on the way from the worker to the chief.
    (entry,) = entries(project)
    messages = [t["message"] for t in entry["trials"]]
    assert messages[:2] == ["val_accuracy is nan"] * 2, messages


BUDGET = """
import pytest
from models import FastModel, data

@pytest.mark.hptune(max_trials=40, executions_per_trial=2, max_time=1)
def test_budget(hptune):
    hptune.search(FastModel(), *data())
"""


def test_the_chief_keeps_max_time_between_the_workers_trials(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "0.3")
    project.makepyfile(test_budget=BUDGET)
    result = project.runpytest_subprocess("--hptune-workers=1", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    (entry,) = entries(project)
    assert entry["time_budget"] == {"max_time": 1.0, "ended_search": True}
    # The worker's start-up alone spends the budget: the first trial runs,
    # and no other starts.
    assert len(entry["trials"]) == 1


def test_a_hung_worker_fails_the_search_at_the_deadline_with_its_last_output(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker hangs (in its start-up, or its first fit: it takes longer
    # than 2 s to start); the chief hears nothing for 2 s.
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "600")
    project.makepyfile(test_parallel=TEST)
    result = project.runpytest_subprocess(
        "--hptune-workers=1", "--hptune-worker-timeout=2", "--hptune-json=report.json", timeout=240
    )
    result.assert_outcomes(failed=1)
    assert result.duration < 200  # not the 600 s the worker sleeps
    (entry,) = entries(project)
    assert "(--hptune-worker-timeout); 0 trials completed" in entry["stopped_reason"]
    assert "worker worker0 was still running, silent; its last output: " in entry["stopped_reason"]
    assert [w["exit_code"] for w in entry["tuner_info"]["workers"]] == [-9]  # ended by the chief
    assert all(t["status"] == "FAILED" for t in entry["trials"])
    result.stdout.fnmatch_lines(
        ["*no worker * 2 s (--hptune-worker-timeout); *worker worker0 was still running, silent*"]
    )


def test_a_worker_silent_in_its_trial_fails_that_trial_and_the_search(tmp_path: Path) -> None:
    # Chief.serve itself, with a worker process that took a trial, printed a
    # line and then hangs: after the deadline its trial fails, the search
    # stops with what is known and the worker is ended.
    import subprocess
    import sys
    import time

    import keras_tuner

    from pytest_hptune.engine import distributed

    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=5, seed=1)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.hyperparameters.Int("units", 1, 8)
    chief = distributed.Chief(oracle, silence=0.5)
    chief.start()
    log = tmp_path / "worker0.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "import time; print('epoch 1/5', flush=True); time.sleep(600)"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    chief.workers.append(distributed.Worker("worker0", process, log))
    trial = oracle.create_trial("worker0")
    while "epoch" not in log.read_text():
        time.sleep(0.05)
    import threading

    served = []
    serving = threading.Thread(target=lambda: served.append(chief.serve()), daemon=True)
    serving.start()
    serving.join(timeout=60)  # without a deadline serve() never returns: fail instead of hanging the suite
    if not served:
        process.kill()
    assert served, "the chief still waits for the silent worker after 60 s"
    (reason,) = served
    assert reason is not None
    assert reason.startswith("no worker reported for 0.5 s (--hptune-worker-timeout); 0 trials completed")
    assert f"running ones failed: trial {trial.trial_id} on worker0" in reason
    assert reason.endswith("worker worker0 was still running, silent; its last output: epoch 1/5")
    assert oracle.trials[trial.trial_id].status == "FAILED"
    assert "worker0 reported nothing for 0.5 s" in oracle.trials[trial.trial_id].message
    assert process.poll() is not None  # ended by the chief


def test_a_chief_that_no_worker_joins_stops_at_the_deadline(project: pytest.Pytester) -> None:
    project.makepyfile(test_parallel=TEST)
    result = project.runpytest_subprocess(
        "--hptune-chief=127.0.0.1:0", "--hptune-worker-timeout=1", "--hptune-json=report.json", timeout=240
    )
    result.assert_outcomes(failed=1)
    (entry,) = entries(project)
    assert entry["stopped_reason"].startswith("no worker asked for a trial within 1 s (--hptune-worker-timeout)")
    assert entry["trials"] == []


def test_the_deadline_defaults_to_ten_minutes_or_twice_max_time() -> None:
    from pytest_hptune.engine.distributed import silence_limit

    assert silence_limit(None, None) == 600
    assert silence_limit(None, 60) == 600
    assert silence_limit(None, 400) == 800
    assert silence_limit(5, 400) == 5


def test_a_chief_that_cannot_listen_stops_its_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import grpc
    import keras_tuner

    from pytest_hptune.engine import distributed

    made = []

    class Recorded:
        def __init__(self, server: Any) -> None:
            self.server, self.stopped = server, False
            made.append(self)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.server, name)

        def add_insecure_port(self, address: str) -> None:
            raise RuntimeError(f"Failed to bind to address {address}")

        def stop(self, grace: float | None) -> Any:
            self.stopped = True
            return self.server.stop(grace)

    real = grpc.server
    monkeypatch.setattr(grpc, "server", lambda *a, **k: Recorded(real(*a, **k)))
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1)
    with pytest.raises(RuntimeError, match="Failed to bind"):
        distributed.Chief(oracle, "127.0.0.1:1").start()
    assert [r.stopped for r in made] == [True]


def test_local_workers_keep_the_chiefs_pytest_options(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plugin from PYTEST_ADDOPTS, an ini override and the import mode: the
    # worker fails before its search (and the chief's) without them.
    project.makepyfile(
        chiefplug="""
        import pytest

        @pytest.fixture
        def from_plugin():
            return 42
        """,
        test_parallel="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=1)
        def test_parallel(hptune, from_plugin, request):
            assert from_plugin == 42
            assert request.config.getini("console_output_style") == "classic"
            assert request.config.option.importmode == "append"
            hptune.search(FastModel(), *data())
        """,
    )
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p chiefplug")
    result = project.runpytest_subprocess(
        "--hptune-workers=1",
        "-o",
        "console_output_style=classic",
        "--import-mode=append",
        "--hptune-json=report.json",
        "--hptune-worker-timeout=120",
        timeout=240,
    )
    result.assert_outcomes(passed=1)
    (entry,) = entries(project)
    assert [w["exit_code"] for w in entry["tuner_info"]["workers"]] == [0]


def test_only_trials_lost_with_their_worker_carry_the_warning() -> None:
    from pytest_hptune.result import Objective, SearchResult, TrialResult
    from pytest_hptune.verdict.judge import lost_trials

    done = TrialResult("0", {"units": 4}, (0.8, 0.9), "COMPLETED")
    killed = TrialResult("1", {"units": 8}, (), "FAILED", "worker worker1 was killed by signal 9 during this trial")
    skipped = TrialResult("2", {"units": 16}, (), "FAILED", "FailedTrialError: skip")
    result = SearchResult(Objective("val_accuracy", "max"), [done], [killed, skipped], None)
    assert lost_trials(result) is None  # no worker was lost
    warning = lost_trials(dataclasses.replace(result, tuner_info={"lost_trials": ["1"]}))
    assert warning is not None
    assert warning["kind"] == "lost_trials" and warning["trials"] == ["1"]
    assert "trial 1 {'units': 8} (worker worker1 was killed by signal 9 during this trial)" in warning["text"]
    assert "judges the 1 trial(s) that completed" in warning["text"] and "trial 2" not in warning["text"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KERASTUNER_TUNER_ID": "worker3", "KERASTUNER_ORACLE_IP": "10.0.0.1"}, "worker3"),
        ({"KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_IP": "10.0.0.1"}, None),
        ({"KERASTUNER_TUNER_ID": "worker3"}, None),
        ({}, None),
    ],
)
def test_a_worker_is_a_tuner_id_other_than_the_chiefs_with_the_chiefs_address(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from pytest_hptune.worker_env import worker_id

    assert worker_id() == expected
