"""Regression on sequences: FastGRNNRegressor, several targets, stacked layers, one saved file.

The data are generated with known answers: each row is 20 steps of noise with 2
channels, and the targets are

- ``y1 = 100 + 10 * (x_1 + x_2 + x_3)`` (channel 0): a delayed sum far from unit
  scale (only a cell that remembers the first steps over the next 17 learns it);
- ``y2 = max(x_19, x_20)`` (channel 1): a nonlinear function of the last steps.

Shown, in order:

1. ``make_pipeline(SequenceScaler(), FastGRNNRegressor())`` on ``y1``: R^2 and MAE
   in ``y1``'s own units. The regressor standardizes the targets inside and folds the
   scaling back into its output layer, so no ``TransformedTargetRegressor`` is needed;
2. both targets at once (a 2-D ``y``): one network, one output per target;
3. two stacked layers, ``hidden_dim=(32, 16)``;
4. Ridge on the flattened rows, for scale: it fits the linear ``y1`` but not ``y2``;
5. the pipeline saved in one file and loaded back (same predictions).

Run: python examples/regression.py [--quick]
"""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNRegressor, SequenceScaler


def make_data(n, steps=20, seed=0):
    """``X`` of shape (n, steps, 2) and the two targets ``(y1, y2)``."""
    X = np.random.RandomState(seed).standard_normal((n, steps, 2))
    y1 = 100 + 10 * X[:, :3, 0].sum(axis=1)
    y2 = X[:, -2:, 1].max(axis=1)
    return X, np.c_[y1, y2]


def fit(model, X, y):
    """Fit, silencing --quick's ConvergenceWarning (too few epochs on purpose); return the seconds."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 5 epochs: a smoke run")
    args = parser.parse_args(argv)
    n, epochs = (300, 5) if args.quick else (1000, 50)
    X, Y = make_data(n)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)
    y1_train, y1_test = Y_train[:, 0], Y_test[:, 0]
    print(f"{len(X_train)} training and {len(X_test)} test sequences of 20 steps x 2 channels; {epochs} epochs\n")

    # 1. one target, in its own units
    model = make_pipeline(SequenceScaler(), FastGRNNRegressor(epochs=epochs, random_state=0))
    seconds = fit(model, X_train, y1_train)
    reg = model[-1]
    pred = model.predict(X_test)
    print("1. y1 = 100 + 10 * (x_1 + x_2 + x_3)")
    print(
        f"   test R^2 {r2_score(y1_test, pred):.4f} (model.score: {model.score(X_test, y1_test):.4f}), "
        f"MAE {mean_absolute_error(y1_test, pred):.2f}; {reg.n_iter_} epochs, {seconds:.1f} s"
    )
    print(
        f"   target standardized inside: mean {reg.target_mean_[0]:.2f}, scale {reg.target_scale_[0]:.2f}; "
        f"first predictions {np.round(pred[:3], 1)} for {np.round(y1_test[:3], 1)}"
    )

    # 2. both targets: y of shape (n, 2)
    both = make_pipeline(SequenceScaler(), FastGRNNRegressor(epochs=epochs, random_state=0))
    seconds = fit(both, X_train, Y_train)
    r2 = r2_score(Y_test, both.predict(X_test), multioutput="raw_values")
    print(
        f"\n2. both targets in one model (n_outputs_={both[-1].n_outputs_}): "
        f"test R^2 y1 {r2[0]:.4f}, y2 {r2[1]:.4f}; {both[-1].n_iter_} epochs, {seconds:.1f} s"
    )

    # 3. two stacked layers
    stacked = make_pipeline(SequenceScaler(), FastGRNNRegressor(hidden_dim=(32, 16), epochs=epochs, random_state=0))
    seconds = fit(stacked, X_train, Y_train)
    r2_stacked = r2_score(Y_test, stacked.predict(X_test), multioutput="raw_values")
    print(
        f"\n3. hidden_dim=(32, 16): test R^2 y1 {r2_stacked[0]:.4f}, y2 {r2_stacked[1]:.4f}; "
        f"{stacked[-1].size_report()['n_parameters']:,} parameters "
        f"(hidden_dim=32: {both[-1].size_report()['n_parameters']:,}); {stacked[-1].n_iter_} epochs, {seconds:.1f} s"
    )

    # 4. a linear model on the flattened rows
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    ridge.fit(X_train.reshape(len(X_train), -1), Y_train)
    r2_ridge = r2_score(Y_test, ridge.predict(X_test.reshape(len(X_test), -1)), multioutput="raw_values")
    print(f"\n4. Ridge on the flattened rows: test R^2 y1 {r2_ridge[0]:.4f}, y2 {r2_ridge[1]:.4f}")

    # 5. one file: the scaler's statistics, the weights and the target scaling
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "regressor.safetensors"
        skfastgrnn.save(both, path)
        restored = skfastgrnn.load(path)
        same = np.array_equal(restored.predict(X_test), both.predict(X_test))
        print(f"\n5. saved in {path.stat().st_size:,} bytes and loaded back: same predictions: {same}")
    return model, both, stacked


if __name__ == "__main__":
    main()
