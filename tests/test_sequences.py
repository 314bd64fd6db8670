"""Variable-length sequences: the input layouts, NaN padding and the classifier on them."""

import warnings

import numpy as np
import pytest
from conftest import quiet_fit as _quiet_fit
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier, FastGRNNRegressor, SequenceScaler
from skfastgrnn._sequences import (
    as_steps,
    batch_lengths,
    channel_statistics,
    fold_steps,
    pad_sequences,
    sequence_lengths,
)

# ------------------------------------------------------------------ helpers


def test_pad_sequences_pads_with_nan_after_each_end():
    X = pad_sequences([np.ones((2, 3)), 2 * np.ones((4, 3), dtype=np.float32)])
    assert X.shape == (2, 4, 3) and X.dtype == np.float64
    assert np.isnan(X[0, 2:]).all() and not np.isnan(X[0, :2]).any()
    assert sequence_lengths(X).tolist() == [2, 4]
    assert pad_sequences([np.ones((2, 3), dtype=np.float32)]).dtype == np.float32


def test_channels_first_lists_and_arrays_are_transposed():
    seqs = [np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2)]  # (channels, length)
    X = pad_sequences(seqs, channels_first=True)
    assert X.shape == (2, 3, 2)
    np.testing.assert_array_equal(X[0], seqs[0].T)
    A = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(as_steps(A, channels_first=True), np.swapaxes(A, 1, 2))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((2, 3, 4, 5)), "4 dimensions"),
        ([np.zeros((3, 2)), np.zeros((3, 4))], "different numbers of features"),
        ([np.zeros((3, 2)), np.zeros(3)], "entry 1 has shape"),
        ([np.zeros((0, 2))], "no timesteps"),
        ([np.zeros(3), np.zeros(5)], "list of rows of different lengths"),
        ([np.array([["a", "b"]])], "dtype"),
    ],
)
def test_unusable_shapes_get_one_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        FastGRNNClassifier(epochs=1).fit(X, np.arange(len(X)) % 2)


def _fitted(make):
    X, y = np.random.RandomState(0).normal(size=(20, 6)), np.arange(20) % 2
    return _quiet_fit(make(), X, y)


#: every estimator and every call that takes X: fit and predict a 4-D array (or nested list)
_FOUR_D_CALLS = {
    "classifier.fit": lambda X: FastGRNNClassifier(epochs=1).fit(X, np.arange(len(X)) % 2),
    "classifier.predict": lambda X: _fitted(lambda: FastGRNNClassifier(hidden_dim=2, epochs=1)).predict(X),
    "regressor.fit": lambda X: FastGRNNRegressor(epochs=1).fit(X, np.arange(len(X), dtype=float)),
    "regressor.predict": lambda X: _fitted(lambda: FastGRNNRegressor(hidden_dim=2, epochs=1)).predict(X),
    "scaler.fit": lambda X: SequenceScaler().fit(X),
    "scaler.transform": lambda X: _fitted(SequenceScaler).transform(X),
    "distilled.fit": lambda X: DistilledFastGRNN(student=FastGRNNClassifier(epochs=1)).fit(X, np.arange(len(X)) % 2),
    "distilled.predict": lambda X: _fitted(
        lambda: DistilledFastGRNN(student=FastGRNNClassifier(hidden_dim=2, epochs=1))
    ).predict(X),
}


