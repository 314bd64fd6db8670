"""Fixtures shared by the test modules."""

import numpy as np
import pytest


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
