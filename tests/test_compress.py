"""int8 quantization, magnitude pruning and size accounting."""

import warnings

import numpy as np
import pytest
from conftest import quiet_fit, tiny
from sklearn.datasets import make_classification

from skfastgrnn import _compress
from skfastgrnn._cells import Layout


def _fit(X, y, **kw):
    return quiet_fit(tiny(**{"hidden_dim": 8, "epochs": 5, **kw}), X, y)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return X, y


# ------------------------------------------------------------ quantization


def test_quantize_tensor_error_bound_and_range():
    rng = np.random.default_rng(0)
    for w in (rng.standard_normal((7, 5)), rng.uniform(-1e-30, 1e-30, 9), np.array([3.0, -3.0, 0.0])):
        q, scale = _compress.quantize_tensor(w)
        assert q.dtype == np.int8 and q.shape == w.shape
        assert np.abs(q).max() == 127 and scale > 0
        assert scale == float(np.float32(scale))
        assert np.abs(_compress.dequantize_tensor(q, scale) - w).max() <= scale / 2 * (1 + 1e-6)
    q, scale = _compress.quantize_tensor(np.zeros((2, 2)))
    assert scale == 1.0 and not q.any()


def test_quantize_params_only_matrices_become_int8():
    layout = Layout(3, 4, 2, "fastgrnn", rank=2, u_rank=2)
    theta = layout.init(np.random.RandomState(0)) + 0.1
    int8, scales, theta_q = _compress.quantize_params(layout, theta)
    assert sorted(int8) == sorted(layout.matrix_names) == ["U1", "U2", "W1", "W2", "W_out"]
    views, views_q = layout.views(theta), layout.views(theta_q)
    for name, _ in layout.shapes:
        if name in int8:
            np.testing.assert_array_equal(views_q[name], int8[name] * scales[name])
        else:  # biases and scalars: float32
            np.testing.assert_array_equal(views_q[name], views[name].astype(np.float32))
    assert _compress.is_quantized_state(layout, theta_q, int8, scales)
    assert not _compress.is_quantized_state(layout, theta, int8, scales)


@pytest.mark.parametrize("cell", ["fastgrnn", "fastrnn", "guide"])
def test_quantized_model_predicts_from_int8(data, cell):
    X, y = data
    clf = _fit(X, y, cell=cell)
    fp_accuracy = clf.score(X, y)
    fp_size = clf.size_bytes()
    assert clf.quantize() is clf
    views = clf.weights_
    for name, q in clf.network_.quantization[0].items():
        assert q.dtype == np.int8
        np.testing.assert_array_equal(views[name], q.astype(np.float64) * clf.network_.quantization[1][name])
    assert abs(clf.score(X, y) - fp_accuracy) <= 0.02
    assert clf.size_bytes() < fp_size
    theta = clf.network_.parameters
    clf.quantize()  # idempotent
    assert clf.network_.parameters is theta


