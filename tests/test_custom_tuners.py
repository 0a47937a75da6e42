"""Tuners of the user's own: a Tuner subclass as tuner= (run_trial overrides,
a training loop of its own), oracle= objects, a tuner the test constructed,
Keras Tuner's constructor options as settings, and keywords that belong
elsewhere. Everything trains for milliseconds (FastModel, numbers from
run_trial) except the one custom training loop."""

import json
from typing import Any

import pytest

# A module of custom tuners written next to the test files.
TUNERS = """
import keras
import keras_tuner


class Quadratic(keras_tuner.Tuner):
    '''Tunes a function: no model, one value per trial (minimised).'''

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.Float("x", -1.0, 1.0)
        return (x - 0.3) ** 2


class Scored(keras_tuner.Tuner):
    '''A dict of metrics per trial.'''

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.Float("x", 0.0, 1.0)
        return {"val_accuracy": 0.5 + 0.4 * x, "val_loss": 1.0 - x}


class Repeated(keras_tuner.Tuner):
    '''A list: one value per execution, as Keras Tuner averages them.'''

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.Choice("x", [1, 2, 3])
        return [x + 0.1, x + 0.2, x + 0.6]


class OwnLoop(keras_tuner.Tuner):
    '''Builds the hypermodel and trains it itself.'''

    def run_trial(self, trial, x, y, **kwargs):
        hp = trial.hyperparameters
        model = self.hypermodel.build(hp)
        split = int(0.75 * len(x))
        model.train_on_batch(x[:split], y[:split])
        predicted = keras.ops.convert_to_numpy(model(x[split:])).ravel() > 0.5
        return {"val_accuracy": float((predicted == y[split:]).mean())}


class ByName(keras_tuner.Tuner):
    '''The shape of the keras-io guide's custom-loop tuner: run_trial takes
    the training data by name and nothing else, batches it by a tuned size,
    trains epoch by epoch itself and returns the loss it tracked.'''

    def run_trial(self, trial, train_ds):
        hp = trial.hyperparameters
        x, y = train_ds
        batch_size = hp.Choice("batch_size", [16, 32])
        model = self.hypermodel.build(hp)
        for _epoch in range(2):
            losses = [
                float(model.train_on_batch(x[i : i + batch_size], y[i : i + batch_size], return_dict=True)["loss"])
                for i in range(0, len(x), batch_size)
            ]
        return {"epoch_loss": sum(losses) / len(losses)}


class BatchSized(keras_tuner.Tuner):
    '''Tunes a fit argument, then trains through Keras Tuner's loop.'''

    def run_trial(self, trial, *args, **kwargs):
        kwargs["batch_size"] = trial.hyperparameters.Choice("batch_size", [16, 32])
        return super().run_trial(trial, *args, **kwargs)


class BatchSizedHyperband(keras_tuner.Hyperband):
    def run_trial(self, trial, *args, **kwargs):
        kwargs["batch_size"] = trial.hyperparameters.Choice("batch_size", [16, 32])
        return super().run_trial(trial, *args, **kwargs)


class Flaky(keras_tuner.Tuner):
    '''Crashes the first time it runs each trial.'''

    runs = {}

    def run_trial(self, trial, *args, **kwargs):
        x = trial.hyperparameters.Float("x", 0.0, 1.0)
        Flaky.runs[trial.trial_id] = Flaky.runs.get(trial.trial_id, 0) + 1
        if Flaky.runs[trial.trial_id] == 1:
            raise ValueError("a crash worth a retry")
        return x
"""


def run(project: pytest.Pytester, source: str, *args: str) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    project.makepyfile(custom_tuners=TUNERS, test_custom=source)
    result = project.runpytest("--hptune-json=report.json", "-v", *args)
    path = project.path / "report.json"
    return result, json.loads(path.read_text())["tests"] if path.exists() else []


