"""The table of per-search settings (``SPECS``): each setting's default,
validator, help and command-line option, and the groups of setting names
the rest of the plugin acts on (gates, verdict-only settings, the settings
of one tuner, ...).

This is the one place a setting's default is written: the frozen
``Settings`` (``resolved.py``), the command-line options (``options.py``)
and the documentation's settings reference read it from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import validators as check
from .errors import SettingTextError

DEFAULT_FOLDS = 5  # the scikit-learn tuner's folds when cv= is not set


@dataclass(frozen=True)
class Spec:
    """One setting: its default, its validator (name, value, source) ->
    value, its help, and its command-line option with the parser of its text."""

    default: Any
    validate: Callable[[str, Any, str], Any]
    help: str
    option: str | None = None  # --hptune-<option> and ini hptune_<option>
    parse: Callable[[str], Any] | None = None  # text from command line / ini


SPECS: Mapping[str, Spec] = MappingProxyType(
    {
        "tuner": Spec(
            "random", check.tuner, "Keras Tuner strategy, or a keras_tuner.Tuner subclass to construct", "tuner", str
        ),
        "objective": Spec(
            "val_accuracy",
            check.objective,
            "metric to optimise (str or keras_tuner.Objective)",
        ),
        "direction": Spec(None, check.direction, "'max' or 'min'; overrides Keras Tuner's inference"),
        "max_trials": Spec(3, check.count, "number of hyperparameter configurations", "trials", check.parse_int),
        "executions_per_trial": Spec(
            3,
            check.executions,
            "seeded fits per configuration, or 'auto': min_executions each, and "
            "more for the leading trial until the gates' verdict is statistically decided",
            "executions",
            check.parse_executions,
        ),
        "min_executions": Spec(
            3,
            check.adaptive_bound,
            "executions_per_trial='auto': executions of every trial",
            "min-executions",
            check.parse_int,
        ),
        "max_executions": Spec(
            10,
            check.adaptive_bound,
            "executions_per_trial='auto': most executions of the leading trial",
            "max-executions",
            check.parse_int,
        ),
        "vary": Spec(
            "seed",
            check.vary,
            "what differs between a trial's executions: 'seed' (initialisation and data "
            "order), 'split' (also a fresh shuffled validation_split hold-out), 'folds' "
            "(also the validation fold: K-fold, K = executions_per_trial)",
            "vary",
            str,
        ),
        "epochs": Spec(
            None,
            check.optional_count,
            "epochs per fit",
            "epochs",
            check.parse_int,
        ),
        "max_time": Spec(
            None,
            check.seconds,
            "time budget of a search (seconds, or '90s', '10m', '1.5h'): when it runs out, no new "
            "trial starts (nor, under 'auto', a new execution); the gates judge what completed",
            "max-time",
            check.parse_seconds,
        ),
        "seed": Spec(0, check.non_negative, "seed of the search and of every execution", "seed", check.parse_int),
        "reuse": Spec(
            True,
            check.truth,
            "executions 2..n of a configuration train the model its first execution traced, from "
            "a fresh build's initial state (same scores, no second trace; TensorFlow and JAX)",
            "reuse",
            check.parse_truth,
        ),
        "max_consecutive_failed_trials": Spec(3, check.count, "stop the search after this many failed trials in a row"),
        "max_failed_trials": Spec(
            0,
            check.non_negative,
            "trials whose build, fit or callback raised an error of the user's code (not Keras Tuner's "
            "FailedTrialError, a NaN loss or a misnamed objective) that a search tolerates; one more fails "
            "the test, after the search, with the error's traceback and configuration",
            "max-failed-trials",
            check.parse_int,
        ),
        "num_initial_points": Spec(None, check.optional_count, "bayesian: random trials before the Gaussian process"),
        "alpha": Spec(None, check.positive, "bayesian: GP noise level"),
        "beta": Spec(None, check.positive, "bayesian: exploration factor of the acquisition"),
        "max_epochs": Spec(
            None,
            check.optional_count,
            "hyperband: epochs of a full-budget trial (default: epochs if set, else Keras Tuner's 100)",
        ),
        "factor": Spec(None, check.factor, "hyperband: reduction factor of epochs and trials (default 3)"),
        "hyperband_iterations": Spec(
            None, check.optional_count, "hyperband: iterations of the whole algorithm (default 1)"
        ),
        "cv": Spec(
            None,
            check.cv,
            f"sklearn: folds (int) or a splitter; the folds are the executions (default {DEFAULT_FOLDS})",
        ),
        "scoring": Spec(None, check.scoring, "sklearn: scorer name or callable (default: the estimator's score())"),
        "oracle": Spec(
            None,
            check.oracle,
            "sklearn or a Tuner subclass: search strategy, 'random', 'bayesian' or 'grid' (default "
            "random), or a keras_tuner.Oracle instance or subclass",
        ),
        # Keras Tuner's own Tuner and Oracle options: None is Keras Tuner's default.
        "hyperparameters": Spec(
            None, check.hyperparameters, "Keras Tuner: a keras_tuner.HyperParameters, the search space (or part of it)"
        ),
        "tune_new_entries": Spec(
            None, check.optional_bool, "Keras Tuner: tune hyperparameters missing from hyperparameters= (default True)"
        ),
        "allow_new_entries": Spec(
            None,
            check.optional_bool,
            "Keras Tuner: may the model ask for hyperparameters missing from hyperparameters=",
        ),
        "max_retries_per_trial": Spec(None, check.retries, "Keras Tuner: retries of a trial that crashed (default 0)"),
        "max_model_size": Spec(None, check.optional_count, "Keras Tuner: a model with more parameters fails its trial"),
        "optimizer": Spec(None, check.optimizer, "Keras Tuner: recompile every model with this optimizer"),
        "loss": Spec(None, check.loss, "Keras Tuner: recompile every model with this loss"),
        "metrics": Spec(None, check.metrics, "Keras Tuner: recompile every model with these metrics"),
        "distribution_strategy": Spec(
            None, check.distribution_strategy, "Keras Tuner: a tf.distribute.Strategy each model is built under"
        ),
        "min_score": Spec(None, check.threshold, "gate: best trial's mean >= this"),
        "max_score": Spec(None, check.threshold, "gate: best trial's mean <= this"),
        "max_std": Spec(None, check.std_threshold, "gate: best trial's std across executions <= this"),
        "min_lower_bound": Spec(
            None, check.threshold, "gate: lower bound of the best trial's confidence interval >= this"
        ),
        "max_upper_bound": Spec(
            None, check.threshold, "gate: upper bound of the best trial's confidence interval <= this"
        ),
        "min_worst": Spec(
            None, check.threshold, "gate: the best trial's worst execution (lowest of a max objective) >= this"
        ),
        "max_worst": Spec(
            None, check.threshold, "gate: the best trial's worst execution (highest of a min objective) <= this"
        ),
        "max_neighbour_drop": Spec(
            None,
            check.std_threshold,
            "gate: after the search, move each hyperparameter of the best "
            "configuration one step and train it; the worst relative drop of "
            "the mean <= this (0.05: 5 %)",
        ),
        "near_best": Spec(
            0.01,
            check.std_threshold,
            "a trial is near the best when its mean is within this of the best's",
        ),
        "min_near_best_share": Spec(
            None, check.share, "gate: share of the trials near the best (see near_best) >= this"
        ),
        "detect_drop": Spec(
            0.01,
            check.positive,
            "the smallest drop of the best trial's mean worth detecting: the "
            "power-analysis advice says how many executions detect it",
        ),
        "confirm": Spec(
            0,
            check.non_negative,
            "re-run the best configuration with this many fresh seeds after the "
            "search and apply the gates to those scores (0: off)",
        ),
        "max_drop": Spec(
            0.0,
            check.drop,
            "--hptune-compare: the drop from the baseline's score tolerated",
            "max-drop",
            check.parse_float,
        ),
        "confidence": Spec(
            0.95,
            check.confidence,
            "confidence of the interval gates and of --hptune-compare's regression test",
            "confidence",
            check.parse_float,
        ),
        "require_no_drop": Spec(
            False,
            check.truth,
            "--hptune-compare: pass only when the interval shows the drop is smaller than max_drop "
            "(non-inferiority); an inconclusive comparison fails",
            "require-no-drop",
            check.parse_truth,
        ),
        "anchor_executions": Spec(
            6,
            check.anchor_count,
            "--hptune-save-baseline: fresh-seeded executions of the best configuration the baseline keeps "
            "as its anchor (--hptune-compare trains them again with the same seeds: a paired test)",
            "anchor-executions",
            check.parse_int,
        ),
    }
)

GATE_NAMES = (
    "min_score",
    "max_score",
    "max_std",
    "min_lower_bound",
    "max_upper_bound",
    "min_worst",
    "max_worst",
    "max_neighbour_drop",
    "min_near_best_share",
)
# Settings that judge trials without changing them (resume ignores them,
# baselines do not report them as differences).
VERDICT_SETTINGS = (
    *GATE_NAMES,
    "max_drop",
    "confidence",
    "near_best",
    "detect_drop",
    "require_no_drop",
    "anchor_executions",
    "max_failed_trials",
)
# Settings that change how fast a search runs, never its scores (reuse.py):
# resume and baselines ignore them too.
SPEED_SETTINGS = ("reuse",)


# Settings that only some tuners take. Any other tuner rejects them. The
# Bayesian ones also apply to tuner='sklearn' with oracle='bayesian'.
TUNER_SETTINGS = {
    "num_initial_points": ("bayesian",),
    "alpha": ("bayesian",),
    "beta": ("bayesian",),
    "max_epochs": ("hyperband",),
    "factor": ("hyperband",),
    "hyperband_iterations": ("hyperband",),
    "cv": ("sklearn",),
    "scoring": ("sklearn",),
}
BAYESIAN_SETTINGS = tuple(name for name, tuners in TUNER_SETTINGS.items() if tuners == ("bayesian",))
# Settings the plugin passes to the oracle it builds (with objective,
# max_trials, seed and max_consecutive_failed_trials).
ORACLE_OPTIONS = ("hyperparameters", "tune_new_entries", "allow_new_entries", "max_retries_per_trial")
# Settings the plugin passes to keras_tuner.Tuner.__init__.
TUNER_OPTIONS = ("max_model_size", "optimizer", "loss", "metrics", "distribution_strategy")
# keras_tuner.Tuner's other constructor arguments, and why they are not settings.
REFUSED = {
    "tuner_id": "Keras Tuner saves the state of a tuner with a tuner_id under that name but looks for it "
    "under 'tuner0.json' when it reloads, so --hptune-resume would rerun every trial; set "
    "KERASTUNER_TUNER_ID for distributed tuning (--hptune-workers does)",
    "logger": "Keras Tuner ignores it (deprecated since 1.1)",
    "directory": "the plugin chooses the tuning directory: use --hptune-dir (ini hptune_dir)",
    "project_name": "the plugin names each search's directory after its test",
    "overwrite": "the plugin overwrites a search unless --hptune-resume continues it",
    "hypermodel": "pass it as hptune.search()'s first argument",
}
# Session-wide values (command line) that cap a test's own, not override it.
CAPS = ("max_trials",)
# Gates whose threshold is on the objective's own scale.
SCORE_GATES = ("min_score", "max_score", "min_lower_bound", "max_upper_bound", "min_worst", "max_worst")


def option_name(setting: str) -> str:
    """The command-line option of a per-search setting (the table: options.py)."""
    option = SPECS[setting].option
    assert option is not None, f"{setting} has no command-line option in SPECS"
    return "--hptune-" + option


# The per-search settings that have a command-line option and an ini key.
OPTION_SETTINGS = tuple(name for name, spec in SPECS.items() if spec.option)


def parse_setting(setting: str, text: str, where: str) -> Any:
    """Text from the command line or an ini file -> the setting's validated value."""
    spec = SPECS[setting]
    assert spec.parse is not None, f"{setting} has no command-line option in SPECS"
    try:
        value = spec.parse(text)
    except ValueError as exc:
        error = SettingTextError(f"invalid {setting}={text!r} from {where}: {exc}")
        error.reason = str(exc)
        raise error from None
    return spec.validate(setting, value, where)
