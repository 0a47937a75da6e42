"""End-to-end checks that need real Keras training (tiny models, 1 epoch)."""

import json
import sys

import pytest


def test_objective_missing_fails_after_the_first_execution(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    project.makepyfile(
        test_obj="""
        import pytest
        from models import build_dense, data

        @pytest.mark.hptune(max_trials=3, executions_per_trial=3, epochs=1)
        def test_obj(hptune):
            hptune.search(build_dense, *data())  # no validation data
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*could not run: ObjectiveNotFound: objective 'val_accuracy' is not among the "
            "metrics the model reports: accuracy, loss.*pass validation_split= or validation_data=*"
        ]
    )
    # one build while Keras Tuner reads the search space, one for the first execution
    assert builds.read_text().count("build") == 2
    assert "INTERNALERROR" not in result.stdout.str()
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert entry["error"].startswith("ObjectiveNotFound")


def test_min_objective_val_loss_with_max_score_gate(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_loss="""
        import pytest
        from models import build_dense, data

        @pytest.mark.hptune(objective="val_loss", max_trials=2, executions_per_trial=2,
                            epochs=1, max_score=0.0001)
        def test_loss(hptune):
            hptune.search(build_dense, *data(), validation_split=0.25)
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*objective val_loss (min)*", "*max_score: best trial * mean * > 0.0001 FAILED"])
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    means = {t["trial_id"]: t["mean"] for t in entry["trials"] if t["status"] == "COMPLETED"}
    assert entry["best_trial_id"] == min(means, key=lambda trial_id: means[trial_id])


def test_nan_loss_fails_that_trial_and_the_search_goes_on(project: pytest.Pytester) -> None:
    # build_dense samples hp.Boolean("diverge"): True multiplies activations by
    # NaN, so that configuration's loss is NaN from the first batch.
    project.makepyfile(
        test_nan="""
        import pytest
        from models import build_dense, data

        @pytest.mark.hptune(max_trials=4, executions_per_trial=2, epochs=1)
        def test_nan(hptune):
            hptune.search(build_dense, *data(), validation_split=0.25)
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    entry = json.loads((project.path / "report.json").read_text())["tests"][0]
    statuses: dict[bool, set[str]] = {t["hyperparameters"]["diverge"]: set() for t in entry["trials"]}
    for trial in entry["trials"]:
        statuses[trial["hyperparameters"]["diverge"]].add(trial["status"])
        if trial["hyperparameters"]["diverge"]:
            assert trial["message"] == "loss is nan at epoch 1"
            assert trial["scores"] == []  # stopped at the first execution
    assert statuses == {True: {"FAILED"}, False: {"COMPLETED"}}
    result.stdout.fnmatch_lines(["*FAILED*loss is nan at epoch 1"])


def test_real_training_is_reproducible_and_executions_differ(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_rep="""
        import pytest
        from models import build_dense, data

        @pytest.mark.hptune(max_trials=1, executions_per_trial=2, epochs=1, objective="val_loss")
        def test_rep(hptune):
            hptune.search(build_dense, *data(), validation_split=0.25)
        """
    )
    runs = []
    for name in ("a.json", "b.json"):
        project.runpytest(f"--hptune-json={name}").assert_outcomes(passed=1)
        runs.append(json.loads((project.path / name).read_text())["tests"][0]["trials"])
    assert [t["scores"] for t in runs[0]] == [t["scores"] for t in runs[1]]
    assert [t["hyperparameters"] for t in runs[0]] == [t["hyperparameters"] for t in runs[1]]
    (trial,) = runs[0]
    losses = trial["scores"]
    assert len(losses) == 2
    # Each execution is seeded differently: a continuous loss never repeats.
    assert losses[0] != losses[1]


def test_plugin_import_does_not_load_ml_frameworks() -> None:
    code = (
        "import sys, importlib.metadata as md\n"
        "(ep,) = [e for e in md.entry_points(group='pytest11') if e.name == 'hptune']\n"
        "ep.load()\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_without_hptune_tests_never_imports_keras(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = [m for m in ("tensorflow", "keras", "keras_tuner") if m in sys.modules]
            print("LOADED:", loaded)
        """
    )
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*LOADED: [[][]]"])


def test_tensorflow_and_keras_noise_stays_out_of_the_output(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    project.makepyfile(
        test_quiet="""
        import pytest
        from models import build_dense, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=2, epochs=1)
        def test_quiet(hptune):
            hptune.search(build_dense, *data(), validation_split=0.25)
        """
    )
    result = project.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    everything = result.stdout.str() + result.stderr.str()
    for noise in ("cpu_feature_guard", "oneDNN", "retracing", "DeprecationWarning", "Epoch 1/1", "Trial 1 Complete"):
        assert noise not in everything, noise
