"""Hyperparameter search with GridSearchCV over a scaler + FastGRNN pipeline.

The guide tells you to "experiment with hyperparameters"; in scikit-learn that
is a grid search. Parameters of the classifier step are addressed as
``fastgrnnclassifier__<name>``; every fit is seeded, so the search is
reproducible. The best pipeline (refit on all training rows) is then scored on
a held-out test set and saved in one file.

Run: python examples/grid_search.py [--quick] [--n-jobs N]
"""

import argparse
import os
import tempfile
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import make_routing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 epochs, 2 candidates: a smoke run")
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel fits (GridSearchCV's n_jobs)")
    args = parser.parse_args(argv)

    X, y = make_routing(300 if args.quick else 4000, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

    model = make_pipeline(StandardScaler(), FastGRNNClassifier(epochs=3 if args.quick else 60, random_state=0))
    grid = {"fastgrnnclassifier__hidden_dim": [4, 16]}
    if not args.quick:
        grid["fastgrnnclassifier__learning_rate"] = [0.003, 0.01]
        grid["fastgrnnclassifier__cell"] = ["fastgrnn", "guide"]
    search = GridSearchCV(model, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=args.n_jobs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # a few candidates use their whole epoch budget; that is part of what the search compares
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    print(f"{len(search.cv_results_['params'])} candidates x 3 folds in {time.perf_counter() - start:.1f} s\n")

    results = search.cv_results_
    names = [name.split("__")[1] for name in grid]
    print("rank  " + "  ".join(f"{n:>13}" for n in names) + "  mean CV accuracy  fit seconds")
    for i in sorted(range(len(results["params"])), key=lambda i: results["rank_test_score"][i]):
        values = "  ".join(f"{results['params'][i]['fastgrnnclassifier__' + n]!s:>13}" for n in names)
        print(
            f"{results['rank_test_score'][i]:>4}  {values}  "
            f"{results['mean_test_score'][i]:.4f} +- {results['std_test_score'][i]:.4f}  "
            f"{results['mean_fit_time'][i]:11.2f}"
        )

    best = search.best_estimator_
    print(f"\nbest: {search.best_params_}")
    print(f"test accuracy of the best pipeline (refit on all training rows): {best.score(X_test, y_test):.4f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "best.safetensors")
        skfastgrnn.save(best, path)  # scaler + network in one file
        assert (skfastgrnn.load(path).predict(X_test) == best.predict(X_test)).all()
        print(f"saved and reloaded the best pipeline: {os.path.getsize(path):,} bytes")
    return search


if __name__ == "__main__":
    main()
