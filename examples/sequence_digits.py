"""Sequence data: handwritten digits read one pixel row per timestep.

scikit-learn's 8x8 digits, :func:`skfastgrnn.datasets.load_digits_sequences`:
each image is a sequence of 8 timesteps of 8 pixels. A row of width ``T * D``
is read as ``[x_1, ..., x_T]`` with ``n_timesteps=T``; a 3-D array
``(n_samples, T, D)`` works too and gives the same model. Compared:

- 8 timesteps of 8 pixels (rows of the image, top to bottom);
- 8 timesteps of 8 pixels, columns of the image (left to right);
- 1 timestep of 64 pixels (no recurrence: the cell sees the image at once);

and the confusion matrix of the row-by-row model on the test set.

Run: python examples/sequence_digits.py [--quick]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import load_digits_sequences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 epochs: a smoke run")
    args = parser.parse_args(argv)
    X, y = load_digits_sequences()
    if args.quick:
        X, y = X[:300], y[:300]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    epochs = 3 if args.quick else 100

    def columns(X):  # transpose each 8x8 image: timestep t = pixel column t
        return X.reshape(-1, 8, 8).transpose(0, 2, 1).reshape(len(X), 64)

    setups = {
        "8 steps x 8 pixels (image rows)": (8, X_train, X_test),
        "8 steps x 8 pixels (image columns)": (8, columns(X_train), columns(X_test)),
        "1 step x 64 pixels": (1, X_train, X_test),
    }
    print(f"digits: {len(y_train)} training rows, {len(y_test)} test rows; hidden 32, l2_reg 3e-3\n")
    print(f"{'input':<36} {'test accuracy':>13} {'epochs':>6} {'fit s':>6}")
    models = {}
    for name, (T, train, test) in setups.items():
        model = make_pipeline(
            StandardScaler(), FastGRNNClassifier(32, n_timesteps=T, l2_reg=3e-3, epochs=epochs, random_state=0)
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train, y_train)
        seconds = time.perf_counter() - start
        models[name] = model
        print(f"{name:<36} {model.score(test, y_test):13.2%} {model[-1].n_iter_:>6} {seconds:6.2f}")

    # the same network from a 3-D array (n_samples, T, D): no scaler here, as
    # StandardScaler takes 2-D rows; the estimator reads T from the array
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        flat = FastGRNNClassifier(16, n_timesteps=8, epochs=epochs, random_state=0).fit(X_train, y_train)
        cube = FastGRNNClassifier(16, epochs=epochs, random_state=0).fit(X_train.reshape(-1, 8, 8), y_train)
    same = np.array_equal(flat.predict_proba(X_test), cube.predict_proba(X_test.reshape(-1, 8, 8)))
    print(f"\n(n, 64) with n_timesteps=8 and (n, 8, 8) train the same model: {same}")

    rows = models["8 steps x 8 pixels (image rows)"]
    matrix = confusion_matrix(y_test, rows.predict(X_test), labels=np.arange(10))
    print("\nconfusion matrix, image rows (true digit down, predicted across):")
    print("     " + " ".join(f"{d:>3}" for d in range(10)))
    for digit, counts in enumerate(matrix):
        print(f"  {digit}  " + " ".join(f"{c:>3}" for c in counts))
    return models


if __name__ == "__main__":
    main()
