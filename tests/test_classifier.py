"""FastGRNNClassifier: learning, training loop behaviour, bad input, sklearn integration."""

import pickle
import re
import threading
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier, TrainingDivergedError
from skfastgrnn.datasets import make_routing

FAST = dict(epochs=5, validation_split=0.0, early_stopping_patience=None, random_state=0)


@pytest.fixture(scope="module")
def blobs():
    """This module's own 300 rows: it overrides conftest's ``blobs`` (240 rows) here."""
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X, y


def _first_step_task(n, T=20, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, T))
    return X, (X[:, 0] > 0).astype(int)


# ------------------------------------------------------------------ learning


def test_learns_a_task_only_bptt_can_learn():
    # the label is the sign of the FIRST of 20 noise steps: the gradient has to
    # flow back through all 19 later steps
    X, y = _first_step_task(2000)
    X_test, y_test = _first_step_task(1000, seed=1)
    model = FastGRNNClassifier(n_timesteps=20, epochs=20, random_state=0).fit(X, y)
    assert model.score(X_test, y_test) >= 0.95


def test_first_step_task_is_not_learnable_from_the_last_step_alone():
    # guards the test above: a model that sees one step at a time with no
    # memory (n_timesteps=1 on the last column) is at chance
    X, y = _first_step_task(2000)
    X_test, y_test = _first_step_task(1000, seed=1)
    model = FastGRNNClassifier(**FAST).fit(X[:, -1:], y)
    assert model.score(X_test[:, -1:], y_test) < 0.6


def test_digits_as_sequences_reach_97_percent():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    # the mean over three seeds: a single seed ranges from about 0.965 to 0.99
    scores = [
        make_pipeline(StandardScaler(), FastGRNNClassifier(32, n_timesteps=8, l2_reg=3e-3, random_state=seed))
        .fit(X_train, y_train)
        .score(X_test, y_test)
        for seed in range(3)
    ]
    assert np.mean(scores) >= 0.97


@pytest.mark.parametrize(
    "params",
    [
        dict(cell="fastrnn"),
        dict(cell="guide"),
        dict(rank=2, u_rank=4),
        dict(gate_nonlinearity="quantSigm", update_nonlinearity="quantTanh"),
    ],
)
def test_variants_learn(blobs, params):
    X, y = blobs
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(**{**FAST, "epochs": 30}, **params))
    assert model.fit(X, y).score(X, y) > 0.75  # chance is 1/3


def test_three_d_input_equals_flat_rows(blobs):
    X, y = blobs
    flat = FastGRNNClassifier(n_timesteps=3, **FAST).fit(X, y)
    cube = FastGRNNClassifier(**FAST).fit(X.reshape(-1, 3, 2), y)
    assert cube.n_timesteps_ == 3 and cube.n_step_features_ == 2
    np.testing.assert_array_equal(flat.network_.parameters, cube.network_.parameters)
    np.testing.assert_array_equal(flat.predict_proba(X), cube.predict_proba(X.reshape(-1, 3, 2)))


def test_string_labels_and_probability_outputs(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    model = FastGRNNClassifier(**FAST).fit(X, labels)
    assert list(model.classes_) == ["cat", "dog", "emu"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    assert set(model.predict(X)) <= set(labels)
    assert model.decision_function(X).shape == (300, 3)


def test_binary_decision_function_is_one_column():
    X, y = make_classification(n_samples=100, random_state=0)
    model = FastGRNNClassifier(**FAST).fit(X, y)
    d = model.decision_function(X)
    assert d.shape == (100,)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(d > 0).astype(int)])


# ------------------------------------------------------------- training loop


def test_same_random_state_gives_bit_identical_weights(blobs):
    X, y = blobs
    a = FastGRNNClassifier(epochs=3, random_state=7).fit(X, y)
    b = FastGRNNClassifier(epochs=3, random_state=7).fit(X, y)
    c = FastGRNNClassifier(epochs=3, random_state=8).fit(X, y)
    assert np.array_equal(a.network_.parameters, b.network_.parameters)
    assert not np.array_equal(a.network_.parameters, c.network_.parameters)


