"""Keras Tuner's distributed-mode environment: the one place that says
whether this process is a worker of ``--hptune-workers`` (or of a cluster
started by hand). Imports nothing heavy: ``signals.py`` asks at start-up,
``engine/distributed.py`` sets these variables for the workers it spawns."""

from __future__ import annotations

import os

TUNER_ID = "KERASTUNER_TUNER_ID"
ORACLE_IP = "KERASTUNER_ORACLE_IP"
ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
CHIEF_PID = "HPTUNE_CHIEF_PID"  # a local worker exits when its chief is gone


def worker_id() -> str | None:
    """This process's Keras Tuner worker id, if it is a worker (a tuner id
    that is not the chief's, and the chief's address)."""
    tuner_id = os.environ.get(TUNER_ID)
    if tuner_id and "chief" not in tuner_id and os.environ.get(ORACLE_IP):
        return tuner_id
    return None
