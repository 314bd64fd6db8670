"""Train FastGRNN on a chunked dask array with dask-ml's ``Incremental``.

``Incremental`` hands the chunks of a dask array, one after another, to
``FastGRNNClassifier.partial_fit`` on the worker that holds each chunk, so the
whole training set never has to fit in one process. Prediction on a dask array
runs chunk by chunk on all workers.

Here the "large" data are the digits (8 timesteps of 8 pixels) cut into chunks
of 128 rows; with real data, build the dask array from files instead
(``da.from_zarr``, ``da.from_npy_stack``, or a dask dataframe's
``.to_dask_array(lengths=True)``).

Needs the ``dask`` extra: ``pip install -e ".[dask]"``.
Run: python examples/dask_incremental.py   (about 20 seconds; --quick: 3 passes)
"""

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster
from dask_ml.preprocessing import StandardScaler
from dask_ml.wrappers import Incremental
from sklearn.model_selection import train_test_split

from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import load_digits_sequences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=20, help="epochs: each calls partial_fit once per chunk")
    parser.add_argument("--quick", action="store_true", help="3 passes")
    args = parser.parse_args(argv)
    passes = 3 if args.quick else args.passes

    # a real cluster would be Client("tcp://scheduler:8786"); its workers need skfastgrnn installed
    # dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536; training allocates
    # and frees small arrays for every batch, and under that setting a fit runs about
    # twice as slowly (benchmarks/bench_dask_grid.py). None leaves the variable unset.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        )
    with cluster, Client(cluster) as client:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers at {cluster.scheduler_address}")
        X, y = load_digits_sequences()
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        # chunks of rows (all columns in each): a multiple of batch_size (32), so
        # that only the last chunk ends in a smaller batch
        X_train = da.from_array(X_train, chunks=(128, -1))
        y_train = da.from_array(y_train, chunks=128)
        X_test = da.from_array(X_test, chunks=(128, -1))
        print(f"training data: {X_train.shape[0]} rows in {X_train.numblocks[0]} chunks")

        # dask-ml's scaler computes the statistics over the chunks in parallel
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

        # rows are [x_1, ..., x_8]: dask-ml passes 2-D chunks, so say n_timesteps
        # instead of passing 3-D arrays
        model = Incremental(
            FastGRNNClassifier(hidden_dim=32, n_timesteps=8, l2_reg=3e-3, random_state=0),
            random_state=0,  # the order of the chunks in each pass
        )
        classes = np.unique(y)  # partial_fit must know every class from the first chunk on
        start = time.perf_counter()
        for epoch in range(1, passes + 1):
            model.partial_fit(X_train, y_train, classes=classes)
            if epoch % 5 == 0 or epoch == passes:
                print(f"pass {epoch:2d}: test accuracy {model.score(X_test, y_test):.3f}")
        print(f"{passes} passes in {time.perf_counter() - start:.1f} s")

        # predict_proba on a dask array is lazy and runs chunk by chunk on the workers
        proba = model.predict_proba(X_test)
        print(f"predict_proba: {type(proba).__name__} of shape {proba.shape}, {proba.numblocks[0]} chunks")
        print("first row:", np.round(proba[:1].compute(), 3))

        # the fitted estimator is a plain FastGRNNClassifier, usable without dask
        clf = model.estimator_
        print(f"estimator_: {clf.n_iter_} partial_fit calls (one per chunk per pass)")


if __name__ == "__main__":
    main()
