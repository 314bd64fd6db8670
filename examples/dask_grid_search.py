"""Tune FastGRNN on a dask cluster: scikit-learn's GridSearchCV under joblib's dask backend.

Nothing in the search changes: ``with joblib.parallel_backend("dask")`` sends
each (candidate, fold) fit to a worker of the current dask ``Client``. With
``random_state`` set, the results are the same as with the default backend;
this script checks it.

Needs the ``dask`` extra: ``pip install -e ".[dask]"``.
Run: python examples/dask_grid_search.py   (about 20 seconds; --quick: 3 epochs a fit on 450 rows)
"""

import argparse
import time
import warnings

import dask
import joblib
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import load_digits_sequences


def make_search(epochs):
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(n_timesteps=8, epochs=epochs, random_state=0))
    grid = {
        "fastgrnnclassifier__hidden_dim": [16, 32],
        "fastgrnnclassifier__learning_rate": [0.01, 0.03],
    }
    return GridSearchCV(model, grid, cv=3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 epochs a fit, 450 rows")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else args.epochs

    X, y = load_digits_sequences()
    if args.quick:  # the same code path on a slice: the test suite runs this
        X, y = X[:450], y[:450]
    # a short epoch budget for a demo; the estimator would warn once per fit
    warnings.simplefilter("ignore", ConvergenceWarning)

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
        search = make_search(epochs)
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
            scores = cross_val_score(search.best_estimator_, X, y, cv=5)
        print(f"grid search + 5-fold cross_val_score on the cluster: {time.perf_counter() - start:.1f} s")
        print("best params:", search.best_params_, f"cv accuracy {search.best_score_:.3f}")
        print("cross_val_score of the best model:", np.round(scores, 3))

    # the same search with the default backend, in this process: the same numbers
    local = make_search(epochs).fit(X, y)
    same = all(
        np.array_equal(local.cv_results_[f"split{i}_test_score"], search.cv_results_[f"split{i}_test_score"])
        for i in range(3)
    )
    print(f"default backend gives the same cv scores: {same}; best params: {local.best_params_ == search.best_params_}")


if __name__ == "__main__":
    main()
