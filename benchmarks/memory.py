"""Memory over a long session: RSS growth across many tiny trials.

Runs 40 tiny trials (a Dense model on synthetic data, 3 executions x 1
epoch each: the plugin's default executions) five ways, each in a fresh
process:

0. no tuner: the same fits in a plain loop, a new model per fit with
   ``clear_session()`` and ``gc.collect()``: what TensorFlow itself keeps;
1. Keras Tuner directly: one ``RandomSearch`` of 40 trials, RSS sampled
   after every trial;
2. the plugin through pytest: 10 hptune tests of 4 trials each in one pytest
   session (the "many hptune tests in one process" case), the session's RSS
   sampled after every test; executions 2..n of a configuration train the
   model its first execution traced (``engine/reuse.py``);
3. the same with ``--hptune-reuse=off``: a fresh model per execution, as
   Keras Tuner builds them;
4. the same with ``--hptune-workers=1``: each search trains in a worker
   process that exits with it; the session's RSS sampled after every test.

TensorFlow keeps part of every traced training function alive after its
model is gone (way 0 measures it), so the growth follows the number of
models traced: reuse traces one per trial.

RSS is read from ``/proc/self/statm``. Prints the first and last sample, the
growth in between and per trial, and each plugin way's growth as a fraction
of Keras Tuner's.

    .venv/bin/python benchmarks/memory.py [--trials 40] [--executions 3]
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
from typing import Any

from bench import run_pytest

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

# No tuner at all: a new model per fit, the Keras session cleared and a full
# collection before and after each, as Keras's clear_session() docs advise.
PLAIN = textwrap.dedent(
    """
    import gc, sys
    import keras, keras_tuner
    from bench_model import rss_mib, build, x, y
    trials, executions = int(sys.argv[1]), int(sys.argv[2])
    samples = []
    for trial in range(trials):
        for execution in range(executions):
            keras.backend.clear_session()
            model = build(keras_tuner.HyperParameters())
            model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
            del model
            gc.collect()
        samples.append(rss_mib())
    print(" ".join(map(str, samples)))
    """
)

KERAS_TUNER = textwrap.dedent(
    """
    import sys, tempfile
    import keras_tuner
    from bench_model import SampleRss, build, x, y
    trials, executions = int(sys.argv[1]), int(sys.argv[2])
    tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=trials,
                                     executions_per_trial=executions, seed=1,
                                     directory=tempfile.mkdtemp(), project_name="kt")
    tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0, callbacks=[SampleRss()])
    """
)

PLUGIN_TESTS = textwrap.dedent(
    """
    import os
    import pytest
    from bench_model import build, rss_mib, x, y

    @pytest.fixture(autouse=True)
    def sample_rss():
        yield
        if os.environ.get("KERASTUNER_TUNER_ID"):
            return  # a worker process: the session's process is the chief
        with open(os.environ["HPTUNE_BENCH_RSS"], "a") as fh:
            fh.write(f"{{rss_mib()}}\\n")

    @pytest.mark.parametrize("i", range({tests}))
    @pytest.mark.hptune(max_trials={per_test}, executions_per_trial={executions}, epochs=1, seed=1)
    def test_search(hptune, i):
        hptune.search(build, x, y, validation_split=0.25, seed=i)
    """
)


def summary(samples: list[float], trials_between: int) -> dict[str, Any]:
    """Growth from the first sample to the last, spread over the trials
    that ran in between."""
    growth = samples[-1] - samples[0]
    return {
        "samples": len(samples),
        "first": samples[0],
        "last": samples[-1],
        "growth": growth,
        "per_trial": growth / trials_between,
    }


def run(trials: int, tests: int, executions: int) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        (tmp / "bench_model.py").write_text(MODEL)
        env = dict(os.environ, PYTHONPATH=str(tmp), TF_CPP_MIN_LOG_LEVEL="2")

        plain = subprocess.run(
            [sys.executable, "-c", PLAIN, str(trials), str(executions)],
            check=True,
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
        ).stdout
        samples = [float(v) for v in plain.split()]
        plain_summary = summary(samples, len(samples) - 1)

        env["HPTUNE_BENCH_RSS"] = str(tmp / "kt.txt")
        subprocess.run(
            [sys.executable, "-c", KERAS_TUNER, str(trials), str(executions)],
            check=True,
            env=env,
            cwd=tmp,
            capture_output=True,
        )
        # One sample per fit: keep the last of each trial's.
        kt = [float(v) for v in (tmp / "kt.txt").read_text().split()][executions - 1 :: executions]
        out = {"keras_tuner": summary(kt, len(kt) - 1), "plain": plain_summary}

        per_test = trials // tests
        (tmp / "test_memory.py").write_text(PLUGIN_TESTS.format(tests=tests, per_test=per_test, executions=executions))
        ways = [("plugin", []), ("plugin_fresh", ["--hptune-reuse=off"]), ("plugin_workers", ["--hptune-workers=1"])]
        for name, extra in ways:
            env["HPTUNE_BENCH_RSS"] = str(tmp / f"{name}.txt")
            run_pytest([f"--rootdir={tmp}", "test_memory.py", *extra], tmp, env)
            samples = [float(v) for v in (tmp / f"{name}.txt").read_text().split()]
            out[name] = summary(samples, per_test * (len(samples) - 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--tests", type=int, default=10, help="hptune tests the plugin's trials are spread over")
    parser.add_argument("--executions", type=int, default=3, help="executions per trial, both ways")
    args = parser.parse_args()
    results = run(args.trials, args.tests, args.executions)
    kt = results["keras_tuner"]
    print(
        f"{args.trials} tiny trials ({args.executions} execution{'s' * (args.executions > 1)} x 1 epoch); "
        "RSS in MiB of the process that runs the session"
    )
    print(f"{'way':<46}{'samples':>8}{'first':>7}{'last':>7}{'growth':>8}{'/trial':>8}{'vs KT':>7}")
    names = {
        "plain": "0 no tuner: a model per fit, gc.collect() each",
        "keras_tuner": "1 Keras Tuner directly (one search)",
        "plugin": f"2 pytest-hptune ({args.tests} tests, one session)",
        "plugin_fresh": "3 the same, --hptune-reuse=off",
        "plugin_workers": "4 the same, --hptune-workers=1",
    }
    for key, name in names.items():
        r = results[key]
        ratio = r["per_trial"] / kt["per_trial"] if kt["per_trial"] > 0 else float("nan")
        print(
            f"{name:<46}{r['samples']:>8}{r['first']:>7.0f}{r['last']:>7.0f}{r['growth']:>8.1f}"
            f"{r['per_trial']:>8.2f}{ratio:>7.2f}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
