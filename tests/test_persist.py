"""safetensors persistence: round trips, corrupted files, fuzzing, atomic writes, metrics, pickle/skops."""

import errno
import json
import os
import pickle
import struct
import warnings

import joblib
import numpy as np
import pytest
import safetensors.numpy
from conftest import quiet_fit
from conftest import tiny as _tiny
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier, ModelFileError, ModelRegistry, SequenceScaler, _files, _persist

FITTED = (
    "classes_",
    "n_features_in_",
    "n_timesteps_",
    "n_step_features_",
    "fold_",
    "n_iter_",
    "best_epoch_",
)


@pytest.fixture(scope="module")
def data(blobs):
    """conftest's 3-class ``blobs``."""
    return blobs


def _fit(X, y, **kw):
    return quiet_fit(_tiny(**{"hidden_dim": 6, **kw}), X, y)


def _assert_same_model(a, b, X):
    assert type(a) is type(b)
    assert a.get_params() == b.get_params()
    for name in FITTED:
        va, vb = getattr(a, name), getattr(b, name)
        assert np.array_equal(va, vb) if isinstance(va, np.ndarray) else va == vb, name
    na, nb = a.network_, b.network_
    assert na.architecture == nb.architecture
    assert (na.gate, na.update, na.n_timesteps, na.n_step_features, na.fold) == (
        nb.gate,
        nb.update,
        nb.n_timesteps,
        nb.n_step_features,
        nb.fold,
    )
    np.testing.assert_array_equal(na.parameters, nb.parameters)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


MODELS = {
    "fastgrnn": dict(cell="fastgrnn"),
    "fastrnn": dict(cell="fastrnn"),
    "guide": dict(cell="guide"),
    "low-rank": dict(rank=2, u_rank=4, n_timesteps=2),
    "quant-nonlinearities": dict(gate_nonlinearity="quantSigm", update_nonlinearity="quantTanh"),
}


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("compression", ["float", "quantized", "pruned", "pruned+quantized"])
def test_round_trip(data, tmp_path, kind, compression):
    X, y = data
    clf = _fit(X, y, **MODELS[kind])
    if "pruned" in compression:
        clf.prune(0.4)
    if "quantized" in compression:
        clf.quantize()
    path = tmp_path / "model.safetensors"
    clf.save(path)
    loaded = FastGRNNClassifier.load(path)
    _assert_same_model(clf, loaded, X)
    assert loaded.history_ == [] and loaded.n_iter_ == clf.n_iter_
    report = loaded.size_report()
    assert report["quantized"] == ("quantized" in compression)
    assert report["pruned"] == ("pruned" in compression)
    assert loaded.size_bytes() == os.path.getsize(path) == clf.size_bytes()
    # the module-level API reads the same file
    _assert_same_model(clf, skfastgrnn.load(str(path)), X)