def test_early_stopping_restores_the_best_weights(blobs):
    X, y = blobs
    params = dict(epochs=200, learning_rate=0.05, validation_split=0.1, random_state=0)
    stopped = FastGRNNClassifier(early_stopping_patience=3, **params).fit(X, y)
    val_losses = [h["val_loss"] for h in stopped.history_]
    assert stopped.n_iter_ < 200
    assert stopped.best_epoch_ == 1 + int(np.argmin(val_losses))
    assert stopped.n_iter_ == stopped.best_epoch_ + 3
    # training again for exactly best_epoch_ epochs replays the same run: the
    # kept weights are those of the best epoch, not of the last one
    replay = FastGRNNClassifier(early_stopping_patience=None, **{**params, "epochs": stopped.best_epoch_}).fit(X, y)
    assert np.array_equal(stopped.network_.parameters, replay.network_.parameters)


def test_history_records_every_epoch(blobs):
    X, y = blobs
    model = FastGRNNClassifier(
        epochs=4, validation_split=0.1, early_stopping_patience=None, lr_decay=0.5, lr_decay_step=2
    ).fit(X, y)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3, 4]
    assert [h["learning_rate"] for h in model.history_] == [0.01, 0.01, 0.005, 0.005]
    keys = {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "learning_rate", "seconds"}
    for h in model.history_:
        assert set(h) == keys
        assert 0 <= h["val_accuracy"] <= 1 and h["val_loss"] > 0 and h["seconds"] >= 0
    assert model.n_iter_ == 4 and model.best_epoch_ == 4