def test_run_trial_returning_a_value_needs_no_hypermodel_and_counts_one_execution(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        """
        import pytest
        from custom_tuners import Quadratic

        @pytest.mark.hptune(tuner=Quadratic, max_trials=4, max_score=0.5)
        def test_quadratic(hptune):
            result = hptune.search()
            assert all(len(t.scores) == 1 for t in result.trials)
            assert result.best.scores[0] == result.tuner.oracle.trials[result.best.trial_id].score
        """,
    )
    result.assert_outcomes(passed=1)
    assert entry["tuner"] == "Quadratic"
    assert entry["objective"] == {"name": "default_objective", "direction": "min"}
    assert len(entry["trials"]) == 4 and all(len(t["scores"]) == 1 for t in entry["trials"])
    assert entry["settings"]["executions_per_trial"] == 1
    assert entry["settings"]["tuner"] == "custom_tuners.Quadratic"
    assert "counted from the scores" in entry["tuner_info"]["executions"]
    result.stdout.fnmatch_lines(["*Quadratic search, objective default_objective (min), 4 trials x 1 execution"])


def test_run_trial_returning_a_dict_is_judged_by_the_gates(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        """
        import pytest
        from custom_tuners import Scored

        @pytest.mark.hptune(tuner=Scored, max_trials=3, seed=1, min_score=0.95)
        def test_scored(hptune):
            hptune.search()
        """,
    )
    result.assert_outcomes(failed=1)
    assert entry["objective"] == {"name": "val_accuracy", "direction": "max"}
    best = max(entry["trials"], key=lambda t: t["mean"])
    x = best["hyperparameters"]["x"]
    assert best["scores"] == [pytest.approx(0.5 + 0.4 * x)]
    result.stdout.fnmatch_lines(["*min_score: best trial * mean 0.* < 0.95* FAILED*"])


def test_run_trial_returning_a_list_keeps_one_score_per_element(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        """
        import keras_tuner
        import pytest
        from custom_tuners import Repeated

        @pytest.mark.hptune(tuner=Repeated, max_trials=3, objective=keras_tuner.Objective("x", "max"), max_std=0.2)
        def test_repeated(hptune):
            result = hptune.search()
            for trial in result.trials:
                assert trial.mean == pytest.approx(result.tuner.oracle.trials[trial.trial_id].score)
        """,
    )
    result.assert_outcomes(failed=1)  # the spread of 0.1, 0.2, 0.6 is 0.26
    x = entry["trials"][0]["hyperparameters"]["x"]
    assert entry["trials"][0]["scores"] == pytest.approx([x + 0.1, x + 0.2, x + 0.6])
    assert entry["settings"]["executions_per_trial"] == 3
    result.stdout.fnmatch_lines(["*max_std: best trial * std across executions 0.26* > 0.2* FAILED"])


def test_a_tuner_with_its_own_training_loop(project: pytest.Pytester) -> None:
    result, (entry,) = run(
        project,
        """
        import pytest
        from custom_tuners import OwnLoop
        from models import build_small, data

        @pytest.mark.hptune(tuner=OwnLoop, max_trials=2, min_score=0.0)
        def test_own_loop(hptune):
            result = hptune.search(build_small, *data())
            assert result.best_model().count_params() > 0
        """,
    )
    result.assert_outcomes(passed=1)
    assert entry["objective"]["name"] == "val_accuracy"
    assert [len(t["scores"]) for t in entry["trials"]] == [1, 1]


def test_a_run_trial_taking_named_data_gets_only_what_search_was_given(project: pytest.Pytester) -> None:
    # Plain Keras Tuner passes run_trial only search()'s arguments: the
    # plugin adds no verbose= (nor epochs=) that its signature does not take.
    result, entries = run(
        project,
        """
        import keras_tuner
        import pytest
        from custom_tuners import ByName
        from models import build_small, data

        LOSS = keras_tuner.Objective("epoch_loss", "min")

        @pytest.mark.hptune(tuner=ByName, objective=LOSS, max_trials=2, epochs=3, max_score=10.0)
        def test_by_name(hptune):
            result = hptune.search(build_small, train_ds=data())
            assert not result.failed and len(result.trials) == 2

        def test_constructed(hptune, tmp_path):
            tuner = ByName(
                oracle=keras_tuner.oracles.RandomSearchOracle(objective=LOSS, max_trials=2, seed=3),
                hypermodel=build_small,
                directory=str(tmp_path),
                project_name="by_name",
            )
            tuner.search(train_ds=data())  # as the guide runs it, without the plugin
            result = hptune.search(tuner, train_ds=data(), max_score=10.0)
            assert not result.failed
        """,
    )
    result.assert_outcomes(passed=2)
    assert all(t["status"] == "COMPLETED" for e in entries for t in e["trials"])


