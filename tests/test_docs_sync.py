"""docs/sync_from_readme.py, which copies README sections into the docs pages.

Temporary, like the script: once the short README replaces the long one, the
pages are the source, and the script and this file are deleted (see
CONTRIBUTING.md)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "sync_from_readme.py"


@pytest.fixture(scope="module")
def sync():
    spec = importlib.util.spec_from_file_location("docs_sync_from_readme", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass needs its module registered
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("heading", "github", "mkdocs"),
    [
        ("JSON report (`--hptune-json=PATH`)", "json-report---hptune-jsonpath", "json-report-hptune-jsonpath"),
        (
            'Adaptive executions (`executions_per_trial="auto"`)',
            "adaptive-executions-executions_per_trialauto",
            "adaptive-executions-executions_per_trialauto",
        ),
        (
            'Baselines: "is this change less tunable than main?"',
            "baselines-is-this-change-less-tunable-than-main",
            "baselines-is-this-change-less-tunable-than-main",
        ),
    ],
)
def test_anchors_are_those_of_github_and_mkdocs(sync, heading, github, mkdocs):
    assert sync.github_slug(heading) == github
    assert sync.mkdocs_slug(heading) == mkdocs


def test_every_readme_anchor_names_a_readme_heading(sync):
    lines = sync.README.read_text().split("\n")
    slugs = {h.github_slug for h in sync.headings(lines)}
    anchors = set(sync.LINK.findall("\n".join(lines)))
    assert anchors and anchors <= slugs, anchors - slugs


def test_headings_inside_code_blocks_are_not_sections(sync):
    lines = ["# Title", "```bash", "# a comment", "```", "## Install"]
    assert [h.text for h in sync.headings(lines)] == ["Title", "Install"]


def test_nested_lists_move_from_two_to_four_spaces(sync):
    lines = ["* a", "  * b", "", "  ```", "  code", "    indented", "  ```", "", "text", "  not a list"]
    assert sync.reindent_lists(lines) == [
        "* a",
        "    * b",
        "",
        "    ```",
        "    code",
        "      indented",
        "    ```",
        "",
        "text",
        "  not a list",
    ]