def test_round_trip_string_labels_feature_names_3d(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=120, n_features=6, random_state=1)
    labels = np.array(["cheap", "powerful"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    clf = _fit(frame, labels, n_timesteps=3)
    clf.save(tmp_path / "a.safetensors")
    loaded = FastGRNNClassifier.load(tmp_path / "a.safetensors")
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert list(loaded.feature_names_in_) == list(clf.feature_names_in_)
    _assert_same_model(clf, loaded, frame)

    X3 = X.reshape(-1, 2, 3)
    clf3 = _fit(X3, y * 2.0)  # float labels, T from the 3-D input
    clf3.save(tmp_path / "b.safetensors")
    loaded3 = FastGRNNClassifier.load(tmp_path / "b.safetensors")
    assert loaded3.n_timesteps_ == 2
    _assert_same_model(clf3, loaded3, X3)


@pytest.mark.parametrize("compress", [False, True])
def test_pipeline_round_trip(data, tmp_path, compress):
    X, y = data
    X = X * 50 + 7  # far from standardized: the scaler matters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=6, epochs=3, random_state=0)).fit(X, y)
    if compress:
        pipe[-1].prune(0.3).quantize()
    path = tmp_path / "pipe.safetensors"
    skfastgrnn.save(pipe, path)
    loaded = skfastgrnn.load(path)
    assert isinstance(loaded, Pipeline)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    for attr in ("mean_", "var_", "scale_", "n_samples_seen_"):
        np.testing.assert_array_equal(getattr(loaded[0], attr), getattr(pipe[0], attr))
    _assert_same_model(pipe[-1], loaded[-1], pipe[0].transform(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    with pytest.raises(ModelFileError, match="holds a Pipeline"):
        FastGRNNClassifier.load(path)


def test_pipeline_scaler_variants(tmp_path):
    X, y = make_classification(n_samples=100, n_features=4, random_state=2)
    X[::7, 1] = np.nan  # per-feature n_samples_seen_
    X = np.nan_to_num(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = Pipeline(
            [
                ("center", StandardScaler(with_std=False)),
                ("scale", StandardScaler(with_mean=False)),
                ("clf", FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0)),
            ]
        ).fit(X, y)
    skfastgrnn.save(pipe, tmp_path / "p.safetensors")
    loaded = skfastgrnn.load(tmp_path / "p.safetensors")
    for a, b in zip(loaded[:-1], pipe[:-1], strict=True):
        for attr in ("mean_", "var_", "scale_"):
            assert (getattr(a, attr) is None) == (getattr(b, attr) is None)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


# ------------------------------------------------------------ SequenceScaler pipelines

T_SEQ, D_SEQ = 4, 3


def _sequences(n=80, seed=0):
    """Sequences of 1..4 steps of 3 channels far from standardized, as a list and NaN-padded 3-D."""
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, T_SEQ + 1, size=n)
    lengths[:2] = T_SEQ  # the longest length occurs
    seqs = [rng.normal(size=(k, D_SEQ)) * [1.0, 5.0, 20.0] + [0.0, 3.0, -40.0] for k in lengths]
    y = np.array([int(s[:, 0].sum() > 0) for s in seqs])
    padded = np.full((n, T_SEQ, D_SEQ), np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    return seqs, padded, y


def _seq_fit(steps, X, y):
    return quiet_fit(Pipeline(steps), X, y)


#: input form -> (pipeline steps, training X from (list, padded 3-D), other forms to predict on)
SEQUENCE_FORMS = {
    "2-D rows (NaN padded)": (
        lambda: [("seq", SequenceScaler(n_timesteps=T_SEQ)), ("clf", _tiny(n_timesteps=T_SEQ))],
        lambda seqs, X3: X3.reshape(len(X3), -1),
        lambda seqs, X3: [X3.reshape(len(X3), -1)[:7]],
    ),
    "3-D": (
        lambda: [("seq", SequenceScaler()), ("clf", _tiny())],
        lambda seqs, X3: np.nan_to_num(X3, nan=1.0),  # full length
        lambda seqs, X3: [seqs[:9], np.nan_to_num(X3[:5, :2], nan=1.0)],  # a list; fewer steps
    ),
    "3-D channels first": (
        lambda: [("seq", SequenceScaler(channels_first=True)), ("clf", _tiny())],
        lambda seqs, X3: np.swapaxes(X3, 1, 2),
        lambda seqs, X3: [np.swapaxes(np.nan_to_num(np.concatenate([X3[:6], X3[:6]], axis=1)), 1, 2)],  # 8 steps
    ),
    "list of (T_i, D)": (
        lambda: [("seq", SequenceScaler(with_mean=False)), ("clf", _tiny())],
        lambda seqs, X3: seqs,
        lambda seqs, X3: [[np.vstack([s, s]) for s in seqs[:6]], X3[:8], seqs[3:4]],  # longer, padded 3-D, one
    ),
}


def _assert_same_sequence_scaler(a, b):
    assert type(a) is type(b) is SequenceScaler
    assert a.get_params() == b.get_params()
    for name in ("mean_", "var_", "scale_"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None), name
        if va is not None:
            assert va.dtype == vb.dtype
            np.testing.assert_array_equal(va, vb)
    assert a.n_channels_ == b.n_channels_ and type(b.n_channels_) is int
    assert a.n_samples_seen_ == b.n_samples_seen_ and type(b.n_samples_seen_) is int
    assert hasattr(a, "n_features_in_") == hasattr(b, "n_features_in_")
    assert getattr(a, "n_features_in_", None) == getattr(b, "n_features_in_", None)
    assert hasattr(a, "feature_names_in_") == hasattr(b, "feature_names_in_")
    if hasattr(a, "feature_names_in_"):
        assert list(a.feature_names_in_) == list(b.feature_names_in_)


def _assert_same_encoding(a, b):
    """``a`` and ``b`` save the same tensors and metadata (the header's key order may differ)."""
    (ta, ma), (tb, mb) = _persist.encode(a), _persist.encode(b)
    assert ma == mb
    assert sorted(ta) == sorted(tb)
    for name in ta:
        assert ta[name].dtype == tb[name].dtype and np.array_equal(ta[name], tb[name]), name


def _meta(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n])["__metadata__"]


@pytest.mark.parametrize("form", SEQUENCE_FORMS)
@pytest.mark.parametrize("compression", ["float", "pruned+quantized"])
def test_sequence_scaler_pipeline_round_trip(tmp_path, form, compression):
    steps, train_form, other_forms = SEQUENCE_FORMS[form]
    seqs, X3, y = _sequences()
    X = train_form(seqs, X3)
    pipe = _seq_fit(steps(), X, y)
    if compression != "float":
        pipe[-1].prune(0.3).quantize()
    path = tmp_path / "seq.safetensors"
    skfastgrnn.save(pipe, path)
    assert _meta(path.read_bytes())["format_version"] == "2"  # a SequenceScaler needs version 2
    loaded = skfastgrnn.load(path)
    assert isinstance(loaded, Pipeline) and [n for n, _ in loaded.steps] == ["seq", "clf"]
    _assert_same_sequence_scaler(pipe[0], loaded[0])
    assert loaded[-1].size_report()["quantized"] == (compression != "float")
    for Xp in [X, *other_forms(seqs, X3)]:
        np.testing.assert_array_equal(loaded.predict_proba(Xp), pipe.predict_proba(Xp))
        np.testing.assert_array_equal(loaded.predict(Xp), pipe.predict(Xp))
    _assert_same_encoding(loaded, pipe)  # saving again stores the same content


def test_mixed_standard_and_sequence_scalers(tmp_path):
    pd = pytest.importorskip("pandas")
    seqs, X3, y = _sequences(seed=1)
    rows = np.nan_to_num(X3, nan=0.5).reshape(len(X3), -1)
    frame = pd.DataFrame(rows, columns=[f"t{t}_c{c}" for t in range(T_SEQ) for c in range(D_SEQ)])
    pipes = {
        "standard then sequence, DataFrame": _seq_fit(
            [("std", StandardScaler()), ("seq", SequenceScaler(n_timesteps=T_SEQ)), ("clf", _tiny(n_timesteps=T_SEQ))],
            frame,
            y,
        ),
        "sequence then standard": _seq_fit(
            [
                ("seq", SequenceScaler(n_timesteps=2, with_std=False)),
                ("std", StandardScaler(with_mean=False)),
                ("seq2", SequenceScaler(n_timesteps=T_SEQ, with_mean=False)),
                ("clf", _tiny(n_timesteps=T_SEQ)),
            ],
            rows,
            y,
        ),
    }
    for name, pipe in pipes.items():
        path = tmp_path / "mixed.safetensors"
        skfastgrnn.save(pipe, path)
        loaded = skfastgrnn.load(path)
        assert [type(s) for _, s in loaded.steps] == [type(s) for _, s in pipe.steps], name
        for a, b in zip(pipe[:-1], loaded[:-1], strict=True):
            if isinstance(a, SequenceScaler):
                _assert_same_sequence_scaler(a, b)
            else:
                for attr in ("mean_", "var_", "scale_"):
                    assert (getattr(a, attr) is None) == (getattr(b, attr) is None)
        Xp = frame if "DataFrame" in name else rows
        names = list(getattr(loaded, "feature_names_in_", []))
        assert names == (list(frame.columns) if "DataFrame" in name else []), name
        np.testing.assert_array_equal(loaded.predict_proba(Xp), pipe.predict_proba(Xp), err_msg=name)


def test_a_version_1_reader_refuses_new_files_with_upgrade(tmp_path, monkeypatch):
    """Every file is written as version 2 (SequenceScaler steps, the classifier's fold); a reader of version 1
    says "upgrade" instead of misreading it."""
    seqs, X3, y = _sequences()
    sequence = _seq_fit([("seq", SequenceScaler()), ("clf", _tiny())], seqs, y)
    skfastgrnn.save(sequence, tmp_path / "sequence.safetensors")
    monkeypatch.setattr(_persist, "FORMAT_VERSION", 1)  # what a reader of the old format does
    with pytest.raises(
        ModelFileError,
        match=r"sequence.safetensors: written with format version 2 .*reads format versions up to 1: upgrade",
    ):
        skfastgrnn.load(tmp_path / "sequence.safetensors")


def _as_version_1(data):
    """The file a version-1 writer (before SequenceScaler and fold) made of the same unfolded model."""

    def edit(t, m):
        m["format_version"] = "1"
        for key in [k for k in m if k == "fold" or k.endswith(".fold")]:
            del m[key]
        for key in [k for k in m if k.endswith("params") or k.endswith("fitted_architecture")]:
            doc = json.loads(m[key])
            doc.pop("fold", None)
            m[key] = json.dumps(doc)

    return _repack(data, edit)


def test_version_1_files_still_load(data, tmp_path):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), _tiny(n_timesteps=3)).fit(X, y)
    clf = _fit(X, y, n_timesteps=2).prune(0.3).quantize()
    for model, Xp in ((pipe, X), (clf, X)):
        path = tmp_path / "v1.safetensors"
        path.write_bytes(_as_version_1(_persist.dumps(model)))
        loaded = skfastgrnn.load(path)
        net = loaded[-1] if isinstance(loaded, Pipeline) else loaded
        assert net.fold == 1 and net.fold_ == 1 and net.network_.architecture["fold"] == 1  # read one step at a time
        np.testing.assert_array_equal(loaded.predict_proba(Xp), model.predict_proba(Xp))
        net.set_params(warm_start=True, epochs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded.fit(Xp, y)  # fine-tuning keeps the architecture, fold included
    # a version-1 file cannot hold what version 2 introduced
    v1 = _as_version_1(_persist.dumps(pipe))
    for edit, message in [
        (lambda t, m: m.update({"step1.fold": "1"}), "format version 1 has no 'fold'"),
        (lambda t, m: m.update({"step1.params": m["step1.params"][:-1] + ', "fold": 1}'}), "has no 'fold'"),
        (
            lambda t, m: m.update(steps='[["seq", "SequenceScaler"], ["clf", "FastGRNNClassifier"]]'),
            "SequenceScaler, which format version 1 cannot hold",
        ),
    ]:
        with pytest.raises(ModelFileError, match=message):
            _persist.loads(_repack(v1, edit), "v1.safetensors")


@pytest.mark.parametrize("fold", [2, "auto"])
def test_folded_models_round_trip(tmp_path, fold):
    rng = np.random.RandomState(0)
    T = 70  # "auto" folds series longer than 64 steps
    X3 = rng.normal(size=(40, T, 2)) + [0.0, 5.0]
    y = (X3[:, :10, 0].sum(axis=1) > 0).astype(int)
    seqs = [x[: rng.randint(30, T + 1)] for x in X3]
    pipe = _seq_fit([("seq", SequenceScaler()), ("clf", _tiny(fold=fold))], seqs, y)
    assert pipe[-1].fold_ == (2 if fold == 2 else 3)
    skfastgrnn.save(pipe, tmp_path / "f.safetensors")
    loaded = skfastgrnn.load(tmp_path / "f.safetensors")
    assert loaded[-1].fold_ == pipe[-1].fold_ and loaded[-1].fold == fold
    assert loaded[-1].network_.layout.n_step_features == 2 * pipe[-1].fold_
    for Xp in (seqs, X3, seqs[:3]):
        np.testing.assert_array_equal(loaded.predict_proba(Xp), pipe.predict_proba(Xp))
    _assert_same_encoding(loaded, pipe)
    data = (tmp_path / "f.safetensors").read_bytes()
    for edit, message in [
        (lambda t, m: m.update({"step1.fold": "1"}), "inconsistent" if fold == "auto" else "disagrees"),
        (lambda t, m: m.update({"step1.fold": "0"}), "'step1.fold' is 0, must be >= 1"),
        (lambda t, m: m.update({"step1.fold": "1000000000000"}), "inconsistent|disagrees"),
        (lambda t, m: m.pop("step1.fold"), "'step1.fold' is missing"),
    ]:
        with pytest.raises(ModelFileError, match=message):
            _persist.loads(_repack(data, edit), "f.safetensors")


@pytest.fixture(scope="module")
def sequence_pipe_bytes(data):
    """A Pipeline(SequenceScaler(n_timesteps=3), FastGRNNClassifier) on 2-D rows of 3 steps x 2 channels."""
    X, y = data
    pipe = _seq_fit([("seq", SequenceScaler(n_timesteps=3)), ("clf", _tiny(n_timesteps=3))], X, y)
    return _persist.dumps(pipe)


def _resize_channels(n):
    def edit(t, m):
        m["step0.n_channels"] = str(n)
        for name in ("mean_", "var_", "scale_"):
            t["step0." + name] = np.ones(n)

    return edit


@pytest.mark.parametrize(
    "source, edit, message",
    [
        ("rows", lambda t, m: t.update({"step0.scale_": np.zeros(2)}), "tensor step0.scale_ must be positive"),
        ("rows", lambda t, m: t.update({"step0.scale_": -np.ones(2)}), "tensor step0.scale_ must be positive"),
        ("rows", lambda t, m: t.update({"step0.var_": -np.ones(2)}), "tensor step0.var_ must be non-negative"),
        ("rows", lambda t, m: t.update({"step0.mean_": np.zeros(3)}), r"'step0.mean_' is float64\[3\], expected"),
        ("rows", lambda t, m: t.update({"step0.mean_": np.zeros((2, 1))}), r"'step0.mean_' is float64\[2, 1\]"),
        ("rows", lambda t, m: t.update({"step0.mean_": np.zeros(2, np.int8)}), "'step0.mean_' is int8"),
        ("rows", lambda t, m: t.update({"step0.mean_": np.array([0.0, np.nan])}), "'step0.mean_' holds non-finite"),
        ("rows", lambda t, m: t.update({"step0.scale_": np.array([1.0, np.inf])}), "'step0.scale_' holds non-finite"),
        ("rows", lambda t, m: t.pop("step0.scale_"), "tensor 'step0.scale_' is missing"),
        ("rows", lambda t, m: t.pop("step0.mean_"), "tensor 'step0.mean_' is missing"),
        ("rows", lambda t, m: t.pop("step0.n_samples_seen_"), "tensor 'step0.n_samples_seen_' is missing"),
        ("rows", lambda t, m: t.update({"step0.n_samples_seen_": np.array([-1])}), "n_samples_seen_ must be non-neg"),
        ("rows", lambda t, m: t.update({"step0.n_samples_seen_": np.array([3.0])}), "'step0.n_samples_seen_' is flo"),
        ("rows", lambda t, m: t.update({"step0.n_samples_seen_": np.array([1, 2])}), r"n_samples_seen_' is int64\[2"),
        ("rows", lambda t, m: t.update({"step0.extra": np.zeros(2)}), r"unexpected tensors \['step0.extra'\]"),
        ("rows", lambda t, m: m.update({"step0.n_channels": "3"}), r"'step0.mean_' is float64\[2\], expected .*\[3\]"),
        ("rows", lambda t, m: m.update({"step0.n_channels": "0"}), "'step0.n_channels' is 0, must be >= 1"),
        ("rows", lambda t, m: m.pop("step0.n_channels"), "'step0.n_channels' is missing"),
        ("rows", lambda t, m: m.update({"step0.n_features_in": "7"}), "not a multiple of n_channels"),
        ("rows", lambda t, m: m.update({"step0.n_features_in": "8"}), r"n_features_in disagree: \[8, 6\]"),
        ("rows", lambda t, m: m.update({"step0.params": '{"channels_first": "yes"}'}), "invalid SequenceScaler"),
        ("rows", lambda t, m: m.update({"step0.params": '{"n_timesteps": 0}'}), "invalid SequenceScaler params"),
        ("rows", lambda t, m: m.update({"step0.feature_names_in": '["a"]'}), "must be 6 strings"),
        (
            "rows",
            lambda t, m: m.update(steps='[["seq", "StandardScaler"], ["clf", "FastGRNNClassifier"]]'),
            "invalid Standard",
        ),
        ("rows", lambda t, m: m.update(steps='[["seq", "MinMaxScaler"], ["clf", "FastGRNNClassifier"]]'), "steps"),
        (
            "rows",
            lambda t, m: m.update(steps='[["seq", ["SequenceScaler"]], ["clf", "FastGRNNClassifier"]]'),
            "must list",
        ),
        ("rows", lambda t, m: m.update(format_version="1"), "needs format version 2"),
        ("3d", lambda t, m: m.update({"step0.feature_names_in": json.dumps(list("abcdef"))}), "needs 'step0.n_feat"),
        ("3d", _resize_channels(4), r"n_channels 4, which does not divide the classifier's n_features_in \(6\)"),
        ("3d", lambda t, m: t.update({"step0.scale_": np.zeros(2)}), "tensor step0.scale_ must be positive"),
    ],
)
def test_corrupted_sequence_scaler_files(tmp_path, sequence_pipe_bytes, sequence_files, source, edit, message):
    data = sequence_pipe_bytes if source == "rows" else sequence_files["3d"]
    path = tmp_path / "seq.safetensors"
    path.write_bytes(_repack(data, edit))
    with pytest.raises(ModelFileError, match=message) as info:
        skfastgrnn.load(path)
    assert str(info.value).startswith(str(path))


def test_sequence_scaler_save_errors(tmp_path):
    seqs, X3, y = _sequences()
    path = tmp_path / "x.safetensors"
    scaler = SequenceScaler().fit(seqs)  # 3 channels
    clf = _seq_fit([("clf", _tiny())], np.zeros((len(y), 8)) + np.arange(len(y))[:, None], y)[0]  # 8 features
    with pytest.raises(ValueError, match=r"x.safetensors: cannot save this Pipeline: step 0 \(SequenceScaler\)"):
        skfastgrnn.save(Pipeline([("seq", scaler), ("clf", clf)]), path)
    with pytest.raises(NotFittedError):
        skfastgrnn.save(Pipeline([("seq", SequenceScaler()), ("clf", clf)]), path)
    with pytest.raises(TypeError, match="StandardScaler and SequenceScaler steps"):
        skfastgrnn.save(Pipeline([("seq", scaler), ("seq2", "passthrough"), ("clf", clf)]), path)
    with pytest.raises(TypeError, match="cannot save a SequenceScaler"):
        skfastgrnn.save(scaler, path)
    assert not path.exists()


def test_registry_holds_sequence_scaler_pipelines(tmp_path):
    seqs, X3, y = _sequences()
    pipe = _seq_fit([("seq", SequenceScaler()), ("clf", _tiny())], seqs, y)
    registry = ModelRegistry(tmp_path / "registry")
    entry = registry.register(pipe, test_accuracy=0.5)
    assert entry["kind"] == "Pipeline"
    loaded = registry.load("latest")
    _assert_same_sequence_scaler(pipe[0], loaded[0])
    np.testing.assert_array_equal(loaded.predict_proba(seqs), pipe.predict_proba(seqs))
    assert len(registry.metrics()["history"]) == pipe[-1].n_iter_


def test_sequence_pipeline_pickle_joblib_skops(tmp_path):
    seqs, X3, y = _sequences()
    X = np.swapaxes(X3, 1, 2)
    pipe = _seq_fit([("seq", SequenceScaler(channels_first=True)), ("clf", _tiny())], X, y)
    copies = [pickle.loads(pickle.dumps(pipe))]
    joblib.dump(pipe, tmp_path / "p.joblib")
    copies.append(joblib.load(tmp_path / "p.joblib"))
    try:
        import skops.io as sio
    except ImportError:
        pass
    else:
        blob = sio.dumps(pipe)
        trusted = ["skfastgrnn._classifier.FastGRNNClassifier", "skfastgrnn._scaler.SequenceScaler"]
        assert sorted(sio.get_untrusted_types(data=blob)) == trusted
        copies.append(sio.loads(blob, trusted=trusted))
    for copy in copies:
        _assert_same_sequence_scaler(pipe[0], copy[0])
        np.testing.assert_array_equal(copy.predict_proba(X), pipe.predict_proba(X))
        _assert_same_encoding(copy, pipe)  # and the copy saves the same content


def test_save_errors_name_the_file(data, tmp_path):
    X, y = data
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="x.safetensors.*StandardScaler"):
        skfastgrnn.save(StandardScaler().fit(X), path)
    with pytest.raises(TypeError, match="Pipeline of"):
        skfastgrnn.save(make_pipeline(FastGRNNClassifier(), StandardScaler()), path)
    with pytest.raises(NotFittedError):
        FastGRNNClassifier().save(path)
    clf = _fit(X, y)
    clf.classes_ = np.array([0.5, np.nan, 2.0])  # labels JSON cannot hold
    with pytest.raises(ValueError, match="x.safetensors.*classes_"):
        clf.save(path)
    clf.classes_ = np.array([b"a", b"b", b"c"])
    with pytest.raises(ValueError, match="classes_ of dtype"):
        clf.save(path)
    with pytest.raises(FileNotFoundError, match="x.safetensors"):
        _fit(X, y).save(tmp_path / "missing-dir" / "x.safetensors")
    assert not path.exists()


def test_random_state_instance_is_stored_as_none(data, tmp_path):
    X, y = data
    clf = _fit(X, y, random_state=np.random.RandomState(0))
    clf.save(tmp_path / "r.safetensors")
    loaded = FastGRNNClassifier.load(tmp_path / "r.safetensors")
    assert loaded.random_state is None
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_file_holds_int8_tensors_and_config(data, tmp_path):
    X, y = data
    clf = _fit(X, y).quantize()
    path = tmp_path / "q.safetensors"
    clf.save(path)
    tensors = safetensors.numpy.load_file(path)
    with safetensors.safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    assert all(isinstance(v, str) for v in meta.values())
    # a classifier file is written with the lowest version that holds it (2), though the reader knows 3
    assert meta["format"] == "skfastgrnn" and meta["format_version"] == "2" and _persist.FORMAT_VERSION == 3
    assert meta["fold"] == "1" and json.loads(meta["fitted_architecture"])["fold"] == "auto"
    assert meta["package_version"] == skfastgrnn.__version__
    assert json.loads(meta["params"]) == json.loads(json.dumps(clf.get_params()))
    assert json.loads(meta["classes"]) == {"dtype": clf.classes_.dtype.str, "values": clf.classes_.tolist()}
    assert json.loads(meta["quantization"])["tensors"] == ["U", "W", "W_out"]
    for name in ("W", "U", "W_out"):
        assert tensors[name].dtype == np.int8
        assert tensors[name + ".scale"].dtype == np.float32
    for name in ("b_z", "b_h", "zeta_logit", "nu_logit", "b_out"):
        assert tensors[name].dtype == np.float32


# ------------------------------------------------------------ bad files


@pytest.fixture(scope="module")
def good_file(tmp_path_factory, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0)).fit(X, y)
    pipe[-1].prune(0.3)
    clf = _fit(X, y, hidden_dim=4, epochs=2).quantize()
    path = tmp_path_factory.mktemp("good") / "model.safetensors"
    clf.save(path)
    return path, path.read_bytes(), _persist.dumps(pipe), X


