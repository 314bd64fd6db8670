"""Prediction in bounded chunks: the same numbers as one pass, and memory that does not hold all activations."""

import tracemalloc
import warnings

import numpy as np
import pytest
from conftest import quiet_fit, tiny
from sklearn.datasets import make_classification

import skfastgrnn._train as _train
from skfastgrnn import FastGRNNClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=12, n_informative=8, n_classes=3, random_state=0)
    return X, y


def _fit(X, y, **params):
    return quiet_fit(tiny(hidden_dim=8, n_timesteps=3, **params), X, y)


class _ForwardSpy:
    """Wraps ``_train.forward`` and records the batch size of every call."""

    def __init__(self, monkeypatch):
        self.batches = []
        self._forward = _train.forward
        monkeypatch.setattr(_train, "forward", self)

    def __call__(self, layout, views, X_tm, gate, update, lengths=None):
        self.batches.append(X_tm.shape[1])
        return self._forward(layout, views, X_tm, gate, update, lengths)


def _outputs(model, X):
    return {
        "predict_proba": model.predict_proba(X),
        "predict_log_proba": model.predict_log_proba(X),
        "decision_function": model.decision_function(X),
        "predict": model.predict(X),
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"cell": "fastrnn"}, {"cell": "guide"}, {"rank": 2, "u_rank": 3}],
    ids=["fastgrnn", "fastrnn", "guide", "low-rank"],
)
def test_predict_in_chunks_equals_predict_at_once(data, monkeypatch, params):
    X, y = data
    model = _fit(X, y, **params)
    monkeypatch.setattr(_train, "_CHUNK_ELEMENTS", 2**40)  # one pass over all rows
    spy = _ForwardSpy(monkeypatch)
    whole = _outputs(model, X)
    assert set(spy.batches) == {len(X)}

    # 7 rows a chunk (the guide cell has 3 blocks): 300 rows are not a multiple of it
    rows_per_chunk = 7
    T, H, blocks = model.n_timesteps_, model.hidden_dim, model.network_.layout.cell.n_blocks
    monkeypatch.setattr(_train, "_CHUNK_ELEMENTS", rows_per_chunk * T * H * blocks)
    spy.batches.clear()
    chunked = _outputs(model, X)
    assert max(spy.batches) == rows_per_chunk
    assert sum(spy.batches) == 4 * len(X)  # every row once per method
    for name, value in whole.items():
        # BLAS may sum in another order for another number of rows: last-bit differences only
        np.testing.assert_allclose(chunked[name], value, rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_array_equal(chunked["predict"], whole["predict"])


def test_chunked_logits_of_selected_rows(data, monkeypatch):
    # the ``rows`` path (used for the validation set) gathers each chunk on its own
    X, y = data
    model = _fit(X, y)
    net, T = model.network_, model.n_timesteps_
    rows = np.random.RandomState(0).permutation(len(X))[:101]
    full = _train.predict_logits(net, X, T)
    monkeypatch.setattr(_train, "_CHUNK_ELEMENTS", 5 * model.n_timesteps_ * model.hidden_dim)
    np.testing.assert_allclose(_train.predict_logits(net, X, T, rows=rows), full[rows], rtol=1e-12, atol=1e-14)


def test_predict_3d_input_in_chunks(data, monkeypatch):
    X, y = data
    model = _fit(X, y)
    X3 = X.reshape(len(X), 3, 4)
    whole = model.predict_proba(X3)
    monkeypatch.setattr(_train, "_CHUNK_ELEMENTS", 10 * 3 * model.hidden_dim)
    np.testing.assert_allclose(model.predict_proba(X3), whole, rtol=1e-12, atol=1e-14)


def _peak_predict_proba_bytes(model, n_rows):
    X = np.random.RandomState(0).standard_normal((n_rows, model.n_features_in_))
    model.predict_proba(X[:5])  # first-call allocations out of the way
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model.predict_proba(X)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def test_predict_memory_does_not_hold_all_activations(monkeypatch):
    # T=8 steps, hidden 16: the activations of one row are about
    # (6 T + T + 1) * 16 floats = 7 KB; the output is 3 floats (24 B). Extra
    # rows may cost output-sized arrays (logits, probabilities) and the
    # finiteness mask of the input (1 B per input value, 32 B), never activations.
    X, y = make_classification(n_samples=200, n_features=32, n_informative=8, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FastGRNNClassifier(16, n_timesteps=8, epochs=2, random_state=0).fit(X, y)
    monkeypatch.setattr(_train, "_CHUNK_ELEMENTS", 2**14)  # 128 rows a chunk
    small, large = _peak_predict_proba_bytes(model, 5_000), _peak_predict_proba_bytes(model, 25_000)
    per_row = (large - small) / 20_000
    assert per_row < 200, f"{per_row:.0f} bytes of prediction memory per extra row"
