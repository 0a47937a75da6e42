"""vary=: what differs between a trial's executions. 'split' and 'folds'
put the validation data's own variance into the scores."""

import json
from typing import Any

import numpy as np
import pytest

from pytest_hptune.settings import SettingError, make_layer, resolve

SPLITS = """
import json
import os

import keras
import keras_tuner
import numpy as np


class Records(keras_tuner.HyperModel):
    '''Records each execution's training and validation rows (x holds row ids).'''

    def build(self, hp):
        hp.Choice("units", [4])
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

    def fit(self, hp, model, x, y, validation_data=None, **kwargs):
        with open(os.environ["HPTUNE_TEST_ROWS"], "a") as fh:
            fh.write(json.dumps({"train": sorted(int(v) for v in x[:, 0]),
                                 "val": sorted(int(v) for v in validation_data[0][:, 0])}) + "\\n")
        return {"val_accuracy": float(np.mean(validation_data[1]))}
"""


def _run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, vary: str, extra: str = ""
) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    rows = project.path / "rows.jsonl"
    rows.unlink(missing_ok=True)
    monkeypatch.setenv("HPTUNE_TEST_ROWS", str(rows))
    project.makepyfile(splits=SPLITS)
    project.makepyfile(
        test_varied=f"""
        import numpy as np
        import pytest
        from splits import Records

        @pytest.mark.hptune(max_trials=1, executions_per_trial=4, vary={vary!r}, confirm=2)
        def test_it(hptune):
            x = np.arange(40, dtype="float32").reshape(-1, 1)
            y = (np.arange(40) % 2).astype("float32")
            hptune.search(Records(), x, y{extra})
        """
    )
    result = project.runpytest("--hptune-json=report.json", "-v", "-W", "ignore::pytest_hptune.HptuneAdvice")
    fits = [json.loads(line) for line in rows.read_text().splitlines()] if rows.exists() else []
    return result, fits


def test_split_holds_out_a_fresh_share_per_execution(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result, fits = _run(project, monkeypatch, "split", ", validation_split=0.25")
    result.assert_outcomes(passed=1)
    executions = fits[:4]
    for fit in fits:
        assert len(fit["val"]) == 10 and len(fit["train"]) == 30
        assert sorted(fit["val"] + fit["train"]) == list(range(40))
    assert len({tuple(f["val"]) for f in executions}) == 4  # each execution its own hold-out
    record = json.loads((project.path / "report.json").read_text())["tests"][0]
    assert record["varied"] == ["initialisation", "data order", "validation split"]
    result.stdout.fnmatch_lines(["*executions vary: initialisation, data order, validation split*"])


def test_folds_validate_on_each_row_exactly_once(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result, fits = _run(project, monkeypatch, "folds")
    result.assert_outcomes(passed=1)
    executions = fits[:4]
    validated = sorted(v for f in executions for v in f["val"])
    assert validated == list(range(40))  # the 4 folds partition the rows
    for fit in executions:
        assert not set(fit["val"]) & set(fit["train"])
    # Confirmation runs validate on folds too (fresh seeds, same folds).
    assert [f["val"] for f in fits[4:6]] == [f["val"] for f in executions[:2]]


def test_the_default_varies_only_the_seed(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    result, fits = _run(project, monkeypatch, "seed", ", validation_data=(x[:8], y[:8])")
    result.assert_outcomes(passed=1)
    assert len({tuple(f["val"]) for f in fits}) == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        ("", "*vary='split' (from hptune marker on *) holds out validation_split= of the data*"),
        (
            ", validation_split=0.2, validation_data=(x, y)",
            "*chooses the validation rows itself: remove validation_data=*",
        ),
    ],
)
def test_split_needs_a_validation_split_and_no_validation_data(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, extra: str, message: str
) -> None:
    result, fits = _run(project, monkeypatch, "split", extra)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    assert fits == []


def test_folds_need_a_fixed_number_of_executions() -> None:
    with pytest.raises(SettingError, match=r"vary='folds' .* needs a fixed executions_per_trial of 2 or more"):
        resolve([make_layer("test", {"vary": "folds", "executions_per_trial": "auto"})])
    with pytest.raises(SettingError, match="invalid vary='bootstrap'"):
        resolve([make_layer("test", {"vary": "bootstrap"})])


def test_the_split_is_reproducible_and_paired_for_the_same_seed() -> None:
    from pytest_hptune.engine import splits

    settings = resolve([make_layer("test", {"vary": "split"})])
    x, y = np.arange(20).reshape(-1, 1), np.arange(20)
    a = splits.execution_data(settings, 0, 7, (x, y), {"validation_split": 0.2})
    b = splits.execution_data(settings, 0, 7, (x, y), {"validation_split": 0.2})
    c = splits.execution_data(settings, 0, 8, (x, y), {"validation_split": 0.2})
    assert (a[1]["validation_data"][0] == b[1]["validation_data"][0]).all()
    assert not (a[1]["validation_data"][0] == c[1]["validation_data"][0]).all()


def test_vary_split_or_folds_does_not_apply_to_hyperband() -> None:
    with pytest.raises(SettingError, match="does not apply to tuner='hyperband'"):
        resolve([make_layer("test", {"vary": "split", "tuner": "hyperband"})])


@pytest.mark.parametrize("vary", ["split", "folds"])
def test_vary_split_or_folds_does_not_apply_to_a_hyperband_subclass(vary: str) -> None:
    import keras_tuner

    class MyHyperband(keras_tuner.Hyperband):
        pass

    layer = {"vary": vary, "tuner": MyHyperband, "executions_per_trial": 2}
    with pytest.raises(SettingError, match=r"does not apply to tuner=.*MyHyperband .*, a Hyperband: its continuation"):
        resolve([make_layer("test", layer)])
