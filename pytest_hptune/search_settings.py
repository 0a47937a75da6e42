"""The settings of a test's searches: its ``hptune`` markers merged into one
layer, and one search's settings from the ini file, the marker, the
search's keyword arguments and the command line, with the rules that
depend on what is searched. Raises SettingError; the fixture fails the test
with its text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .settings import (
    SPECS,
    Layer,
    SettingError,
    Settings,
    check_score_gates,
    check_search_keywords,
    count_folds,
    for_constructed_tuner,
    is_tuner_instance,
    make_layer,
    resolve,
)

if TYPE_CHECKING:
    from .state import SessionState


def marker_layer(item: pytest.Item) -> Layer:
    """Merge every ``hptune`` marker on the item (closest wins), validated."""
    where = f"hptune marker on {item.nodeid}"
    merged: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers("hptune"))):
        if mark.args:
            raise SettingError(
                f"{where} takes keyword arguments only, got positional {mark.args!r}; "
                "write e.g. @pytest.mark.hptune(max_trials=3)"
            )
        merged.update(mark.kwargs)
    return make_layer(where, merged)


def resolve_search(state: SessionState, marker: Layer, nodeid: str, overrides: dict[str, Any]) -> Settings:
    """The settings a search with these keyword overrides would use."""
    search_layer = make_layer(f"hptune.search() argument in {nodeid}", overrides)
    return resolve([state.ini_layer, marker, search_layer, state.cli_layer])


def for_search(
    state: SessionState,
    marker: Layer,
    nodeid: str,
    hypermodel: Any,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
) -> Settings:
    """The settings of one search. Takes the keywords named like a setting
    out of ``fit_kwargs`` (the rest go to ``model.fit``)."""
    overrides = {k: fit_kwargs.pop(k) for k in list(fit_kwargs) if k in SPECS}
    check_search_keywords(fit_kwargs, f"hptune.search() argument in {nodeid}")
    settings = resolve_search(state, marker, nodeid, overrides)
    if is_tuner_instance(hypermodel):
        settings = for_constructed_tuner(settings, hypermodel, set(marker.values) | set(overrides))
    elif keeps_default_objective(hypermodel) and isinstance(settings.tuner, str):
        check_score_gates(settings, default_objective_holds=True)
    return count_folds(settings, fit_args, fit_kwargs)


def keeps_default_objective(hypermodel: Any) -> bool:
    """A build function, or a HyperModel with Keras Tuner's own ``fit()``:
    its fit returns a History, so the default objective (``val_accuracy``)
    is the search's. A HyperModel's own ``fit()`` may return a number, which
    makes it Keras Tuner's ``default_objective``."""
    if not hasattr(hypermodel, "build"):
        return callable(hypermodel)
    fit = getattr(type(hypermodel), "fit", None)
    return getattr(fit, "__module__", "").startswith("keras_tuner")
