"""``hptune.search()``'s keywords that are not settings go where Keras
Tuner's ``search()`` sends them: to ``keras.Model.fit`` (through the
HyperModel's ``fit()``), to ``SklearnTuner.search()``, or to a ``run_trial``
of the user's. Any other keyword is explained before any trial, naming
where it belongs, instead of failing every trial with a TypeError."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

import keras
import keras_tuner

from ..settings import SPECS, Settings, is_tuner_instance
from .custom import own_method
from .failures import SearchError

SKLEARN = "SklearnTuner.search()"
# What a HyperModel's or run_trial's own signature names besides its keywords.
_NOT_KEYWORDS = ("self", "hp", "model", "trial")


def _parameters(function: Any) -> tuple[list[str], bool]:
    """The keyword names a function takes, in order, and whether it takes
    any keyword (``**kwargs``)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return [], True
    names = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in _NOT_KEYWORDS
    ]
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def accepted(hypermodel: Any, settings: Settings) -> tuple[str, list[str]] | None:
    """Where the search's keywords go and the names it takes; None when any
    keyword may be right (a run_trial of the user's that takes ``**kwargs``)."""
    tuner = hypermodel if is_tuner_instance(hypermodel) else None
    cls: Any = type(tuner) if tuner is not None else settings.tuner if isinstance(settings.tuner, type) else None
    if cls is not None and own_method(cls, "run_trial"):
        names, anything = _parameters(cls.run_trial)
        return None if anything else (f"{cls.__qualname__}.run_trial()", names)
    if settings.tuner == "sklearn" or isinstance(tuner, keras_tuner.SklearnTuner):
        return SKLEARN, _parameters(keras_tuner.SklearnTuner.search)[0]
    names, _ = _parameters(keras.Model.fit)
    where = "keras.Model.fit"
    model = tuner.hypermodel if tuner is not None else hypermodel
    if isinstance(model, keras_tuner.HyperModel) and own_method(type(model), "fit"):
        names += [n for n in _parameters(type(model).fit)[0] if n not in names]
        where += f" or of {type(model).__qualname__}.fit()"
    return where, names


def explain(key: str, where: str, names: list[str]) -> str:
    """One line: what the keyword is not, and what was probably meant."""
    if key in _parameters(keras.Model.compile)[0]:
        return (
            f"hptune.search() got {key}=, an argument of keras.Model.compile, not of fit: compile the model "
            "with it in the build function (optimizer=, loss= and metrics= are hptune settings: Keras Tuner "
            "recompiles every model with them)"
        )
    start = f"hptune.search() got {key}=, which is neither an hptune setting nor an argument of {where}"
    if where == SKLEARN:
        start = (
            "with tuner='sklearn', hptune.search() takes (build_estimator, X, y, sample_weight=None, "
            f"groups=None), as {where} does: {key}= is no hptune setting either"
        )
    setting = difflib.get_close_matches(key, list(SPECS), n=1)
    close = difflib.get_close_matches(key, names, n=3)
    if setting and not (close and _likeness(key, close[0]) > _likeness(key, setting[0])):
        return f"{start}: did you mean the setting {setting[0]!r}?"
    if close:
        return f"{start}: did you mean {' or '.join(map(repr, close))}?"
    return start if where == SKLEARN else f"{start} ({', '.join(names)})"


def _likeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def check(hypermodel: Any, settings: Settings, fit_kwargs: dict[str, Any]) -> None:
    """Raise SearchError for the first keyword the search cannot use."""
    target = accepted(hypermodel, settings)
    if target is None:
        return
    where, names = target
    for key in fit_kwargs:
        if key not in names:
            raise SearchError(explain(key, where, names))
