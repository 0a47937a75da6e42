"""What a search costs beyond the training it runs.

Runs the same search three ways, each in a fresh process, on the example
project's digits ConvNet with the same trials, executions and epochs:

1. plain ``model.fit`` calls on the same configurations: the floor;
2. Keras Tuner used directly, as in its guide (``RandomSearch.search``);
3. the plugin, through pytest (``hptune.search`` in a test).

Prints wall time of the search, fits, time per fit and peak RSS for each, and
the ratios (2)/(1) and (3)/(1). Search times exclude interpreter start-up and
the TensorFlow import, which all three pay alike.

    .venv/bin/python benchmarks/overhead.py [--trials 3] [--executions 3] [--epochs 5] [--repeat 3]
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

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"

COMMON = textwrap.dedent(
    f"""
    import json, os, resource, sys, time
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, {str(EXAMPLE)!r})
    import keras, keras_tuner
    from digits_model import build_model, load_data
    (x, y), _ = load_data()

    def peak_rss_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    """
)

PLAIN = COMMON + textwrap.dedent(
    """
    cfg = json.loads(sys.argv[1])
    start = time.perf_counter()
    fits = 0
    for values in cfg["configurations"]:
        for execution in range(cfg["executions"]):
            hp = keras_tuner.HyperParameters()
            hp.values.update(values)
            keras.backend.clear_session(free_memory=False)
            model = build_model(hp)
            model.fit(x, y, validation_split=0.2, batch_size=32, epochs=cfg["epochs"], verbose=0)
            fits += 1
    print(json.dumps({"seconds": time.perf_counter() - start, "fits": fits, "rss": peak_rss_mib()}))
    """
)

KERAS_TUNER = COMMON + textwrap.dedent(
    """
    import tempfile
    cfg = json.loads(sys.argv[1])
    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_accuracy", max_trials=cfg["trials"],
        executions_per_trial=cfg["executions"], seed=cfg["oracle_seed"],
        directory=tempfile.mkdtemp(), project_name="kt", overwrite=True,
    )
    start = time.perf_counter()
    tuner.search(x, y, validation_split=0.2, batch_size=32, epochs=cfg["epochs"], verbose=0)
    seconds = time.perf_counter() - start
    trials = tuner.oracle.trials.values()
    print(json.dumps({"seconds": seconds, "fits": len(trials) * cfg["executions"], "rss": peak_rss_mib(),
                      "configurations": [t.hyperparameters.values for t in trials]}))
    """
)

PLUGIN_TEST = textwrap.dedent(
    """
    import json, os, resource
    import pytest
    from digits_model import build_model, load_data

    def test_bench(hptune):
        (x, y), _ = load_data()
        hptune.search(build_model, x, y, validation_split=0.2, batch_size=32)

    def test_rss():
        path = os.environ["HPTUNE_BENCH_RSS"]
        with open(path, "w") as fh:
            fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    """
)


def run_python(code: str, cfg: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cfg)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_plugin(cfg: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "test_bench.py").write_text(PLUGIN_TEST)
        report, rss = tmp / "report.json", tmp / "rss.txt"
        env = dict(os.environ, PYTHONPATH=str(EXAMPLE), HPTUNE_BENCH_RSS=str(rss))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                str(tmp),
                f"--hptune-trials={cfg['trials']}",
                f"--hptune-executions={cfg['executions']}",
                f"--hptune-epochs={cfg['epochs']}",
                f"--hptune-json={report}",
                f"--rootdir={tmp}",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
        (entry,) = json.loads(report.read_text())["tests"]
        return {
            "seconds": entry["duration_s"],
            "fits": entry["fits"],
            "rss": float(rss.read_text()),
            "configurations": [t["hyperparameters"] for t in entry["trials"]],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--executions", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the three ways, interleaved; medians are reported"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from pytest_hptune.runner import oracle_seed  # same configurations as the plugin

    cfg = {"trials": args.trials, "executions": args.executions, "epochs": args.epochs, "oracle_seed": oracle_seed(0)}
    rounds = {"plain": [], "kt": [], "plugin": []}
    for _ in range(args.repeat):
        # Interleaved, so that all three ways see the same machine state.
        plugin = run_plugin(cfg)
        kt = run_python(KERAS_TUNER, cfg)
        assert kt["configurations"] == plugin["configurations"], "the searches must try the same configurations"
        plain = run_python(PLAIN, dict(cfg, configurations=plugin["configurations"]))
        for key, r in (("plain", plain), ("kt", kt), ("plugin", plugin)):
            rounds[key].append(r)

    def median(key, field):
        return statistics.median(r[field] for r in rounds[key])

    floor = median("plain", "seconds")
    print(
        f"{args.trials} trials x {args.executions} executions x {args.epochs} epochs, digits ConvNet, "
        f"median of {args.repeat} interleaved rounds"
    )
    print(f"{'way':<28}{'search s':>10}{'fits':>6}{'s/fit':>8}{'peak RSS MiB':>14}{'vs floor':>10}  each round")
    for name, key in [
        ("1 plain model.fit (floor)", "plain"),
        ("2 Keras Tuner directly", "kt"),
        ("3 pytest-hptune", "plugin"),
    ]:
        seconds, fits = median(key, "seconds"), rounds[key][0]["fits"]
        each = " ".join(f"{r['seconds']:.1f}" for r in rounds[key])
        print(
            f"{name:<28}{seconds:>10.2f}{fits:>6}{seconds / fits:>8.3f}"
            f"{median(key, 'rss'):>14.0f}{seconds / floor:>9.3f}x  {each}"
        )


if __name__ == "__main__":
    main()
