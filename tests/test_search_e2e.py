"""End-to-end behaviour of the marker, the fixture, the gates and the reports,
run in-process with pytester on FastModel (milliseconds per search) unless
real Keras training is the point."""

import json
from pathlib import Path
from typing import Any

import pytest

FAST_TEST = """
import pytest
from models import FastModel, data

@pytest.mark.hptune({marker})
def test_fast(hptune):
    x, y = data()
    result = hptune.search(FastModel(), x, y)
"""


def run_fast(pytester: pytest.Pytester, marker: str = "", *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makepyfile(test_fast=FAST_TEST.format(marker=marker))
    result = pytester.runpytest("--hptune-json=report.json", "-v", *args)
    report = json.loads((pytester.path / "report.json").read_text())
    return result, report


def test_passing_gates_are_reported_in_summary_and_json(project: pytest.Pytester) -> None:
    result, report = run_fast(project, "max_trials=3, executions_per_trial=2, min_score=0.5, max_std=0.5")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "= hptune =" in out
    result.stdout.fnmatch_lines(
        [
            "test_fast.py::test_fast",
            "*random search, objective val_accuracy (max), 3 trials x 2 executions*",
            "*trial*mean +- std*status*scores*",
            "  [*]  *COMPLETED*",
            "*gate min_score *>= 0.5000 passed",
            "*gate max_std *<= 0.5000 passed",
        ]
    )
    (entry,) = report["tests"]
    assert report["version"] == 1
    assert entry["nodeid"] == "test_fast.py::test_fast"
    assert entry["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert entry["settings"]["max_trials"] == 3
    assert len(entry["trials"]) == 3
    for trial in entry["trials"]:
        assert set(trial) >= {"trial_id", "hyperparameters", "scores", "mean", "std", "status"}
        assert len(trial["scores"]) == 2
        assert trial["status"] == "COMPLETED"
    best = max(entry["trials"], key=lambda t: t["mean"])
    assert entry["best_trial_id"] == best["trial_id"]
    assert [g["name"] for g in entry["gates"]] == ["min_score", "max_std"]
    assert all(g["passed"] for g in entry["gates"])
    assert entry["duration_s"] >= 0


def test_failing_gate_fails_the_test_with_a_readable_message(project: pytest.Pytester) -> None:
    result, report = run_fast(project, "max_trials=2, executions_per_trial=3, min_score=0.99")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*hptune: search in test_fast.py::test_fast failed 1 gate(s) on objective val_accuracy (max):",
            "*min_score: best trial * mean 0.* < 0.9900 FAILED",
            "*best trial * {'units': *}: scores [[]0.*, 0.*, 0.*], mean 0.* +- 0.*",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    (entry,) = report["tests"]
    best = next(t for t in entry["trials"] if t["trial_id"] == entry["best_trial_id"])
    # The gate judges the best trial's mean, recomputed here from its scores.
    mean = sum(best["scores"]) / len(best["scores"])
    assert entry["gates"] == [{"name": "min_score", "threshold": 0.99, "value": pytest.approx(mean), "passed": False}]
    assert mean < 0.99
    assert entry["passed"] is False


def test_max_std_gate_uses_sample_std(project: pytest.Pytester) -> None:
    result, report = run_fast(project, "max_trials=1, executions_per_trial=4, max_std=0.0")
    result.assert_outcomes(failed=1)
    trial = report["tests"][0]["trials"][0]
    scores = trial["scores"]
    m = sum(scores) / 4
    assert trial["std"] == pytest.approx((sum((s - m) ** 2 for s in scores) / 3) ** 0.5)
    result.stdout.fnmatch_lines(["*max_std: best trial 0 std across executions 0.* > 0.0000 FAILED"])


def test_fixture_works_without_marker_with_defaults_and_no_gates(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_plain="""
        from models import FastModel, data

        def test_plain(hptune):
            result = hptune.search(FastModel(), *data())
            assert len(result.trials) == 3
            assert all(len(t.scores) == 3 for t in result.trials)
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert entry["gates"] == []
    assert entry["settings"]["seed"] == 0
    result.stdout.fnmatch_lines(["*no gates asked for*"])


def test_same_seed_reproduces_and_executions_differ(project: pytest.Pytester) -> None:
    _, first = run_fast(project, "max_trials=3, executions_per_trial=3")
    _, second = run_fast(project, "max_trials=3, executions_per_trial=3")
    t1 = first["tests"][0]["trials"]
    t2 = second["tests"][0]["trials"]
    assert [(t["hyperparameters"], t["scores"]) for t in t1] == [(t["hyperparameters"], t["scores"]) for t in t2]
    for trial in t1:
        assert len(set(trial["scores"])) == 3, "executions must not share a seed"
    _, other = run_fast(project, "max_trials=3, executions_per_trial=3", "--hptune-seed=7")
    assert [t["scores"] for t in other["tests"][0]["trials"]] != [t["scores"] for t in t1]


def test_precedence_command_line_over_marker_over_ini(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nhptune_trials = 4\nhptune_executions = 2\nhptune_seed = 3\n")
    result, report = run_fast(project, "max_trials=2", "--hptune-seed=5")
    result.assert_outcomes(passed=1)
    entry = report["tests"][0]
    assert entry["settings"]["max_trials"] == 2  # marker beats ini
    assert entry["settings"]["executions_per_trial"] == 2  # ini beats default
    assert entry["settings"]["seed"] == 5  # command line beats ini
    assert entry["sources"]["seed"] == "command line"
    assert entry["sources"]["max_trials"].startswith("hptune marker on")
    assert entry["sources"]["executions_per_trial"].startswith("ini (")
    result.stdout.fnmatch_lines(["hptune: tuner=random trials=4 executions=2 epochs=fit default seed=5*"])
    # and the command line beats the marker
    result, report = run_fast(project, "max_trials=2", "--hptune-trials=1")
    assert report["tests"][0]["settings"]["max_trials"] == 1


def test_search_arguments_set_settings_and_epochs(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_args="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, epochs=5)
        def test_args(hptune):
            result = hptune.search(FastModel(), *data(), max_trials=1, epochs=2)
            assert len(result.trials) == 1
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert entry["settings"]["epochs"] == 2
    assert entry["sources"]["epochs"].startswith("hptune.search() argument")


def test_unknown_marker_keyword_is_an_error_before_any_training(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    result, _ = run_fast(project, "max_trial=2")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*unknown hptune setting 'max_trial' (did you mean 'max_trials'?) from hptune marker on test_fast.py::test_fast*"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert not builds.exists()


@pytest.mark.parametrize(
    "marker, expected",
    [
        (
            "max_trials='3'",
            "invalid max_trials='3' from hptune marker on test_fast.py::test_fast: expected a positive integer*",
        ),
        ("executions_per_trial=-1", "invalid executions_per_trial=-1 from hptune marker*"),
        ("max_trials=True", "invalid max_trials=True*"),
        ("min_score=float('nan')", "invalid min_score=nan*finite number*"),
        ("tuner='evolution'", "invalid tuner='evolution'*expected one of 'random'*"),
        ("min_score=0.9, max_score=0.5", "min_score=0.9 (from hptune marker*) is above max_score=0.5*"),
        ("3", "*keyword arguments only*"),
    ],
)
def test_bad_marker_values_name_setting_value_and_source(project: pytest.Pytester, marker: str, expected: str) -> None:
    result, _ = run_fast(project, marker)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*" + expected])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--hptune-trials=abc"], "*error: argument --hptune-trials: expected an integer, got 'abc'"),
        (
            ["--hptune-executions=0"],
            "*argument --hptune-executions: invalid executions_per_trial=0 from --hptune-executions*",
        ),
        (["--hptune-seed=-2"], "*invalid seed=-2*non-negative*"),
    ],
)
def test_bad_command_line_values_are_usage_errors(project: pytest.Pytester, args: list[str], expected: str) -> None:
    project.makepyfile(test_x="def test_x(): pass")
    result = project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_bad_ini_value_is_a_usage_error_naming_the_ini_key(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nhptune_epochs = many\n")
    project.makepyfile(test_x="def test_x(): pass")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid epochs='many' from ini option hptune_epochs in *tox.ini*"])


def test_failed_trial_is_reported_and_the_search_goes_on(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_nan="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=4, executions_per_trial=1)
        def test_nan(hptune):
            result = hptune.search(FastModel(fail_fits=(2,)), *data())
            assert [t.trial_id for t in result.failed] == ["1"]
            assert result.failed[0].status == "FAILED"
            assert sorted(t.trial_id for t in result.trials) == ["0", "2", "3"]
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    failed = [t for t in entry["trials"] if t["status"] == "FAILED"]
    assert failed and failed[0]["message"] == "val_accuracy is nan"
    assert len(entry["trials"]) == 4
    result.stdout.fnmatch_lines(["*FAILED*val_accuracy is nan"])


def test_search_with_no_completed_trial_fails_with_reasons(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_broken="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=5, executions_per_trial=1)
        def test_broken(hptune):
            hptune.search(FastModel(fail_fits="all"), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*hptune: search in test_broken.py::test_broken: no trial completed (3 failed).",
            "Keras Tuner stopped the search after 3 consecutive failed trials*",
            "--- trial 0 FAILED {'units': *}: val_accuracy is nan",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()  # expected failures: reasons only
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert entry["passed"] is False and entry["best_trial_id"] is None


def test_build_function_that_raises_shows_its_own_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_raise="""
        import pytest
        from models import data

        def build(hp):
            hp.Choice("units", [1, 2])
            raise ValueError("boom in build")

        @pytest.mark.hptune(max_trials=2, min_score=0.0)
        def test_raise(hptune):
            hptune.search(build, *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ValueError: boom in build" in out
    assert 'raise ValueError("boom in build")' in out  # the user's own frame
    assert "INTERNALERROR" not in out
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert entry["error"] == "ValueError: boom in build"


def test_result_api(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_api="""
        import keras
        import keras_tuner
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=2)
        def test_api(hptune):
            result = hptune.search(FastModel(), *data())
            means = [t.mean for t in result.trials]
            assert means == sorted(means, reverse=True)
            assert result.best is result.trials[0]
            assert isinstance(result.best.hyperparameters, dict)
            assert isinstance(result.best.scores, tuple) and len(result.best.scores) == 2
            assert result.objective.name == "val_accuracy" and result.objective.direction == "max"
            assert isinstance(result.best_hyperparameters, keras_tuner.HyperParameters)
            assert result.best_hyperparameters.values == result.best.hyperparameters
            assert isinstance(result.best_model(), keras.Model)
            assert isinstance(result.tuner, keras_tuner.Tuner)
            kt_best = result.tuner.oracle.get_best_trials(1)[0]
            assert kt_best.trial_id == result.best.trial_id
            assert kt_best.score == pytest.approx(result.best.mean)
        """
    )
    project.runpytest().assert_outcomes(passed=1)


def test_two_searches_in_one_test_are_both_reported(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_two="""
        from models import FastModel, data

        def test_two(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=1)
            hptune.search(FastModel(), *data(), max_trials=2, executions_per_trial=1)
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [len(t["trials"]) for t in tests] == [1, 2]
    assert tests[0]["directory"] != tests[1]["directory"]


def test_tuning_directories_stay_out_of_the_working_tree(project: pytest.Pytester, tmp_path: Path) -> None:
    result, report = run_fast(project, "max_trials=1, executions_per_trial=1")
    result.assert_outcomes(passed=1)
    assert not str(report["tests"][0]["directory"]).startswith(str(project.path))
    dirs = [p.name for p in project.path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert set(dirs) <= {"__pycache__"}
    target = tmp_path / "tuning"
    _, report = run_fast(project, "max_trials=1, executions_per_trial=1", f"--hptune-dir={target}")
    directory = report["tests"][0]["directory"]
    assert directory.startswith(str(target))
    assert (target / directory.split("/")[-1] / "oracle.json").exists()


def test_marker_is_registered_and_options_documented(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.hptune(tuner='random', objective='val_accuracy'*"])
    result = project.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--hptune-trials=N*",
            "*--hptune-json=PATH*",
            "*hptune_trials (string)*",
        ]
    )


def test_marker_without_fixture_warns(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_w="""
        import pytest

        @pytest.mark.hptune(max_trials=1)
        def test_w():
            pass
        """
    )
    result = project.runpytest("-W", "always::pytest.PytestWarning")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*test_w.py::test_w is marked hptune but does not use the hptune fixture*"])


def test_unwritable_json_report_is_reported_not_crashed(project: pytest.Pytester) -> None:
    (project.path / "blocker").write_text("a file, not a directory")
    result, _ = (None, None)
    project.makepyfile(test_fast=FAST_TEST.format(marker="max_trials=1, executions_per_trial=1"))
    result = project.runpytest("--hptune-json=blocker/report.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*hptune: could not write the JSON report*blocker/report.json*"])
    assert "INTERNALERROR" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # tests/test_faults_writes.py


def test_xdist_workers_report_every_search_exactly_once(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_par="""
        import pytest
        from models import FastModel, data

        @pytest.mark.parametrize("i", range(4))
        @pytest.mark.hptune(max_trials=2, executions_per_trial=2, min_score=0.5)
        def test_par(hptune, i):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest_subprocess(
        "-n",
        "2",
        "--hptune-json=report.json",
        "--hptune-markdown=report.md",
        "--hptune-save-baseline=baseline.json",
        "--junitxml=junit.xml",
        "--hptune-html=report.html",
    )
    result.assert_outcomes(passed=4)
    ids = [f"test_par.py::test_par[{i}]" for i in range(4)]
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert sorted(t["nodeid"] for t in tests) == ids
    assert len({t["directory"] for t in tests}) == 4  # workers never share a directory
    out = result.stdout.str()
    assert out.count("= hptune =") == 1
    markdown = (project.path / "report.md").read_text()
    html = (project.path / "report.html").read_text()
    junit = (project.path / "junit.xml").read_text()
    baseline = json.loads((project.path / "baseline.json").read_text())
    assert sorted(baseline["entries"]) == ids
    for nodeid in ids:
        assert out.count(f"{nodeid}: best ") == 1  # one line per passing search
        assert markdown.count(f"### `{nodeid}`") == 1
        assert html.count(f"<code>{nodeid}</code>") == 1
    assert junit.count('name="hptune.best_mean"') == 4


def test_interrupted_run_still_writes_the_searches_that_finished(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_int="""
        from models import FastModel, data

        def test_a(hptune):
            hptune.search(FastModel(), *data(), max_trials=1, executions_per_trial=1)

        def test_b(hptune):
            raise KeyboardInterrupt  # as Ctrl-C during the next search
        """
    )
    result = project.runpytest_subprocess("--hptune-json=report.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    tests = json.loads((project.path / "report.json").read_text())["tests"]
    assert [t["nodeid"] for t in tests] == ["test_int.py::test_a"]
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_failing_search_prints_its_table_once(project: pytest.Pytester) -> None:
    result, _ = run_fast(project, "max_trials=2, executions_per_trial=2, min_score=0.99")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert out.count("gate min_score") == 1  # the table's gate line, in the summary only
    assert "Captured hptune" not in out
    result.stdout.fnmatch_lines(["*(every trial of this search: the hptune section of the summary below, *)"])
