"""Reports as plugins: a conftest implements pytest_hptune_write_reports."""

import json

import pytest

# Writes every record it is given, one line each, and counts its calls.
CONFTEST = """
import json

from pytest_hptune.reports.outcome import ReportOutcome


def pytest_hptune_write_reports(config, records):
    with open(config.rootpath / "calls.txt", "a") as fh:
        fh.write("call\\n")
    path = config.rootpath / "out" / "searches.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps([r["nodeid"], r["search"], r["passed"]]) + "\\n" for r in records))
    return [ReportOutcome.written("searches", path), ReportOutcome("searches: 1 note", problem=True)]
"""

TESTS = """
import pytest
from models import FastModel, data

@pytest.mark.parametrize("i", range(3))
@pytest.mark.hptune(max_trials=2, executions_per_trial=1)
def test_two_searches(hptune, i):
    hptune.search(FastModel(), *data(), min_score=0.5)
    hptune.search(FastModel(), *data(), min_score=0.5 if i else 0.99)

def test_no_search():
    pass
"""


@pytest.mark.parametrize("xdist", [False, True], ids=["in-process", "xdist"])
def test_a_conftest_report_sees_every_search_once(project: pytest.Pytester, xdist: bool) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(test_hooks=TESTS)
    if xdist:
        result = project.runpytest_subprocess("-n", "2", "--hptune-json=report.json")
    else:
        result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=3, failed=1)
    assert (project.path / "calls.txt").read_text() == "call\n"  # once, in the controller
    lines = (project.path / "out" / "searches.jsonl").read_text().splitlines()
    seen = sorted(tuple(json.loads(line)) for line in lines)
    expected = [(f"test_hooks.py::test_two_searches[{i}]", s, i > 0 or s == 0) for i in range(3) for s in (0, 1)]
    assert seen == expected
    # The records the hook got are the JSON report's, in the same order.
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [json.loads(line) for line in lines] == [[t["nodeid"], t["search"], t["passed"]] for t in tests]
    # Its outcomes join the built-in reports' lines, after them.
    result.stdout.fnmatch_lines(
        ["JSON report: *report.json", "searches: *searches.jsonl", "hptune: searches: 1 note"], consecutive=True
    )


def test_a_failing_report_hook_spares_the_other_reports(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest
        from pytest_hptune.reports.outcome import ReportOutcome

        def pytest_hptune_write_reports(records):
            raise RuntimeError(f"no room for {len(records)} searches")

        class Later:
            @pytest.hookimpl(trylast=True)  # called after the failing one
            def pytest_hptune_write_reports(self, records):
                return ReportOutcome(f"later report: {len(records)} searches")

        def pytest_configure(config):
            config.pluginmanager.register(Later(), "later")
        """
    )
    project.makepyfile(
        test_one="""
        from models import FastModel, data

        def test_one(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=1)
        """
    )
    result = project.runpytest("--hptune-json=report.json", "--hptune-markdown=report.md")
    result.assert_outcomes(passed=1)
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [t["nodeid"] for t in tests] == ["test_one.py::test_one"]
    assert (project.path / "report.md").read_text().startswith("## pytest-hptune\n")
    result.stdout.fnmatch_lines(
        [
            "JSON report: *report.json",
            "Markdown report: *report.md",
            "later report: 1 searches",
            "hptune: the report of *conftest.py failed: RuntimeError: no room for 1 searches",
        ],
        consecutive=True,
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a report that failed fails the run
