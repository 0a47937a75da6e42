"""Parallel trials on Keras Tuner's own distributed mode (``--hptune-workers``).

The test process is the chief: it serves its tuner's oracle over gRPC with
Keras Tuner's ``OracleServicer``. Each worker is the same test run again by
pytest in a subprocess, with Keras Tuner's ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` set: its
``hptune.search()`` builds the same tuner, which Keras Tuner connects to the
chief, runs the trials the chief hands out, saves each trial's per-execution
scores in the shared tuning directory, and then skips the rest of the test.

Why not ``oracle_chief.start_server``: it blocks until every worker has
reported, polling every 20 s at the end, and waits forever for a worker that
died mid-trial. The loop here serves the same protocol, notices dead workers
at once and fails their trial with the reason, so the search finishes.

Imported only by the runner (it needs grpc, which Keras Tuner brings).
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

TUNER_ID = "KERASTUNER_TUNER_ID"
ORACLE_IP = "KERASTUNER_ORACLE_IP"
ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
POLL_S = 0.1


def worker_environment() -> str | None:
    """This process's Keras Tuner worker id, if it is a worker."""
    tuner_id = os.environ.get(TUNER_ID)
    if tuner_id and "chief" not in tuner_id and os.environ.get(ORACLE_IP):
        return tuner_id
    return None


@dataclass
class Worker:
    tuner_id: str
    process: subprocess.Popen
    log: Path
    reported: bool = False

    def describe_exit(self) -> str:
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        tail = _last_lines(self.log)
        return f"worker {self.tuner_id} {how}" + (f"; its last output: {tail}" if tail else "")


def _last_lines(path: Path, n: int = 3) -> str:
    try:
        lines = [l.strip() for l in path.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


@dataclass
class Chief:
    """Serves one search's oracle to its workers until the search is over."""

    oracle: object
    address: str = "127.0.0.1:0"
    workers: list[Worker] = field(default_factory=list)

    def start(self) -> int:
        import grpc
        from keras_tuner.src import protos
        from keras_tuner.src.distribute import oracle_chief

        self.servicer = oracle_chief.OracleServicer(self.oracle)
        # One thread, as in Keras Tuner: the oracle is not re-entrant.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        protos.get_service_grpc().add_OracleServicer_to_server(self.servicer, self.server)
        self.port = self.server.add_insecure_port(self.address)
        if not self.port:
            raise OSError(f"cannot listen on {self.address}")
        self.server.start()
        return self.port

    def spawn(self, count: int, command: list[str], cwd: str, log_dir: Path) -> None:
        host = self.address.rsplit(":", 1)[0]
        if host in ("0.0.0.0", "[::]", ""):
            host = "127.0.0.1"
        for i in range(count):
            tuner_id = f"worker{i}"
            env = dict(os.environ, **{TUNER_ID: tuner_id, ORACLE_IP: host, ORACLE_PORT: str(self.port)})
            log = log_dir / f"{tuner_id}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
            self.workers.append(Worker(tuner_id, process, log))

    def serve(self) -> str | None:
        """Until the search is over. Returns why it ended early, if it did."""
        deaths = []
        try:
            while True:
                time.sleep(POLL_S)
                for worker in self.workers:
                    if worker.process.poll() is None or worker.reported:
                        continue
                    worker.reported = True
                    if worker.process.returncode != 0:
                        deaths.append(worker.describe_exit())
                        self._fail_trial_of(worker)
                # Over when the local workers have exited (or, with external
                # workers only, when the oracle has said stop) and no trial
                # is still running on an external worker.
                local_done = all(w.reported for w in self.workers)
                if (
                    local_done
                    and (self.workers or self.servicer.stop_triggered)
                    and not self.oracle.ongoing_trials
                ):
                    break
        except RuntimeError as exc:  # Keras Tuner: too many consecutive failures
            return str(exc)
        finally:
            self.stop()
        if deaths and len(deaths) == len(self.workers):
            return "every worker died before the search finished: " + "; ".join(deaths)
        if deaths:
            return None  # the others finished the search; the trials say who died
        return None

    def _fail_trial_of(self, worker: Worker) -> None:
        trial = self.oracle.ongoing_trials.get(worker.tuner_id)
        if trial is None:
            return
        trial.status = "FAILED"
        trial.message = f"{worker.describe_exit()} during this trial"
        self.oracle.end_trial(trial)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        self.server.stop(grace=None)
