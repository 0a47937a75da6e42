"""Reports that cannot be written: said in red, and the run fails (CI must not
believe in a report that is not there) unless --hptune-report-errors=warn.
Reports that can be written keep the umask's permissions, or the file's."""

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TEST = """
from models import FastModel, data

def test_one(hptune):
    hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=1)
"""

REPORTS = {
    "--hptune-json": "JSON report",
    "--hptune-markdown": "Markdown report",
    "--hptune-save-baseline": "baseline",
    "--hptune-html": "HTML report",
    "--hptune-plot": "plots",
}
FAILED_RUN = "hptune: a report could not be written: exit code 1 (--hptune-report-errors=warn only reports it)"


def blocked_run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Every file report aimed at a directory that is in the way (the
    pictures' directory at a file)."""
    project.makepyfile(test_one=TEST)
    for name in ("json", "md", "baseline", "html"):
        (project.path / f"report.{name}").mkdir()
    (project.path / "report.plots").write_text("a file")
    paths = dict(zip(REPORTS, ("report.json", "report.md", "report.baseline", "report.html", "report.plots")))
    return project.runpytest(*(f"{flag}={path}" for flag, path in paths.items()), *args)


def test_a_report_in_the_way_of_a_directory_fails_a_run_that_passed(project: pytest.Pytester) -> None:
    result = blocked_run(project)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    for what in REPORTS.values():
        assert f"hptune: could not write the {what} {project.path}/report." in out
    assert out.count(": IsADirectoryError: [Errno 21] Is a directory") == 3  # JSON, Markdown, HTML
    # A directory where the baseline goes cannot be read: never replaced.
    assert "cannot be read (IsADirectoryError: [Errno 21] Is a directory" in out
    assert "it was not overwritten" in out
    assert f"hptune: could not write the plots {project.path}/report.plots: FileExistsError: " in out
    result.stdout.fnmatch_lines([FAILED_RUN])
    assert "INTERNALERROR" not in out
    assert not [p for p in project.path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left


@pytest.mark.parametrize("how", ["command line", "ini"])
def test_report_errors_warn_only_reports_them(project: pytest.Pytester, how: str) -> None:
    if how == "ini":
        project.makeini("[pytest]\nhptune_report_errors = warn\n")
        result = blocked_run(project)
    else:
        result = blocked_run(project, "--hptune-report-errors=warn")
    assert result.ret == pytest.ExitCode.OK
    assert result.stdout.str().count("hptune: could not write the ") == 5
    assert FAILED_RUN not in result.stdout.str()


def test_a_failing_test_keeps_its_exit_code_and_a_bad_value_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_one=TEST + "\ndef test_fails():\n    assert False\n")
    (project.path / "blocker").write_text("a file")
    result = project.runpytest("--hptune-json=blocker/report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["hptune: could not write the JSON report */blocker/report.json: FileExistsError: *"])
    assert FAILED_RUN not in result.stdout.str()  # the run failed anyway
    result = project.runpytest("--hptune-report-errors=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hptune-report-errors: invalid report-errors='maybe'*expected 'fail'*or 'warn'*"])


def test_a_read_only_directory_fails_the_run(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The error a read-only file system gives (root ignores chmod, so the
    creation of the temporary file is refused by hand)."""
    from pytest_hptune import atomic

    create = atomic._create_temp

    def read_only(path: Path) -> tuple[int, str]:
        if path.parent.name == "readonly":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path.parent))
        return create(path)

    monkeypatch.setattr(atomic, "_create_temp", read_only)
    project.makepyfile(test_one=TEST)
    result = project.runpytest("--hptune-json=readonly/report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "hptune: could not write the JSON report */readonly/report.json: OSError: [[]Errno 30[]] Read-only file system*"
        ]
    )


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    def set_umask(mask: int) -> None:
        os.umask(mask)

    previous = os.umask(0o022)
    yield set_umask
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_get_the_umasks_permissions_and_keep_an_existing_files(
    project: pytest.Pytester, umask: Callable[[int], None]
) -> None:
    project.makepyfile(test_one=TEST)
    (project.path / "kept.json").write_text("{}")
    (project.path / "kept.json").chmod(0o644)
    umask(0o027)
    args = ["--hptune-json=out/report.json", "--hptune-markdown=out/report.md", "--hptune-html=out/report.html"]
    result = project.runpytest(*args, "--hptune-save-baseline=out/baseline.json", "--hptune-plot=out/plots")
    assert result.ret == pytest.ExitCode.OK
    out = project.path / "out"
    files = [out / "report.json", out / "report.md", out / "report.html", out / "baseline.json"]
    files += list((out / "plots").iterdir())
    assert len(files) == 5 and {mode(f) for f in files} == {0o640}
    # A file that exists keeps its own permissions, whatever the umask.
    umask(0o077)
    assert project.runpytest("--hptune-json=kept.json").ret == pytest.ExitCode.OK
    assert mode(project.path / "kept.json") == 0o644
    assert '"tests"' in (project.path / "kept.json").read_text()


def test_a_write_that_fails_leaves_the_earlier_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_hptune import atomic

    target = tmp_path / "report.json"
    target.write_text("the earlier report")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_text(target, "the new report")
    assert target.read_text() == "the earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("option", ["--hptune-plot=plots", "--hptune-html=report.html"])
def test_an_option_whose_extra_is_missing_is_a_usage_error_before_any_test(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    from pytest_hptune import state

    real = state.find_spec  # type: ignore[attr-defined]
    monkeypatch.setattr(state, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    project.makepyfile(test_x="def test_x(): raise AssertionError('must not run')")
    result = project.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*needs matplotlib, which is not installed: pip install 'pytest-hptune[[]plot[]]'*"])
