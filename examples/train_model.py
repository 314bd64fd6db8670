"""The guide's Quick Start, the scikit-learn way.

Train a FastGRNN router on built-in routing logs: z-score normalization and
the model in one Pipeline, the guide's settings (hidden 16, learning rate
0.01, batch 32, at most 50 epochs, 20% validation, early stopping after 5
epochs without improvement), then a held-out test.

Run: python examples/train_model.py [--n-samples N] [--quick] [--quiet]
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import make_routing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.add_argument("--quick", action="store_true", help="1,000 rows: a smoke run of a few seconds")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_samples = 1_000

    # 1. data: five routing scores per log line, label 1 = the lightweight model sufficed
    X, y = make_routing(args.n_samples, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)

    # 2-5. normalization + model + training configuration, trained in one call
    model = make_pipeline(
        StandardScaler(),
        FastGRNNClassifier(
            hidden_dim=16,
            learning_rate=0.01,
            batch_size=32,
            epochs=50,
            validation_split=0.2,
            early_stopping_patience=5,
            random_state=0,
            verbose=0 if args.quiet else 1,
        ),
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    clf = model[-1]

    best = clf.history_[clf.best_epoch_ - 1]
    print(f"trained {clf.n_iter_} epochs in {seconds:.1f} s; best epoch {clf.best_epoch_}")
    print(f"final validation accuracy: {best['val_accuracy']:.2%}")
    print(f"test accuracy: {model.score(X_test, y_test):.2%}")
    n_params = sum(w.size for w in clf.weights_.values())
    print(f"parameters: {n_params} ({4 * n_params} bytes as float32)")

    one = X_test[:1]
    times = []
    for _ in range(200):
        t = time.perf_counter()
        model.predict_proba(one)
        times.append(time.perf_counter() - t)
    print(f"prediction latency (pipeline, 1 sample): median {np.median(times) * 1e6:.0f} us")
    return model


if __name__ == "__main__":
    main()
