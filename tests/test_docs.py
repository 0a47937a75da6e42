"""The documentation's generated settings reference, and the one version
source. (`mkdocs build --strict` itself runs in .ci/run.)"""

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import pytest_hptune

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass needs its module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hooks() -> Any:
    return load("hooks")


def first_cells(markdown: str, header: str) -> list[str]:
    """The first cell of each row of the table under the heading ``header``."""
    table = markdown.split(header, 1)[1].split("\n### ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    cells = []
    for row in rows:
        match = re.match(r"\| `([^`]+)`", row)
        assert match, row
        cells.append(match.group(1))
    return cells


def test_the_settings_page_lists_every_setting_once(hooks: Any) -> None:
    SPECS = hooks.SPECS  # the tables as the hook imports them (one import to change when they move)
    listed = first_cells(hooks.reference(), "### Per-search settings")
    assert sorted(listed) == sorted(SPECS)


def test_the_settings_page_lists_every_option_and_ini_key(hooks: Any) -> None:
    SPECS, OPTIONS = hooks.SPECS, hooks.options.OPTIONS
    reference = hooks.reference()
    session = first_cells(reference, "### Session options")
    per_search = {row.flag for row in OPTIONS if row.setting}
    assert {flag.split("=")[0].split("[")[0] for flag in session} == {row.flag for row in OPTIONS} - per_search
    for row in OPTIONS:
        assert f"`{row.flag}" in reference, row.flag
        assert f"`{row.ini}`" in reference, row.ini
        assert hooks.cell(row.about if not row.setting else SPECS[row.setting].help) in reference, row.flag


def test_the_settings_page_holds_the_placeholder_once(hooks: Any) -> None:
    lines = (DOCS / "settings.md").read_text().splitlines()
    assert sum(line.startswith(hooks.PLACEHOLDER) for line in lines) == 1


def test_the_hook_fills_only_the_settings_page(hooks: Any) -> None:
    class Page:
        def __init__(self, uri: str) -> None:
            self.file = type("File", (), {"src_uri": uri})()

    text = f"# Settings\n\n{hooks.PLACEHOLDER} here -->\n"
    filled = hooks.on_page_markdown(text, Page("settings.md"))
    assert hooks.PLACEHOLDER not in filled and "| `--hptune-trials=N` |" in filled
    assert hooks.on_page_markdown(text, Page("faults.md")) == text
    with pytest.raises(ValueError, match="must hold one line"):
        hooks.on_page_markdown("# Settings\n", Page("settings.md"))


def test_the_installed_version_is_the_package_version() -> None:
    assert importlib.metadata.version("pytest-hptune") == pytest_hptune.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", pytest_hptune.__version__)


def test_the_version_has_one_source() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert re.search(r'^version = \{attr = "pytest_hptune.__version__"\}$', pyproject, flags=re.M)
    assert not re.search(r'^version = "', pyproject, flags=re.M)
