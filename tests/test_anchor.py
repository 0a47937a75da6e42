"""The baseline's anchor and the paired comparison, end to end: the saved
anchor, the candidate's fits of it, the verdict, the fallback to the search
level, require_no_drop and the reports."""

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_hptune.anchor import misfit
from pytest_hptune.engine.seeding import execution_seed

TEST = """
import keras
import numpy as np
import pytest
from models import FastModel, data

class Model(FastModel):
    shift = {shift}
    offset = {offset}  # extra draws: the model consumes randomness another way (a reseed)

    def build(self, hp):
        hp.Choice("units", {units})
        hp.Float("dropout", 0.0, 0.5, step=0.1)
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def fit(self, hp, model, *args, **kwargs):
        np.random.random(self.offset)
        score = super().fit(hp, model)["val_accuracy"]
        return {{"val_accuracy": score - self.shift}}

@pytest.mark.hptune(max_trials=3, executions_per_trial=3)
def test_tuned(hptune):
    hptune.search(Model(), *data())
"""


def write(project: pytest.Pytester, shift: float = 0.0, offset: int = 0, units: Sequence[int] = (4, 8, 16, 32)) -> None:
    project.makepyfile(test_model=TEST.format(shift=shift, offset=offset, units=list(units)))


def saved_entry(project: pytest.Pytester, name: str = "hptune-baseline.json") -> dict[str, Any]:
    entry: dict[str, Any]
    (entry,) = json.loads((project.path / name).read_text())["entries"].values()
    return entry


def the_record(project: pytest.Pytester, name: str = "report.json") -> dict[str, Any]:
    record: dict[str, Any]
    (record,) = json.loads((project.path / name).read_text())["tests"]
    return record


def test_the_baseline_keeps_an_anchor_with_its_seeds(project: pytest.Pytester) -> None:
    write(project)
    project.runpytest("--hptune-save-baseline", "--hptune-json=report.json").assert_outcomes(passed=1)
    entry = saved_entry(project)
    anchor = entry["anchor"]
    assert anchor["hyperparameters"] == entry["hyperparameters"]
    # Six anchor executions (the default) with fresh seeds, none of the best
    # trial's own (selected for their scores).
    assert anchor["seeds"] == [execution_seed(0, "anchor", k) for k in range(6)]
    assert not set(anchor["scores"]) & set(entry["scores"]) and len(set(anchor["scores"])) == 6
    assert the_record(project)["best_anchor"]["trained"] == 6
    project.runpytest("--hptune-save-baseline=eight.json", "--hptune-anchor-executions=8").assert_outcomes(passed=1)
    assert len(saved_entry(project, "eight.json")["anchor"]["seeds"]) == 8


def test_an_unchanged_model_reproduces_its_anchor_and_a_drop_is_caught(project: pytest.Pytester) -> None:
    write(project)
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    anchor = saved_entry(project)["anchor"]

    # Another search seed: the search differs, the anchor is trained with the
    # baseline's own seeds and reproduces every score (an exact rule).
    result = project.runpytest("--hptune-compare", "--hptune-seed=3", "--hptune-json=report.json", "-v")
    result.assert_outcomes(passed=1)
    comparison = the_record(project)["comparison"]
    assert comparison["kind"] == "paired" and comparison["status"] == "ok"
    assert comparison["anchor"]["candidate"] == anchor["scores"]
    assert comparison["anchor"]["differences"] == [0.0] * 6
    assert any("reproduced the baseline's score exactly" in n for n in comparison["notes"])
    assert comparison["search_level"]["status"] in ("ok", "regressed")
    result.stdout.fnmatch_lines(["*paired on 6 anchor seeds: difference +0.0000 *"])
    assert comparison["mdd"] is None  # no spread seen: no power figure

    # Compared and saved at once: the anchor fits serve both.
    project.runpytest(
        "--hptune-compare", "--hptune-save-baseline=again.json", "--hptune-json=report.json"
    ).assert_outcomes(passed=1)
    assert the_record(project)["best_anchor"]["reused"] == 6
    assert saved_entry(project, "again.json")["anchor"] == anchor

    # A reseeded model 0.03 worse: caught, with the anchor evidence.
    write(project, shift=0.03, offset=1)
    result = project.runpytest("--hptune-compare", "--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*regressed against its baseline (*hptune-baseline.json, test_model.py::test_tuned):",
            "*paired on 6 anchor seeds: difference -0.0* p *, detects a drop of 0.0* (80% power), max_drop 0: REGRESSED",
            "*anchor {*}, seeds [[]*]:",
            "*baseline   [[]*",
            "*this run   [[]*",
            "*difference [[]-0.0*",
            "*one-sided paired t-test*, confidence 0.95",
        ]
    )
    properties = {p.get("name"): p.get("value", "") for p in ET.parse(project.path / "junit.xml").iter("property")}
    assert properties["hptune.baseline"] == "regressed"
    assert properties["hptune.baseline_kind"] == "paired"
    assert float(properties["hptune.baseline_mdd"]) > 0
    assert float(properties["hptune.baseline_difference"]) < -0.02