@pytest.fixture(scope="module")
def sequence_files(data):
    """File bytes of SequenceScaler pipelines, all predicting on the 2-D rows of ``data``.

    ``"3d"``: SequenceScaler(channels_first=True) fitted on (n, 2 channels, 3
    steps), so without n_features_in_; ``"mixed"``: SequenceScaler on rows
    then StandardScaler, pruned and quantized.
    """
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq3d = make_pipeline(
            SequenceScaler(channels_first=True), FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0)
        ).fit(X.reshape(-1, 2, 3), y)
        mixed = make_pipeline(
            SequenceScaler(n_timesteps=3, with_std=False),
            StandardScaler(),
            FastGRNNClassifier(hidden_dim=4, n_timesteps=3, epochs=2, random_state=0),
        ).fit(X, y)
    mixed[-1].prune(0.3).quantize()
    return {"3d": _persist.dumps(seq3d), "mixed": _persist.dumps(mixed)}


def _repack(data, edit):
    """Parse ``data``, let ``edit(tensors, meta)`` change them, and pack with a valid checksum."""
    tensors = safetensors.numpy.load(data)
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8 : 8 + n])["__metadata__"]
    meta.pop(_persist._CHECKSUM_KEY)
    edit(tensors, meta)
    return _persist.pack(tensors, meta)


