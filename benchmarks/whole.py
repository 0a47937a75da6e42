"""``overhead.py --whole``: what a user times, whole processes.

For each case (a model, a number of configurations and of executions per
configuration), two programs run the same fits:

* ``pytest`` on a test file with one ``hptune.search`` (``tuner="grid"``,
  the settings in the marker), as a user runs it in CI;
* a plain Python script of the same fits: each configuration's executions
  as a ``model.fit`` loop, seeded as the plugin seeds them, no Keras Tuner.

Each is timed from outside, process start to exit, in interleaved rounds
(the order alternates), medians reported, with the processes' CPU time
beside (steadier on a busy machine). One more run of each, not timed, is
profiled: the plugin's with ``benchmarks/costs.py`` (the cost table: plugin
time beyond the fits, per trial and per execution, by part) and both
report each execution's score, so the benchmark checks that they trained
the same fits. Works on any Keras backend (``KERAS_BACKEND=jax`` without
TensorFlow installed too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Parts of the cost table that the plain script's loop does as well.
SHARED = ("build function (the user's)", "seeding (keras.utils.set_random_seed)", "clear_session")

# name: (model, configurations, executions per configuration, target ratio)
CASES = {
    "mlp-4x3": ("tiny", 4, 3, 0.75),
    "mlp-4x2": ("tiny", 4, 2, 0.90),
    "convnet-3x3": ("convnet", 3, 3, 0.85),
}

TEST = textwrap.dedent(
    """
    import pytest
    from bench_models import BUILD, data


    @pytest.mark.hptune(tuner="grid", max_trials={trials}, executions_per_trial={executions}, epochs={epochs})
    def test_whole(hptune):
        hptune.search(BUILD[{model!r}], *data({model!r}), validation_split=0.2, batch_size=32)
    """
)

PLAIN = textwrap.dedent(
    """
    import json, os, sys, time
    T0 = float(os.environ["HPTUNE_COSTS_T0"])
    import keras
    from bench_models import BUILD, data

    class HP:
        # One configuration's values, as the build function asks for them.
        def __init__(self, values):
            self.values = values

        def __getattr__(self, kind):  # Choice, Int, Float, Boolean...
            return lambda name, *args, **kwargs: self.values[name]

    cfg = json.loads(sys.argv[1])
    build, (x, y) = BUILD[cfg["model"]], data(cfg["model"])
    imported = time.time() - T0
    scores = []
    for values, seeds in zip(cfg["configurations"], cfg["seeds"]):
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            keras.backend.clear_session(free_memory=False)
            history = build(HP(values)).fit(
                x, y, validation_split=0.2, batch_size=32, epochs=cfg["epochs"], verbose=0
            )
            scores.append(max(history.history["val_accuracy"]))
    fitted = time.time() - T0
    print(json.dumps({"stamps": {"imports and data": imported, "fits": fitted}, "scores": scores,
                      "backend": keras.backend.backend()}))
    """
)


def _env(tmp: Path, **extra: str) -> dict[str, Any]:
    path = os.pathsep.join([str(tmp), str(HERE), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path, HPTUNE_COSTS_T0=repr(time.time()), **extra)


def _timed(command: list[str], tmp: Path, env: dict[str, Any]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds from process start to exit, the process's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env["HPTUNE_COSTS_T0"] = repr(time.time())
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return wall, cpu, done


def _pytest(test: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", test.name, *options]


def _plain(cfg: dict[str, Any]) -> list[str]:
    return [sys.executable, "-c", PLAIN, json.dumps(cfg)]


def _profile(name: str, test: Path, tmp: Path, epochs: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One profiled run of each: the plugin's report and cost profile, the
    plain script's configuration and output."""
    from pytest_hptune.engine.seeding import execution_seed

    report, costs = tmp / f"{name}-report.json", tmp / f"{name}-costs.json"
    env = _env(tmp, HPTUNE_COSTS_OUT=str(costs))
    wall, _, _ = _timed(_pytest(test, "-p", "costs", f"--hptune-json={report}"), tmp, env)
    (entry,) = json.loads(report.read_text())["tests"]
    profile = dict(json.loads(costs.read_text()), wall=wall, entry=entry)
    model, _, executions, _ = CASES[name]
    cfg = {
        "model": model,
        "epochs": epochs,
        "configurations": [t["hyperparameters"] for t in entry["trials"]],
        "seeds": [[execution_seed(0, t["trial_id"], e) for e in range(executions)] for t in entry["trials"]],
    }
    wall, _, done = _timed(_plain(cfg), tmp, _env(tmp))
    plain = dict(json.loads(done.stdout.strip().splitlines()[-1]), wall=wall)
    return profile, cfg, plain


def _phases(profile: dict[str, Any], plain: dict[str, Any]) -> list[tuple[str, float | None, float | None]]:
    """Whole-process phases, plugin and plain script (seconds)."""
    stamps, last = profile["stamps"], 0.0
    rows: list[tuple[str, float | None, float | None]] = []
    for name, at in stamps.items():
        rows.append((name, at - last, None))
        last = at
    rows.append(("interpreter exit", profile["wall"] - last, None))
    p = plain["stamps"]
    rows.append(("plain: start-up, imports (Keras) and data", None, p["imports and data"]))
    rows.append(("plain: the fits", None, p["fits"] - p["imports and data"]))
    rows.append(("plain: interpreter exit", None, plain["wall"] - p["fits"]))
    rows.append(("whole process", profile["wall"], plain["wall"]))
    return rows


