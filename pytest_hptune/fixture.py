"""The ``hptune`` fixture object: resolves settings, runs a search, records it
for the reports and applies the gates. Keras is imported only inside
``search()``."""

from __future__ import annotations

import re
import sys
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest

from . import advice
from . import gates as gates_mod
from . import report_junit, stats
from .report_terminal import describe_neighbour, format_search
from .result import TrialResult, trial_order
from .settings import SPECS, Layer, SettingError, Settings, make_layer, option_name, resolve
from .state import PENDING_RECORDS, SessionState

RECORD_VERSION = 1
PROGRESS_AFTER_S = 5.0  # searches shorter than this stay silent (without -v)


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


def _slug(nodeid: str) -> str:
    """A directory name for a test id: readable, bounded and unique."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[-80:]
    return f"{readable}-{zlib.crc32(nodeid.encode()):08x}"


def _fmt_scores(scores) -> str:
    return ", ".join(f"{s:.4f}" for s in scores)


class Hptune:
    """What the ``hptune`` fixture returns."""

    def __init__(self, request: pytest.FixtureRequest, state: SessionState, marker: Layer):
        self._request = request
        self._item = request.node
        self._state = state
        self._marker = marker
        self._searches = 0

    def settings(self, **overrides: Any) -> Settings:
        """The settings a search with these keyword overrides would use."""
        where = f"hptune.search() argument in {self._item.nodeid}"
        search_layer = make_layer(where, overrides)
        return resolve(
            [self._state.ini_layer, self._marker, search_layer, self._state.cli_layer]
        )

    def _directory(self) -> tuple[str, str]:
        name = _slug(self._item.nodeid)
        if self._searches:
            name += f"-{self._searches}"
        if self._state.directory is not None:
            return str(self._state.directory), name
        factory = self._request.getfixturevalue("tmp_path_factory")
        return str(factory.mktemp("hptune", numbered=True)), name

    def _record(self, settings, result, error, started, directory, project, data=((), {})) -> dict:
        judged = result.best if result else None
        if result and result.best and result.confirmation:
            # The gates judge the confirmation runs, not the lucky tuned scores.
            judged = TrialResult(result.best.trial_id, result.best.hyperparameters,
                                 tuple(result.confirmation), result.best.status)
        gates = []
        if judged:
            robustness, notes = _robustness(settings, result)
            gates = gates_mod.evaluate(settings, judged, robustness, notes)
        record = build_record(
            self._item.nodeid, settings, result, gates, error,
            time.perf_counter() - started, str(Path(directory) / project),
        )
        record["search"] = self._searches - 1
        if judged:
            folds = (result.tuner_info or {}).get("folds")
            samples = advice.validation_samples(settings, data[0], data[1], folds)
            comparing = self._state.compare_baseline is not None
            record["advice"] = advice.compute(settings, judged.scores, samples, comparing)
        if settings.adaptive and judged and not result.confirmation:
            record["adaptive"] = {
                "executions": len(judged.scores),
                "undecided": gates_mod.undecided(settings, judged.scores),
                "topped_up": result.topped_up,
            }
        if self._state.compare_baseline is not None and record["best_trial_id"] is not None:
            record["comparison"] = self._compare(record, settings)
            if record["comparison"]["status"] == "regressed":
                record["passed"] = False
        self._item.stash.setdefault(PENDING_RECORDS, []).append(record)
        self._item.user_properties.extend(report_junit.properties(record, self._searches - 1))
        table = format_search(record, 80, verbose=True)
        self._item.add_report_section(
            "call", f"hptune search {self._searches}", "\n".join(text for text, _ in table)
        )
        return record

    def search(self, hypermodel, *fit_args: Any, **fit_kwargs: Any):
        """Run a bounded Keras Tuner search and apply the gates.

        ``fit_args``/``fit_kwargs`` go to ``model.fit`` as in
        ``Tuner.search``; keyword arguments named like a setting
        (``max_trials``, ``objective``, ``min_score``, ``epochs``, ...) set it
        for this search.
        """
        __tracebackhide__ = True
        overrides = {k: fit_kwargs.pop(k) for k in list(fit_kwargs) if k in SPECS}
        try:
            settings = self.settings(**overrides)
        except SettingError as exc:
            pytest.fail(str(exc), pytrace=False)

        try:
            from . import runner  # heavy: TensorFlow, Keras, Keras Tuner
        except ImportError as exc:
            pytest.fail(
                f"pytest-hptune could not load Keras and Keras Tuner ({exc}). "
                "Keras needs a backend: pip install 'pytest-hptune[tensorflow]' "
                "(or 'pytest-hptune[jax]' and KERAS_BACKEND=jax)",
                pytrace=False,
            )

        from .distributed import worker_environment

        worker_id = worker_environment()
        if worker_id is not None:
            self._work_for_chief(worker_id, runner, hypermodel, settings, fit_args, fit_kwargs)

        directory, project = self._directory()
        workers = None
        if (self._state.workers or self._state.chief) and self._searches == 0:
            workers = runner.Workers(
                self._state.workers,
                self._worker_command(directory),
                str(self._request.config.rootpath),
                self._state.chief or "127.0.0.1:0",
            )
        self._searches += 1
        started = time.perf_counter()
        error = None
        result = None
        try:
            result = runner.run_search(
                hypermodel,
                settings,
                directory,
                project,
                fit_args,
                fit_kwargs,
                resume_nodeid=self._item.nodeid if self._state.resume else None,
                workers=workers,
                progress=self._progress(),
            )
        except runner.SearchError as exc:
            error = str(exc)
        except runner.errors.FatalError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            # The user's own error (a build function that raises while Keras
            # Tuner reads the search space): record the search, then let the
            # error fail the test with its own traceback.
            self._record(settings, None, f"{type(exc).__name__}: {exc}", started, directory, project)
            raise
        record = self._record(settings, result, error, started, directory, project, (fit_args, fit_kwargs))

        problems = [failure_message(record, result), self._warn(record)]
        if any(problems):
            pytest.fail("\n".join(p for p in problems if p), pytrace=False)
        comparison = record.get("comparison")
        if comparison and comparison["status"] == "missing":
            if self._state.compare_strict:
                pytest.fail(f"hptune: {comparison['reason']} (--hptune-compare-strict)", pytrace=False)
            pytest.skip(f"hptune: {comparison['reason']}")
        return result


    def _warn(self, record: dict) -> str | None:
        """The advice that is also a warning (HptuneAdvice), once the search
        is recorded; under ``-W error::pytest_hptune.HptuneAdvice`` it fails
        the test with its text (returned) instead of a traceback."""
        for item in record.get("advice") or ():
            if item["kind"] != "binomial_floor":
                continue
            try:
                warnings.warn(advice.HptuneAdvice(f"{self._item.nodeid}: {item['text']}"), stacklevel=3)
            except advice.HptuneAdvice as exc:
                return f"hptune: {exc} (a warning turned into an error)"
        return None

    def _progress(self):
        """A per-trial progress line for long searches, in the terminal while
        the test runs: after PROGRESS_AFTER_S seconds of search (always with
        -v), never with -q or in a pytest-xdist worker."""
        config = self._request.config
        verbosity = config.get_verbosity()
        if verbosity < 0 or hasattr(config, "workerinput"):
            return None
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        # The capture manager is how capsys.disabled() gets past capturing.
        capture = config.pluginmanager.get_plugin("capturemanager")
        if terminal is None or not hasattr(capture, "global_and_fixture_disabled"):
            return None
        started = time.perf_counter()

        def show(done, total, trial_id, status, mean, best_id, best_mean):
            if verbosity < 1 and time.perf_counter() - started < PROGRESS_AFTER_S:
                return
            what = f"{mean:.4f}" if mean is not None else status
            line = f"    hptune: trial {done}/{total} ({trial_id}) {what}"
            if best_id is not None:
                line += f", best {best_mean:.4f} (trial {best_id})"
            with capture.global_and_fixture_disabled():
                terminal.write_line(line)

        return show

    def _compare(self, record: dict, settings: Settings) -> dict:
        from . import baseline

        name = baseline.key(record["nodeid"], record["search"])
        path = self._state.compare_baseline
        try:
            data = self._state.baseline_data()
        except baseline.BaselineError as exc:
            return {"status": "missing", "reason": str(exc), "key": name, "path": str(path)}
        saved = data["entries"].get(name)
        if saved is None:
            return {
                "status": "missing",
                "reason": f"no entry {name!r} in {path}: save one with --hptune-save-baseline",
                "key": name,
                "path": str(path),
            }
        best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
        comparison = baseline.compare(
            best["scores"], saved["scores"], record["objective"]["direction"],
            settings.max_drop, settings.confidence,
        )
        comparison.update(
            status="regressed" if comparison["regressed"] else "ok",
            key=name,
            path=str(path),
            baseline={k: saved[k] for k in ("scores", "mean", "std", "hyperparameters", "best_trial_id")},
            notes=baseline.mismatches(saved, record, baseline.versions(), data.get("versions") or {}),
        )
        return comparison

    def _worker_command(self, directory: str) -> list[str]:
        """Runs this test again in a worker process (Keras Tuner's variables
        are added per worker): same rootdir, ini file and hptune options, the
        chief's tuning directory."""
        config = self._request.config
        command = [
            sys.executable, "-m", "pytest", self._item.nodeid, "-q",
            "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=",
            f"--rootdir={config.rootpath}", f"--hptune-dir={directory}",
        ]
        if config.inipath:
            command += ["-c", str(config.inipath)]
        for setting, value in self._state.cli_layer.values.items():
            command.append(f"{option_name(setting)}={value}")
        return command

    def _work_for_chief(self, worker_id, runner, hypermodel, settings, fit_args, fit_kwargs):
        """In a worker: join the chief's search, then skip the rest of the test
        (its verdict is the chief's)."""
        __tracebackhide__ = True
        if self._searches:
            pytest.skip(f"hptune worker {worker_id}: only a test's first search is distributed")
        if self._state.directory is None:
            pytest.fail(
                f"hptune worker {worker_id} needs the chief's tuning directory: pass "
                "--hptune-dir=PATH (the same, shared, directory as the chief's)",
                pytrace=False,
            )
        from .distributed import watch_chief

        watch_chief()
        directory, project = self._directory()
        self._searches += 1
        runner.run_worker(hypermodel, settings, directory, project, fit_args, fit_kwargs)
        pytest.skip(f"hptune worker {worker_id}: ran trials for the chief")


