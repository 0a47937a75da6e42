"""Seeds: one stable, well-mixed seed per (search seed, trial, execution)."""

from __future__ import annotations

import zlib

import numpy as np


def execution_seed(seed: int, trial_id: str, execution: int) -> int:
    """A well-mixed, stable seed for one execution of one trial."""
    index = int(trial_id) if trial_id.isdigit() else zlib.crc32(trial_id.encode())
    state = np.random.SeedSequence(seed, spawn_key=(index, execution))
    return int(state.generate_state(1)[0] % (2**31 - 1))


def oracle_seed(seed: int) -> int:
    # Keras Tuner's oracle treats 0 as "no seed" (``seed or randint``): derive
    # a seed that is never 0.
    state = np.random.SeedSequence(seed, spawn_key=(2**32 - 1,))
    return int(state.generate_state(1)[0] % (2**31 - 2)) + 1