def test_a_run_trial_through_the_plugins_loop_keeps_every_execution(project: pytest.Pytester) -> None:
    result, entries = run(
        project,
        """
        import pytest
        from custom_tuners import BatchSized, BatchSizedHyperband
        from models import FastModel, data

        @pytest.mark.hptune(tuner=BatchSized, max_trials=2, executions_per_trial=3)
        def test_batch_sized(hptune):
            result = hptune.search(FastModel(), *data())
            assert {"batch_size", "units"} <= set(result.best.hyperparameters)
            assert all(len(set(t.scores)) == 3 for t in result.trials)  # seeded executions

        @pytest.mark.hptune(tuner=BatchSizedHyperband, max_trials=3, max_epochs=3, executions_per_trial=2)
        def test_batch_sized_hyperband(hptune):
            result = hptune.search(FastModel(), *data())
            assert result.trials and all(t.budget == 3 and len(t.scores) == 2 for t in result.trials)
        """,
    )
    result.assert_outcomes(passed=2)
    assert all("executions" not in e["tuner_info"] for e in entries)
    assert "brackets" in entries[1]["tuner_info"]


def test_oracle_instance_and_oracle_class(project: pytest.Pytester) -> None:
    result, (by_instance, by_class) = run(
        project,
        """
        import keras_tuner
        import pytest
        from custom_tuners import Scored
        from models import FastModel, data

        SPACE = keras_tuner.HyperParameters()
        SPACE.Choice("units", [32, 16, 8])
        GRID = keras_tuner.oracles.GridSearchOracle(
            keras_tuner.Objective("val_accuracy", "max"), max_trials=2, hyperparameters=SPACE, tune_new_entries=False
        )

        @pytest.mark.hptune(oracle=GRID, executions_per_trial=2)
        def test_instance(hptune):
            result = hptune.search(FastModel(), *data())
            ordered = sorted(result.trials, key=lambda t: t.trial_id)
            assert [t.hyperparameters["units"] for t in ordered] == [32, 16]
            assert all(len(t.scores) == 2 for t in ordered)
            assert GRID.trials == {}  # a copy ran: the marker's oracle serves every run

        @pytest.mark.hptune(tuner=Scored, oracle=keras_tuner.oracles.GridSearchOracle, max_trials=2)
        def test_class(hptune):
            result = hptune.search()
            assert isinstance(result.tuner.oracle, keras_tuner.oracles.GridSearchOracle)
        """,
    )
    result.assert_outcomes(passed=2)
    assert by_instance["settings"]["max_trials"] == 2
    assert by_instance["sources"]["max_trials"].startswith("oracle=<GridSearchOracle>")
    assert by_class["settings"]["oracle"] == "keras_tuner.src.tuners.gridsearch.GridSearchOracle"