def _load_bytes(tmp_path, data, name="bad.safetensors"):
    path = tmp_path / name
    path.write_bytes(data)
    return FastGRNNClassifier.load(path), path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d[:-10], "truncated"),
        (lambda d: d[:5], "truncated or empty"),
        (lambda d: b"", "truncated or empty"),
        (lambda d: d[:8] + b"{not json" + d[17:], "not JSON"),
        (lambda d: b'{"format": "skfastgrnn"}', "header of"),
        (lambda d: safetensors.numpy.save({"a": np.zeros(3)}), "not a skfastgrnn model file"),
        (lambda d: safetensors.numpy.save({"a": np.zeros(3)}, metadata={"format": "gguf"}), "format 'gguf'"),
        (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "checksum mismatch"),
    ],
)
def test_bad_files_raise_model_file_error(tmp_path, good_file, mutate, message):
    data = good_file[1]
    with pytest.raises(ModelFileError, match=message) as info:
        _load_bytes(tmp_path, mutate(data))
    assert "bad.safetensors" in str(info.value)


def test_newer_format_version_says_so(tmp_path, good_file):
    newer = str(_persist.FORMAT_VERSION + 1)
    data = _repack(good_file[1], lambda t, m: m.update(format_version=newer, package_version="9.0"))
    with pytest.raises(
        ModelFileError, match=rf"bad.safetensors: written with format version {newer} .*upgrade skfastgrnn"
    ):
        _load_bytes(tmp_path, data)


