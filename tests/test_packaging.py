"""Release-ready packaging: the wheel built from this checkout declares every
extra of pyproject.toml, and installs with each of them in a fresh virtual
environment without network (pip --no-index; the extra's dependencies are
resolved from the wheel's own metadata and linked from this environment, as
tests/workflow_runner.py does for the CI recipe), after which `pip check`
finds every requirement met and the plugin imports from the wheel.
`.ci/run` also builds the sdist and wheel with `python -m build` and runs
`twine check --strict` on them."""

import re
import subprocess
from pathlib import Path

import pytest
from workflow_runner import build_wheel, closure, fresh_environment, wheel_extras

ROOT = Path(__file__).resolve().parent.parent
# The extras' names in pyproject.toml (tomllib is Python 3.11+; 3.10 is supported).
_SECTION = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[1].split("\n[")[0]
EXTRAS = set(re.findall(r"^([a-z0-9_-]+) = ", _SECTION, re.M))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_the_wheel_declares_every_extra(wheel: Path) -> None:
    assert EXTRAS >= {"tensorflow", "plot", "sklearn"} and wheel_extras(wheel) == EXTRAS


# "test" is left out: it holds the development tools (build, twine, ruff,
# mypy), which .ci/run installs from the index in its own fresh venv.
@pytest.mark.parametrize("extra", sorted(EXTRAS - {"test"}))
def test_the_wheel_installs_with_each_extra_in_a_fresh_environment(wheel: Path, tmp_path: Path, extra: str) -> None:
    venv = fresh_environment(tmp_path / "venv", closure(wheel, {extra}))
    python, pip = str(venv / "bin" / "python"), str(venv / "bin" / "pip")
    requirement = f"pytest-hptune[{extra}] @ {wheel.as_uri()}"
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    install = subprocess.run(
        [pip, "install", "--no-deps", "--no-index", requirement], env=env, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert "does not provide the extra" not in install.stdout + install.stderr
    check = subprocess.run([pip, "check"], env=env, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    probe = "import pytest_hptune.plugin, sys; print(pytest_hptune.plugin.__file__)"
    where = subprocess.run([python, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
