"""tuner='sklearn': cross-validation folds are the executions."""

import json
from typing import Any

import pytest

ESTIMATORS = """
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier


def iris():
    return load_iris(return_X_y=True)


def build(hp):
    kind = hp.Choice("model", ["logistic", "tree"])
    if kind == "logistic":
        with hp.conditional_scope("model", ["logistic"]):
            return LogisticRegression(C=hp.Float("C", 0.01, 10.0, sampling="log"), max_iter=500)
    with hp.conditional_scope("model", ["tree"]):
        return DecisionTreeClassifier(max_depth=hp.Int("max_depth", 1, 4))
"""


def run(
    project: pytest.Pytester, marker: str, body: str = "hptune.search(build, *iris())", *args: str
) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    project.makepyfile(estimators=ESTIMATORS)
    project.makepyfile(
        test_sk=f"""
        import pytest
        from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold
        from estimators import build, iris

        @pytest.mark.hptune({marker})
        def test_sk(hptune):
            {body}
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v", *args)
    path = project.path / "report.json"
    return result, json.loads(path.read_text())["tests"] if path.exists() else []


def test_folds_are_the_executions_and_inactive_values_are_absent(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        "tuner='sklearn', max_trials=4, min_score=0.8, max_std=0.2",
        "result = hptune.search(build, *iris()); model = result.retrain(*iris()); assert model.score(*iris()) > 0.8",
    )
    result.assert_outcomes(passed=1)
    assert entry["objective"] == {"name": "score", "direction": "max"}
    assert entry["tuner_info"] == {"folds": 5, "oracle": "random"}
    assert len(entry["trials"]) == 4
    assert all(len(t["scores"]) == 5 for t in entry["trials"])
    assert entry["reused_fits"] is None  # no Keras model to reuse
    for trial in entry["trials"]:
        hps = trial["hyperparameters"]
        expected = {"model", "C"} if hps["model"] == "logistic" else {"model", "max_depth"}
        assert set(hps) == expected
    assert {e["name"]: e.get("conditions") for e in entry["search_space"]} == {
        "model": None,
        "C": [{"parent": "model", "values": ["logistic"]}],
        "max_depth": [{"parent": "model", "values": ["tree"]}],
    }
    result.stdout.fnmatch_lines(
        [
            "*sklearn search, objective score (max), 4 trials x 5 folds, oracle random",
            "*search space: model Choice logistic|tree;",
            "*C Float 0.01..10 log (if model=logistic);",
            "*max_depth Int 1..4 (if model=tree)",
            "*gate max_std*passed",
        ]
    )


def test_a_splitter_scoring_name_and_bayesian_oracle(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        "tuner='sklearn', oracle='bayesian', num_initial_points=2, max_trials=3, "
        "cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring='balanced_accuracy'",
    )
    result.assert_outcomes(passed=1)
    assert entry["tuner_info"] == {"folds": 3, "oracle": "bayesian"}
    assert all(len(t["scores"]) == 3 for t in entry["trials"])
    assert "StratifiedKFold" in entry["settings"]["cv"]


def test_session_wide_executions_and_epochs_do_not_apply_to_sklearn(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        "tuner='sklearn', max_trials=2, cv=2",
        "hptune.search(build, *iris())",
        "--hptune-executions=4",
        "--hptune-epochs=2",
    )
    result.assert_outcomes(passed=1)
    assert all(len(t["scores"]) == 2 for t in entry["trials"])
    assert entry["settings"]["epochs"] is None


def test_the_same_seed_reproduces_fold_scores(project: pytest.Pytester) -> None:
    _, (first,) = run(project, "tuner='sklearn', max_trials=3")
    _, (second,) = run(project, "tuner='sklearn', max_trials=3")
    assert [t["scores"] for t in first["trials"]] == [t["scores"] for t in second["trials"]]


@pytest.mark.parametrize(
    "marker, expected",
    [
        (
            "tuner='sklearn', executions_per_trial=3",
            "*executions_per_trial=3 (from hptune marker on *) does not apply to "
            "tuner='sklearn' (from hptune marker on *): its executions are the "
            "cross-validation folds: set cv=N",
        ),
        (
            "tuner='sklearn', objective='val_accuracy'",
            "*objective='val_accuracy' (from hptune marker on *) does not apply to "
            "tuner='sklearn'*choose the metric with scoring=*",
        ),
        ("tuner='sklearn', cv=1", "*invalid cv=1 from hptune marker on *: expected a number of folds >= 2*"),
        ("cv=3", "*cv=3 (from hptune marker on *) is a setting of the 'sklearn' tuner, not of tuner='random'*"),
        (
            "tuner='sklearn', beta=2.0",
            "*beta=2.0 (from hptune marker on *) is a setting of the Bayesian strategy, not "
            "of tuner='sklearn' (from *) with oracle='random': remove it or set oracle='bayesian'",
        ),
    ],
)
def test_settings_that_do_not_fit_sklearn_are_errors(project: pytest.Pytester, marker: str, expected: str) -> None:
    result, _ = run(project, marker)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([expected])


def test_unknown_scorer_name_fails_with_suggestions(project: pytest.Pytester) -> None:
    result, _ = run(project, "tuner='sklearn', scoring='acuracy'")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*scoring='acuracy' is not a scikit-learn scorer name (did you mean 'accuracy'*"])


def test_keras_fit_arguments_are_a_clear_error(project: pytest.Pytester) -> None:
    result, _ = run(project, "tuner='sklearn'", "hptune.search(build, *iris(), validation_split=0.2)")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*with tuner='sklearn', hptune.search() takes (build_estimator, X, y, sample_weight=None, groups=None)*validation_split*"
        ]
    )


def test_a_keras_model_from_the_build_function_is_a_clear_error(project: pytest.Pytester) -> None:
    result, _ = run(
        project,
        "tuner='sklearn'",
        "hptune.search(lambda hp: 42, *iris())",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*with tuner='sklearn' the build function must return a scikit-learn estimator*"])


def test_a_splitter_that_counts_its_folds_from_the_groups_counts_them_from_search(project: pytest.Pytester) -> None:
    # LeaveOneGroupOut cannot count its folds without the groups: they come
    # with hptune.search(), as with SklearnTuner.search().
    result, (entry,) = run(
        project,
        "tuner='sklearn', max_trials=2, cv=LeaveOneGroupOut()",
        "x, y = iris(); hptune.search(build, x, y, groups=[i % 3 for i in range(len(y))])",
    )
    result.assert_outcomes(passed=1)
    assert entry["settings"]["executions_per_trial"] == 3
    assert all(len(t["scores"]) == 3 for t in entry["trials"])
    # Only the plugin's own lines: pytest's header names other plugins'
    # settings (Hypothesis prints "database=None" there).
    out = result.stdout.str()
    assert "= hptune =" in out
    assert "None" not in out[out.index("= hptune =") :]


def test_a_splitter_that_cannot_count_its_folds_is_a_setting_error() -> None:
    from sklearn.model_selection import LeaveOneGroupOut

    from pytest_hptune.settings import SettingError, count_folds, make_layer, resolve

    settings = resolve([make_layer("m", {"tuner": "sklearn", "cv": LeaveOneGroupOut()})])
    unknown: object = settings.executions_per_trial  # None, though Settings does not say it can be
    assert unknown is None  # known only with the data
    assert count_folds(settings, ([[0], [1]], [0, 1]), {"groups": [0, 1]}).executions_per_trial == 2
    with pytest.raises(SettingError, match=r"cv=LeaveOneGroupOut\(\) \(from m\) cannot count its folds .*groups="):
        count_folds(settings, ([[0], [1]], [0, 1]), {})
