"""The start-up filter drops TensorFlow's known notices and nothing else."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_hptune import quiet


def test_filtered_fd_passes_other_lines_through_in_order(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os
        from pytest_hptune.quiet import filtered_fd
        with filtered_fd():
            os.write(2, b"first\\n")
            os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on. blah\\n")
            os.write(2, b"second\\n")
        os.write(2, b"after\\n")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert done.stderr == b"first\nsecond\nafter\n"


def test_keep_drops_only_known_notices() -> None:
    assert not quiet.keep(b"I0000 port.cc:153] oneDNN custom operations are on.\n")
    assert quiet.keep(b"Traceback (most recent call last):\n")


def test_install_is_a_no_op_once_tensorflow_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    before = list(sys.meta_path)
    quiet.install()
    assert sys.meta_path == before


def test_the_first_tensorflow_import_is_filtered() -> None:
    script = "from pytest_hptune import quiet; quiet.install(); import tensorflow"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, check=True)
    assert b"oneDNN" not in done.stderr and b"InitializeLog" not in done.stderr


def test_a_crash_inside_the_filter_keeps_its_message() -> None:
    # The process dies while fd 2 is filtered: what it wrote before still
    # reaches stderr, less the noise.
    script = textwrap.dedent(
        """
        import os
        from pytest_hptune.quiet import filtered_fd
        with filtered_fd():
            os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on.\\n")
            os.write(2, b"Fatal: the import crashed\\n")
            os.abort()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60, check=False)
    assert done.returncode != 0
    assert b"Fatal: the import crashed\n" in done.stderr and b"oneDNN" not in done.stderr


def test_the_filter_is_removed_after_a_session_that_never_imports_tensorflow(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    script = textwrap.dedent(
        f"""
        import sys
        import pytest
        from pytest_hptune.quiet import QuietTensorFlowFinder
        code = pytest.main(["-q", "-p", "no:cacheprovider", {str(tmp_path)!r}])
        left = [f for f in sys.meta_path if isinstance(f, QuietTensorFlowFinder)]
        print("EXIT", int(code), "TENSORFLOW", "tensorflow" in sys.modules, "LEFT", len(left))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert b"EXIT 0 TENSORFLOW False LEFT 0" in done.stdout, done.stdout + done.stderr