@pytest.mark.parametrize("as_list", [False, True], ids=["array", "nested-list"])
@pytest.mark.parametrize("call", _FOUR_D_CALLS)
def test_four_dimensions_get_the_accepted_layouts(call, as_list):
    """Issue 14: a 4-D array got scikit-learn's "dim <= 2 is required", although 3-D arrays and lists are
    accepted: every estimator names the layouts it accepts."""
    X = np.zeros((4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"X has 4 dimensions .*expected 2-D rows .*a 3-D array .*list of"):
        _FOUR_D_CALLS[call](X.tolist() if as_list else X)


@pytest.mark.parametrize(
    "steps, message",
    [
        ([[1.0, np.nan], [1.0, 1.0]], "NaN inside a step"),
        ([[np.nan, np.nan], [1.0, 1.0]], "observed steps after a NaN"),
        ([[np.nan, np.nan], [np.nan, np.nan]], "no observed step"),
        ([[np.inf, 1.0], [1.0, 1.0]], "infinity"),
    ],
)
def test_bad_padding_is_rejected_at_fit_and_predict(steps, message):
    good = np.ones((6, 4))
    bad = np.array(steps).reshape(1, 4)
    y = np.arange(7) % 2
    with pytest.raises(ValueError, match=message):
        FastGRNNClassifier(n_timesteps=2, epochs=1).fit(np.vstack([good, bad]), y)
    model = _quiet_fit(FastGRNNClassifier(4, n_timesteps=2, epochs=1), good, y[:6])
    with pytest.raises(ValueError, match=message):
        model.predict(bad)


def test_batch_lengths_zero_the_padding_and_report_lengths():
    X = pad_sequences([np.ones((1, 2)), np.ones((3, 2))])
    X_tm = np.ascontiguousarray(X.transpose(1, 0, 2))
    assert batch_lengths(X_tm).tolist() == [1, 3]
    assert np.isfinite(X_tm).all()
    assert batch_lengths(np.ones((3, 2, 2))) is None


def test_channel_statistics_ignore_padding():
    X = pad_sequences([np.array([[0.0], [2.0]]), np.array([[4.0]])])
    count, mean, var = channel_statistics(X)
    assert count.tolist() == [3] and mean.tolist() == [2.0]
    np.testing.assert_allclose(var, [8.0 / 3])


# ------------------------------------------------------------------ the classifier


@pytest.mark.parametrize("cell", ["fastgrnn", "fastrnn", "guide"])
def test_a_padded_sequence_predicts_what_it_predicts_alone(variable_length, cell):
    seqs, y = variable_length
    model = _quiet_fit(FastGRNNClassifier(6, cell=cell, epochs=3, random_state=0), seqs, y)
    together = model.predict_proba(seqs[:40])
    alone = np.vstack([model.predict_proba(s[None]) for s in seqs[:40]])  # (1, T_i, D): no padding at all
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)
    rows = pad_sequences(seqs[:40]).reshape(40, -1)  # NaN-padded 2-D rows give the same
    np.testing.assert_allclose(model.predict_proba(rows), together, rtol=1e-12, atol=1e-14)


def test_padding_never_changes_training(variable_length):
    """Extra padding steps (a longer T) train the same weights."""
    seqs, y = variable_length
    X = pad_sequences(seqs)
    longer = np.concatenate([X, np.full((X.shape[0], 5, X.shape[2]), np.nan)], axis=1)
    a = _quiet_fit(FastGRNNClassifier(6, epochs=3, random_state=0), X, y)
    b = _quiet_fit(FastGRNNClassifier(6, epochs=3, random_state=0), longer, y)
    np.testing.assert_allclose(a.network_.parameters, b.network_.parameters, rtol=1e-10, atol=1e-12)