def build_record(nodeid, settings, result, gates, error, duration, directory) -> dict:
    """The JSON-serialisable record of one search (the report's unit)."""
    objective = (
        {"name": result.objective.name, "direction": result.objective.direction}
        if result
        else {"name": settings.objective_name, "direction": settings.direction}
    )
    trials = []
    if result is not None:
        everything = {t.trial_id: t for t in result.trials + result.partial + result.failed}
        for trial_id in sorted(everything, key=trial_order):
            entry = everything[trial_id].to_dict()
            entry["message"] = _last_line(entry["message"])
            bounds = stats.interval(entry["scores"], settings.confidence) if entry["scores"] else None
            entry["interval"] = list(bounds) if bounds else None
            trials.append(entry)
    return {
        "nodeid": nodeid,
        "tuner": settings.tuner,
        "objective": objective,
        "settings": settings.as_dict(),
        "sources": dict(settings.sources),
        "trials": trials,
        "best_trial_id": result.best.trial_id if result and result.best else None,
        "gates": [g.to_dict() for g in gates],
        "passed": error is None
        and result is not None
        and result.best is not None
        and result.stopped_reason is None
        and all(g.passed for g in gates),
        "error": error,
        "stopped_reason": result.stopped_reason if result else None,
        "fits": sum(len(t["scores"]) for t in trials),
        "duration_s": round(duration, 3),
        "directory": directory,
        "search_space": result.search_space if result else [],
        "tuner_info": result.tuner_info if result else {},
        "resume": result.resume if result else None,
        "confirmation": _confirmation(result),
        "near_best": _near_best(settings, result),
        "neighbours": result.neighbours if result else None,
        "expected_best": _expected_best(settings, result),
    }


