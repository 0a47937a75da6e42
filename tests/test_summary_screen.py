"""A summary that fits a screen: one line per passing search, the whole
table for a failing one (every table with -v); warnings said once, up front,
attributed to the test; advice that never loosens a gate on a regressed run;
differences with their sign and never -0.0000."""

import re
from typing import Any

import pytest

from pytest_hptune.settings import Settings, make_layer, resolve
from pytest_hptune.verdict import advice
from pytest_hptune.verdict.record import signed

MANY = """
import pytest
from models import FastModel, data

@pytest.mark.parametrize("i", range(30))
@pytest.mark.hptune(max_trials=1, executions_per_trial=2)
def test_t(hptune, i):
    hptune.search(FastModel(), *data())

@pytest.mark.hptune(max_trials=2, executions_per_trial=2, min_score=0.99)
def test_fails(hptune):
    hptune.search(FastModel(), *data())
"""


def _section(text: str) -> list[str]:
    """The lines of the hptune section of the terminal summary."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"=+ hptune =+$", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("=="))
    return lines[start:end]


def test_thirty_passing_searches_fit_a_screen(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_many=MANY.replace(
            "@pytest.mark.hptune(max_trials=2", "@pytest.mark.skip\n@pytest.mark.hptune(max_trials=2"
        )
    )
    result = project.runpytest()
    result.assert_outcomes(passed=30, skipped=1)
    section = _section(result.stdout.str())
    assert len(section) <= 40, "\n".join(section)
    assert len(section) == 33  # the title, a blank line, the legend, one line per search
    assert all(len(line) <= 80 for line in section)
    result.stdout.fnmatch_lines(
        [
            "passed (best mean +- std, trials x executions, time; -v shows every table):",
            "test_many.py::test_t[[]0[]]: best 0.* +- 0.*, 1x2, * s, passed",
        ]
    )
    result.stdout.no_fnmatch_line("*trial  mean +- std*")


def test_a_failing_search_keeps_its_table_and_v_shows_every_table(project: pytest.Pytester) -> None:
    project.makepyfile(test_many=MANY.replace("range(30)", "range(2)"))
    result = project.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    section = "\n".join(_section(result.stdout.str()))
    assert section.count("trial  mean +- std") == 1  # only the failing search's table
    assert "test_many.py::test_t[0]: best" in section
    result.stdout.fnmatch_lines(["test_many.py::test_fails", "*trial  mean +- std*", "*gate min_score*FAILED"])
    result = project.runpytest("-v")
    assert "\n".join(_section(result.stdout.str())).count("trial  mean +- std") == 3


IDENTICAL = """
import pytest
from models import FastModel, data

class Same(FastModel):
    def fit(self, hp, model, *args, **kwargs):
        return {"val_accuracy": 0.75}

@pytest.mark.hptune(max_trials=1, executions_per_trial=3, max_std=0.05)
def test_same(hptune):
    hptune.search(Same(), *data())
