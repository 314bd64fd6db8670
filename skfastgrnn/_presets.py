"""The Tiny Dancer guide's recommended training settings, and prediction latency.

:data:`GUIDE_SETTINGS` is the guide's "Recommended Settings" table (its
``TrainingConfig``) in this package's parameter names, one row per dataset
size; :func:`guide_settings` picks the row for a number of training rows.
:func:`latency_us` times ``predict_proba``, and :func:`deployment_report`
gathers what the ``skfastgrnn demo`` command reports about a trained model:
test accuracy in float and int8, sizes and prediction latencies.

Examples
--------
>>> from skfastgrnn import FastGRNNClassifier
>>> from skfastgrnn._presets import guide_settings
>>> name, params = guide_settings(500)
>>> name
'small datasets (< 1,000 samples)'
>>> FastGRNNClassifier(hidden_dim=16, **params).batch_size
16
"""

import copy
import time

import numpy as np
from sklearn.pipeline import Pipeline

__all__ = ["GUIDE_SETTINGS", "deployment_report", "guide_settings", "latency_us"]

#: the Tiny Dancer guide's "Recommended Settings" (its TrainingConfig) in this
#: package's parameter names: ``(name, rows below which it applies or None,
#: FastGRNNClassifier parameters)``, by increasing number of training rows
GUIDE_SETTINGS = (
    (
        "small datasets (< 1,000 samples)",
        1_000,
        dict(
            learning_rate=0.01,
            batch_size=16,
            epochs=100,
            validation_split=0.2,
            early_stopping_patience=10,
            lr_decay=0.8,
            lr_decay_step=20,
            l2_reg=1e-4,
        ),
    ),
    (
        "medium datasets (1,000 - 10,000 samples)",
        10_000,
        dict(
            learning_rate=0.005,
            batch_size=32,
            epochs=50,
            validation_split=0.15,
            early_stopping_patience=5,
            lr_decay=0.7,
            lr_decay_step=10,
            l2_reg=1e-5,
        ),
    ),
    (
        "large datasets (> 10,000 samples)",
        None,
        dict(
            learning_rate=0.001,
            batch_size=64,
            epochs=30,
            validation_split=0.1,
            early_stopping_patience=3,
            lr_decay=0.5,
            lr_decay_step=5,
            l2_reg=1e-6,
        ),
    ),
)


def guide_settings(n_train):
    """The guide's recommended training settings for ``n_train`` training rows.

    Parameters
    ----------
    n_train : int
        Number of training rows.

    Returns
    -------
    name : str
        The guide's name of the row, e.g. ``'small datasets (< 1,000 samples)'``.
    params : dict
        FastGRNNClassifier parameters (a new dict: changing it changes no
        preset).

    Examples
    --------
    >>> name, params = guide_settings(8000)
    >>> name, params["learning_rate"], params["early_stopping_patience"]
    ('medium datasets (1,000 - 10,000 samples)', 0.005, 5)
    """
    for name, below, params in GUIDE_SETTINGS:
        if below is None or n_train < below:
            return name, dict(params)
    raise AssertionError("unreachable: the last row has no upper bound")


def latency_us(model, X, repeats):
    """Median time of ``model.predict_proba(X)`` in microseconds.

    One call first warms up caches and lazy imports; then ``repeats`` calls
    are timed with :func:`time.perf_counter`.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Anything with ``predict_proba``.
    X : array-like
        The input of one call (one row, or a batch: divide by its length for
        the time per row).
    repeats : int
        Timed calls, at least 1.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit(np.zeros((4, 2)), [0, 1, 0, 1])
    >>> latency_us(model, np.zeros((1, 2)), repeats=5) > 0
    True
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    model.predict_proba(X)  # warm up caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def deployment_report(model, X_test, y_test):
    """Test accuracy (float and int8), weight sizes and prediction latencies of a fitted model.

    Parameters
    ----------
    model : FastGRNNClassifier or Pipeline ending in one
        Fitted; not changed (the int8 accuracy is measured on a quantized copy).
    X_test : ndarray of shape (n_samples, n_features)
    y_test : ndarray of shape (n_samples,)

    Returns
    -------
    dict
        ``test_accuracy``, ``test_accuracy_int8``; ``n_parameters``,
        ``fp32_bytes``, ``int8_bytes`` (of ``size_report()``); median
        ``predict_proba`` times in microseconds: ``latency_us_1_row`` (the
        whole model on one row), ``latency_us_per_row_batch_32`` (per row of
        a batch of ``min(32, n_samples)`` rows) and
        ``latency_us_1_row_network_only`` (the classifier alone on one row
        already transformed by the steps before it, whose input checks cost
        more than the network).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfastgrnn import FastGRNNClassifier
    >>> from skfastgrnn.datasets import make_routing
    >>> X, y = make_routing(200, random_state=0)
    >>> model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0)).fit(X, y)
    >>> report = deployment_report(model, X[:50], y[:50])
    >>> report["int8_bytes"] < report["fp32_bytes"], 0 <= report["test_accuracy_int8"] <= 1
    (True, True)
    """
    clf = model[-1] if isinstance(model, Pipeline) else model
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    int8 = copy.deepcopy(model)
    (int8[-1] if isinstance(int8, Pipeline) else int8).quantize()
    sizes = clf.size_report()
    batch = min(32, len(X_test))
    one_row = model[:-1].transform(X_test[:1]) if isinstance(model, Pipeline) else X_test[:1]
    return {
        "test_accuracy": accuracy,
        "test_accuracy_int8": float(np.mean(int8.predict(X_test) == y_test)),
        "n_parameters": sizes["n_parameters"],
        "fp32_bytes": sizes["fp32_bytes"],
        "int8_bytes": sizes["int8_bytes"],
        "latency_us_1_row": latency_us(model, X_test[:1], 300),
        "latency_us_per_row_batch_32": latency_us(model, X_test[:batch], 100) / batch,
        "latency_us_1_row_network_only": latency_us(clf, one_row, 300),
    }
