"""The training loop: sparse training phases and the loop's bookkeeping."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn._train import time_major


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=400, n_features=8, n_informative=6, n_classes=3, random_state=1)
    return StandardScaler().fit_transform(X), y


def test_time_major_layout():
    rows = np.arange(12.0).reshape(2, 6)  # 2 rows, T=3 steps of D=2
    X_tm = time_major(rows, 3)
    assert X_tm.shape == (3, 2, 2) and X_tm.flags.c_contiguous
    np.testing.assert_array_equal(X_tm[1, 0], [2.0, 3.0])  # step 2 of row 1
    np.testing.assert_array_equal(X_tm[2, 1], [10.0, 11.0])  # step 3 of row 2


def test_sparse_training_removes_the_requested_fraction(data):
    X, y = data
    model = FastGRNNClassifier(
        n_timesteps=2, w_sparsity=0.5, u_sparsity=0.75, epochs=9, validation_split=0.0, random_state=0
    ).fit(X, y)
    w = model.weights_
    assert np.count_nonzero(w["W"]) == np.ceil(0.5 * w["W"].size)
    assert np.count_nonzero(w["U"]) == np.ceil(0.25 * w["U"].size)
    assert np.count_nonzero(w["W_out"]) == w["W_out"].size  # the head is never thresholded
    assert model.score(X, y) > 0.7
    # the support stays fixed when training continues
    zeros = model.weights_["U"] == 0
    model.set_params(warm_start=True, w_sparsity=0.0, u_sparsity=0.0, epochs=2).fit(X, y)
    assert np.all(model.weights_["U"][zeros] == 0)
    model.partial_fit(X, y)
    assert np.all(model.weights_["U"][zeros] == 0)


def test_sparse_training_low_rank_factors(data):
    X, y = data
    model = FastGRNNClassifier(
        n_timesteps=2, rank=3, u_rank=4, w_sparsity=0.5, u_sparsity=0.5, epochs=6, random_state=0
    ).fit(X, y)
    for name in ("W1", "W2", "U1", "U2"):
        m = model.weights_[name]
        assert np.count_nonzero(m) == np.ceil(0.5 * m.size)


def test_sparse_training_only_stops_early_in_the_last_phase(data):
    X, y = data
    # patience 1 would stop a dense run within a few epochs; the sparse run
    # must reach its last phase (epoch 21 of 30) before it may stop
    model = FastGRNNClassifier(
        w_sparsity=0.5, early_stopping_patience=1, epochs=30, learning_rate=0.05, random_state=0
    ).fit(X, y)
    assert model.n_iter_ >= 21 and model.best_epoch_ >= 21
    assert np.count_nonzero(model.weights_["W"]) == np.ceil(0.5 * model.weights_["W"].size)


def test_dense_training_keeps_every_weight(data):
    X, y = data
    model = FastGRNNClassifier(epochs=2, random_state=0).fit(X, y)
    assert model.network_.support is None
    assert np.count_nonzero(model.weights_["U"]) == model.weights_["U"].size


def _peak_fit_bytes(n, T=8, D=8):
    import tracemalloc

    rng = np.random.RandomState(0)
    X = rng.standard_normal((n, T * D))
    y = (X[:, 0] > 0).astype(int)
    model = FastGRNNClassifier(n_timesteps=T, epochs=1, batch_size=64, validation_split=0.2, random_state=0)
    tracemalloc.start()
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_training_memory_does_not_grow_with_activations_of_all_rows():
    # 10x more rows may cost a few row-sized index/weight vectors, never the
    # rows' activations (n * T * hidden floats, 1 KB a row here) or a copy of X (512 B a row)
    # (both sizes are past the evaluation chunk's cap, _CHUNK_ELEMENTS)
    small, large = _peak_fit_bytes(20_000), _peak_fit_bytes(100_000)
    per_row = (large - small) / 80_000
    assert per_row < 200, f"{per_row:.0f} bytes of training memory per extra row"