def test_validation_split_zero_means_no_validation(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    assert all(h["val_loss"] is None and h["val_accuracy"] is None for h in model.history_)


def test_validation_split_is_stratified_and_seeded(blobs):
    X, y = blobs
    from skfastgrnn._validation import validation_split

    n_classes = len(np.unique(y))
    train_idx, val_idx = validation_split(y, n_classes, 0.2, np.random.RandomState(0))
    assert len(val_idx) == 60 and len(np.intersect1d(train_idx, val_idx)) == 0
    assert np.abs(np.bincount(y[val_idx]) - 0.2 * np.bincount(y)).max() <= 1
    again, _ = validation_split(y, n_classes, 0.2, np.random.RandomState(0))
    np.testing.assert_array_equal(train_idx, again)


def test_convergence_warning_when_epochs_run_out(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="epoch budget.*ran out while the train_loss was still improving"):
        FastGRNNClassifier(epochs=2, random_state=0).fit(X, y)


def test_no_warning_when_more_epochs_would_not_help(blobs):
    # 100 epochs on easy data: the budget runs out, but the last 20 epochs only
    # shave a tail off a loss already near its floor
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = FastGRNNClassifier(random_state=0).fit(X, y)
    assert model.n_iter_ == 100 or model.n_iter_ < 100  # ran out or stopped: either way quiet


@pytest.mark.parametrize(
    "scale, params",
    [(1e30, {}), (1.0, {"learning_rate": 1e9, "grad_clip": None})],
    ids=["unscaled-huge-inputs", "huge-learning-rate"],
)
def test_a_fit_that_never_learns_warns_with_advice(scale, params):
    # at 1e30 every pre-activation saturates and the routing rule is out of reach
    X, y = make_routing(600, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not learn.*Standardize the inputs"):
        FastGRNNClassifier(hidden_dim=4, epochs=30, random_state=0, **params).fit(X * scale, y)


@pytest.mark.parametrize("n_rows", [600, 3000])
@pytest.mark.parametrize(
    "scale, params",
    [(1e30, {}), (1.0, {"learning_rate": 1e9})],
    ids=["unscaled-huge-inputs", "huge-learning-rate"],
)
def test_a_fit_that_never_learns_warns_at_the_default_settings(scale, params, n_rows):
    """Issue 14: ``FastGRNNClassifier().fit(X * 1e30, y)`` (no scaler) and ``learning_rate=1e9`` used to end near
    chance in silence. At 1e30 every gate saturates: the training loss dips in the first epochs, then climbs back
    to the class-prior level (an unstable fit); at 1e9 it never gets there. Either way: a ConvergenceWarning with
    the guide's advice, or a TrainingDivergedError with advice."""
    X, y = make_routing(n_rows, random_state=0)
    advice = r"Standardize the inputs .*lower learning_rate"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            FastGRNNClassifier(random_state=0, **params).fit(X * scale, y)
        except TrainingDivergedError as exc:
            assert re.search(r"Lower learning_rate.*standardize them", str(exc)), exc
            return
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any(re.search(advice, m) and ("did not learn" in m or "unstable" in m) for m in messages), messages


def test_an_unstable_fit_says_which_weights_are_kept():
    X, y = make_routing(600, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"unstable: the train_loss fell to .* then rose back") as caught:
        model = FastGRNNClassifier(random_state=0).fit(X * 1e30, y)
    assert f"the weights of epoch {model.best_epoch_} are kept" in str(caught[0].message)
    with pytest.warns(ConvergenceWarning, match=r"unstable.*the final weights are kept"):
        FastGRNNClassifier(random_state=0, epochs=30, early_stopping_patience=None).fit(X * 1e30, y)


def test_early_stopping_waits_while_the_loss_sits_at_the_class_prior():
    """The plateau rule: no early stop before the model has learned anything."""
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((200, 3)), rng.randint(2, size=200)  # labels are noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        patient = FastGRNNClassifier(4, epochs=30, early_stopping_patience=2, l2_reg=10.0, random_state=0).fit(X, y)
    # a strong L2 keeps the training loss at the prior: patience 2 would stop by epoch ~5 otherwise
    assert patient.n_iter_ == 30


def test_verbose_prints_one_line_per_epoch(blobs, capsys):
    X, y = blobs
    FastGRNNClassifier(epochs=3, validation_split=0.1, early_stopping_patience=None, verbose=1, random_state=0).fit(
        X, y
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3") and "val_loss" in lines[0] and "val_accuracy" in lines[0]
    assert "lr 0.01" in lines[0] and lines[0].endswith("s")


def test_searches_and_cross_validation_show_progress_the_scikit_learn_way(capsys):
    """The user guide's recipes ("Progress of long runs"): GridSearchCV(verbose=3) prints one line per fit,
    cross_validate(verbose=2) one per fold, and the estimator's own verbose inside a Pipeline its epochs."""
    from sklearn.model_selection import cross_validate

    X, y = make_routing(300, random_state=0)
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GridSearchCV(model, {"fastgrnnclassifier__hidden_dim": [4, 8]}, cv=2, verbose=3).fit(X, y)
        out = capsys.readouterr().out
        assert "Fitting 2 folds for each of 2 candidates, totalling 4 fits" in out
        assert len(re.findall(r"\[CV \d/2\] END .*hidden_dim=\d;, score=0\.\d+ total time=", out)) == 4
        cross_validate(model, X, y, cv=2, verbose=2)
        captured = capsys.readouterr()
        assert len(re.findall(r"\[CV\] END \.+ total time=", captured.out + captured.err)) == 2
        model.set_params(fastgrnnclassifier__verbose=1).fit(X, y)
    assert [line.split()[1] for line in capsys.readouterr().err.splitlines()] == ["1/2", "2/2"]


def test_partial_fit_keeps_the_adam_state(blobs):
    X, y = blobs
    model = FastGRNNClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    assert not hasattr(model, "classes_")
    model.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    steps = model._optimizer["t"]
    assert steps == 4 and model.n_iter_ == 1  # ceil(100 / 32) batches
    losses = []
    for _ in range(15):
        model.partial_fit(X, y)
        losses.append(model.history_[-1]["train_loss"])
    assert model._optimizer["t"] == steps + 15 * 10
    assert model.n_iter_ == 16 and losses[-1] < losses[0]
    with pytest.raises(ValueError, match="not trained with"):
        model.partial_fit(X, y + 5)


def test_warm_start_continues_from_the_current_weights(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    loss_after_first = model.history_[-1]["train_loss"]
    cold_first_epoch = FastGRNNClassifier(**{**FAST, "epochs": 1}).fit(X, y).history_[0]["train_loss"]
    model.set_params(warm_start=True, learning_rate=1e-3, epochs=2)
    model.fit(X, y)
    assert model.n_iter_ == 7 and [h["epoch"] for h in model.history_][-2:] == [6, 7]
    assert model.history_[5]["train_loss"] < cold_first_epoch
    assert model.history_[5]["train_loss"] < loss_after_first * 1.2
    model.set_params(hidden_dim=8)
    before = model.network_.parameters.copy()
    with pytest.raises(ValueError, match="cannot change hidden_dim"):
        model.fit(X, y)
    assert np.array_equal(model.network_.parameters, before) and model.n_iter_ == 7


def test_sample_weight_ones_equals_none_and_zero_weight_rows_are_ignored(blobs):
    X, y = blobs
    plain = FastGRNNClassifier(**FAST).fit(X, y)
    ones = FastGRNNClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    assert np.array_equal(plain.network_.parameters, ones.network_.parameters)
    # a class with zero weight contributes nothing to the loss
    w = (y != 2).astype(float)
    weighted = FastGRNNClassifier(**{**FAST, "epochs": 20}).fit(X, y, sample_weight=w)
    assert np.mean(weighted.predict(X) == 2) < 0.05


def test_divergence_raises_a_clear_error_and_keeps_no_nan_weights(blobs):
    # tanh and sigmoid saturate, so even absurd steps stay finite; an
    # unbounded relu candidate with an absurd learning rate overflows
    X, y = blobs
    explode = dict(update_nonlinearity="relu", n_timesteps=3, learning_rate=1e200)
    model = FastGRNNClassifier(**{**FAST, **explode})
    with np.errstate(all="ignore"), pytest.raises(TrainingDivergedError, match=r"epoch 1.*learning_rate.*grad_clip"):
        model.fit(X, y)
    assert not hasattr(model, "classes_") and not hasattr(model, "network_")
    model.set_params(learning_rate=0.01).fit(X, y)
    before = model.network_.parameters.copy()
    model.set_params(warm_start=True, learning_rate=1e200)
    with np.errstate(all="ignore"), pytest.raises(TrainingDivergedError):
        model.fit(X, y)
    assert np.array_equal(model.network_.parameters, before) and np.isfinite(model.predict_proba(X)).all()


def test_gradient_clipping_modes_both_train(blobs):
    X, y = blobs
    for mode in ("value", "norm"):
        model = FastGRNNClassifier(grad_clip=0.5, grad_clip_mode=mode, **FAST).fit(X, y)
        assert model.score(X, y) > 0.6
    assert FastGRNNClassifier(grad_clip=None, **FAST).fit(X, y).score(X, y) > 0.6


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.array([[np.nan, 1.0]] * 10), "NaN"),
        (np.array([[np.inf, 1.0]] * 10), "infinity"),
        (np.zeros((0, 2)), "0 sample"),
        (np.arange(10.0), "2D array"),
    ],
)
def test_bad_X_is_rejected_and_nothing_is_fitted(X_bad, match):
    model = FastGRNNClassifier()
    with pytest.raises(ValueError, match=match):
        model.fit(X_bad, np.arange(len(X_bad)) % 2)
    assert not hasattr(model, "n_features_in_") and not hasattr(model, "classes_")


def test_width_must_divide_into_timesteps():
    model = FastGRNNClassifier(n_timesteps=3)
    with pytest.raises(ValueError, match="multiple of n_timesteps"):
        model.fit(np.ones((10, 4)), np.arange(10) % 2)
    assert not hasattr(model, "n_features_in_")


def test_wrong_width_at_predict_time(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match="timesteps"):
        model.predict(X.reshape(-1, 2, 3))


@pytest.mark.parametrize(
    "y_bad, match",
    [
        (np.zeros(20), "at least 2 classes"),
        (np.linspace(0, 1, 20), "Unknown label type"),
    ],
)
def test_bad_y(y_bad, match):
    with pytest.raises(ValueError, match=match):
        FastGRNNClassifier().fit(np.ones((20, 2)), y_bad)


def test_all_zero_sample_weight():
    with pytest.raises(ValueError, match="weight.*zero"):
        FastGRNNClassifier().fit(np.ones((20, 2)), np.arange(20) % 2, sample_weight=np.zeros(20))


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_dim=0),
        dict(learning_rate=-1.0),
        dict(lr_decay_step=0),
        dict(validation_split=1.0),
        dict(cell="lstm"),
        dict(gate_nonlinearity="softsign"),
        dict(grad_clip_mode="both"),
        dict(batch_size=0),
    ],
)
def test_out_of_range_hyperparameters(params):
    model = FastGRNNClassifier(**params)
    with pytest.raises(ValueError, match="parameter"):
        model.fit(np.ones((20, 2)), np.arange(20) % 2)
    assert not hasattr(model, "n_features_in_")


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        FastGRNNClassifier().predict(np.ones((2, 2)))


