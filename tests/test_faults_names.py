"""Names from users are data in every report: a test id or a hyperparameter
value with ``$``, HTML or backticks is shown as written, never interpreted
(matplotlib's mathtext, GitHub's Markdown), and file names stay safe."""

import json
from typing import Any

import pytest

from pytest_hptune.reports import markdown, plot

TESTS = """
import pytest
from models import FastModel, data

class Tagged(FastModel):
    def build(self, hp):
        hp.Fixed("note", "<b>bold</b> & `tick` *star*")
        return super().build(hp)

@pytest.mark.parametrize("price", [10], ids=["price_$10_to_$20"])
def test_price(hptune, price):
    hptune.search(Tagged(), *data(), max_trials=2, executions_per_trial=2, min_score=0.5)

@pytest.mark.parametrize("name", ["x"], ids=["a`b<i>c&d"])
def test_tick(hptune, name):
    hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=1)
"""

PRICE = "test_names.py::test_price[price_$10_to_$20]"
TICK = "test_names.py::test_tick[a`b<i>c&d]"


def test_dollars_html_and_backticks_in_names_reach_every_report_intact(project: pytest.Pytester) -> None:
    project.makepyfile(test_names=TESTS)
    result = project.runpytest(
        "--hptune-plot=plots",
        "--hptune-html=report.html",
        "--hptune-markdown=report.md",
        "--hptune-json=report.json",
    )
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    assert "could not" not in result.stdout.str()
    pngs = sorted(p.name for p in (project.path / "plots").iterdir())
    assert pngs == [
        "test_names.py_test_price_price__10_to__20-search1.png",
        "test_names.py_test_tick_a_b_i_c_d-search1.png",
    ]
    page = (project.path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "<code>test_names.py::test_tick[a`b&lt;i&gt;c&amp;d]</code>" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>" not in page
    text = (project.path / "report.md").read_text()
    assert f"### `{PRICE}`: passed" in text
    assert f"### ``{TICK}``: passed" in text  # fenced by more backticks than it holds
    assert "note=&lt;b&gt;bold&lt;/b&gt; &amp; \\`tick\\` \\*star\\*" in text
    assert "<b>" not in text
    assert [t["nodeid"] for t in json.loads((project.path / "report.json").read_text())["tests"]] == [PRICE, TICK]


def test_markdown_renders_names_as_written(project: pytest.Pytester) -> None:
    """Rendered as GitHub does (CommonMark with tables, inline HTML on)."""
    markdown_it = pytest.importorskip("markdown_it")
    project.makepyfile(test_names=TESTS)
    project.runpytest("--hptune-markdown=report.md").assert_outcomes(passed=2)
    page = (
        markdown_it.MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .render((project.path / "report.md").read_text())
    )
    assert "<code>test_names.py::test_price[price_$10_to_$20]</code>" in page
    assert "<code>test_names.py::test_tick[a`b&lt;i&gt;c&amp;d]</code>" in page
    assert "note=&lt;b&gt;bold&lt;/b&gt; &amp; `tick` *star*" in page
    assert "<b>" not in page and "<em>" not in page and "<i>" not in page


def test_a_picture_that_cannot_be_drawn_spares_the_others_and_says_why(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    render = plot.render_png

    def fails_for_the_price(record: dict[str, Any]) -> bytes:
        if "price" in record["nodeid"]:
            raise ValueError("\n")  # matplotlib's messages may start with a newline
        return render(record)

    monkeypatch.setattr(plot, "render_png", fails_for_the_price)
    from pytest_hptune.reports import html

    monkeypatch.setattr(html, "render_png", fails_for_the_price)
    project.makepyfile(test_names=TESTS)
    result = project.runpytest("--hptune-plot=plots", "--hptune-html=report.html")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert [p.name for p in (project.path / "plots").iterdir()] == ["test_names.py_test_tick_a_b_i_c_d-search1.png"]
    page = (project.path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "The picture could not be drawn: ValueError</p>" in page
    lines = result.stdout.lines
    start = lines.index(f"plots: {project.path / 'plots'}")
    assert lines[start : start + 5] == [
        f"plots: {project.path / 'plots'}",
        f"HTML report: {project.path / 'report.html'}",
        f"hptune: could not write the picture {project.path / 'plots' / pngs_name(PRICE)} of {PRICE}: ValueError",
        f"hptune: the HTML report lacks the picture of {PRICE}: ValueError",
        "hptune: a report could not be written: exit code 1 (--hptune-report-errors=warn only reports it)",
    ]


def pngs_name(nodeid: str) -> str:
    return plot.filename({"nodeid": nodeid, "search": 0})


def test_file_names_are_safe_and_distinct() -> None:
    records = [{"nodeid": nodeid, "search": 0} for nodeid in ("t.py::t[a$b]", "t.py::t[a#b]", "t.py::T[A#B]")]
    names = plot.filenames(records)
    assert len(set(names)) == 3 and all(n.startswith(("t.py_t_a_b-", "t.py_T_A_B-")) for n in names)
    assert plot.filenames(records[::-1]) == names[::-1]  # not the order the searches finished in
    assert plot.filenames([{"nodeid": "../../.hidden/x.py::t", "search": 1}]) == ["hidden_x.py_t-search2.png"]


@pytest.mark.parametrize(
    "text, span",
    [("a", "`a`"), ("a`b", "``a`b``"), ("`a", "`` `a ``"), ("a``b`", "``` a``b` ```"), ("x\ny", "`x y`")],
)
def test_code_spans_hold_any_backticks(text: str, span: str) -> None:
    assert markdown._code(text) == span
