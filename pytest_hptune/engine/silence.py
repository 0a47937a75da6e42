"""Library noise kept out of the test's output while a search runs."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

from . import compat


@contextlib.contextmanager
def quiet_keras() -> Iterator[None]:
    """Keep library noise out of the test's output while a search runs:
    keras-tuner's deprecated threading calls and failed-trial tracebacks,
    Keras/TensorFlow deprecation warnings and TensorFlow's retracing log lines
    (one per new model)."""
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    # keras-tuner prints every failed trial's traceback to stderr while DEBUG
    # is on (its default); we keep the traceback in the trial and report it.
    debug = compat.get_debug()
    compat.set_debug(False)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                category=DeprecationWarning,
                module=r"(keras|keras_tuner|tensorflow|tensorboard|absl)(\.|$)",
            )
            warnings.filterwarnings("ignore", r"(currentThread|getName)\(\) is deprecated", DeprecationWarning)
            # A Hyperband continuation loads the previous round's weights into
            # a fresh model whose optimizer is not built yet: Keras warns that
            # it skips the optimizer state, as it does under Keras Tuner.
            warnings.filterwarnings("ignore", r"Skipping variable loading for optimizer", UserWarning)
            yield
    finally:
        tf_logger.setLevel(level)
        compat.set_debug(debug)
