"""The one atomic file write: a temporary file beside the target, then
``os.replace``, so a reader sees the old file or the new one, never half of
one. The new file keeps the target's permissions, or gets the umask's: the
temporary file is created with mode 0o666, which the kernel masks with the
umask (reading the umask would mean setting it, for every thread at once)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path`` (mode 0o666 less the umask)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777  # an existing file keeps its permissions
    except OSError:
        mode = None
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def discard(path: Path | str) -> None:
    """Remove a temporary file a failed write left, if it is there."""
    try:
        os.unlink(path)
    except OSError:
        pass


def write_text(path: Path | str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
