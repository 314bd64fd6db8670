"""Fixtures and helpers shared by the test modules.

Helpers are imported as ``from conftest import quiet_fit, tiny`` (pytest puts this
folder on ``sys.path``); fixtures are found by name.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

from skfastgrnn import FastGRNNClassifier


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """One BLAS thread in the test process: the matrices here are tiny, and on a loaded
    2-core machine BLAS threads only contend (a LogisticRegression teacher fits 20x slower)."""
    with threadpool_limits(limits=1):
        yield


def quiet_fit(model, X, y=None, **fit_params):
    """``model.fit(X, y, **fit_params)`` without the warnings of short fits (ConvergenceWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, **fit_params)


def tiny(**params):
    """An unfitted FastGRNNClassifier that trains in milliseconds: 4 hidden units, 3 epochs, seeded."""
    return FastGRNNClassifier(**{"hidden_dim": 4, "epochs": 3, "random_state": 0, **params})


@pytest.fixture(scope="module")
def blobs():
    """240 rows of 6 features, 3 classes (``make_classification``, seed 0): ``(X, y)``."""
    return make_classification(n_samples=240, n_features=6, n_informative=4, n_classes=3, random_state=0)


def make_variable_length(n=240, n_features=2, min_len=3, max_len=14, seed=0):
    """A list of (T_i, D) sequences of random lengths; the class shifts channel 0 at every step.

    Returns ``(sequences, y)``; a small FastGRNN separates the classes in a few epochs.
    """
    rng = np.random.RandomState(seed)
    sequences, y = [], []
    for _ in range(n):
        label = rng.randint(2)
        x = rng.standard_normal((rng.randint(min_len, max_len + 1), n_features))
        x[:, 0] += 1.5 * label - 0.75
        x += 5.0  # far from zero: a missing scaler would show
        sequences.append(x)
        y.append(label)
    return sequences, np.array(y)


@pytest.fixture
def variable_length():
    """240 sequences of 3-14 steps of 2 features, 2 classes: ``(list_of_arrays, y)``."""
    return make_variable_length()
