"""Stacked layers: ``hidden_dim`` as a tuple, for both estimators, through training, files, compression and pickles."""

import pickle

import numpy as np
import pytest
from conftest import make_variable_length, quiet_fit
from sklearn.pipeline import make_pipeline

import skfastgrnn
from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, SequenceScaler


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 8, 2))
    y = (X[:, :3, 0].sum(axis=1) > 0).astype(int)  # remember the start of the sequence
    return X, y


def test_a_stack_trains_and_predicts(sequences):
    X, y = sequences
    model = quiet_fit(FastGRNNClassifier(hidden_dim=(16, 8), epochs=40, random_state=0), X, y)
    assert model.network_.layout.hidden_dims == (16, 8) and model.network_.layout.n_layers == 2
    assert model.score(X, y) > 0.85
    assert {"W", "U", "layer2.W", "layer2.U", "W_out"} <= set(model.weights_)
    assert model.weights_["layer2.W"].shape == (16, 8) and model.weights_["W_out"].shape == (8, 2)


def test_a_one_element_tuple_is_the_single_layer_model(sequences):
    X, y = sequences
    a = quiet_fit(FastGRNNClassifier(hidden_dim=(8,), epochs=3, random_state=0), X, y)
    b = quiet_fit(FastGRNNClassifier(hidden_dim=8, epochs=3, random_state=0), X, y)
    np.testing.assert_array_equal(a.network_.parameters, b.network_.parameters)


@pytest.mark.parametrize("bad", [(), (8, 0), (8, 2.5), (8, True), [8, "4"]])
def test_bad_stacks_are_refused_and_nothing_is_fitted(sequences, bad):
    X, y = sequences
    model = FastGRNNClassifier(hidden_dim=bad, epochs=2)
    with pytest.raises(ValueError, match="hidden_dim"):
        model.fit(X, y)
    assert not hasattr(model, "network_")


def test_variable_length_sequences_through_a_stack():
    seqs, y = make_variable_length(n=200)
    model = quiet_fit(make_pipeline(SequenceScaler(), FastGRNNClassifier((8, 8), epochs=30, random_state=0)), seqs, y)
    assert model.score(seqs, y) > 0.8


def test_a_stacked_regressor(sequences):
    X, _ = sequences
    target = 50 + 5 * X[:, :3, 0].sum(axis=1)
    model = quiet_fit(FastGRNNRegressor(hidden_dim=(16, 8), epochs=60, random_state=0), X, target)
    assert model.score(X, target) > 0.8


@pytest.mark.parametrize("compress", ["float", "pruned+quantized"])
def test_files_pickles_and_compression_keep_the_stack(sequences, tmp_path, compress):
    X, y = sequences
    model = quiet_fit(FastGRNNClassifier(hidden_dim=(8, 6), rank=2, epochs=5, random_state=0), X, y)
    if compress != "float":
        model.prune(0.5).quantize()
        report = model.size_report()
        assert report["quantized"] and report["pruned"]
        # pruning reaches the stacked layer's matrices too
        assert np.count_nonzero(model.weights_["layer2.U"]) <= np.ceil(0.5 * model.weights_["layer2.U"].size)
    path = tmp_path / "stack.safetensors"
    model.save(path)
    for copy in (skfastgrnn.load(path), pickle.loads(pickle.dumps(model))):
        assert copy.hidden_dim == (8, 6)
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    # a loaded stack continues training (warm start compares the tuple with the stored one)
    loaded = skfastgrnn.load(path).set_params(warm_start=True, epochs=2)
    quiet_fit(loaded, X, y)
    assert loaded.n_iter_ == model.n_iter_ + 2


def test_warm_start_cannot_change_the_stack(sequences):
    X, y = sequences
    model = quiet_fit(FastGRNNClassifier(hidden_dim=(8, 6), epochs=2, warm_start=True, random_state=0), X, y)
    with pytest.raises(ValueError, match="cannot change hidden_dim"):
        model.set_params(hidden_dim=(8, 4)).fit(X, y)
