"""Reports where CI looks: JUnit XML properties."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest


def test_junit_xml_carries_each_searchs_key_figures(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_junit="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=2)
        def test_two(hptune):
            hptune.search(FastModel(), *data(), max_score=2.0)
            hptune.search(FastModel(), *data(), min_score=0.99)
        """
    )
    result = project.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    (case,) = ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
    assert props["hptune.tuner"] == "random"
    assert props["hptune.objective"] == "val_accuracy (max)"
    assert props["hptune.trials"] == "2/2 completed"
    assert props["hptune.passed"] == "True"
    assert props["hptune.gate_max_score"].endswith("vs 2 passed")
    assert len(props["hptune.best_scores"].split(",")) == 2
    assert "units" in props["hptune.best_hyperparameters"]
    # The second search of the test: its own prefix.
    assert props["hptune2.passed"] == "False"
    assert float(props["hptune2.best_mean"]) < 0.99
    assert props["hptune2.gate_min_score"].endswith("vs 0.99 FAILED")


def test_markdown_report_and_github_job_summary(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = project.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.makepyfile(
        test_md="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=2, min_score=0.5)
        def test_ok(hptune):
            hptune.search(FastModel(), *data())

        @pytest.mark.hptune(max_trials=2, executions_per_trial=1, min_score=0.99)
        def test_bad(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-markdown=out/report.md")
    result.assert_outcomes(passed=1, failed=1)
    text = (project.path / "out" / "report.md").read_text()
    assert text.startswith("## pytest-hptune\n\n2 search(es): 1 passed, 1 failed.")
    assert "### `test_md.py::test_ok`: passed" in text
    assert "### `test_md.py::test_bad`: **FAILED**" in text
    assert "| | trial | mean ± std | status | scores | hyperparameters |" in text
    assert text.count("| **best** |") == 2
    assert "- gate `min_score`: " in text and "FAILED" in text
    # Appended after what earlier steps wrote, the same tables.
    assert summary.read_text() == "earlier step\n" + text
    result.stdout.fnmatch_lines(["Markdown report: *out/report.md", "GitHub job summary: *step_summary.md"])


def test_plots_and_html_report(project: pytest.Pytester, tmp_path: Path) -> None:
    project.makepyfile(
        test_pic="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=4, executions_per_trial=3, min_score=0.7, max_score=1.5)
        def test_pic(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-plot=plots", "--hptune-html=report.html")
    result.assert_outcomes(passed=1)
    (png,) = (project.path / "plots").glob("*.png")
    assert png.name == "test_pic.py_test_pic-search1.png"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000
    page = (project.path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "http" not in page  # no network needed to open it
    assert page.count("<tr") == 5 and "class='best'" in page
    result.stdout.fnmatch_lines(["plots: *plots", "HTML report: *report.html"])


def test_each_report_says_what_it_wrote_or_why_not_in_order(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.path / "blocker").write_text("a file, not a directory")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project.path / "blocker" / "summary.md"))
    project.makepyfile(
        test_all="""
        from models import FastModel, data

        def test_all(hptune):
            hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=1)
        """
    )
    result = project.runpytest(
        "--hptune-json=out/report.json",
        "--hptune-markdown=blocker/report.md",
        "--hptune-save-baseline=out/baseline.json",
        "--hptune-plot=out/plots",
        "--hptune-html=out/report.html",
    )
    result.assert_outcomes(passed=1)
    out = project.path / "out"
    result.stdout.fnmatch_lines(
        [
            f"JSON report: {out / 'report.json'}",
            f"baseline: {out / 'baseline.json'}",
            f"plots: {out / 'plots'}",
            f"HTML report: {out / 'report.html'}",
            f"hptune: could not write the Markdown report {project.path / 'blocker' / 'report.md'}: *",
            "hptune: could not append to $GITHUB_STEP_SUMMARY: *",
            "hptune: a report could not be written: exit code 1 (--hptune-report-errors=warn only reports it)",
        ],
        consecutive=True,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # CI must not believe in the missing report
    assert "INTERNALERROR" not in result.stdout.str()


def test_progress_per_trial_with_v_and_none_with_q(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(
        test_progress="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=1)
        def test_progress(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "    hptune: trial 1/3 (0) 0.*, best 0.* (trial 0)",
            "    hptune: trial 2/3 (1) 0.*, best 0.* (trial *)",
            "    hptune: trial 3/3 (2) 0.*, best 0.* (trial *)",
            # pytest's own line for the test follows, whole.
            "test_progress.py::test_progress PASSED*",
        ]
    )
    result = project.runpytest("-q")
    assert "hptune: trial" not in result.stdout.str()
    # Without -v nothing breaks pytest's line of dots, however long the search.
    monkeypatch.setenv("HPTUNE_TEST_FIT_SLEEP", "0.4")
    result = project.runpytest()
    assert "hptune: trial" not in result.stdout.str()
    result.stdout.fnmatch_lines(["test_progress.py .*"])


def test_a_picture_that_cannot_be_drawn_closes_its_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    from pytest_hptune.reports import plot

    plt = plot._pyplot()
    plt.close("all")

    def broken(*args: object) -> None:
        raise ValueError("cannot draw")

    monkeypatch.setattr(plot, "_draw_scores", broken)
    trial = {"trial_id": "0", "scores": [0.5], "mean": 0.5, "std": 0.0, "status": "COMPLETED"}
    record = {"trials": [trial], "gates": [], "objective": {"name": "val_accuracy", "direction": "max"}}
    with pytest.raises(ValueError, match="cannot draw"):
        plot.render_png(record)
    assert plt.get_fignums() == []
