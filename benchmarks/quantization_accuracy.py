"""Test accuracy of float, int8-quantized and pruned FastGRNN models.

Datasets (both split 70/30, stratified, ``random_state`` = seed; inputs
standardized with a StandardScaler fitted on the training rows, inside the
Pipeline that is measured):

- digits: scikit-learn's 8x8 digits read as 8 timesteps of 8 pixels
  (``n_timesteps=8``), 10 classes, 1,797 images;
- routing: ``skfastgrnn.datasets.make_routing(10_000)``, the guide-like routing
  logs (5 features, 1 timestep, 2 classes, 5 % label noise).

For every dataset, cell and seed a Pipeline(StandardScaler, FastGRNNClassifier)
is trained once; the columns then evaluate the same trained network:

- float64: as trained;
- fp32: every weight rounded to float32;
- int8: after ``quantize()`` (int8 matrices, per-tensor float32 scales,
  float32 biases), predictions computed from the int8 weights;
- int8 - float64: the difference in accuracy points (target: within 1 point);
- pruned 30 % + int8: ``prune(0.3)`` then ``quantize()``, no retraining;
- pruned 30 %, 5 epochs, int8: ``prune(0.3)``, then a warm-start fit of 5
  epochs (the zeros stay fixed), then ``quantize()``.

Usage (from the repository root)::

    python benchmarks/quantization_accuracy.py            # 3 seeds, about a minute
    python benchmarks/quantization_accuracy.py --quick    # 1 seed, fewer epochs
"""

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse  # noqa: E402
import copy  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# measure the working tree's skfastgrnn
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences, make_routing  # noqa: E402

CELLS = ("fastgrnn", "fastrnn", "guide")


#: the settings the published tables were measured with (the defaults before the time-series
#: benchmark changed them; rerunning at today's defaults is left for a quiet machine)
MEASURED_WITH = dict(validation_split=0.1, batch_size=32)


def datasets():
    X, y = load_digits_sequences()
    yield "digits (T=8, 10 classes)", X, y, dict(n_timesteps=8, hidden_dim=32, epochs=40)
    X, y = make_routing(10_000, random_state=0)
    yield "routing (T=1, 2 classes)", X, y, dict(n_timesteps=1, hidden_dim=16, epochs=30)


def evaluate(X, y, params, cell, seed):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(cell=cell, random_state=seed, **MEASURED_WITH, **params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_tr, y_tr)
    row = {"float64": model.score(X_te, y_te)}

    fp32 = copy.deepcopy(model)
    fp32[-1]._theta = fp32[-1]._theta.astype(np.float32).astype(np.float64)
    row["fp32"] = fp32.score(X_te, y_te)

    q = copy.deepcopy(model)
    q[-1].quantize()
    row["int8"] = q.score(X_te, y_te)

    p = copy.deepcopy(model)
    p[-1].prune(0.3).quantize()
    row["pruned"] = p.score(X_te, y_te)

    t = copy.deepcopy(model)
    t[-1].prune(0.3).set_params(warm_start=True, epochs=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t.fit(X_tr, y_tr)
    t[-1].quantize()
    row["tuned"] = t.score(X_te, y_te)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed and a third of the epochs")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else args.seeds)
    start = time.perf_counter()
    print(
        "| dataset | cell | hidden | seed | float64 | fp32 | int8 | int8 - float64 (points) "
        "| pruned 30% + int8 | pruned 30%, 5 epochs, int8 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name, X, y, params in datasets():
        if args.quick:
            params = {**params, "epochs": max(1, params["epochs"] // 3)}
        for cell in CELLS:
            for seed in seeds:
                r = evaluate(X, y, params, cell, seed)
                diff = 100 * (r["int8"] - r["float64"])
                worst = min(worst, diff)
                print(
                    f"| {name} | {cell} | {params['hidden_dim']} | {seed} | {r['float64']:.2%} | {r['fp32']:.2%} | "
                    f"{r['int8']:.2%} | {diff:+.2f} | {r['pruned']:.2%} | {r['tuned']:.2%} |"
                )
    verdict = "PASS" if worst >= -1.0 else "MISS"
    print(f"\n{verdict}: largest int8 accuracy loss {-worst:.2f} points (target: at most 1 point)")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