def _set_arch(meta, **changes):
    arch = json.loads(meta["fitted_architecture"])
    arch.update(changes)
    meta["fitted_architecture"] = json.dumps(arch)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t, m: _set_arch(m, hidden_dim=5), "inconsistent"),
        (lambda t, m: _set_arch(m, hidden_dim=10**12), "inconsistent"),
        (lambda t, m: _set_arch(m, cell="lstm"), "invalid fitted_architecture"),
        (lambda t, m: m.update(n_step_features="4"), "n_features_in"),
        (lambda t, m: m.update(params='{"hidden_dim": "big"}'), "invalid params"),
        (lambda t, m: m.update(params='{"no_such_param": 1}'), "invalid params"),
        (lambda t, m: m.update(classes='{"dtype": "<i8", "values": [0, 0, 1]}'), "distinct"),
        (lambda t, m: m.update(classes='{"dtype": "<U99999", "values": ["a", "b"]}'), "not supported"),
        (lambda t, m: m.update(n_iter="true"), "wrong type"),
        (lambda t, m: m.pop("kind"), "unknown kind"),
        (lambda t, m: m.pop("n_timesteps"), "'n_timesteps' is missing"),
        (lambda t, m: t.update(extra=np.zeros(2)), "unexpected tensors"),
        (lambda t, m: t.pop("U"), "'U' is missing"),
        (lambda t, m: t.update(U=t["U"].astype(np.float32)), "tensor 'U' is float32"),
        (lambda t, m: t.update({"U.scale": np.array([-1.0], np.float32)}), "positive"),
        (lambda t, m: t.update(b_out=np.full_like(t["b_out"], np.nan)), "non-finite"),
        (lambda t, m: m.update(quantization='{"scheme": "int4"}'), "unknown quantization"),
    ],
)
def test_inconsistent_files_raise_model_file_error(tmp_path, good_file, edit, message):
    with pytest.raises(ModelFileError, match=message):
        _load_bytes(tmp_path, _repack(good_file[1], edit))


