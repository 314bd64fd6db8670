"""SequenceScaler: per-channel statistics shared over time, in every input layout."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from skfastgrnn import SequenceScaler
from skfastgrnn._sequences import pad_sequences


def _series(n=30, T=7, D=3, seed=0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, T, D)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]


def test_one_mean_and_scale_per_channel_shared_over_time():
    X = _series()
    scaler = SequenceScaler().fit(X)
    flat = X.reshape(-1, 3)
    np.testing.assert_allclose(scaler.mean_, flat.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, flat.std(axis=0))
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.reshape(-1, 3).mean(axis=0), 0, atol=1e-12)
    # the mean shape over time survives (StandardScaler on flattened rows erases it)
    step_means = Z.mean(axis=0)
    np.testing.assert_allclose(step_means, (X.mean(axis=0) - scaler.mean_) / scaler.scale_)
    assert scaler.n_channels_ == 3 and scaler.n_samples_seen_ == 30 * 7


def test_one_step_rows_equal_standard_scaler():
    X = _series(T=1).reshape(30, 3)
    np.testing.assert_allclose(SequenceScaler().fit_transform(X), StandardScaler().fit_transform(X))


def test_the_three_layouts_agree_and_keep_their_form():
    X = _series()
    rows = X.reshape(30, -1)
    by_3d = SequenceScaler().fit(X)
    by_rows = SequenceScaler(n_timesteps=7).fit(rows)
    by_list = SequenceScaler().fit(list(X))
    by_channels_first = SequenceScaler(channels_first=True).fit(np.swapaxes(X, 1, 2))
    for s in (by_rows, by_list, by_channels_first):
        np.testing.assert_allclose(s.mean_, by_3d.mean_)
        np.testing.assert_allclose(s.scale_, by_3d.scale_)
    Z = by_3d.transform(X)
    np.testing.assert_allclose(by_rows.transform(rows), Z.reshape(30, -1))
    out_list = by_list.transform(list(X))
    assert isinstance(out_list, list) and out_list[0].shape == (7, 3)
    np.testing.assert_allclose(np.stack(out_list), Z)
    # channels first in, steps first out: the classifier's layout
    np.testing.assert_allclose(by_channels_first.transform(np.swapaxes(X, 1, 2)), Z)
    cf_list = by_channels_first.transform([x.T for x in X])
    np.testing.assert_allclose(np.stack(cf_list), Z)


@pytest.mark.parametrize("channels_first", [False, True])
def test_inverse_transform_returns_the_input(channels_first):
    X = _series()
    X_in = np.swapaxes(X, 1, 2) if channels_first else X
    scaler = SequenceScaler(channels_first=channels_first).fit(X_in)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X_in)), X_in)
    seqs = [x[: 2 + i % 5] for i, x in enumerate(X)]
    seqs_in = [s.T for s in seqs] if channels_first else seqs
    back = scaler.inverse_transform(scaler.transform(seqs_in))
    for a, b in zip(back, seqs_in, strict=True):
        np.testing.assert_allclose(a, b)
    rows = X.reshape(30, -1)
    flat = SequenceScaler(n_timesteps=7).fit(rows)
    np.testing.assert_allclose(flat.inverse_transform(flat.transform(rows)), rows)


def test_padding_is_ignored_in_fit_and_kept_in_transform():
    seqs = [np.array([[0.0], [2.0]]), np.array([[4.0]])]
    padded = pad_sequences(seqs)
    scaler = SequenceScaler().fit(padded)
    assert scaler.mean_.tolist() == [2.0]
    assert scaler.n_samples_seen_ == 3
    Z = scaler.transform(padded)
    assert np.isnan(Z[1, 1]).all() and np.isfinite(Z[0]).all()
    np.testing.assert_allclose(SequenceScaler().fit(seqs).scale_, scaler.scale_)


def test_any_length_at_transform():
    scaler = SequenceScaler().fit(_series(T=7))
    assert scaler.transform(_series(T=40)).shape == (30, 40, 3)
    assert scaler.transform(_series(T=2).reshape(30, -1)).shape == (30, 6)  # rows: whole steps of 3


def test_constant_channel_is_divided_by_one():
    X = _series()
    X[:, :, 1] = 7.0
    Z = SequenceScaler().fit_transform(X)
    assert np.all(Z[:, :, 1] == 0.0)


def test_with_mean_and_with_std_off():
    X = _series()
    s = SequenceScaler(with_mean=False, with_std=False).fit(X)
    assert s.mean_ is None and s.scale_ is None
    np.testing.assert_allclose(s.transform(X), X)


def test_float32_stays_float32_and_copy_false_scales_in_place():
    X = _series().astype(np.float32)
    assert SequenceScaler().fit_transform(X).dtype == np.float32
    X2 = X.copy()
    out = SequenceScaler(copy=False).fit(X2).transform(X2)
    assert np.shares_memory(out, X2)
    before = X.copy()
    SequenceScaler().fit(X).transform(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda s: s.transform(np.ones((2, 5, 4))), "4 channels per step"),
        (lambda s: s.transform([np.ones((5, 4))]), "4 channels per step"),
        (lambda s: s.transform(np.ones((2, 3, 4, 5))), "4 dimensions"),
        (lambda s: SequenceScaler(n_timesteps=4).fit(np.ones((3, 6))), "n_timesteps=4"),
        (lambda s: s.transform(np.ones((2, 7))), "not a whole number of steps|features"),
    ],
)
def test_clear_errors(make, message):
    scaler = SequenceScaler().fit(_series())
    with pytest.raises(ValueError, match=message):
        make(scaler)


def test_feature_names_and_set_output_on_rows():
    pd = pytest.importorskip("pandas")
    rows = pd.DataFrame(_series(T=2).reshape(30, -1), columns=[f"{c}_t{t}" for t in (1, 2) for c in "abc"])
    scaler = SequenceScaler(n_timesteps=2).set_output(transform="pandas").fit(rows)
    out = scaler.transform(rows)
    assert list(out.columns) == list(rows.columns)
    assert list(scaler.get_feature_names_out()) == list(rows.columns)
    with pytest.raises(ValueError, match="2-D rows"):
        scaler.transform(_series(T=2))
    with pytest.raises(ValueError, match="fitted on 2-D rows"):
        SequenceScaler().fit(_series()).get_feature_names_out()


def _chunks_with_padding():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 6, 3)) * [1.0, 5.0, 1e-3] + [0.0, 3.0, 1e4]  # a channel far from 0
    X[::3, 4:] = np.nan  # NaN padding: shorter sequences
    return X


@pytest.mark.parametrize("form", ["3-D", "list", "rows"])
def test_partial_fit_in_chunks_equals_fit_on_everything(form):
    X = _chunks_with_padding()
    as_form = {
        "3-D": lambda a: a,
        "list": lambda a: [s[~np.isnan(s[:, 0])] for s in a],
        "rows": lambda a: a.reshape(len(a), -1),
    }[form]
    params = {"n_timesteps": 6} if form == "rows" else {}
    whole = SequenceScaler(**params).fit(as_form(X))
    chunked = SequenceScaler(**params)
    for part in np.array_split(X, [5, 6, 23]):
        assert chunked.partial_fit(as_form(part)) is chunked
    np.testing.assert_allclose(chunked.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(chunked.var_, whole.var_, rtol=1e-9)
    np.testing.assert_allclose(chunked.scale_, whole.scale_, rtol=1e-9)
    assert chunked.n_samples_seen_ == whole.n_samples_seen_
    if form != "list":  # channel 3 (mean 1e4, scale 1e-3) turns a 1e-12 difference of means into 1e-8
        np.testing.assert_allclose(chunked.transform(as_form(X[:3])), whole.transform(as_form(X[:3])), atol=1e-7)


def test_fit_starts_over_after_partial_fit():
    X = _chunks_with_padding()
    scaler = SequenceScaler().partial_fit(X[:10]).partial_fit(X[10:])
    refit = scaler.fit(X[:10])
    np.testing.assert_allclose(refit.mean_, SequenceScaler().fit(X[:10]).mean_)


def test_partial_fit_refuses_other_channels_and_other_input_kinds():
    X = _chunks_with_padding()
    scaler = SequenceScaler().partial_fit(X)
    with pytest.raises(ValueError, match="2 channels per step; SequenceScaler was fitted with 3"):
        scaler.partial_fit(X[:, :, :2])
    with pytest.raises(ValueError, match="fitted on 3-D arrays or lists"):
        scaler.partial_fit(X[:, 0, :])
    rows = SequenceScaler(n_timesteps=6).partial_fit(X.reshape(40, -1))
    with pytest.raises(ValueError, match="features"):
        rows.partial_fit(X[:, :5].reshape(40, -1))
    np.testing.assert_allclose(rows.mean_, SequenceScaler().fit(X).mean_)  # the refused chunks changed nothing


def test_partial_fit_continues_a_scaler_read_from_its_attributes():
    """A scaler restored from a model file has the attributes only: it continues from them."""
    X = np.random.RandomState(1).standard_normal((30, 4, 2))
    restored = SequenceScaler().fit(X[:10])
    del restored._statistics  # what a file holds: mean_, var_, n_samples_seen_
    restored.partial_fit(X[10:])
    np.testing.assert_allclose(restored.mean_, SequenceScaler().fit(X).mean_, rtol=1e-12)
    np.testing.assert_allclose(restored.var_, SequenceScaler().fit(X).var_, rtol=1e-12)
    no_std = SequenceScaler(with_std=False).fit(X[:10])
    del no_std._statistics
    with pytest.raises(ValueError, match="call fit on all the data"):
        no_std.partial_fit(X[10:])