def test_tiny_data_falls_back_to_no_validation():
    X = np.arange(12.0).reshape(6, 2)
    with pytest.warns(UserWarning, match="too few rows"):
        model = FastGRNNClassifier(epochs=2, validation_split=0.1, random_state=0).fit(X, [0, 0, 0, 1, 1, 1])
    assert model.history_[0]["val_loss"] is None


# -------------------------------------------------------- sklearn integration


def test_pipeline_grid_search_and_cross_validation(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), FastGRNNClassifier(**{**FAST, "epochs": 10}))
    search = GridSearchCV(pipe, {"fastgrnnclassifier__hidden_dim": [4, 8]}, cv=3).fit(X, y)
    assert search.best_params_["fastgrnnclassifier__hidden_dim"] in (4, 8)
    assert search.score(X, y) > 0.7
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6


def test_clone_pickle_joblib(blobs, tmp_path):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    assert not hasattr(clone(model), "classes_")
    for restored in (pickle.loads(pickle.dumps(model)), _joblib_round_trip(model, tmp_path)):
        np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def _joblib_round_trip(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.RandomState(0).standard_normal((40, 2)), columns=["similarity", "recency"])
    model = FastGRNNClassifier(**FAST).fit(X, np.arange(40) % 2)
    assert list(model.feature_names_in_) == ["similarity", "recency"]