def test_inconsistent_pipeline_files(tmp_path, good_file):
    pipe_bytes = good_file[2]

    def flip_support(t, m):
        t["step1.support"] = np.full_like(t["step1.support"], 0)

    for edit, message in [
        (lambda t, m: m.update({"step0.n_features_in": "5"}), "step0.mean_"),
        (lambda t, m: m.update(steps='[["a", "FastGRNNClassifier"], ["b", "StandardScaler"]]'), "steps"),
        (flip_support, "pruned weights"),
        (lambda t, m: t.update({"step0.scale_": np.zeros(6)}), "positive"),
    ]:
        with pytest.raises(ModelFileError, match=message):
            skfastgrnn.load(_load_bytes(tmp_path, _repack(pipe_bytes, edit))[1])


def _set_params(meta, key="params", **changes):
    params = json.loads(meta[key])
    params.update(changes)
    meta[key] = json.dumps(params)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t, m: _set_params(m, hidden_dim=5),
            r"'params' has hidden_dim=5, but the tensors hold a network fitted",
        ),
        (lambda t, m: _set_params(m, cell="guide"), r"'params' has cell='guide'.*fitted with cell='fastgrnn'"),
        (lambda t, m: _set_params(m, rank=2), r"'params' has rank=2.*fitted with rank=None"),
        (lambda t, m: _set_params(m, fold=3), r"'params' has fold=3.*fitted with fold='auto'"),
        (lambda t, m: _set_params(m, update_nonlinearity="relu"), r"'params' has update_nonlinearity='relu'"),
        (
            lambda t, m: (_set_params(m, n_timesteps=2), _set_arch(m, n_timesteps=2)),
            r"'n_timesteps' is 1, but the model was fitted with n_timesteps=2",
        ),
    ],
)
def test_metadata_that_disagrees_with_the_tensors_is_refused(tmp_path, good_file, edit, message):
    """Issue 14: a forged file whose params.hidden_dim disagreed with its tensors loaded a model that said
    hidden_dim=5 and held a network of 4 (a warm-start fit then failed with "cannot change hidden_dim")."""
    with pytest.raises(ModelFileError, match=message):
        _load_bytes(tmp_path, _repack(good_file[1], edit))


@pytest.mark.parametrize("name", ["W", "U", "b_out"])
def test_a_tensor_of_another_float_dtype_is_the_one_named(tmp_path, good_file, name):
    """Issue 14: a float32 step1.W among float64 parameters was reported as a problem with step1.U."""

    def to_float32(t, m):
        t[f"step1.{name}"] = t[f"step1.{name}"].astype(np.float32)

    with pytest.raises(ModelFileError, match=rf"tensor 'step1\.{name}' is float32, but the model's other parameters"):
        skfastgrnn.load(_load_bytes(tmp_path, _repack(good_file[2], to_float32))[1])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_load_refuses_dev_zero_at_once():
    """Issue 14: skfastgrnn.load("/dev/zero") read until MemoryError."""
    with pytest.raises(ModelFileError, match=r"^/dev/zero: a character device, not a model file"):
        skfastgrnn.load("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_load_refuses_a_named_pipe_without_blocking(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(ModelFileError, match="a named pipe, not a model file"):
        skfastgrnn.load(fifo)


def test_load_refuses_a_directory_as_before(tmp_path):
    with pytest.raises(IsADirectoryError):
        skfastgrnn.load(tmp_path)


def test_a_file_larger_than_its_header_says_is_refused_before_it_is_read(tmp_path, good_file, monkeypatch):
    data = good_file[1]
    path = tmp_path / "padded.safetensors"
    path.write_bytes(data + b"\0" * 3)
    with pytest.raises(
        ModelFileError, match=rf"larger than its header says \(the tensor data ends at byte {len(data)}"
    ):
        skfastgrnn.load(path)
    with pytest.raises(ModelFileError, match="larger than its header says"):
        _persist.loads(data + b"\0")
    # 4 GiB of (sparse) zeros after a valid model: refused from the header and the file size alone
    os.truncate(path, 1 << 32)
    read_sizes = []
    real_fdopen = os.fdopen

    class CountingFile:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, n=-1):
            read_sizes.append(n)
            return self.f.read(n)

    monkeypatch.setattr(_files.os, "fdopen", lambda *a, **k: CountingFile(real_fdopen(*a, **k)))
    with pytest.raises(ModelFileError, match=f"the file has {1 << 32} bytes"):
        skfastgrnn.load(path)
    monkeypatch.undo()
    assert read_sizes and all(0 <= n <= len(data) for n in read_sizes), read_sizes  # the header, not the 4 GiB


