"""Keep TensorFlow's C++ start-up lines out of the output.

TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` at import, but since 2.20 its
"oneDNN custom operations are on" notice is written by absl *before* that
setting is read ("All log messages before absl::InitializeLog() is called are
written to STDERR"), so no environment variable hides it short of turning
oneDNN off, which would change the user's numerics. The plugin instead
filters file descriptor 2 while the ``tensorflow`` package itself executes,
dropping only the known start-up notices and passing every other byte on.

This is hand-written because no library filters a C library's writes to a
file descriptor; it is installed only when the plugin set
``TF_CPP_MIN_LOG_LEVEL`` (a user who set it keeps TensorFlow's own output),
and removed at the end of the session if TensorFlow was never imported.

The filter is a small child process reading a pipe, line by line, so that
what a crash during the import writes (a fatal error, an abort message)
still reaches stderr when this process dies mid-import.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType

# Lines written by TensorFlow's C++ runtime at import that say nothing about
# the user's model.
NOISE = (
    b"oneDNN custom operations are on",
    b"All log messages before absl::InitializeLog() is called",
    b"cpu_feature_guard",
    b"Unable to register cuDNN factory",
    b"Unable to register cuFFT factory",
    b"Unable to register cuBLAS factory",
    b"computation placer already registered",
    b"Could not find cuda drivers",
    b"TF-TRT Warning",
)


def keep(line: bytes, noise: Sequence[bytes] = NOISE) -> bool:
    return not any(marker in line for marker in noise)


# The child process: copies its stdin to its stdout, less the noise, line
# by line, until every writer has closed the pipe (or died).
_FILTER = """
import sys
noise = {noise!r}
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    if not any(marker in line for marker in noise):
        out.write(line)
        out.flush()
"""


@contextlib.contextmanager
def filtered_fd(fd: int = 2, noise: Sequence[bytes] = NOISE) -> Iterator[None]:
    """Send what is written to ``fd`` inside the block through a filter
    process that passes on every line that is not noise, in order, as it
    comes: a crash inside the block loses none of its message."""
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor: nothing to filter
        yield
        return
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _FILTER.format(noise=tuple(noise))], stdin=subprocess.PIPE, stdout=saved
        )
    except OSError:  # cannot start the filter: leave the output as it is
        os.close(saved)
        yield
        return
    assert child.stdin is not None  # stdin=PIPE
    os.dup2(child.stdin.fileno(), fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        child.stdin.close()  # the filter sees the end, writes what is left and exits
        child.wait()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with filtered_fd():
            self.inner.exec_module(module)


class QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """A one-shot finder: wraps the first import of ``tensorflow`` in
    :func:`filtered_fd`, then removes itself."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        uninstall()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target) if find else None
            if spec is not None and spec.loader is not None:
                spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Filter TensorFlow's first import, unless it already happened."""
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowFinder())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, QuietTensorFlowFinder)]
