"""The settings model: per-search settings, their validation and resolution.

Every setting is validated where it enters (command line, ini file, marker,
``hptune.search()`` argument) and the error names the setting, the value and
its source. Settings are resolved once per search into a frozen
:class:`Settings`, with this precedence (highest first)::

    command line  >  hptune.search() arguments  >  marker  >  ini  >  defaults

One module per job: ``table.py`` (each setting's default, validator, help
and option; the groups of names), ``validators.py`` (values and their text),
``resolved.py`` (the frozen ``Settings``), ``resolve.py`` (layers merged
into ``Settings``), ``tuner_rules.py`` (what each kind of tuner accepts),
``kinds.py`` (the kind of a Keras Tuner class, by name) and ``errors.py``.
The command-line options and ini keys that set them are in ``options.py``.
This package imports nothing heavy: it is loaded with the plugin.
"""

from __future__ import annotations

from .errors import SettingError, SettingTextError
from .kinds import CUSTOM, is_oracle_instance, is_tuner_instance, kind_of, tuner_name
from .resolve import Layer, check_keywords, check_score_gates, check_search_keywords, make_layer, resolve
from .resolved import Settings
from .table import (
    BAYESIAN_SETTINGS,
    DEFAULT_FOLDS,
    GATE_NAMES,
    OPTION_SETTINGS,
    ORACLE_OPTIONS,
    SPECS,
    SPEED_SETTINGS,
    TUNER_OPTIONS,
    TUNER_SETTINGS,
    VERDICT_SETTINGS,
    Spec,
    option_name,
    parse_setting,
)
from .tuner_rules import count_folds, fold_count, for_constructed_tuner
from .validators import AUTO, TUNERS, VARIES

__all__ = [
    "AUTO",
    "BAYESIAN_SETTINGS",
    "CUSTOM",
    "DEFAULT_FOLDS",
    "GATE_NAMES",
    "OPTION_SETTINGS",
    "ORACLE_OPTIONS",
    "SPECS",
    "SPEED_SETTINGS",
    "TUNERS",
    "TUNER_OPTIONS",
    "TUNER_SETTINGS",
    "VARIES",
    "VERDICT_SETTINGS",
    "Layer",
    "SettingError",
    "SettingTextError",
    "Settings",
    "Spec",
    "check_keywords",
    "check_score_gates",
    "check_search_keywords",
    "count_folds",
    "fold_count",
    "for_constructed_tuner",
    "is_oracle_instance",
    "is_tuner_instance",
    "kind_of",
    "make_layer",
    "option_name",
    "parse_setting",
    "resolve",
    "tuner_name",
]