def test_concurrent_predict_proba_is_identical(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    expected = model.predict_proba(X)
    results = [None] * 8

    def work(i):
        for _ in range(20):
            results[i] = model.predict_proba(X)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_weights_are_named_views_of_one_vector(blobs):
    X, y = blobs
    model = FastGRNNClassifier(16, rank=2, u_rank=4, **FAST).fit(X, y)
    w = model.weights_
    assert set(w) == {"W1", "W2", "U1", "U2", "b_z", "b_h", "zeta_logit", "nu_logit", "W_out", "b_out"}
    assert w["W1"].shape == (6, 2) and w["U2"].shape == (4, 16) and w["W_out"].shape == (16, 3)
    assert sum(v.size for v in w.values()) == model.network_.parameters.size


def test_float32_input_trains_in_float32(blobs):
    X, y = blobs
    X32 = X.astype(np.float32)
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(**{**FAST, "epochs": 30})).fit(X32, y)
    clf = model[-1]
    assert clf.network_.parameters.dtype == np.float32 and clf._optimizer["m"].dtype == np.float32
    assert model.predict_proba(X32).dtype == np.float32
    assert model.score(X32, y) > 0.75
    # a float64 model given float32 rows (and the reverse) casts to its own dtype
    clf64 = FastGRNNClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(clf64.predict_proba(X32), clf64.predict_proba(X32.astype(np.float64)))
    assert clf64.predict_proba(X32).dtype == np.float64


def test_fast_input_path_agrees_with_validated_path(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    fast = model.predict_proba(X[:5])
    slow = model.predict_proba(X[:5].tolist())  # a list takes the validate_data path
    np.testing.assert_array_equal(fast, slow)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((1, 6), np.nan))


def test_warm_start_after_load_continues_the_epoch_count(blobs, tmp_path):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    model.save(tmp_path / "m.safetensors")
    loaded = FastGRNNClassifier.load(tmp_path / "m.safetensors")
    loaded.set_params(warm_start=True, epochs=2)
    loaded.fit(X, y)
    assert loaded.n_iter_ == 7 and [h["epoch"] for h in loaded.history_] == [6, 7]


def test_a_fit_from_scratch_forgets_pruning(blobs):
    X, y = blobs
    model = FastGRNNClassifier(**FAST).fit(X, y)
    model.prune(0.5)
    assert model.network_.support is not None
    model.fit(X, y)  # warm_start=False: a new model
    assert model.network_.support is None
    model.set_params(warm_start=True).fit(X, y)
    assert np.count_nonzero(model.weights_["U"]) == model.weights_["U"].size


@pytest.mark.parametrize("n_rows, expected", [(20, 8), (36, 9), (100, 25), (128, 32), (5000, 32)])
def test_auto_batch_size_gives_small_data_at_least_four_steps_per_epoch(n_rows, expected):
    from skfastgrnn._validation import resolve_batch_size

    assert resolve_batch_size("auto", n_rows) == expected
    assert resolve_batch_size(64, n_rows) == 64


def test_auto_batch_size_sets_the_number_of_adam_steps(blobs, monkeypatch):
    from skfastgrnn import _train

    seen = []
    real = _train.batch_loss_and_grad
    monkeypatch.setattr(_train, "batch_loss_and_grad", lambda *a, **k: seen.append(a[1].X.shape[1]) or real(*a, **k))
    X, y = blobs
    FastGRNNClassifier(4, epochs=1, random_state=0).fit(X[:60], y[:60])
    assert seen == [15, 15, 15, 15]  # 60 rows // 4
