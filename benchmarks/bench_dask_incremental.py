"""Accuracy of ``dask_ml.wrappers.Incremental`` training against in-memory training.

The digits (8 timesteps of 8 pixels, stratified 70/30 split, standardized with
the training rows' statistics) train the README's digits model
(``FastGRNNClassifier(32, n_timesteps=8, l2_reg=3e-3)``) for the same number of
epochs three ways, for several seeds:

- ``Incremental``: the training rows as a dask array of 128-row chunks on a
  ``LocalCluster`` of 2 worker processes (started without
  ``MALLOC_TRIM_THRESHOLD_``, as docs/dask.md recommends); each pass calls
  ``partial_fit`` once per chunk, chunks in a seeded random order;
- ``partial_fit``: the same number of ``partial_fit`` passes over all training
  rows in memory;
- ``fit``: ``fit(epochs=passes)`` on all training rows (no validation split, no
  early stopping; the learning-rate decay starts at epoch 20, so it never acts
  at 20 passes).

It prints the test accuracies as a markdown table, and the largest gaps.
``tests/test_dask.py`` asserts the gap for seed 0.

Usage (from the repository root; about a minute)::

    python benchmarks/bench_dask_incremental.py
    python benchmarks/bench_dask_incremental.py --seeds 2 --passes 5   # smoke run
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

# measure the working tree's skfastgrnn
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences  # noqa: E402

CHUNK = 128


def digits():
    """Standardized digits split the way tests/test_dask.py splits them."""
    X, y = load_digits_sequences()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def run(seed, passes, X_train, X_test, y_train, y_test):
    """Test accuracy of the three ways for one seed; seconds of the Incremental and in-memory passes."""
    params = dict(hidden_dim=32, n_timesteps=8, l2_reg=3e-3, random_state=seed)
    classes = np.unique(y_train)
    X_dask = da.from_array(X_train, chunks=(CHUNK, -1))
    y_dask = da.from_array(y_train, chunks=CHUNK)
    inc = Incremental(FastGRNNClassifier(**params), random_state=seed)
    start = time.perf_counter()
    for _ in range(passes):
        inc.partial_fit(X_dask, y_dask, classes=classes)
    seconds = [time.perf_counter() - start]

    in_memory = FastGRNNClassifier(**params)
    start = time.perf_counter()
    for _ in range(passes):
        in_memory.partial_fit(X_train, y_train, classes=classes)
    seconds.append(time.perf_counter() - start)
    fitted = FastGRNNClassifier(epochs=passes, validation_split=0.0, early_stopping_patience=None, **params)
    fitted.fit(X_train, y_train)
    accuracies = [m.score(X_test, y_test) for m in (inc.estimator_, in_memory, fitted)]
    return accuracies, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test = digits()
    n_chunks = -(-len(X_train) // CHUNK)
    print(
        f"digits: {len(X_train)} training rows in {n_chunks} chunks of {CHUNK}, {len(X_test)} test rows; "
        f"{args.passes} passes / epochs\n"
    )
    print(
        "| random_state | Incremental (2 workers) | partial_fit passes in memory | fit | "
        "Incremental - partial_fit | Incremental - fit | seconds: Incremental / in memory |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    gaps = []
    # workers without MALLOC_TRIM_THRESHOLD_, as docs/dask.md recommends (see bench_dask_grid.py)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        )
    with cluster, Client(cluster), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(args.seeds):
            (inc, mem, fit), (inc_seconds, mem_seconds) = run(seed, args.passes, X_train, X_test, y_train, y_test)
            gaps.append((inc - mem, inc - fit))
            print(
                f"| {seed} | {inc:.3f} | {mem:.3f} | {fit:.3f} | {100 * (inc - mem):+.1f} pt "
                f"| {100 * (inc - fit):+.1f} pt | {inc_seconds:.1f} / {mem_seconds:.1f} |"
            )
    gaps = np.abs(np.array(gaps))
    print(
        f"\nlargest gap: {100 * gaps[:, 0].max():.1f} points to the in-memory partial_fit passes, "
        f"{100 * gaps[:, 1].max():.1f} points to fit"
    )


if __name__ == "__main__":
    main()