def test_training_a_quantized_model_makes_it_float_again(data):
    X, y = data
    clf = _fit(X, y).quantize()
    assert clf.size_report()["quantized"]
    clf.set_params(warm_start=True, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    report = clf.size_report()
    assert not report["quantized"]
    assert report["payload_bytes"] == 8 * report["n_parameters"]  # stored as float64 again
    clf.quantize()
    assert clf.size_report()["quantized"]


# ------------------------------------------------------------ pruning


def test_keep_mask_counts_and_magnitudes():
    layout = Layout(5, 8, 3, "fastgrnn")
    theta = layout.init(np.random.RandomState(1))
    mask = _compress.keep_mask(layout, theta, w_keep=0.3, u_keep=0.5)
    m, v = layout.views(mask), layout.views(theta)
    assert m["W"].sum() == np.ceil(0.3 * 40) and m["U"].sum() == 32
    for name in ("W", "U"):
        kept, dropped = np.abs(v[name][m[name] == 1]), np.abs(v[name][m[name] == 0])
        assert kept.min() >= dropped.max()
    for name in ("W_out", "b_z", "b_h", "zeta_logit", "nu_logit", "b_out"):
        assert m[name].all()
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert _compress.keep_mask(layout, theta).all()
    assert not layout.views(_compress.keep_mask(layout, theta, 0.0, 0.0))["U"].any()


def test_keep_mask_low_rank_factors_and_ties():
    layout = Layout(6, 8, 2, "guide", rank=2, u_rank=3)
    assert _compress.prunable_names(layout) == {"W": ["W1", "W2"], "U": ["U1", "U2"]}
    theta = np.ones(layout.size)  # all ties: earlier entries win, deterministically
    mask = _compress.keep_mask(layout, theta, w_keep=0.5, u_keep=0.25)
    m = layout.views(mask)
    assert m["W1"].ravel().tolist() == [1.0] * 6 + [0.0] * 6
    assert m["W2"].sum() == 24 and m["U1"].sum() == 6 and m["U2"].sum() == 6
    with pytest.raises(ValueError, match="w_keep"):
        _compress.keep_mask(layout, theta, w_keep=1.5)


def test_prune_means_fraction_removed_and_warm_start_keeps_zeros(data):
    X, y = data
    clf = _fit(X, y, rank=3)
    before = clf.score(X, y)
    assert clf.prune(0.3, u_sparsity=0.5) is clf
    w = clf.weights_
    for name, removed in (("W1", 0.3), ("W2", 0.3), ("U", 0.5)):
        n = w[name].size
        assert (w[name] == 0).sum() == n - np.ceil((1 - removed) * n)
    zeros = clf.network_.parameters == 0
    assert np.array_equal(clf.network_.support == 0, zeros & (clf.network_.support == 0))
    clf.set_params(warm_start=True, epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
        clf.partial_fit(X, y)
    assert np.all(clf.network_.parameters[clf.network_.support == 0] == 0)
    assert clf.size_report()["pruned"]
    assert clf.score(X, y) > before - 0.1
    # pruning again removes more; zeros stay zeros
    old_support = clf.network_.support.copy()
    clf.prune(0.6)
    assert np.all(clf.network_.support <= old_support)
    assert (clf.weights_["U"] == 0).sum() == 64 - np.ceil(0.4 * 64)


def test_prune_a_quantized_model_keeps_int8_consistent(data):
    X, y = data
    clf = _fit(X, y).quantize().prune(0.5)
    report = clf.size_report()
    assert report["quantized"] and report["pruned"]
    assert (clf.network_.quantization[0]["U"] == 0).sum() >= 32
    with pytest.raises(ValueError, match="fraction of weights removed"):
        clf.prune(1.2)


def test_stale_support_after_cold_refit_is_ignored(data):
    X, y = data
    clf = _fit(X, y).prune(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)  # a new model from scratch: the old support no longer describes it
    assert not clf.size_report()["pruned"]


# ------------------------------------------------------------ sizes


def test_size_table_by_hand():
    layout = Layout(5, 8, 2, "fastgrnn")
    theta = layout.init(np.random.RandomState(0))
    t = _compress.size_table(layout, theta, layout.matrix_names)
    # W 5x8, U 8x8, b_z 8, b_h 8, zeta 1, nu 1, W_out 8x2, b_out 2
    assert t["n_parameters"] == 40 + 64 + 8 + 8 + 1 + 1 + 16 + 2 == 140
    assert t["fp32_bytes"] == 4 * 140
    assert t["int8_bytes"] == (40 + 64 + 16) + 3 * 4 + 4 * 20
    assert t["sparse_int8_bytes"] == t["int8_bytes"]  # dense wins with no zeros
    theta = theta * _compress.keep_mask(layout, theta, 0.25, 0.25)
    t = _compress.size_table(layout, theta, layout.matrix_names)
    assert t["n_nonzero"] == 140 - 30 - 48 - 2  # b_out starts at zero
    rows = {r["name"]: r for r in t["tensors"]}
    assert rows["W"]["nnz"] == 10 and rows["U"]["nnz"] == 16
    # W: min(40 dense, 5 + 10 bitmap, 10 * 2 coo); U: min(64, 8 + 16, 16 * 2)
    assert rows["W"]["sparse_format_int8"] == "bitmap" and rows["U"]["sparse_format_int8"] == "bitmap"
    assert t["sparse_int8_bytes"] == 15 + 24 + 16 + 3 * 4 + 4 * 20
    # fp32 values: W min(160, 5 + 40, 10 * 5); U min(256, 8 + 64, 16 * 5)
    assert t["sparse_fp32_bytes"] == 45 + 72 + 4 * (16 + 20)


def test_sparse_bytes_formats():
    assert _compress.index_bytes(256) == 1 and _compress.index_bytes(257) == 2
    assert _compress.index_bytes(2**16 + 1) == 4
    assert _compress.sparse_bytes(1000, 10, 4) == (60, "coo")  # uint16 index + float32 value
    assert _compress.sparse_bytes(1000, 500, 1) == (625, "bitmap")
    assert _compress.sparse_bytes(100, 100, 1) == (100, "dense")


def test_size_report_matches_the_file(data, tmp_path):
    X, y = data
    clf = _fit(X, y)
    path = tmp_path / "m.safetensors"
    for step in (lambda c: c, lambda c: c.prune(0.5), lambda c: c.quantize()):
        step(clf)
        clf.save(path)
        report = clf.size_report()
        assert report["stored_bytes"] == clf.size_bytes() == path.stat().st_size
        assert report["payload_bytes"] < report["stored_bytes"]
    # quantized + pruned: the payload is the int8 matrices, their scales, fp32 rest and the support bits
    assert report["payload_bytes"] == report["int8_bytes"] + int(np.ceil(report["n_parameters"] / 8))
    assert report["sparse_int8_bytes"] < report["int8_bytes"] < report["fp32_bytes"]


def test_a_new_fit_forgets_pruning_and_quantization(data):
    X, y = data
    clf = _fit(X, y).prune(0.5).quantize()
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.network_.support is None and clf.network_.quantization is None
    report = clf.size_report()
    assert not report["quantized"] and not report["pruned"]
