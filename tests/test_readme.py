"""The README's Python blocks: every one compiles; the opening example (the
block after the "runs this block" comment) runs as a test module and passes."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
MARK = "<!-- tests/test_readme.py runs this block as a test module: keep it complete -->"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_every_python_block_compiles() -> None:
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 3
    for i, block in enumerate(blocks):
        compile(block, f"README.md python block {i + 1}", "exec")


def test_the_opening_example_runs_as_written(project: pytest.Pytester) -> None:
    text = README.read_text()
    assert MARK in text
    (example,) = python_blocks(text.split(MARK, 1)[1])[:1]
    project.makepyfile(test_tuning=example)
    result = project.runpytest("-p", "no:cacheprovider", "--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    assert "test_tuning.py::test_digits_model_is_tunable" in (project.path / "report.json").read_text()
