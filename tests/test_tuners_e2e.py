"""The Keras Tuner strategies beyond random search, end to end (FastModel)."""

import json
from typing import Any

import pytest


def run(project: pytest.Pytester, marker: str, *args: str) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    project.makepyfile(
        test_tuner=f"""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune({marker})
        def test_tuner(hptune):
            hptune.search(FastModel(), *data())
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v", *args)
    path = project.path / "report.json"
    return result, json.loads(path.read_text())["tests"] if path.exists() else []


def test_bayesian_search_with_its_own_settings(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project, "tuner='bayesian', max_trials=4, executions_per_trial=2, num_initial_points=2, beta=3.0"
    )
    result.assert_outcomes(passed=1)
    assert entry["tuner"] == "bayesian"
    assert entry["settings"]["num_initial_points"] == 2
    assert len(entry["trials"]) == 4
    assert all(len(t["scores"]) == 2 for t in entry["trials"])
    result.stdout.fnmatch_lines(["*bayesian search, objective val_accuracy (max)*"])


def test_grid_search_walks_the_grid_and_reports_every_execution(project: pytest.Pytester) -> None:
    result, (entry,) = run(project, "tuner='grid', max_trials=3, executions_per_trial=2")
    result.assert_outcomes(passed=1)
    assert entry["tuner"] == "grid"
    hps = [t["hyperparameters"] for t in entry["trials"]]
    assert len({tuple(sorted(h.items())) for h in hps}) == 3
    assert all(len(t["scores"]) == 2 for t in entry["trials"])


def test_grid_smaller_than_max_trials_ends_when_exhausted(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_small="""
        import keras
        import keras_tuner
        import pytest
        from models import data

        class Tiny(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("units", [1, 2])
                return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

            def fit(self, hp, model, *args, **kwargs):
                return {"val_accuracy": 0.5 + hp["units"] / 10}

        @pytest.mark.hptune(tuner="grid", max_trials=5, executions_per_trial=1, min_score=0.6)
        def test_small(hptune):
            result = hptune.search(Tiny(), *data())
            assert len(result.trials) == 2
        """
    )
    result = project.runpytest("--hptune-json=report.json")
    result.assert_outcomes(passed=1)


def test_tuner_from_the_command_line(project: pytest.Pytester) -> None:
    result, (entry,) = run(project, "max_trials=2, executions_per_trial=1", "--hptune-tuner=grid")
    result.assert_outcomes(passed=1)
    assert entry["tuner"] == "grid"
    assert entry["sources"]["tuner"] == "command line"


def test_a_setting_the_tuner_does_not_take_is_an_error_naming_both(project: pytest.Pytester) -> None:
    result, _ = run(project, "num_initial_points=2")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*num_initial_points=2 (from hptune marker on test_tuner.py::test_tuner) is a setting "
            "of the 'bayesian' tuner, not of tuner='random' (from the default): remove it or set tuner='bayesian'"
        ]
    )


@pytest.mark.parametrize("marker", ["tuner='bayesian', alpha=0", "tuner='bayesian', num_initial_points=0"])
def test_bad_tuner_settings_are_rejected(project: pytest.Pytester, marker: str) -> None:
    result, _ = run(project, marker)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*invalid * from hptune marker on test_tuner.py::test_tuner*"])
