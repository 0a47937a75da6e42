"""Memory over a long session: RSS growth across many tiny trials.

Runs 40 tiny trials (a Dense model on synthetic data, 1 execution x 1 epoch
each) two ways, each in a fresh process:

1. Keras Tuner directly: one ``RandomSearch`` of 40 trials;
2. the plugin through pytest: 10 hptune tests of 4 trials each in one pytest
   session (the "many hptune tests in one process" case).

After every trial the current RSS is sampled (``/proc/self/statm``). Prints
RSS after the first trial, after the last one, the growth in between and
growth per trial, and the plugin's growth as a fraction of Keras Tuner's.

    .venv/bin/python benchmarks/memory.py [--trials 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Shared by both ways: the model, the data and the RSS sampler (a callback
# that appends the current RSS to a file at the end of every fit).
MODEL = textwrap.dedent(
    """
    import os
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 16)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")

    def build(hp):
        model = keras.Sequential([
            keras.Input((16,)),
            keras.layers.Dense(hp.Int("units", 8, 64, step=8), activation="relu"),
            keras.layers.Dense(hp.Int("units2", 8, 64, step=8), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                      "binary_crossentropy", metrics=["accuracy"])
        return model

    def rss_mib():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    class SampleRss(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            with open(os.environ["HPTUNE_BENCH_RSS"], "a") as fh:
                fh.write(f"{rss_mib()}\\n")
    """
)

KERAS_TUNER = textwrap.dedent(
    """
    import sys, tempfile
    import keras_tuner
    from bench_model import SampleRss, build, x, y
    trials = int(sys.argv[1])
    tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=trials,
                                     executions_per_trial=1, seed=1,
                                     directory=tempfile.mkdtemp(), project_name="kt")
    tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0, callbacks=[SampleRss()])
    """
)

PLUGIN_TESTS = textwrap.dedent(
    """
    import pytest
    from bench_model import SampleRss, build, x, y

    @pytest.mark.parametrize("i", range({tests}))
    @pytest.mark.hptune(max_trials={per_test}, executions_per_trial=1, epochs=1, seed=1)
    def test_search(hptune, i):
        hptune.search(build, x, y, validation_split=0.25, callbacks=[SampleRss()], seed=i)
    """
)


def summary(samples: list[float]) -> dict:
    growth = samples[-1] - samples[0]
    return {
        "trials": len(samples),
        "first": samples[0],
        "last": samples[-1],
        "growth": growth,
        "per_trial": growth / max(len(samples) - 1, 1),
    }


def run(trials: int, tests: int) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bench_model.py").write_text(MODEL)
        env = dict(os.environ, PYTHONPATH=str(tmp), TF_CPP_MIN_LOG_LEVEL="2")

        env["HPTUNE_BENCH_RSS"] = str(tmp / "kt.txt")
        subprocess.run([sys.executable, "-c", KERAS_TUNER, str(trials)], check=True, env=env, cwd=tmp,
                       capture_output=True)
        kt = [float(v) for v in (tmp / "kt.txt").read_text().split()]

        env["HPTUNE_BENCH_RSS"] = str(tmp / "plugin.txt")
        (tmp / "test_memory.py").write_text(PLUGIN_TESTS.format(tests=tests, per_test=trials // tests))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tmp}",
                        "test_memory.py"], check=True, env=env, cwd=tmp, capture_output=True)
        plugin = [float(v) for v in (tmp / "plugin.txt").read_text().split()]
    return summary(kt), summary(plugin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--tests", type=int, default=10, help="hptune tests the plugin's trials are spread over")
    args = parser.parse_args()
    kt, plugin = run(args.trials, args.tests)
    print(f"{args.trials} tiny trials (1 execution x 1 epoch); RSS in MiB after each trial")
    print(f"{'way':<40}{'trials':>7}{'first':>8}{'last':>8}{'growth':>8}{'/trial':>8}")
    for name, r in [("1 Keras Tuner directly (one search)", kt),
                    (f"2 pytest-hptune ({args.tests} tests, one session)", plugin)]:
        print(f"{name:<40}{r['trials']:>7}{r['first']:>8.0f}{r['last']:>8.0f}{r['growth']:>8.1f}{r['per_trial']:>8.2f}")
    if kt["growth"] > 0:
        print(f"plugin growth / Keras Tuner growth: {plugin['growth'] / kt['growth']:.2f}")
    print(json.dumps({"keras_tuner": kt, "plugin": plugin}))


if __name__ == "__main__":
    main()
