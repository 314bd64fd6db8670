"""Continual learning: fine-tune a saved model on new logs with a lower learning rate.

The guide's "Continual Learning": load the current model, collect recent logs,
fine-tune with a lower learning rate for a few epochs, save the next version.
Here the world changes between the two: the lightweight model was upgraded and
now copes with more complex queries, so the rule behind the labels moves
(``0.9 * complexity**2`` becomes ``0.4 * complexity**2`` in the rule of
:func:`skfastgrnn.datasets.make_routing`). Only a few hundred new logs exist.

- v1 is trained on 5,000 old logs and saved;
- v2 = v1 loaded and fine-tuned (``warm_start=True``) for 30 epochs on the new
  logs with a learning rate of 0.003, about 3x below the 0.01 v1 was trained
  with (the guide's 0.0001 for 10 epochs hardly moves the weights on a few
  hundred rows). The scaler of v1 is kept: the network's weights were learned
  for its normalization, so only the classifier step is refitted;
- for comparison, a model trained from scratch on the new logs alone.

Printed: accuracy on the new distribution before and after, and on the old one
(how much of it the fine-tuned model still remembers).

Run: python examples/continual_learning.py [--quick] [--out DIR]
"""

import argparse
import os
import tempfile
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import make_routing


def new_logs(n, random_state):
    """Routing logs after the upgrade: complexity costs less than before (5 % label noise)."""
    X, _ = make_routing(n, random_state=random_state)
    similarity, recency, popularity, success_rate, complexity = X.T
    y = (1.2 * similarity * success_rate + 0.3 * recency * popularity - 0.4 * complexity**2 > 0.05).astype(int)
    flip = np.random.RandomState(random_state).uniform(size=n) < 0.05
    y[flip] = 1 - y[flip]
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred rows and epochs: a smoke run")
    parser.add_argument("--out", help="directory for the model versions (default: a temporary one)")
    args = parser.parse_args(argv)
    n_old, n_new, n_test = (300, 100, 200) if args.quick else (5000, 400, 4000)
    epochs = 3 if args.quick else 100

    X_old, y_old = make_routing(n_old, random_state=0)
    X_old_test, y_old_test = make_routing(n_test, random_state=1)
    X_new, y_new = new_logs(n_new, random_state=2)
    X_new_test, y_new_test = new_logs(n_test, random_state=3)

    def accuracy(model, X, y):
        return float(np.mean(model.predict(X) == y))

    out = args.out or tempfile.mkdtemp(prefix="skfastgrnn-continual-")
    os.makedirs(out, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # --quick's 3 epochs never converge

        # v1: the current production model
        v1 = make_pipeline(StandardScaler(), FastGRNNClassifier(16, epochs=epochs, random_state=0)).fit(X_old, y_old)
        skfastgrnn.save(v1, os.path.join(out, "router_v1.safetensors"))

        # v2: load v1, fine-tune its classifier on the new logs, keep its scaler
        v2 = skfastgrnn.load(os.path.join(out, "router_v1.safetensors"))
        v2[-1].set_params(warm_start=True, learning_rate=0.003, epochs=min(epochs, 30), early_stopping_patience=10)
        v2[-1].fit(v2[0].transform(X_new), y_new)
        skfastgrnn.save(v2, os.path.join(out, "router_v2.safetensors"))

        # baseline: the same network trained from scratch on the new logs only
        scratch = make_pipeline(StandardScaler(), clone(v1[-1])).fit(X_new, y_new)

    print(f"{n_old:,} old logs for v1, {n_new:,} new logs after the upgrade; accuracy on {n_test:,} test logs each\n")
    print(f"{'model':<44} {'new distribution':>16} {'old distribution':>16}")
    rows = [
        ("v1 (trained on the old logs)", v1),
        ("v2 = v1 fine-tuned (lr 0.003, warm_start)", v2),
        ("from scratch on the new logs only", scratch),
    ]
    for name, model in rows:
        new, old = accuracy(model, X_new_test, y_new_test), accuracy(model, X_old_test, y_old_test)
        print(f"{name:<44} {new:16.2%} {old:16.2%}")
    print(f"\nv2 ran {v2[-1].n_iter_} epochs in all ({v1[-1].n_iter_} for v1, then fine-tuning); files in {out}:")
    for name in sorted(os.listdir(out)):
        print(f"  {name} ({os.path.getsize(os.path.join(out, name)):,} bytes)")
    return v1, v2


if __name__ == "__main__":
    main()
