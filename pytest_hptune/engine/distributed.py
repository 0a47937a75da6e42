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

Imported only by ``engine/search.py`` when a search has workers (it needs grpc, which
Keras Tuner brings), and by ``engine/workers.py`` in a worker (``watch_chief``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..worker_env import CHIEF_PID, ORACLE_IP, ORACLE_PORT, TUNER_ID
from . import compat

POLL_S = 0.1
# --hptune-worker-timeout's default: the longest silence from every worker
# the chief waits out (a trial reports after each epoch), or twice max_time.
SILENCE_S = 600.0


def silence_limit(worker_timeout: float | None, max_time: float | None) -> float:
    """How long the chief waits without hearing from any worker."""
    if worker_timeout is not None:
        return worker_timeout
    return max(SILENCE_S, 2 * max_time) if max_time else SILENCE_S


@contextlib.contextmanager
def oracle_lock(oracle: Any, timeout: float = 60.0) -> Iterator[None]:
    """Hold Keras Tuner's per-oracle lock the way its ``@synchronized``
    methods do (so that calls made inside count as nested)."""
    locks, threads = compat.oracle_locks()
    lock = locks[oracle]
    if not lock.acquire(timeout=timeout):
        raise RuntimeError("the oracle stayed locked for a minute")
    threads[oracle] = threading.current_thread().name
    try:
        yield
    finally:
        threads[oracle] = None
        lock.release()


def _release_after_failure(oracle: Any) -> None:
    """Keras Tuner's ``@synchronized`` does not release the oracle's lock
    when the method raises (e.g. "too many consecutive failures" from
    ``end_trial``); release it, or the next call waits forever."""
    locks, threads = compat.oracle_locks()
    if threads.get(oracle) == threading.current_thread().name:
        threads[oracle] = None
        locks[oracle].release()


def _stopped_reason(exc: BaseException) -> str:
    if "consecutive failures" in str(exc):
        return f"Keras Tuner stopped the search: {exc}"
    return f"the oracle failed while serving a worker ({type(exc).__name__}: {exc})"


def _servicer_class() -> type[Any]:
    """Keras Tuner's OracleServicer, with every call guarded: an exception
    in the oracle releases its lock, is kept as the search's stopped reason
    and is returned to the worker as an RPC error."""
    import grpc

    servicer = compat.oracle_servicer_class()

    class GuardedServicer(servicer):  # type: ignore[misc, valid-type]
        def __init__(self, oracle: Any, chief: Chief) -> None:
            super().__init__(oracle)
            self.chief = chief

    def guard(name: str) -> Callable[..., Any]:
        method = getattr(servicer, name)

        def guarded(self: Any, request: Any, context: Any) -> Any:
            self.chief.last_heard = time.monotonic()
            try:
                return method(self, request, context)
            except Exception as exc:
                _release_after_failure(self.oracle)
                if self.chief.error is None:
                    self.chief.error = _stopped_reason(exc)
                context.abort(grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}")

        guarded.__name__ = name
        return guarded

    for name in ("GetSpace", "UpdateSpace", "CreateTrial", "UpdateTrial", "EndTrial", "GetTrial", "GetBestTrials"):
        setattr(GuardedServicer, name, guard(name))
    return GuardedServicer


def watch_chief() -> None:
    """In a local worker: exit when the chief is gone (killed by a CI
    timeout, say) instead of training on for nobody."""
    pid = os.environ.get(CHIEF_PID)
    if not pid or not pid.isdigit():
        return

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                os._exit(3)
            except OSError:
                pass

    threading.Thread(target=watch, name="hptune-chief-watch", daemon=True).start()


@dataclass
class Worker:
    tuner_id: str
    process: subprocess.Popen[bytes]
    log: Path
    reported: bool = False

    def describe_exit(self) -> str:
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        tail = _last_lines(self.log)
        return f"worker {self.tuner_id} {how}" + (f"; its last output: {tail}" if tail else "")

    def describe_silent(self) -> str:
        tail = _last_lines(self.log)
        return f"worker {self.tuner_id} was still running, silent; its last output: {tail or '(none)'}"


def _last_lines(path: Path, n: int = 3) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


@dataclass
class Chief:
    """Serves one search's oracle to its workers until the search is over."""

    oracle: Any  # the tuner's Keras Tuner Oracle (Keras Tuner ships no types)
    address: str = "127.0.0.1:0"
    workers: list[Worker] = field(default_factory=list)
    error: str | None = None  # an oracle failure while serving a worker
    budget: Any = None  # max_time's TimeBudget (budget.py), kept between trials
    silence: float = SILENCE_S  # stop after this long without a call from any worker (silence_limit)
    last_heard: float = 0.0  # time.monotonic() of the last call from a worker
    lost: list[str] = field(default_factory=list)  # trials failed because their worker died

    def start(self) -> int:
        import grpc

        self.servicer = _servicer_class()(self.oracle, self)
        # One thread, as in Keras Tuner: the oracle is not re-entrant.
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        try:
            compat.add_servicer_to_server(self.servicer, self.server)
            self.port = cast(int, self.server.add_insecure_port(self.address))  # grpc ships no types
            if not self.port:
                raise OSError(f"cannot listen on {self.address}")
            self.server.start()
        except BaseException:
            self.server.stop(grace=None)
            raise
        return self.port

    def spawn(self, count: int, command: list[str], cwd: str, log_dir: Path) -> None:
        host = self.address.rsplit(":", 1)[0]
        if host in ("0.0.0.0", "[::]", ""):
            host = "127.0.0.1"
        for i in range(count):
            tuner_id = f"worker{i}"
            env = dict(os.environ, **{TUNER_ID: tuner_id, ORACLE_IP: host, ORACLE_PORT: str(self.port)})
            env[CHIEF_PID] = str(os.getpid())
            # The worker's command line is complete: it carries the chief's
            # -p, -o, -W and --import-mode (workers.chief_options), from
            # PYTEST_ADDOPTS too; the rest (-n 2 from CI, say) must not reach it.
            env.pop("PYTEST_ADDOPTS", None)
            log = log_dir / f"{tuner_id}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
            self.workers.append(Worker(tuner_id, process, log))

    def serve(self) -> str | None:
        """Until the search is over. Returns why it ended early, if it did."""
        deaths = []
        self.last_heard = time.monotonic()
        try:
            while True:
                time.sleep(POLL_S)
                if time.monotonic() - self.last_heard > self.silence:
                    return self._silent()
                for worker in self.workers:
                    if worker.process.poll() is None or worker.reported:
                        continue
                    worker.reported = True
                    if worker.process.returncode != 0:
                        deaths.append(worker.describe_exit())
                        self._fail_trial_of(worker)
                self._keep_budget()
                # Over when the local workers have exited (or, with external
                # workers only, when the oracle has said stop) and no trial
                # is still running on an external worker.
                local_done = all(w.reported for w in self.workers)
                if (
                    local_done
                    and (self.workers or compat.servicer_stopped(self.servicer))
                    and not self.oracle.ongoing_trials
                ):
                    break
        except RuntimeError as exc:  # Keras Tuner: too many consecutive failures
            return _stopped_reason(exc)
        finally:
            self.stop()
        if self.error is not None:
            return self.error
        if deaths and len(deaths) == len(self.workers):
            return "every worker died before the search finished: " + "; ".join(deaths)
        if deaths:
            return None  # the others finished the search; the trials say who died
        return None

    def _silent(self) -> str:
        """No worker called for ``silence`` seconds: fail the trials still
        running and say what is known, with every worker's last output (the
        caller's ``stop`` then ends the local workers)."""
        limit = f"{self.silence:g} s"
        with oracle_lock(self.oracle):
            ongoing = dict(self.oracle.ongoing_trials)
            for tuner_id, trial in ongoing.items():
                trial.status = "FAILED"
                trial.message = f"worker {tuner_id} reported nothing for {limit} during this trial"
                with contextlib.suppress(RuntimeError):  # too many consecutive failures: over anyway
                    self.oracle.end_trial(trial)
        done = sum(t.status == "COMPLETED" for t in self.oracle.trials.values())
        heard = "no worker asked for a trial within" if not self.oracle.trials else "no worker reported for"
        known = f"{heard} {limit} (--hptune-worker-timeout); {done} trials completed"
        if ongoing:
            known += ", running ones failed: " + ", ".join(f"trial {t.trial_id} on {w}" for w, t in ongoing.items())
        states = [w.describe_exit() if w.process.poll() is not None else w.describe_silent() for w in self.workers]
        return "; ".join([known, *states])

    def _keep_budget(self) -> None:
        """max_time: once it is spent, the oracle hands out no new trial (the
        workers then stop) and the running ones finish. As in one process,
        the first trial always runs."""
        if self.budget is None or self.budget.ended or not self.budget.spent() or not self.oracle.trials:
            return
        with oracle_lock(self.oracle):
            self.budget.after_trial(self.oracle)

    def _fail_trial_of(self, worker: Worker) -> None:
        # Under the oracle's own lock, so that a trial the worker ended just
        # before dying is not failed after the fact.
        with oracle_lock(self.oracle):
            trial = self.oracle.ongoing_trials.get(worker.tuner_id)
            if trial is None:
                return
            trial.status = "FAILED"
            trial.message = f"{worker.describe_exit()} during this trial"
            self.oracle.end_trial(trial)
            self.lost.append(trial.trial_id)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        self.server.stop(grace=None)
