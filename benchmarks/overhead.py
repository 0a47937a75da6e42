"""What a search costs against plain ``model.fit``, and the time to a verdict.

**Per search** (``--model tiny`` or ``convnet``, both by default): the same
configurations, executions and epochs, each way in a fresh process:

1. plain ``model.fit`` calls, one fresh model per execution: the floor;
2. Keras Tuner used directly, as in its guide (``RandomSearch.search``);
3. the plugin through pytest with ``--hptune-reuse=off``: a fresh model per
   execution, as Keras Tuner builds them;
4. the plugin as it runs by default: executions 2..n of a configuration
   train the model its first execution traced (``engine/reuse.py``).

``tiny`` is an MLP with dropout on scikit-learn's digits; ``convnet`` is the
example project's digits ConvNet. Times are the search alone: interpreter
start-up and the TensorFlow import, which every way pays alike, are left out.

**Time to the same verdict** (``--verdict``): the gates ``min_score`` and
``max_std`` on the best trial, judged

* from Keras Tuner directly with a fixed ``executions_per_trial`` (each
  execution's score taken from the Histories its ``run_trial`` returns, the
  code a Keras Tuner user writes to get them), and
* by the plugin with ``executions_per_trial='auto'`` (at most that many) and
  reuse.

Prints both times, both verdicts and the ratio.

**What a user times** (``--whole``, see ``whole.py``): ``pytest`` on a test
file against a plain script of the same fits, whole processes timed from
outside, interleaved, medians; with a cost table of one profiled run (plugin
time beyond the fits, per trial and per execution, by part) and a JSON
summary (``--out``). Cases: the digits MLP with ``tuner="grid"``, 4
configurations x 3 and x 2 executions, and the digits ConvNet, 3 x 3.

    .venv/bin/python benchmarks/overhead.py [--model tiny|convnet|both] [--trials 3] [--executions 3]
        [--epochs 3] [--repeat 3] [--verdict] [--max-executions 8]
    .venv/bin/python benchmarks/overhead.py --whole [--case mlp-4x3] [--epochs 3] [--repeat 3] [--out whole.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import whole
from bench import run_pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"

# The models, importable by every way (written next to the plugin's test).
MODELS = textwrap.dedent(
    f"""
    import sys
    sys.path.insert(0, {str(EXAMPLE)!r})
    import keras
    from sklearn.datasets import load_digits
    from digits_model import build_model as build_convnet, load_data

    def build_tiny(hp):
        model = keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [32, 64]), activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 3e-3, 1e-3])),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def data(name):
        (x, y), _ = load_data()
        return (x.reshape(len(x), -1), y) if name == "tiny" else (x, y)

    BUILD = {{"tiny": build_tiny, "convnet": build_convnet}}
    """
)

COMMON = textwrap.dedent(
    """
    import json, os, resource, sys, time
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras, keras_tuner
    from bench_models import BUILD, data
    cfg = json.loads(sys.argv[1])
    build, (x, y) = BUILD[cfg["model"]], data(cfg["model"])
    FIT = dict(validation_split=0.2, batch_size=32, epochs=cfg["epochs"], verbose=0)

    def peak_rss_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    """
)

PLAIN = COMMON + textwrap.dedent(
    """
    start = time.perf_counter()
    fits = 0
    for values in cfg["configurations"]:
        for execution in range(cfg["executions"]):
            hp = keras_tuner.HyperParameters()
            hp.values.update(values)
            keras.backend.clear_session(free_memory=False)
            build(hp).fit(x, y, **FIT)
            fits += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "fits": fits, "rss": peak_rss_mib()}))
    """
)

KERAS_TUNER = COMMON + textwrap.dedent(
    """
    import statistics, tempfile

    class Keeping(keras_tuner.RandomSearch):
        # What a Keras Tuner user writes to keep each execution's score.
        scores = {}

        def run_trial(self, trial, *args: argparse.Namespace, **kwargs):
            histories = super().run_trial(trial, *args, **kwargs)
            self.scores[trial.trial_id] = [max(h.history["val_accuracy"]) for h in histories]
            return histories

    tuner = Keeping(
        build, objective="val_accuracy", max_trials=cfg["trials"],
        executions_per_trial=cfg["executions"], seed=cfg["oracle_seed"],
        directory=tempfile.mkdtemp(), project_name="kt", overwrite=True,
    )
    start = time.perf_counter()
    tuner.search(x, y, **FIT)
    seconds = time.perf_counter() - start
    trials = list(tuner.oracle.trials.values())
    best = tuner.oracle.get_best_trials(1)[0]
    scores = Keeping.scores[best.trial_id]
    gates = cfg.get("gates", {})
    passed = statistics.fmean(scores) >= gates.get("min_score", float("-inf")) and (
        statistics.stdev(scores) <= gates.get("max_std", float("inf")))
    print(json.dumps({"seconds": seconds, "fits": len(trials) * cfg["executions"], "rss": peak_rss_mib(),
                      "configurations": [t.hyperparameters.values for t in trials],
                      "passed": passed, "best": scores}))
    """
)

PLUGIN_TEST = textwrap.dedent(
    """
    import json, os, resource
    from bench_models import BUILD, data

    def test_bench(hptune):
        name = os.environ["HPTUNE_BENCH_MODEL"]
        hptune.search(BUILD[name], *data(name), validation_split=0.2, batch_size=32)

    def test_rss():
        with open(os.environ["HPTUNE_BENCH_RSS"], "w") as fh:
            fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    """
)


def run_python(code: str, cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cfg)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=dict(os.environ, PYTHONPATH=str(tmp)),
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run_plugin(cfg: dict[str, Any], tmp: Path, options: list[str]) -> dict[str, Any]:
    report, rss = tmp / "report.json", tmp / "rss.txt"
    env = dict(os.environ, PYTHONPATH=str(tmp), HPTUNE_BENCH_RSS=str(rss), HPTUNE_BENCH_MODEL=cfg["model"])
    done = run_pytest(
        [
            "test_bench.py",
            f"--hptune-trials={cfg['trials']}",
            f"--hptune-epochs={cfg['epochs']}",
            f"--hptune-json={report}",
            f"--rootdir={tmp}",
            *options,
        ],
        tmp,
        env,
        check=False,
    )
    if done.returncode not in (0, 1):  # 1: a gate failed, which --verdict reports
        raise SystemExit(f"the plugin's run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (entry,) = json.loads(report.read_text())["tests"]
    best = next((t for t in entry["trials"] if t["trial_id"] == entry["best_trial_id"]), None)
    return {
        "seconds": entry["duration_s"],
        "fits": entry["fits"],
        "reused": entry["reused_fits"],
        "rss": float(rss.read_text()),
        "configurations": [t["hyperparameters"] for t in entry["trials"]],
        "passed": entry["passed"],
        "best": best["scores"] if best else None,
    }


def per_search(model: str, args: argparse.Namespace, tmp: Path) -> None:
    from pytest_hptune.engine.seeding import oracle_seed  # the plugin's configurations

    cfg = {
        "model": model,
        "trials": args.trials,
        "executions": args.executions,
        "epochs": args.epochs,
        "oracle_seed": oracle_seed(0),
    }
    executions = [f"--hptune-executions={args.executions}"]
    rounds: dict[str, list[dict[str, Any]]] = {"plain": [], "kt": [], "fresh": [], "plugin": []}
    for _ in range(args.repeat):
        # Interleaved, so that every way sees the same machine state.
        plugin = run_plugin(cfg, tmp, executions)
        fresh = run_plugin(cfg, tmp, [*executions, "--hptune-reuse=off"])
        kt = run_python(KERAS_TUNER, cfg, tmp)
        assert kt["configurations"] == plugin["configurations"] == fresh["configurations"], (
            "the searches must try the same configurations"
        )
        plain = run_python(PLAIN, dict(cfg, configurations=plugin["configurations"]), tmp)
        for key, r in (("plain", plain), ("kt", kt), ("fresh", fresh), ("plugin", plugin)):
            rounds[key].append(r)

    def median(key: str, field: str) -> float:
        return float(statistics.median(r[field] for r in rounds[key]))

    floor = median("plain", "seconds")
    print(
        f"\n{model}: {args.trials} trials x {args.executions} executions x {args.epochs} epochs, "
        f"median of {args.repeat} interleaved rounds"
    )
    print(f"{'way':<34}{'search s':>10}{'fits':>6}{'s/fit':>8}{'peak RSS MiB':>14}{'vs floor':>10}  each round")
    for name, key in [
        ("1 plain model.fit (floor)", "plain"),
        ("2 Keras Tuner directly", "kt"),
        ("3 pytest-hptune, reuse off", "fresh"),
        ("4 pytest-hptune (reuse)", "plugin"),
    ]:
        seconds, fits = median(key, "seconds"), rounds[key][0]["fits"]
        each = " ".join(f"{r['seconds']:.1f}" for r in rounds[key])
        print(
            f"{name:<34}{seconds:>10.2f}{fits:>6}{seconds / fits:>8.3f}"
            f"{median(key, 'rss'):>14.0f}{seconds / floor:>9.3f}x  {each}"
        )
    print(f"reused fits (way 4): {rounds['plugin'][0]['reused']} of {rounds['plugin'][0]['fits']}")


def same_verdict(args: argparse.Namespace, tmp: Path) -> None:
    from pytest_hptune.engine.seeding import oracle_seed

    gates = {"min_score": args.min_score, "max_std": args.max_std}
    cfg = {
        "model": "tiny",
        "trials": args.trials,
        "executions": args.max_executions,
        "epochs": args.epochs,
        "oracle_seed": oracle_seed(0),
        "gates": gates,
    }
    options = ["--hptune-executions=auto", f"--hptune-max-executions={args.max_executions}"]
    marker = f"@pytest.mark.hptune(min_score={args.min_score}, max_std={args.max_std})\n"
    test = tmp / "test_bench.py"
    test.write_text("import pytest\n" + PLUGIN_TEST.replace("def test_bench", marker + "def test_bench"))
    rounds: dict[str, list[dict[str, Any]]] = {"kt": [], "plugin": []}
    for _ in range(args.repeat):
        rounds["plugin"].append(run_plugin(cfg, tmp, options))
        rounds["kt"].append(run_python(KERAS_TUNER, cfg, tmp))
    test.write_text(PLUGIN_TEST)
    kt, plugin = (statistics.median(r["seconds"] for r in rounds[k]) for k in ("kt", "plugin"))
    print(
        f"\nsame verdict: tiny MLP, {args.trials} trials x {args.epochs} epochs, gates min_score={args.min_score} "
        f"max_std={args.max_std}, median of {args.repeat} rounds"
    )
    for name, key, seconds in [
        (f"Keras Tuner, {args.max_executions} executions", "kt", kt),
        (f"pytest-hptune, auto (max {args.max_executions}) + reuse", "plugin", plugin),
    ]:
        verdicts = " ".join("pass" if r["passed"] else "FAIL" for r in rounds[key])
        fits = " ".join(str(r["fits"]) for r in rounds[key])
        print(f"{name:<44}{seconds:>8.2f} s  verdicts {verdicts}  fits {fits}")
    agree = all(a["passed"] == b["passed"] for a, b in zip(rounds["kt"], rounds["plugin"]))
    print(f"plugin / Keras Tuner: {plugin / kt:.3f}x; verdicts agree: {agree}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["tiny", "convnet", "both"], default="both")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--executions", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--verdict", action="store_true", help="time to the same verdict instead")
    parser.add_argument("--max-executions", type=int, default=8)
    parser.add_argument("--min-score", type=float, default=0.9)
    parser.add_argument("--max-std", type=float, default=0.02)
    parser.add_argument("--whole", action="store_true", help="whole processes: pytest against a plain script")
    parser.add_argument("--case", action="append", choices=list(whole.CASES), help="--whole: a case (default all)")
    parser.add_argument("--out", help="--whole: write a JSON summary here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "bench_models.py").write_text(MODELS)
        (tmp / "test_bench.py").write_text(PLUGIN_TEST)
        if args.whole:
            whole.main(args, tmp)
            return
        if args.verdict:
            same_verdict(args, tmp)
            return
        for model in ["tiny", "convnet"] if args.model == "both" else [args.model]:
            per_search(model, args, tmp)


if __name__ == "__main__":
    main()