"""


def test_identical_scores_are_a_warning_said_once_before_the_gates(project: pytest.Pytester) -> None:
    project.makepyfile(test_same=IDENTICAL)
    result = project.runpytest("-v", "-W", "always::pytest_hptune.HptuneAdvice")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    # pytest's warnings summary, attributed to the test's file and line
    result.stdout.fnmatch_lines(["*/test_same.py:8: HptuneAdvice: test_same.py::test_same: all 3 executions*0.7500*"])
    assert out.count("HptuneAdvice:") == 1
    # in the table, before the trials and the gates
    result.stdout.fnmatch_lines(
        ["  warning: all 3 executions of the judged trial scored exactly 0.7500*", "*trial  mean*", "*gate max_std*"]
    )


def _settings(**kwargs: Any) -> Settings:
    return resolve([make_layer("hptune marker on t.py::t", kwargs)])


def test_advice_never_loosens_a_gate_on_a_regressed_run_and_speaks_of_splits_under_split() -> None:
    scores = [0.80, 0.85, 0.90]
    seed = advice.compute(_settings(max_std=0.01), scores, 40, True)
    assert "raise max_std" in seed[0]["text"]
    regressed = advice.compute(_settings(max_std=0.01), scores, 40, True, regressed=True)
    assert regressed[0]["kind"] == "binomial_floor" and "raise max_std" not in regressed[0]["text"]
    split = advice.compute(_settings(max_std=0.01, vary="split"), scores, 40, False)
    assert "each validation split" in split[0]["text"] and "fold" not in split[0]["text"]
    folds = advice.compute(_settings(max_std=0.01, vary="folds", executions_per_trial=3), scores, 40, False)
    assert "each fold" in folds[0]["text"]
    assert (
        "raise max_std"
        not in advice.compute(_settings(max_std=0.01, vary="split"), scores, 40, True, regressed=True)[0]["text"]
    )


def test_identical_scores_advice_names_the_validation_set() -> None:
    (item, *_) = advice.compute(_settings(max_std=0.05), [0.75, 0.75, 0.75], 28, False)
    assert item["kind"] == "identical_scores" and "28 validation samples" in item["text"]
    (item, *_) = advice.compute(_settings(), [0.75, 0.75, 0.75], None, True)  # compared: the spread is read
    assert item["kind"] == "identical_scores" and "does the seed reach the model" in item["text"]

    def kinds(items: list[dict[str, Any]]) -> list[str]:
        return [i["kind"] for i in items]

    assert "identical_scores" not in kinds(advice.compute(_settings(max_std=0.05), [0.75, 0.76], 28, False))
    assert "identical_scores" not in kinds(advice.compute(_settings(), [0.75, 0.75], 28, False))  # nothing reads it


def test_differences_keep_their_sign_and_never_read_minus_zero() -> None:
    assert signed(-0.00001) == "0.0000" and signed(0.00001) == "0.0000"
    assert signed(0.0123) == "+0.0123" and signed(-0.0123) == "-0.0123"
    assert signed(-0.00006) == "-0.0001"  # a difference that rounds to a digit keeps its sign


def _record(nodeid: str) -> dict[str, Any]:
    trial: dict[str, Any] = {
        "trial_id": "0",
        "hyperparameters": {"units": 8},
        "scores": [0.9, 0.91],
        "mean": 0.905,
        "std": 0.007,
    }
    trial.update(status="COMPLETED", budget=None, message=None)
    return {
        "nodeid": nodeid,
        "passed": True,
        "trials": [trial],
        "best_trial_id": "0",
        "objective": {"name": "val_accuracy", "direction": "max"},
        "gates": [{"name": "min_score", "threshold": 0.9, "value": 0.905, "passed": True}],
        "tuner_info": {},
        "tuner": "random",
        "fits": 2,
        "duration_s": 0.1,
        "settings": {"max_trials": 1, "executions_per_trial": 2},
    }


def test_png_titles_fit_the_picture_and_the_html_keeps_the_whole_id() -> None:
    import matplotlib.pyplot as plt

    from pytest_hptune.reports import html, plot

    long_id = "tests/models/test_a_rather_long_module_name.py::TestTheClass::test_tuned[" + "x" * 120 + "-last]"
    for nodeid in (long_id, "t.py::t", "t.py::" + "y" * 70):
        fig = plot.figure(_record(nodeid))
        fig.canvas.draw()
        box, frame = fig.axes[0].title.get_window_extent(), fig.bbox
        plt.close(fig)
        assert box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1, (nodeid, box, frame)
    title = plot.title(_record(long_id), 60)
    assert title.count("\n") == 1 and title.endswith("-last] [passed]") and title.startswith("...")
    assert long_id in html.render_html([_record(long_id)])


def test_confirmation_scores_are_in_the_markdown_and_html_beside_their_gates() -> None:
    from pytest_hptune.reports import html, markdown

    record = _record("t.py::t")
    record["confirmation"] = {"scores": [0.97, 0.98, 0.975], "mean": 0.975, "std": 0.005, "tuned_mean": 0.98}
    record["confirmation"]["gap"] = -0.00001
    record["gates"][0]["value"] = 0.975
    text = "confirmed with 3 fresh seeds: 0.9700 0.9800 0.9750; mean 0.9750 ± 0.0050 (tuned 0.9800, gap 0.0000)"
    for page in (markdown.render([record]), html.render_html([record])):
        assert text in page
        assert page.index(text) < page.index("min_score")  # before the gate that reads it
