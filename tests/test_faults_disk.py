"""A full or failing disk under the tuning directory: the plugin's weights
writes never let HDF5 meet a full disk (its clean-up of a half-written file
crashes the process with a segfault), so the run ends with exit code 1, the
reason, and every report on a healthy disk written."""

import errno
import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import load_json

TESTS = """
import keras
import pytest
from models import data


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Choice("units", {units}), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.hptune(max_trials=2, executions_per_trial=1, epochs=2)
def test_small(hptune):
    hptune.search(build, *data(), validation_split=0.25)


@pytest.mark.hptune(max_trials=4, executions_per_trial=1, epochs=2)
def test_large(hptune):
    hptune.search(build_large, *data(), validation_split=0.25)


def build_large(hp):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Choice("units", [2048, 4096]), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KiB tmpfs (needs root and mount(8)); skipped where it cannot be mounted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small file system")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 200 KiB tmpfs here (needs root): {done.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_a_full_small_file_system_fails_with_the_reason_and_keeps_every_report(
    project: pytest.Pytester, small_disk: Path
) -> None:
    project.makepyfile(test_disk=TESTS.format(units=[4, 8]))
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "test_disk.py",
            f"--hptune-dir={small_disk}",
            "--hptune-json=report.json",
            "--hptune-markdown=report.md",
            "--junitxml=junit.xml",
        ],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    out = process.stdout + process.stderr
    # Not 139 (SIGSEGV in HDF5's clean-up): the run ends as a failed run does.
    assert process.returncode == 1, out
    assert "No space left on device" in out, out
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [t["nodeid"] for t in tests] == ["test_disk.py::test_small", "test_disk.py::test_large"]
    assert [t["passed"] for t in tests] == [True, False]
    assert "No space left on device" in tests[1]["stopped_reason"]
    assert "test_disk.py::test_large" in (project.path / "report.md").read_text()
    assert 'name="test_large"' in (project.path / "junit.xml").read_text()


BUILD_SMALL = """
import pytest
from models import build_small, data

@pytest.mark.hptune(max_trials=2, executions_per_trial=1, epochs=1)
def test_search(hptune):
    hptune.search(build_small, *data(), validation_split=0.25)
"""


def fake_statvfs(free: int) -> Callable[[object], os.statvfs_result]:
    def statvfs(path: object) -> os.statvfs_result:
        return os.statvfs_result((4096, 1, 100, free, free, 100, 100, 100, 0, 255))

    return statvfs


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _half_written_weights(self: object, filepath: str, *args: object, **kwargs: object) -> None:
    with open(filepath, "wb") as fh:
        fh.write(b"\x89HDF half")
    raise OSError(errno.ENOSPC, "No space left on device")


def _os_with(**names: object) -> types.SimpleNamespace:
    """The os module as scoring.py sees it, with ``names`` replaced (os
    itself stays as it is: the reports write through it)."""
    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake.__dict__.update(names)
    return fake


WRITES = {
    # the free-space check finds too little room: HDF5 is never called
    "free space": lambda mp, scoring: mp.setattr(scoring, "os", _os_with(statvfs=fake_statvfs(free=3))),
    # HDF5 writes half a file and fails
    "weights file": lambda mp, scoring: mp.setattr(scoring.keras.Model, "save_weights", _half_written_weights),
    # the rename onto the checkpoint's name fails
    "rename": lambda mp, scoring: mp.setattr(scoring, "os", _os_with(replace=_enospc)),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_enospc_at_each_weights_write_stops_the_search_cleanly(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    from pytest_hptune.engine import scoring

    WRITES[write](monkeypatch, scoring)
    project.makepyfile(test_full=BUILD_SMALL)
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "No space left on device" in out and "free some space" in out, out
    assert "INTERNALERROR" not in out
    record = load_json(project)["tests"][0]
    assert record["nodeid"] == "test_full.py::test_search"
    # No temporary or half-written checkpoint left where Keras Tuner would load it.
    leftovers = [p.name for p in project.path.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    assert not [p for p in project.path.rglob("*.weights.h5") if p.read_bytes().startswith(b"\x89HDF half")]


def test_weights_size_estimate_covers_the_real_file(heavy_modules: None, tmp_path: Path) -> None:
    import keras

    from pytest_hptune.engine.scoring import weights_size, write_weights

    for units, depth in ((1, 1), (64, 5), (512, 3)):
        model = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(units) for _ in range(depth)])
        path = tmp_path / f"m{units}.weights.h5"
        write_weights(model, str(path))
        assert path.stat().st_size < weights_size(model.get_weights())
        assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
