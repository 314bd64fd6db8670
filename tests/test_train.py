"""The training loop: sparse training phases and the loop's bookkeeping."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier
from skfastgrnn._batches import time_major


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


def _engine_benchmark():
    import importlib.util
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    sys.path.insert(0, str(root / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location("_checked_bench_engine", root / "benchmarks" / "bench_engine.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # sets OMP_NUM_THREADS & co. at import: restored below
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
    return root, module


@pytest.mark.parametrize("page", ["README.md", "docs/user_guide.md"])
def test_engine_blocks_are_the_benchmarks_output(page, capsys):
    """README's engine table and the guide's batch-size table are rendered from benchmarks/results/engine.json."""
    root, bench = _engine_benchmark()
    assert bench.main(["--check", str(root / page)]) == 0, capsys.readouterr().err


def test_flops_per_sample_counts_products_elementwise_work_and_adam():
    _, bench = _engine_benchmark()
    # one step: no recurrent product; 4 T D H + 6 H K products, 30 T H + 10 K elementwise, 12 per parameter and batch
    assert bench.flops_per_sample(1, 5, 16, 2, 128, 128) == 4 * 5 * 16 + 6 * 16 * 2 + 30 * 16 + 20 + 12
    assert bench.flops_per_sample(3, 5, 16, 2, 128, 128) - bench.flops_per_sample(2, 5, 16, 2, 128, 128) == (
        4 * 5 * 16 + 6 * 16 * 16 + 30 * 16
    )


@pytest.mark.parametrize("validation_split", [0.0, 0.2])
@pytest.mark.parametrize("engine", ["numpy", "auto"])
def test_one_step_training_allocates_at_most_12_bytes_per_row(validation_split, engine, monkeypatch):
    """While the loop runs, beyond the data: each row's class (1 byte), weight (4) and index (4, shuffled in place).

    Measured from the loop's start: before it, the validation split (scikit-learn's
    splitter) and the label encoding allocate their own, short-lived arrays. On
    both engines ("auto" is the compiled one where numba is installed).
    """
    import tracemalloc

    monkeypatch.setenv("SKFASTGRNN_ENGINE", engine)

    from skfastgrnn import _train

    run = _train.TrainingLoop.run
    peaks = []

    def measured_run(self, *args, **kwargs):
        tracemalloc.reset_peak()
        result = run(self, *args, **kwargs)
        peaks.append(tracemalloc.get_traced_memory()[1])
        return result

    monkeypatch.setattr(_train.TrainingLoop, "run", measured_run)
    for n in (200_000, 600_000):  # both validate on more rows than one evaluation chunk
        X = np.random.RandomState(0).standard_normal((n, 5)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int64)
        model = FastGRNNClassifier(
            hidden_dim=8, epochs=1, batch_size=1024, validation_split=validation_split, random_state=0
        )
        tracemalloc.start()
        model.fit(X, y)
        tracemalloc.stop()
    per_row = (peaks[1] - peaks[0]) / 400_000
    assert per_row <= 12, f"{per_row:.1f} bytes of training memory per row"


def test_shuffled_rows_follow_rng_permutation():
    """The in-place shuffle of ascending rows gives rng.permutation's order, and the rows come back sorted."""
    from skfastgrnn._cells import Layout
    from skfastgrnn._network import FastGRNNNetwork
    from skfastgrnn._optim import adam_state
    from skfastgrnn._train import CrossEntropyLoss, TrainingConfig, TrainingData, TrainingLoop

    layout = Layout(2, 3, 2, "fastgrnn")
    theta = layout.init(np.random.RandomState(0))
    net = FastGRNNNetwork(layout, theta, gate="sigmoid", update="tanh", n_timesteps=1, n_step_features=2)
    for rows in (np.array([0, 2, 3, 7, 8], dtype=np.int32), np.array([8, 2, 3, 0, 7])):
        data = TrainingData(np.zeros((9, 2)), np.ones(9), 1, rows.copy())
        loop = TrainingLoop(net, data, CrossEntropyLoss(np.zeros(9, int)), TrainingConfig(), adam_state(layout.size))
        order = loop.shuffled_rows(np.random.RandomState(3)).copy()
        np.testing.assert_array_equal(order, np.random.RandomState(3).permutation(rows))
