"""Cross-validation: compare the three cells with linear and MLP baselines.

``cross_validate`` with stratified 5-fold splits on the built-in routing logs:
the FastGRNN cell of the paper, FastRNN, the Tiny Dancer guide's cell,
logistic regression (a linear model: the routing rule has products and a
square, so it cannot reach the noise ceiling of about 95 %) and scikit-learn's
MLPClassifier. Every model sits in a Pipeline behind a StandardScaler, so the
scaler is fitted on the training folds only.

Run: python examples/cross_validation.py [--quick]
"""

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import make_routing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 folds, 3 epochs: a smoke run")
    args = parser.parse_args(argv)

    X, y = make_routing(300 if args.quick else 3000, random_state=0)
    epochs = 3 if args.quick else 100
    models = {
        "FastGRNN (hidden 16)": FastGRNNClassifier(16, epochs=epochs, random_state=0),
        "FastRNN (hidden 16)": FastGRNNClassifier(16, cell="fastrnn", epochs=epochs, random_state=0),
        "guide cell (hidden 16)": FastGRNNClassifier(16, cell="guide", epochs=epochs, random_state=0),
        "LogisticRegression": LogisticRegression(),
        "MLPClassifier (16)": MLPClassifier((16,), max_iter=epochs * 3, random_state=0),
    }
    folds = 3 if args.quick else 5
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    print(f"make_routing({len(y)}), stratified {folds}-fold cross-validation\n")
    print(f"{'model':<24} {'accuracy':>17} {'log loss':>9} {'fit s':>6}")
    for name, estimator in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make_pipeline(StandardScaler(), estimator)
            scores = cross_validate(model, X, y, cv=cv, scoring=("accuracy", "neg_log_loss"))
        acc = scores["test_accuracy"]
        print(
            f"{name:<24} {acc.mean():.4f} +- {acc.std():.4f} {-np.mean(scores['test_neg_log_loss']):9.4f} "
            f"{np.mean(scores['fit_time']):6.2f}"
        )
    return 0


if __name__ == "__main__":
    main()