def test_variable_length_learns_through_pipeline_and_cross_validation(variable_length):
    seqs, y = variable_length
    model = make_pipeline(SequenceScaler(), FastGRNNClassifier(8, epochs=15, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, seqs, y, cv=3)
        search = GridSearchCV(model, {"fastgrnnclassifier__hidden_dim": [4, 8]}, cv=2).fit(seqs, y)
    assert scores.min() > 0.85, scores
    assert search.best_score_ > 0.85
    # predict on sequences longer than any seen in fit
    longer = [np.vstack([s, s]) for s in seqs[:10]]
    assert search.predict(longer).shape == (10,)


def test_partial_fit_on_variable_length(variable_length):
    seqs, y = variable_length
    model = FastGRNNClassifier(6, random_state=0)
    model.partial_fit(seqs[:100], y[:100], classes=[0, 1])
    # a later batch may have other lengths, also as NaN-padded rows of another width
    model.partial_fit(seqs[100:], y[100:])
    assert model.n_iter_ == 2 and model.predict(seqs).shape == (len(seqs),)


def test_float32_padded_input_trains_in_float32(variable_length):
    seqs, y = variable_length
    model = _quiet_fit(FastGRNNClassifier(4, epochs=2, random_state=0), [s.astype(np.float32) for s in seqs], y)
    assert model.network_.parameters.dtype == np.float32
    assert np.isfinite(model.predict_proba(seqs)).all()


def test_predict_never_writes_into_the_callers_padded_rows(variable_length):
    seqs, y = variable_length
    model = _quiet_fit(FastGRNNClassifier(4, epochs=1, random_state=0), seqs, y)
    # one step of 2 features, then padding on every other row: T = 1 batches are views of the input
    two_steps = np.concatenate([pad_sequences([s[:1] for s in seqs]), pad_sequences([s[1:2] for s in seqs])], axis=1)
    two_steps[::2, 1] = np.nan
    for rows in (pad_sequences(seqs).reshape(len(seqs), -1), pad_sequences(seqs), two_steps):
        before = rows.copy()
        model.predict_proba(rows)
        np.testing.assert_array_equal(rows, before)


def test_channels_first_mistake_warns():
    X = np.random.RandomState(0).standard_normal((20, 1, 24))  # aeon's univariate layout
    with pytest.warns(UserWarning, match="channels_first=True"):
        FastGRNNClassifier(4, epochs=1, early_stopping_patience=None).fit(X, np.arange(20) % 2)


def test_wrong_features_per_step_at_predict(variable_length):
    seqs, y = variable_length
    model = _quiet_fit(FastGRNNClassifier(4, epochs=1, random_state=0), seqs, y)
    with pytest.raises(ValueError, match="3 features per timestep"):
        model.predict([np.ones((4, 3))])


# ------------------------------------------------------------------ folding long series


def test_fold_steps_reads_k_steps_as_one_and_completes_the_last_with_zeros():
    X = np.arange(10.0).reshape(1, 10)  # 5 steps of 2 features
    rows, n = fold_steps(X, 5, 2)
    assert n == 3
    np.testing.assert_array_equal(rows.reshape(3, 4), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 0]])
    same, n_same = fold_steps(X[:, :8], 4, 2)  # a multiple of k and no NaN: the same memory
    assert n_same == 2 and np.shares_memory(same, X)


def test_fold_steps_keeps_whole_padding_steps_as_padding():
    seqs = [np.ones((5, 1)), np.ones((2, 1)), np.ones((3, 1))]
    rows, n = fold_steps(pad_sequences(seqs).reshape(3, -1), 5, 2)
    steps = rows.reshape(3, n, 2)
    # lengths 5 -> 3 folded steps (last half zero), 2 -> 1, 3 -> 2 (last half zero)
    assert sequence_lengths(steps).tolist() == [3, 1, 2]
    assert steps[0, 2].tolist() == [1.0, 0.0] and steps[2, 1].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("T, expected", [(1, 1), (24, 1), (64, 1), (65, 3), (251, 8), (1460, 46)])
def test_auto_fold_keeps_about_32_steps_for_long_series(T, expected):
    X = np.random.RandomState(0).standard_normal((6, T, 1))
    model = _quiet_fit(FastGRNNClassifier(2, epochs=1, random_state=0), X, np.arange(6) % 2)
    assert model.fold_ == expected
    assert model.weights_["W"].shape[0] == expected  # the cell reads fold_ * D features per step


def test_folded_model_equals_an_unfolded_model_on_folded_rows():
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((60, 12)), np.arange(60) % 2
    folded = _quiet_fit(FastGRNNClassifier(4, n_timesteps=12, fold=3, epochs=2, random_state=0), X, y)
    plain = _quiet_fit(FastGRNNClassifier(4, n_timesteps=4, fold=1, epochs=2, random_state=0), X, y)
    np.testing.assert_allclose(folded.network_.parameters, plain.network_.parameters)
    np.testing.assert_allclose(folded.predict_proba(X), plain.predict_proba(X))


def test_folded_variable_length_predicts_what_each_sequence_predicts_alone(variable_length):
    seqs, y = variable_length
    model = _quiet_fit(FastGRNNClassifier(6, fold=4, epochs=3, random_state=0), seqs, y)
    together = model.predict_proba(seqs[:40])
    alone = np.vstack([model.predict_proba(s[None]) for s in seqs[:40]])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)


def test_warm_start_cannot_change_fold():
    X, y = np.random.RandomState(0).standard_normal((20, 8)), np.arange(20) % 2
    model = _quiet_fit(FastGRNNClassifier(2, n_timesteps=8, fold=2, epochs=1, warm_start=True), X, y)
    model.set_params(fold=4)
    with pytest.raises(ValueError, match="fold"):
        model.fit(X, y)