def test_a_header_claiming_more_data_than_the_file_holds_is_refused(tmp_path, good_file):
    data = bytearray(good_file[1])
    (n,) = struct.unpack("<Q", data[:8])
    huge = json.loads(data[8 : 8 + n])
    name = next(k for k in huge if k != "__metadata__")
    huge[name]["data_offsets"][1] = 10**15  # a petabyte of tensor data
    header = json.dumps(huge).encode()
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(data[8 + n :]))
    with pytest.raises(ModelFileError, match="truncated"):
        skfastgrnn.load(path)
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(ModelFileError, match="not a safetensors file .*limit"):
        skfastgrnn.load(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        FastGRNNClassifier.load(tmp_path / "nope.safetensors")


_JUNK_JSON = ["null", "-1", "0", "1e308", "[]", "{}", '"x"', "true", "1.5", "[1, 2]", '{"a": 1}', "", "{", "99999999"]


def _structured_mutation(rng, data):
    """Re-signed file with one metadata entry or tensor changed: reaches the deep validation."""

    def edit(tensors, meta):
        if rng.random() < 0.6:
            key = rng.choice(sorted(meta))
            if rng.random() < 0.15:
                del meta[key]
            elif rng.random() < 0.5 and meta[key].startswith("{"):
                doc = json.loads(meta[key])
                sub = rng.choice(sorted(doc)) if doc else "x"
                doc[sub] = json.loads(rng.choice(_JUNK_JSON[:11]))
                meta[key] = json.dumps(doc)
            else:
                meta[key] = str(rng.choice(_JUNK_JSON))
        else:
            name = rng.choice(sorted(tensors))
            a = tensors[name]
            choice = rng.integers(5)
            if choice == 0:
                del tensors[name]
            elif choice == 1:
                tensors[name] = a.astype(rng.choice([np.float32, np.float64, np.int8, np.int64, np.uint8]))
            elif choice == 2:
                tensors[name] = a.reshape(-1)[: max(0, a.size - 1)].copy()
            elif choice == 3 and a.size:
                b = a.copy().reshape(-1)
                b[rng.integers(b.size)] = rng.choice([0, 1, -1, 127]) if b.dtype.kind != "f" else np.inf
                tensors[name] = b.reshape(a.shape)
            else:
                tensors[f"extra{rng.integers(3)}"] = np.zeros(rng.integers(1, 4))

    return _repack(data, edit)


def _byte_mutation(rng, data):
    kind = rng.integers(4)
    b = bytearray(data)
    if kind == 0:  # truncate anywhere
        return bytes(b[: rng.integers(len(b))])
    if kind == 1:  # flip 1-8 random bytes (header or tensors)
        for i in rng.integers(len(b), size=rng.integers(1, 9)):
            b[i] = rng.integers(256)
        return bytes(b)
    if kind == 2:  # flip bytes inside the header only
        (n,) = struct.unpack("<Q", data[:8])
        for i in rng.integers(8 + n, size=rng.integers(1, 4)):
            b[i] = rng.integers(256)
        return bytes(b)
    start = rng.integers(len(b))  # delete or duplicate a span
    span = rng.integers(1, 64)
    return (
        bytes(b[:start] + b[start + span :]) if rng.random() < 0.5 else bytes(b[:start] + b[start : start + span] + b)
    )


def test_fuzz_only_model_file_error(tmp_path, good_file, sequence_files):
    """2,400 mutated, truncated or re-signed inconsistent files: ModelFileError or a working model.

    The sources: a quantized classifier, a StandardScaler pipeline, and two
    SequenceScaler pipelines (fitted on 3-D channels-first input; mixed with
    a StandardScaler); each gets both kinds of mutation.
    """
    _, model_bytes, pipe_bytes, X = good_file
    sources = [model_bytes, pipe_bytes, sequence_files["3d"], sequence_files["mixed"]]
    rng = np.random.default_rng(1234)
    path = tmp_path / "fuzz.safetensors"
    outcomes = {"error": 0, "loaded": 0}
    for i in range(2400):
        source = sources[(i // 3) % len(sources)]
        mutated = _structured_mutation(rng, source) if i % 3 == 0 else _byte_mutation(rng, source)
        path.write_bytes(mutated)
        try:
            model = skfastgrnn.load(path)
        except ModelFileError as exc:
            assert str(path) in str(exc)
            outcomes["error"] += 1
            continue
        # whatever loads must work
        model.predict_proba(X[:5])
        outcomes["loaded"] += 1
    assert outcomes["error"] > 2000, outcomes


# ------------------------------------------------------------ atomic writes


def test_failure_mid_write_leaves_old_file_untouched(data, tmp_path, monkeypatch):
    X, y = data
    path = tmp_path / "model.safetensors"
    old = _fit(X, y, hidden_dim=4)
    old.save(path)
    before = path.read_bytes()
    new = _fit(X, y, hidden_dim=12)

    def write_half_then_fail(fileobj, payload):
        fileobj.write(payload[: len(payload) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files, "_write_all", write_half_then_fail)
    with pytest.raises(OSError, match="model.safetensors.*No space left") as info:
        new.save(path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]  # the temporary file is gone
    np.testing.assert_array_equal(FastGRNNClassifier.load(path).predict_proba(X), old.predict_proba(X))

    # a crash between fsync and rename
    monkeypatch.undo()
    monkeypatch.setattr(_files.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        new.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_atomic_write_keeps_permissions(tmp_path):
    path = tmp_path / "f.bin"
    _persist.atomic_write(path, b"one")
    assert (path.stat().st_mode & 0o777) == 0o644
    path.chmod(0o600)
    _persist.atomic_write(path, b"two")
    assert path.read_bytes() == b"two" and (path.stat().st_mode & 0o777) == 0o600


# ------------------------------------------------------------ metrics


def test_metrics_round_trip(data, tmp_path):
    X, y = data
    clf = _fit(X, y, epochs=4)
    path = tmp_path / "metrics.json"
    clf.save_metrics(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "skfastgrnn-metrics" and doc["n_iter"] == 4
    assert doc["history"] == json.loads(json.dumps(clf.history_))
    clf.save(tmp_path / "m.safetensors")
    loaded = FastGRNNClassifier.load(tmp_path / "m.safetensors")
    assert loaded.load_metrics(path) is loaded
    assert loaded.history_ == clf.history_

    other = _fit(X, y, epochs=2)
    with pytest.raises(ModelFileError, match="metrics.json.*ran 2 epochs"):
        other.load_metrics(path)
    for bad, message in [
        (b"[1, 2", "not JSON"),
        (b'{"format": "other"}', "not a skfastgrnn metrics file"),
        (json.dumps({**doc, "format_version": 7}).encode(), "version 7.*upgrade"),
        (json.dumps({**doc, "history": [{"epoch": "one"}]}).encode(), "malformed"),
    ]:
        path.write_bytes(bad)
        with pytest.raises(ModelFileError, match=message):
            loaded.load_metrics(path)


# ------------------------------------------------------------ pickle, joblib, skops


@pytest.mark.parametrize("compression", ["float", "pruned+quantized"])
def test_pickle_joblib_skops(data, tmp_path, compression):
    X, y = data
    clf = _fit(X, y, rank=2)
    if compression != "float":
        clf.prune(0.5).quantize()
    copies = [pickle.loads(pickle.dumps(clf))]
    joblib.dump(clf, tmp_path / "m.joblib")
    copies.append(joblib.load(tmp_path / "m.joblib"))
    try:
        import skops.io as sio
    except ImportError:
        pass
    else:
        blob = sio.dumps(clf)
        assert sio.get_untrusted_types(data=blob) == ["skfastgrnn._classifier.FastGRNNClassifier"]
        copies.append(sio.loads(blob, trusted=["skfastgrnn._classifier.FastGRNNClassifier"]))
    for copy in copies:
        _assert_same_model(clf, copy, X)
        assert copy.size_report()["quantized"] == clf.size_report()["quantized"]
        assert copy.size_bytes() == clf.size_bytes()


def test_continual_learning_after_load(data, tmp_path):
    """The guide's continual learning: load, fine-tune with a lower learning rate, save again."""
    X, y = data
    clf = _fit(X, y).prune(0.5)
    clf.save(tmp_path / "current.safetensors")
    clf.save_metrics(tmp_path / "metrics.json")
    model = FastGRNNClassifier.load(tmp_path / "current.safetensors").load_metrics(tmp_path / "metrics.json")
    model.set_params(warm_start=True, learning_rate=1e-3, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        model.partial_fit(X, y)
    assert model.n_iter_ == clf.n_iter_ + 3
    assert np.all(model.network_.parameters[clf.network_.support == 0] == 0)  # the pruned weights stay zero
    model.save(tmp_path / "current_v2.safetensors")
    _assert_same_model(model, FastGRNNClassifier.load(tmp_path / "current_v2.safetensors"), X)


@pytest.mark.parametrize("compression", ["float", "pruned+quantized"])
def test_float32_models_keep_their_dtype(data, tmp_path, compression):
    X, y = data
    X32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=6, epochs=3, random_state=0)).fit(X32, y)
    clf = pipe[-1]
    assert clf.network_.parameters.dtype == np.float32
    if compression != "float":
        clf.prune(0.3).quantize()
        assert clf.network_.parameters.dtype == np.float32 and clf.size_report()["quantized"]
    skfastgrnn.save(pipe, tmp_path / "p.safetensors")
    loaded = skfastgrnn.load(tmp_path / "p.safetensors")
    assert loaded[-1].network_.parameters.dtype == np.float32
    _assert_same_model(clf, loaded[-1], pipe[0].transform(X32))
    np.testing.assert_array_equal(loaded.predict_proba(X32), pipe.predict_proba(X32))
    # training after loading continues in float32, with a fresh float32 Adam state
    loaded[-1].partial_fit(loaded[0].transform(X32), y)
    assert loaded[-1].network_.parameters.dtype == np.float32 and loaded[-1]._optimizer["m"].dtype == np.float32


def test_a_pickle_from_before_fold_unpickles_as_fold_one():
    import pickle

    import numpy as np

    from skfastgrnn import FastGRNNClassifier

    X, y = np.random.RandomState(0).standard_normal((40, 6)), np.arange(40) % 2
    model = FastGRNNClassifier(4, n_timesteps=3, epochs=1, random_state=0).fit(X, y)
    state = model.__getstate__()
    for name in ("fold", "fold_"):
        state.pop(name)
    # the state as versions before the network object pickled it
    network = state.pop("network_")
    state["_layout"], state["_theta"] = network["layout"], network["parameters"]
    state["_fitted_architecture"] = {k: v for k, v in network["architecture"].items() if k != "fold"}
    old = FastGRNNClassifier.__new__(FastGRNNClassifier)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.get_params()["fold"] == 1 and old.fold_ == 1
    np.testing.assert_array_equal(old.predict_proba(X), model.predict_proba(X))


def test_save_refuses_an_architecture_changed_after_the_fit(tmp_path, blobs):
    """The counterpart of the load-side check: a file whose params disagree with its network would not load."""
    X, y = blobs
    clf = quiet_fit(_tiny(), X, y).set_params(hidden_dim=7)
    with pytest.raises(ValueError, match=r"parameters changed since the fit: hidden_dim=7 \(fitted with 4\)"):
        clf.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    clf.set_params(hidden_dim=4, learning_rate=0.5).save(tmp_path / "m.safetensors")  # other params may change
    assert skfastgrnn.load(tmp_path / "m.safetensors").learning_rate == 0.5
