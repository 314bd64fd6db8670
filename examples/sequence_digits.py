"""Sequence data: handwritten digits read one pixel row per timestep, and sequences of different lengths.

scikit-learn's 8x8 digits, :func:`skfastgrnn.datasets.load_digits_sequences`:
each image is a sequence of 8 timesteps of 8 pixels. The recommended pipeline
for sequences is ``make_pipeline(SequenceScaler(), FastGRNNClassifier())`` on a
3-D array ``(n_samples, T, D)``; flattened rows ``[x_1, ..., x_T]`` work too,
with ``n_timesteps=T`` given to both steps. Compared:

- 8 timesteps of 8 pixels (rows of the image, top to bottom), SequenceScaler;
- the same with StandardScaler on flattened rows (one mean and scale per
  (step, pixel) column: what the package recommended before SequenceScaler);
- 8 timesteps of 8 pixels, columns of the image (left to right);
- 1 timestep of 64 pixels (no recurrence: the cell sees the image at once);

then the same images cropped to random heights (3-8 pixel rows: sequences of
different lengths, a list of arrays), and the confusion matrix of the
row-by-row model on the test set.

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

from skfastgrnn import FastGRNNClassifier, SequenceScaler
from skfastgrnn.datasets import load_digits_sequences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 epochs: a smoke run")
    args = parser.parse_args(argv)
    X, y = load_digits_sequences()
    if args.quick:
        X, y = X[:300], y[:300]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    images_train, images_test = X_train.reshape(-1, 8, 8), X_test.reshape(-1, 8, 8)
    epochs = 3 if args.quick else 100

    setups = {  # name: (scaler, n_timesteps for 2-D rows, train, test)
        "image rows, SequenceScaler": (SequenceScaler(), 1, images_train, images_test),
        "image rows, StandardScaler (flat)": (StandardScaler(), 8, X_train, X_test),
        "image columns, SequenceScaler": (
            SequenceScaler(),
            1,
            images_train.transpose(0, 2, 1),
            images_test.transpose(0, 2, 1),
        ),
        "1 step x 64 pixels, StandardScaler": (StandardScaler(), 1, X_train, X_test),
    }
    print(f"digits: {len(y_train)} training rows, {len(y_test)} test rows; FastGRNNClassifier defaults\n")
    print(f"{'input':<38} {'test accuracy':>13} {'epochs':>6} {'fit s':>6}")
    models = {}
    for name, (scaler, T, train, test) in setups.items():
        model = make_pipeline(scaler, FastGRNNClassifier(n_timesteps=T, epochs=epochs, random_state=0))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # --quick's 3 epochs
            model.fit(train, y_train)
        seconds = time.perf_counter() - start
        models[name] = model
        print(f"{name:<38} {model.score(test, y_test):13.2%} {model[-1].n_iter_:>6} {seconds:6.2f}")

    # sequences of different lengths: keep the top 3-8 pixel rows of each image
    rng = np.random.RandomState(0)
    crop_train = [image[: rng.randint(3, 9)] for image in images_train]
    crop_test = [image[: rng.randint(3, 9)] for image in images_test]
    cropped = make_pipeline(SequenceScaler(), FastGRNNClassifier(epochs=epochs, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cropped.fit(crop_train, y_train)
    alone = np.array([cropped.predict([seq])[0] for seq in crop_test[:50]])
    print(
        f"\nimages cropped to 3-8 rows (a list of arrays): test accuracy {cropped.score(crop_test, y_test):.2%}; "
        f"each sequence predicted alone = in a padded batch: {np.array_equal(alone, cropped.predict(crop_test[:50]))}"
    )

    rows = models["image rows, SequenceScaler"]
    matrix = confusion_matrix(y_test, rows.predict(images_test), labels=np.arange(10))
    print("\nconfusion matrix, image rows (true digit down, predicted across):")
    print("     " + " ".join(f"{d:>3}" for d in range(10)))
    for digit, counts in enumerate(matrix):
        print(f"  {digit}  " + " ".join(f"{c:>3}" for c in counts))
    return models


if __name__ == "__main__":
    main()
