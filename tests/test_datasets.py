"""Built-in data."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from skfastgrnn.datasets import ROUTING_FEATURES, load_digits_sequences, make_routing


def test_make_routing_is_seeded_bounded_and_balanced():
    X, y = make_routing(2000, random_state=0)
    X2, y2 = make_routing(2000, random_state=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X.shape == (2000, len(ROUTING_FEATURES)) and X.min() >= 0 and X.max() <= 1
    assert 0.4 < y.mean() < 0.65


def test_make_routing_noise_flips_labels():
    X, clean = make_routing(5000, noise=0.0, random_state=0)
    _, noisy = make_routing(5000, noise=0.2, random_state=0)
    assert 0.17 < np.mean(clean != noisy) < 0.23


def test_make_routing_needs_a_non_linear_model():
    X, y = make_routing(4000, noise=0.0, random_state=0)
    linear = cross_val_score(LogisticRegression(), X, y, cv=3).mean()
    assert linear < 0.95  # the rule has products and a square


@pytest.mark.parametrize("kwargs", [dict(noise=0.5), dict(noise=-0.1), dict(n_samples=0)])
def test_make_routing_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_routing(**{"n_samples": 10, **kwargs})


def test_digits_sequences_shape():
    X, y = load_digits_sequences()
    assert X.shape == (1797, 64) and len(np.unique(y)) == 10