def test_a_constructed_tuner_is_searched_as_it_is(project: pytest.Pytester) -> None:
    result, (entry, capped) = run(
        project,
        """
        import keras_tuner
        import pytest
        from models import FastModel, data

        def constructed(path):
            return keras_tuner.RandomSearch(
                FastModel(), objective="val_accuracy", max_trials=2, seed=5, directory=str(path), project_name="mine"
            )

        def test_constructed(hptune, tmp_path):
            tuner = constructed(tmp_path)
            result = hptune.search(tuner, *data(), max_score=2.0)
            assert result.tuner is tuner
            assert (tmp_path / "mine" / "oracle.json").exists()
            for trial in result.trials:
                # One score per trial, FastModel's: 0.6 + units/100 - dropout/10 + noise in [0, 0.02).
                (score,) = trial.scores
                hp = trial.hyperparameters
                low = 0.6 + hp["units"] / 100 - hp["dropout"] / 10
                assert low <= score < low + 0.02

        @pytest.mark.hptune(max_trials=1)
        def test_capped(hptune, tmp_path):
            assert len(hptune.search(constructed(tmp_path), *data()).trials) == 1

        @pytest.mark.hptune(executions_per_trial=2)
        def test_configured(hptune, tmp_path):
            hptune.search(constructed(tmp_path), *data())
        """,
    )
    result.assert_outcomes(passed=2, failed=1)
    assert entry["tuner"] == "RandomSearch"
    assert len(entry["trials"]) == 2 and entry["settings"]["executions_per_trial"] == 1
    assert entry["tuner_info"]["executions"].startswith("one per trial: the oracle's score")
    assert capped["settings"]["max_trials"] == 1
    result.stdout.fnmatch_lines(
        ["*executions_per_trial=2 (from hptune marker on *) does not apply to the RandomSearch passed to*"]
    )


def test_a_setting_that_agrees_with_a_constructed_tuner_is_no_conflict(project: pytest.Pytester) -> None:
    result, entries = run(
        project,
        """
        import keras_tuner
        import pytest
        from models import FastModel, data

        def constructed(path, executions=1):
            return keras_tuner.RandomSearch(
                FastModel(), objective="val_accuracy", max_trials=2, seed=5, executions_per_trial=executions,
                directory=str(path), project_name="mine",
            )

        @pytest.mark.hptune(executions_per_trial=1, seed=5, tuner="random", confirm=0)
        def test_agrees(hptune, tmp_path):
            assert len(hptune.search(constructed(tmp_path), *data()).trials) == 2

        @pytest.mark.hptune(executions_per_trial=1)
        def test_tuner_runs_two(hptune, tmp_path):
            hptune.search(constructed(tmp_path, executions=2), *data())

        @pytest.mark.hptune(seed=6)
        def test_other_seed(hptune, tmp_path):
            hptune.search(constructed(tmp_path), *data())
        """,
    )
    result.assert_outcomes(passed=1, failed=2)
    assert entries[0]["settings"]["executions_per_trial"] == 1
    result.stdout.fnmatch_lines_random(
        [
            "*executions_per_trial=1 (from hptune marker on *) does not apply to the RandomSearch passed to*",
            "*seed=6 (from hptune marker on *) does not apply to the RandomSearch passed to*",
        ]
    )


def test_keras_tuner_options_as_settings(project: pytest.Pytester) -> None:
    result, entries = run(
        project,
        """
        import keras
        import keras_tuner
        import pytest
        from custom_tuners import Flaky
        from models import FastModel, data

        SPACE = keras_tuner.HyperParameters()
        SPACE.Choice("units", [16])

        @pytest.mark.hptune(hyperparameters=SPACE, tune_new_entries=False, max_trials=2)
        def test_space(hptune):
            result = hptune.search(FastModel(), *data())
            # units is fixed by the space; dropout, not in it, keeps its default.
            assert {t.hyperparameters["units"] for t in result.trials} == {16}
            assert all(t.hyperparameters.get("dropout", 0.0) == 0.0 for t in result.trials)

        @pytest.mark.hptune(tuner=Flaky, max_retries_per_trial=1, max_trials=2)
        def test_retries(hptune):
            assert len(hptune.search().trials) == 2

        class Compiled(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("units", [2, 3])
                model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp["units"])])
                model.compile("sgd", "mse")
                return model

            def fit(self, hp, model, *args, **kwargs):
                ok = isinstance(model.optimizer, keras.optimizers.Adam) and model.loss == "mae"
                return {"val_accuracy": float(ok)}

        @pytest.mark.hptune(optimizer="adam", loss="mae", min_score=1.0, max_trials=2, executions_per_trial=1)
        def test_compile_overrides(hptune):
            hptune.search(Compiled(), *data())

        @pytest.mark.hptune(max_model_size=8, max_trials=2, executions_per_trial=1, min_score=0.0)
        def test_model_size(hptune):
            result = hptune.search(Compiled(), *data())
        """,
    )
    result.assert_outcomes(passed=4)
    space, retries, _, size = entries
    assert [h["name"] for h in space["search_space"]] == ["units"]
    assert retries["trials"] and all(t["status"] == "COMPLETED" for t in retries["trials"])
    assert {t["status"] for t in size["trials"]} == {"COMPLETED", "FAILED"}
    assert "Oversized model: 9 parameters" in next(t["message"] for t in size["trials"] if t["status"] == "FAILED")


