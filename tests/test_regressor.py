"""FastGRNNRegressor: learning, targets, scaling folded into the network, sequences, persistence, compression."""

import pickle
import warnings

import numpy as np
import pytest
from conftest import quiet_fit
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNRegressor, SequenceScaler

FAST = dict(hidden_dim=8, epochs=40, random_state=0)


def delayed_sum(n=300, T=10, seed=0, offset=100.0, scale=10.0):
    """Rows of T steps of one feature; the target is the sum of the first three steps, far from unit scale."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, T))
    return X, offset + scale * X[:, :3].sum(axis=1)


@pytest.fixture(scope="module")
def memory_task():
    return delayed_sum()


def test_learns_a_delayed_sum_in_original_units(memory_task):
    X, y = memory_task
    model = quiet_fit(FastGRNNRegressor(n_timesteps=10, epochs=60, random_state=0), X, y)
    assert model.score(X, y) > 0.9
    assert model.predict(X).shape == (len(X),)
    # the target scaling is folded into the output layer: the network alone predicts in y's units
    np.testing.assert_allclose(model.network_.logits(X)[:, 0], model.predict(X))
    assert abs(model.target_mean_[0] - y.mean()) < 1e-9 and abs(model.target_scale_[0] - y.std()) < 1e-9


def test_score_is_r2(memory_task):
    X, y = memory_task
    model = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y)
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)))


def test_multi_output(memory_task):
    X, y = memory_task
    Y = np.c_[y, -3.0 * X[:, -2:].sum(axis=1) + 1.0]  # a second target: the last two steps
    model = quiet_fit(FastGRNNRegressor(n_timesteps=10, epochs=60, random_state=0), X, Y)
    assert model.n_outputs_ == 2 and model.predict(X).shape == (len(X), 2)
    assert r2_score(Y, model.predict(X), multioutput="raw_values").min() > 0.8
    # a (n, 1) target is one output: predictions are 1-D, as MLPRegressor's
    one = quiet_fit(FastGRNNRegressor(n_timesteps=10, epochs=2, random_state=0), X, y[:, None])
    assert one.n_outputs_ == 1 and one.predict(X).shape == (len(X),)


def test_3d_and_variable_length_input(memory_task):
    X, y = memory_task
    X3 = X.reshape(len(X), 10, 1)
    a = quiet_fit(FastGRNNRegressor(**FAST), X3, y)
    b = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y)
    np.testing.assert_array_equal(a.predict(X3), b.predict(X))
    # sequences of different lengths: the target depends on the first steps, which every sequence has
    lengths = np.random.RandomState(1).randint(4, 11, size=len(X))
    seqs = [X3[i, :n] for i, n in enumerate(lengths)]
    model = quiet_fit(make_pipeline(SequenceScaler(), FastGRNNRegressor(epochs=60, random_state=0)), seqs, y)
    assert model.score(seqs, y) > 0.85


def test_sample_weight_changes_the_fit(memory_task):
    X, y = memory_task
    w = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    weighted = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y, sample_weight=w)
    plain = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y)
    assert not np.allclose(weighted.predict(X), plain.predict(X))
    halved = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X[::2], y[::2])
    # zero weight removes rows from the loss, though not from the target statistics or the batches
    assert abs(weighted.score(X[::2], y[::2]) - halved.score(X[::2], y[::2])) < 0.1


def test_partial_fit_keeps_the_target_statistics_and_learns(memory_task):
    X, y = memory_task
    model = FastGRNNRegressor(n_timesteps=10, hidden_dim=8, random_state=0)
    scores = []
    for _ in range(25):
        model.partial_fit(X, y)
        scores.append(model.score(X, y))
    assert model.n_iter_ == 25 and scores[-1] > 0.5 and scores[-1] > scores[0]
    assert model.target_mean_[0] == pytest.approx(y.mean())
    with pytest.raises(ValueError, match="2 target"):
        model.partial_fit(X, np.c_[y, y])


def test_warm_start_continues_from_the_folded_network(memory_task):
    X, y = memory_task
    model = quiet_fit(FastGRNNRegressor(n_timesteps=10, hidden_dim=8, epochs=20, random_state=0), X, y)
    before = model.score(X, y)
    model.set_params(warm_start=True, epochs=20, learning_rate=0.003)
    quiet_fit(model, X, y)
    assert model.n_iter_ == 40 and model.score(X, y) >= before - 0.02


def test_a_constant_target_is_predicted():
    X = np.random.RandomState(0).normal(size=(60, 4))
    model = quiet_fit(FastGRNNRegressor(hidden_dim=4, epochs=5, random_state=0), X, np.full(60, 7.5))
    assert model.target_scale_[0] == 1.0
    np.testing.assert_allclose(model.predict(X), 7.5, atol=0.5)


def test_learning_nothing_warns():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(80, 3)), rng.normal(size=80)  # y is noise
    with pytest.warns(ConvergenceWarning, match="predicting the mean target"):
        FastGRNNRegressor(hidden_dim=4, epochs=30, random_state=0).fit(X, y)


def test_validation_split_and_history(memory_task):
    X, y = memory_task
    model = quiet_fit(FastGRNNRegressor(n_timesteps=10, validation_split=0.2, **FAST), X, y)
    assert all(h["val_loss"] is not None and h["val_accuracy"] is None for h in model.history_)
    assert all(h["train_accuracy"] is None for h in model.history_)
    assert model.history_.best_epoch == model.best_epoch_
    assert min(model.history_[:, "val_loss"]) == pytest.approx(model.history_[model.best_epoch_ - 1, "val_loss"])


def test_same_seed_same_model_and_errors_leave_it_unchanged(memory_task):
    X, y = memory_task
    a = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y)
    b = quiet_fit(FastGRNNRegressor(n_timesteps=10, **FAST), X, y)
    np.testing.assert_array_equal(a.network_.parameters, b.network_.parameters)
    before = a.network_.parameters.copy()
    with pytest.raises(ValueError):
        a.partial_fit(X[:, :7], y)
    np.testing.assert_array_equal(a.network_.parameters, before)


def test_works_in_pipelines_searches_and_target_transformers(memory_task):
    X, y = memory_task
    pipe = make_pipeline(StandardScaler(), FastGRNNRegressor(n_timesteps=10, hidden_dim=8, epochs=10, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        search = GridSearchCV(pipe, {"fastgrnnregressor__hidden_dim": [4, 8]}, cv=2).fit(X, y)
        wrapped = TransformedTargetRegressor(FastGRNNRegressor(n_timesteps=10, **FAST), transformer=StandardScaler())
        wrapped.fit(X, y)
    assert scores.shape == (3,) and search.best_params_["fastgrnnregressor__hidden_dim"] in (4, 8)
    assert wrapped.score(X, y) > 0.5


@pytest.mark.parametrize("compress", ["float", "pruned+quantized"])
def test_save_load_pickle_round_trip(memory_task, tmp_path, compress):
    X, y = memory_task
    pipe = quiet_fit(make_pipeline(SequenceScaler(n_timesteps=10), FastGRNNRegressor(n_timesteps=10, **FAST)), X, y)
    if compress != "float":
        pipe[-1].prune(0.3).quantize()
        assert pipe[-1].size_report()["quantized"] and pipe[-1].size_report()["pruned"]
    path = tmp_path / "r.safetensors"
    skfastgrnn.save(pipe, path)
    for copy in (skfastgrnn.load(path), pickle.loads(pickle.dumps(pipe))):
        np.testing.assert_array_equal(copy.predict(X), pipe.predict(X))
        np.testing.assert_array_equal(copy[-1].target_scale_, pipe[-1].target_scale_)
    alone = tmp_path / "alone.safetensors"
    pipe[-1].save(alone)
    assert type(FastGRNNRegressor.load(alone)) is FastGRNNRegressor
    with pytest.raises(skfastgrnn.ModelFileError, match="holds a FastGRNNRegressor"):
        skfastgrnn.FastGRNNClassifier.load(alone)


def test_regressor_files_are_version_3_and_classifier_files_stay_version_2(memory_task, tmp_path):
    from skfastgrnn import _persist

    X, y = memory_task
    reg = quiet_fit(FastGRNNRegressor(n_timesteps=10, hidden_dim=4, epochs=2, random_state=0), X, y)
    clf = quiet_fit(skfastgrnn.FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0), X, y > y.mean())
    assert _persist.encode(reg)[1]["format_version"] == "3"
    assert _persist.encode(clf)[1]["format_version"] == "2"
    tensors, meta = _persist.encode(reg)
    meta["format_version"] = "2"  # a regressor claimed by a version that cannot hold one
    with pytest.raises(skfastgrnn.ModelFileError, match="needs format version 3"):
        _persist.loads(_persist.pack(tensors, meta))
    tensors["target_scale_"] = np.zeros(1)
    meta["format_version"] = "3"
    with pytest.raises(skfastgrnn.ModelFileError, match="target_scale_ must be positive"):
        _persist.loads(_persist.pack(tensors, meta))


def test_a_version_2_reader_refuses_regressor_files_with_upgrade(memory_task, tmp_path, monkeypatch):
    from skfastgrnn import _persist

    X, y = memory_task
    reg = quiet_fit(FastGRNNRegressor(n_timesteps=10, hidden_dim=4, epochs=2, random_state=0), X, y)
    reg.save(tmp_path / "r.safetensors")
    monkeypatch.setattr(_persist, "FORMAT_VERSION", 2)  # what skfastgrnn before the regressor does
    with pytest.raises(skfastgrnn.ModelFileError, match="written with format version 3 .*upgrade"):
        skfastgrnn.load(tmp_path / "r.safetensors")


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = delayed_sum(n=60)
    quiet_fit(FastGRNNRegressor(hidden_dim=4, n_timesteps=10, epochs=3, verbose=1, random_state=0), X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "train_loss" in lines[0] and "accuracy" not in lines[0] and lines[0].endswith("s")