def test_a_reseed_passes_and_require_no_drop_needs_a_narrow_interval(project: pytest.Pytester) -> None:
    write(project)
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    write(project, offset=1)  # a harmless change in how randomness is consumed
    result = project.runpytest("--hptune-compare", "--hptune-json=report.json", "--hptune-markdown=report.md")
    result.assert_outcomes(passed=1)
    comparison = the_record(project)["comparison"]
    assert comparison["kind"] == "paired" and comparison["df"] == 5 and comparison["mdd"] > 0
    assert "paired on 6 anchor seeds" in (project.path / "report.md").read_text()

    # Non-inferiority: the noise of six fits cannot show a drop under 0.001.
    result = project.runpytest("--hptune-compare", "--hptune-require-no-drop", "--hptune-max-drop=0.001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*could not show no drop against its baseline*",
            "*require_no_drop: the interval's lower end -0.0* does not show the drop is smaller than max_drop "
            "0.001; it could detect a drop of 0.0* with 80 % power*",
            "*: INCONCLUSIVE",
        ]
    )
    # ...a tolerance the interval excludes passes.
    project.runpytest("--hptune-compare", "--hptune-require-no-drop", "--hptune-max-drop=0.1").assert_outcomes(passed=1)


def test_a_configuration_outside_the_new_space_falls_back_to_the_search_level(project: pytest.Pytester) -> None:
    write(project)
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    units = saved_entry(project)["hyperparameters"]["units"]
    others = [u for u in (4, 8, 16, 32) if u != units]
    write(project, units=others)
    result = project.runpytest("--hptune-compare", "--hptune-json=report.json", "-v")
    comparison = the_record(project)["comparison"]
    assert comparison["kind"] == "search"
    assert f"units={units} is outside the search space's values" in comparison["anchor_fallback"]
    assert "search level, not paired (the anchor configuration does not fit" in " ".join(result.stdout.str().split())


def test_an_entry_without_anchor_falls_back_and_a_broken_anchor_is_unusable(project: pytest.Pytester) -> None:
    write(project)
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    data = json.loads((project.path / "hptune-baseline.json").read_text())
    (entry,) = data["entries"].values()
    anchor = entry.pop("anchor")
    (project.path / "old.json").write_text(json.dumps(data))
    project.runpytest("--hptune-compare=old.json", "--hptune-json=report.json").assert_outcomes(passed=1)
    comparison = the_record(project)["comparison"]
    assert comparison["kind"] == "search" and "has no anchor" in comparison["anchor_fallback"]

    entry["anchor"] = dict(anchor, seeds=anchor["seeds"][:-1])
    (project.path / "bad.json").write_text(json.dumps(data))
    result = project.runpytest("--hptune-compare=bad.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*has no usable 'anchor' (\"scores\": finite numbers, one per seed)*"])


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"units": 8, "lr": 0.01}, None),
        ({"units": 7, "lr": 0.01}, "units=7 is outside the search space's values [4, 8]"),
        ({"units": 8, "lr": 0.5}, "lr=0.5 is outside the search space's range 0.0001..0.1"),
        ({"units": 8}, "a new hyperparameter 'lr'"),
        ({"units": 8, "lr": 0.01, "depth": 2}, "'depth' no longer in the search space"),
        ({"units": 8, "lr": 0.01, "blocks": 4}, "blocks=4 is outside the search space's range 1..9 step 2"),
    ],
)
def test_misfit_names_what_left_the_space(values: dict[str, Any], expected: str | None) -> None:
    space: list[dict[str, Any]] = [
        {"name": "units", "type": "Choice", "values": [4, 8]},
        {"name": "lr", "type": "Float", "min": 0.0001, "max": 0.1, "sampling": "log"},
        {
            "name": "blocks",
            "type": "Int",
            "min": 1,
            "max": 9,
            "step": 2,
            "conditions": [{"parent": "units", "values": [4]}],
        },
    ]
    if "blocks" in values:
        values = dict(values, units=4)
    reason = misfit(values, space)
    assert reason == expected if expected is None else reason is not None and expected in reason


def test_each_search_of_a_test_is_paired_with_its_own_entry(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_model="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=2, anchor_executions=3)
        def test_two(hptune):
            hptune.search(FastModel(), *data())
            hptune.search(FastModel(), *data(), seed=5, anchor_executions=4)
        """
    )
    project.runpytest("--hptune-save-baseline").assert_outcomes(passed=1)
    entries = json.loads((project.path / "hptune-baseline.json").read_text())["entries"]
    first, second = entries["test_model.py::test_two"], entries["test_model.py::test_two#search2"]
    assert len(first["anchor"]["seeds"]) == 3 and len(second["anchor"]["seeds"]) == 4
    project.runpytest("--hptune-compare", "--hptune-json=report.json").assert_outcomes(passed=1)
    records = json.loads((project.path / "report.json").read_text())["tests"]
    assert [r["comparison"]["anchor"]["seeds"] for r in records] == [
        first["anchor"]["seeds"],
        second["anchor"]["seeds"],
    ]
    assert all(r["comparison"]["kind"] == "paired" for r in records)