def _near_best(settings, result) -> dict | None:
    """How many of the judged trials are within near_best of the best."""
    if not result or not result.best:
        return None
    from .sensitivity import near_best_share

    means = [t.mean for t in result.trials]
    share = near_best_share(means, result.best.mean, settings.near_best)
    return {"epsilon": settings.near_best, "share": share, "near": round(share * len(means)), "of": len(means)}


def _robustness(settings, result) -> tuple[dict, dict]:
    """Observed values (and notes when undefined) of the gates about the
    search around the best trial."""
    values: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    if settings.min_near_best_share is not None:
        near = _near_best(settings, result)
        if near["of"] < 2:
            values["min_near_best_share"] = None
            notes["min_near_best_share"] = f"{near['of']} trial judged: a share needs 2 or more"
        else:
            values["min_near_best_share"] = near["share"]
    if settings.max_neighbour_drop is not None:
        neighbours = result.neighbours
        failed = [n for n in neighbours or () if n.get("error")]
        if neighbours is None:
            values["max_neighbour_drop"] = None
            notes["max_neighbour_drop"] = "the neighbours were not trained"
        elif failed:
            values["max_neighbour_drop"] = None
            first = failed[0]
            notes["max_neighbour_drop"] = (
                f"the best configuration retrained from scratch failed: {first['error']}"
                if first.get("reference")
                else f"neighbour {first['name']}={first['neighbour']!r} failed to train: {first['error']}"
            )
        else:
            # No neighbour at all (every hyperparameter Fixed): nothing drops.
            values["max_neighbour_drop"] = max((n["drop"] for n in neighbours), default=0.0)
    return values, notes