KEYWORDS = {
    "max_trial=2": "*max_trial=, which is neither an hptune setting nor an argument of keras.Model.fit*"
    "did you mean the setting 'max_trials'?",
    "validaton_split=0.2": "*validaton_split=, * did you mean 'validation_split' or *",
    "run_eagerly=True": "*run_eagerly=, an argument of keras.Model.compile, not of fit: compile the model *",
    "tuner_id='a'": "*tuner_id= (from *) is not an hptune setting: Keras Tuner saves the state *",
}


def test_a_keyword_that_belongs_elsewhere_is_explained_before_any_trial(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = project.path / "builds.txt"
    monkeypatch.setenv("HPTUNE_TEST_BUILDS", str(builds))
    calls = "".join(
        f"""
        def test_keyword_{i}(hptune):
            hptune.search(FastModel(), *data(), {keyword})
        """
        for i, keyword in enumerate(KEYWORDS)
    )
    result, _ = run(
        project,
        f"""
        from models import FastModel, data

        class Own(FastModel):
            def fit(self, hp, model, x, y, noise=0.0, **kwargs):
                return super().fit(hp, model, x, y, **kwargs)

        def test_own_fit_takes_its_own_keywords(hptune):
            hptune.search(Own(), *data(), noise=0.1, batch_size=8, max_trials=1, executions_per_trial=1)

        def test_own_fit(hptune):
            hptune.search(Own(), *data(), noise=0.1, batch_szie=8)
        {calls}
        """,
    )
    result.assert_outcomes(passed=1, failed=1 + len(KEYWORDS))
    result.stdout.fnmatch_lines_random(
        [
            "*batch_szie=, which is neither * nor an argument of keras.Model.fit or of Own.fit(): "
            "did you mean 'batch_size'?",
            *KEYWORDS.values(),
        ]
    )
    assert len(builds.read_text().splitlines()) <= 2, "only the search that passed may build models"


def test_settings_that_do_not_fit_the_tuner(project: pytest.Pytester) -> None:
    result, _ = run(
        project,
        """
        import keras_tuner
        import pytest
        from custom_tuners import Quadratic, BatchSizedHyperband

        @pytest.mark.hptune(tuner_id="a")
        def test_tuner_id(hptune):
            pass

        @pytest.mark.hptune(tune_new_entries=False)
        def test_no_space(hptune):
            pass

        @pytest.mark.hptune(tuner=BatchSizedHyperband, oracle="bayesian")
        def test_own_oracle(hptune):
            pass

        @pytest.mark.hptune(tuner=Quadratic)
        def test_no_hypermodel_for_a_built_in(hptune):
            hptune.search(tuner="random")
        """,
    )
    result.assert_outcomes(errors=3, failed=1)
    result.stdout.fnmatch_lines_random(
        [
            "*'tuner_id' (from hptune marker on *) is not an hptune setting: Keras Tuner saves*",
            "*tune_new_entries=False (from *) restricts the search to the space given as hyperparameters=*",
            "*oracle='bayesian' (from *) does not apply to tuner=BatchSizedHyperband *: *builds its own oracle*",
            "*hptune.search() needs a build function*",
        ]
    )