def cost_table(name: str, profile: dict[str, Any], plain: dict[str, Any]) -> dict[str, Any]:
    """Print where the plugin's time went; return the table."""
    entry = profile["entry"]
    trials, fits = len(entry["trials"]), entry["fits"]
    print(f"\n{name}: one profiled run each (not timed), {trials} trials, {fits} fits, {entry['reused_fits']} reused")
    print(f"{'phase':<56}{'plugin s':>10}{'plain s':>10}")
    for phase, mine, theirs in _phases(profile, plain):
        print(f"{phase:<56}{'' if mine is None else f'{mine:.2f}':>10}{'' if theirs is None else f'{theirs:.2f}':>10}")
    seconds, calls = profile["seconds"], profile["calls"]
    parts = sorted(seconds, key=lambda k: -seconds[k])
    fit_parts = [p for p in parts if p.startswith("Keras fit")]
    beyond = [p for p in parts if p not in fit_parts]
    print(f"\n{'inside the test: part':<56}{'s':>8}{'calls':>7}{'ms/trial':>10}{'ms/exec':>9}")
    table = {}
    for part in [*fit_parts, *beyond]:
        s = seconds[part]
        table[part] = {"seconds": s, "calls": calls.get(part, 0)}
        print(f"{part:<56}{s:>8.3f}{calls.get(part, 0):>7}{1000 * s / trials:>10.1f}{1000 * s / fits:>9.1f}")
    total = sum(seconds[p] for p in beyond)
    own = sum(seconds[p] for p in beyond if p not in SHARED)
    for label, value in (("plugin time beyond the fits", total), ("  of which the plain script's loop does none", own)):
        print(f"{label:<56}{value:>8.3f}{'':>7}{1000 * value / trials:>10.1f}{1000 * value / fits:>9.1f}")
    loop = sum(seconds[p] for p in [*fit_parts, *SHARED] if p in seconds)
    plain_loop = plain["stamps"]["fits"] - plain["stamps"]["imports and data"]
    print(f"{'fits, builds, seeding: plugin / plain script s':<56}{loop:>8.2f} / {plain_loop:.2f}")
    return {"parts": table, "beyond_fits_s": total, "plugin_only_s": own, "phases": _phases(profile, plain)}


def run_case(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    model, trials, executions, target = CASES[name]
    test = tmp / f"test_{name.replace('-', '_')}.py"
    test.write_text(TEST.format(model=model, trials=trials, executions=executions, epochs=args.epochs))
    profile, cfg, plain = _profile(name, test, tmp, args.epochs)
    plugin_scores = [s for t in profile["entry"]["trials"] for s in t["scores"]]
    same = plugin_scores == plain["scores"]
    costs = cost_table(name, profile, plain)
    rounds = []
    for r in range(args.repeat):
        ways = [("plugin", _pytest(test)), ("plain", _plain(cfg))]
        result = {}
        for way, command in ways if r % 2 == 0 else ways[::-1]:
            wall, cpu, _ = _timed(command, tmp, _env(tmp))
            result[way] = {"wall": wall, "cpu": cpu}
        rounds.append(result)

    def median(way: str, field: str) -> float:
        return statistics.median(r[way][field] for r in rounds)

    ratio = median("plugin", "wall") / median("plain", "wall")
    summary = {
        "model": model,
        "configurations": trials,
        "executions": executions,
        "epochs": args.epochs,
        "fits": profile["entry"]["fits"],
        "reused_fits": profile["entry"]["reused_fits"],
        "same_scores": same,
        "backend": plain["backend"],
        "rounds": rounds,
        "plugin_s": median("plugin", "wall"),
        "plain_s": median("plain", "wall"),
        "ratio": ratio,
        "cpu_ratio": median("plugin", "cpu") / median("plain", "cpu"),
        "target": target,
        "met": ratio <= target,
        "costs": costs,
    }
    each = " ".join(f"{r['plugin']['wall'] / r['plain']['wall']:.3f}" for r in rounds)
    print(
        f"\n{name}: pytest {summary['plugin_s']:.2f} s, plain script {summary['plain_s']:.2f} s (medians of "
        f"{args.repeat}, whole processes): {ratio:.3f}x (target {target}x: {'met' if summary['met'] else 'MISSED'}); "
        f"CPU {summary['cpu_ratio']:.3f}x; rounds {each}; same scores: {'yes' if same else 'NO'}"
    )
    return summary


def main(args: argparse.Namespace, tmp: Path) -> None:
    load = os.getloadavg()
    cases = {name: run_case(name, args, tmp) for name in args.case or list(CASES)}
    out = {
        "backend": next(iter(cases.values()))["backend"],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": load,
        "load_average_after": os.getloadavg(),
        "repeat": args.repeat,
        "cases": cases,
    }
    print("\nwhole processes, median ratio pytest / plain script:")
    for name, case in cases.items():
        print(f"  {name:<12} {case['ratio']:.3f}x (target {case['target']}x) same scores: {case['same_scores']}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))
        print(f"JSON summary: {args.out}")