def _expected_best(settings, result) -> dict | None:
    """Random search only (the formula assumes independent draws): the
    expected best trial mean at smaller and larger budgets."""
    if settings.tuner != "random" or not result or len(result.trials) < 2:
        return None
    means = [t.mean for t in result.trials]
    n = len(means)
    budgets = sorted({1, max(1, n // 2), n, 2 * n, 4 * n})
    return {str(k): stats.expected_best(means, k, result.objective.direction) for k in budgets}


def _confirmation(result) -> dict | None:
    if not result or not result.confirmation or not result.best:
        return None
    mean = stats.mean(result.confirmation)
    return {
        "scores": list(result.confirmation),
        "mean": mean,
        "std": stats.std(result.confirmation),
        "tuned_mean": result.best.mean,
        "gap": mean - result.best.mean,
    }


def _describe_comparison(comparison: dict) -> str:
    from .baseline import describe

    return describe(comparison)


def _last_line(message: str | None) -> str | None:
    if not message:
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return None
    # "keras_tuner.src.errors.FailedTrialError: why" -> "why" (the expected
    # way for a trial to fail); "pkg.mod.ValueError: why" -> "ValueError: why"
    line = re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+(?:Error|Exception)\b)", "", lines[-1])
    return line.removeprefix("FailedTrialError: ")


def _is_failed_trial_error(message: str) -> bool:
    """Keras Tuner's FailedTrialError is the expected way to fail a trial: its
    reason says it all, the traceback is noise."""
    return "FailedTrialError:" in message.strip().splitlines()[-1]


def failure_message(record: dict, result) -> str | None:
    """Why this search fails its test, or None when it passes."""
    head = f"hptune: search in {record['nodeid']}"
    if record["error"]:
        return f"{head} could not run: {record['error']}"
    objective = f"{record['objective']['name']} ({record['objective']['direction']})"
    if result.best is None and result.partial:
        full = result.tuner_info.get("max_epochs")
        lines = [
            f"{head}: no trial completed at the full budget of {full} epochs "
            f"({len(result.partial)} completed at fewer epochs, {len(result.failed)} "
            "failed); the gates judge only full-budget trials. Raise max_trials "
            "or lower max_epochs."
        ]
        for trial in result.failed:
            lines.append(f"--- trial {trial.trial_id} {trial.status}: {_last_line(trial.message)}")
        return "\n".join(lines)
    if result.best is None:
        lines = [f"{head}: no trial completed ({len(result.failed)} failed)."]
        if result.stopped_reason:
            lines.append(result.stopped_reason + ".")
        for trial in result.failed:
            reason = _last_line(trial.message) or "no reason recorded"
            lines.append(f"--- trial {trial.trial_id} {trial.status} {trial.hyperparameters}: {reason}")
            if trial.message and not _is_failed_trial_error(trial.message):
                lines.append(trial.message.rstrip())  # an unexpected error: its traceback
        return "\n".join(lines)
    lines = []
    if result.stopped_reason:
        lines.append(f"{head} stopped early: {result.stopped_reason}.")
        for trial in result.failed:
            lines.append(f"  trial {trial.trial_id}: {_last_line(trial.message)}")
    comparison = record.get("comparison") or {}
    if comparison.get("status") == "regressed":
        base = comparison["baseline"]
        best = result.best
        lines.append(f"{head} regressed against its baseline ({comparison['path']}, {comparison['key']}):")
        lines.append(f"  {_describe_comparison(comparison)}")
        lines.append(f"  new      trial {best.trial_id} {best.hyperparameters}: [{_fmt_scores(best.scores)}]")
        lines.append(f"  baseline trial {base['best_trial_id']} {base['hyperparameters']}: [{_fmt_scores(base['scores'])}]")
        lines.append(f"  {comparison['method']}, confidence {comparison['confidence']}")
        for note in comparison.get("notes", ()):
            lines.append(f"  note: {note}")
    failed = [g for g in record["gates"] if not g["passed"]]
    if failed:
        best = result.best
        judged = "" if not record.get("confirmation") else (
            f", judged on {len(record['confirmation']['scores'])} confirmation runs"
        )
        lines.append(f"{head} failed {len(failed)} gate(s) on objective {objective}{judged}:")
        level = f"{record['settings']['confidence']:.0%}"
        whats = {
            "max_std": "std across executions",
            "min_lower_bound": f"{level} interval's lower bound",
            "max_upper_bound": f"{level} interval's upper bound",
            "min_worst": "worst execution",
            "max_worst": "highest execution",
            "max_neighbour_drop": "worst one-step neighbour's relative drop",
            "min_near_best_share": f"share of trials within {record['settings']['near_best']} of it",
        }
        for gate in failed:
            what = whats.get(gate["name"], "mean")
            lines.append(
                f"  {gate['name']}: best trial {best.trial_id} {what} {gates_mod.describe(gate)}"
            )
        lines.append(
            f"  best trial {best.trial_id} {best.hyperparameters}: scores "
            f"[{_fmt_scores(best.scores)}], mean {best.mean:.4f} +- {best.std:.4f}"
        )
        if any(g["name"] == "max_neighbour_drop" for g in failed):
            for n in record.get("neighbours") or ():
                lines.append(f"  {describe_neighbour(n)}")
        if record.get("confirmation"):
            c = record["confirmation"]
            lines.append(
                f"  confirmation runs: [{_fmt_scores(c['scores'])}], mean {c['mean']:.4f} "
                f"+- {c['std']:.4f} (tuned {c['tuned_mean']:.4f}, gap {c['gap']:+.4f})"
            )
    return "\n".join(lines) or None
