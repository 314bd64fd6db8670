"""export_c (compiled with the system C compiler) and to_onnx (run in onnxruntime) for stacked networks.

``hidden_dim=(6, 4)`` or three layers, classifier and regressor, alone or in a
Pipeline with a StandardScaler or a SequenceScaler: every cell, low rank,
int8, pruned (dense and CSR storage), one step (dead weights in every layer),
folded input and NaN-padded variable-length rows, compared with
``predict_proba`` / ``predict`` on 240 rows each. In a stack the exported
code stops every layer at the sequence's end, which is what the Python
model's final state of the last layer is; padded rows are also compared with
each sequence alone. Tiny models and few epochs: the point is the arithmetic,
not the accuracy.
"""

import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from c_harness import guarded_harness_source, regressor_harness_source
from sklearn.datasets import make_classification
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from test_export import CC, CFLAGS, needs_cc

from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, SequenceScaler, export_c, to_onnx
from skfastgrnn._sequences import pad_sequences

N_ROWS = 240  # rows compared per model (>= 200)
T, D = 4, 3  # fixed-length rows
SEQ_T, SEQ_D = 7, 2  # variable-length sequences of 1..7 steps
FOLD_T, FOLD_D = 70, 2  # fold="auto" reads 3 steps at a time (24 steps, the last one partial)

# name -> (data, estimator parameters, post-fit step). data: "rows" (T x D rows), "standard"
# (Pipeline(StandardScaler, model) on off-centre rows), "seq" (Pipeline(SequenceScaler, model) on sequences of
# 1..SEQ_T steps, compared on their NaN-padded rows), "fold" (fold="auto" on a 3-D array of FOLD_T steps),
# "fold_seq" (Pipeline(SequenceScaler, model), fold="auto", sequences of 30..FOLD_T steps). The name's first
# word is the task.
VARIANTS = {
    "clf_fastgrnn_2": ("rows", dict(hidden_dim=(6, 4)), None),
    "clf_fastrnn_3": ("rows", dict(cell="fastrnn", hidden_dim=(6, 5, 4)), None),
    "clf_guide_2": ("rows", dict(cell="guide", hidden_dim=(6, 4)), None),
    "clf_guide_t1_3": (
        "rows",
        dict(cell="guide", n_timesteps=1, hidden_dim=(5, 4, 3), gate_nonlinearity="quantSigm"),
        None,
    ),
    "clf_fastgrnn_t1_2": ("rows", dict(n_timesteps=1, hidden_dim=(5, 4), update_nonlinearity="relu"), None),
    "clf_low_rank_3": ("rows", dict(rank=2, u_rank=2, hidden_dim=(6, 5, 4), update_nonlinearity="quantTanh"), None),
    "clf_guide_low_rank_2": ("rows", dict(cell="guide", rank=2, u_rank=3, hidden_dim=(6, 4)), None),
    "clf_int8_2": ("rows", dict(hidden_dim=(6, 4)), "quantize"),
    "clf_pruned_3": ("rows", dict(cell="fastrnn", hidden_dim=(8, 6, 4)), "prune"),
    "clf_pruned_int8_2": ("rows", dict(cell="guide", u_rank=3, hidden_dim=(6, 4)), "prune_quantize"),
    "clf_sparse_trained_2": ("rows", dict(w_sparsity=0.5, u_sparsity=0.6, hidden_dim=(8, 6)), None),
    "clf_standard_2": ("standard", dict(cell="guide", hidden_dim=(6, 4)), None),
    "clf_seq_fastgrnn_2": ("seq", dict(hidden_dim=(6, 4)), None),
    "clf_seq_fastrnn_3": ("seq", dict(cell="fastrnn", hidden_dim=(6, 5, 4)), None),
    "clf_seq_guide_low_rank_int8_3": ("seq", dict(cell="guide", rank=2, u_rank=3, hidden_dim=(6, 5, 4)), "quantize"),
    "clf_fold_fastgrnn_2": ("fold", dict(hidden_dim=(6, 4)), None),
    "clf_fold_guide_pruned_3": ("fold", dict(cell="guide", hidden_dim=(6, 5, 4)), "prune"),
    "clf_fold_seq_fastrnn_2": ("fold_seq", dict(cell="fastrnn", hidden_dim=(6, 4)), None),
    "reg_fastgrnn_3": ("rows", dict(hidden_dim=(6, 5, 4)), None),
    "reg_fastrnn_2": ("rows", dict(cell="fastrnn", hidden_dim=(6, 4)), None),
    "reg_guide_t1_2": ("rows", dict(cell="guide", n_timesteps=1, hidden_dim=(5, 4)), None),
    "reg_guide_low_rank_3": ("rows", dict(cell="guide", rank=2, u_rank=3, hidden_dim=(6, 5, 4)), None),
    "reg_int8_2": ("rows", dict(cell="fastrnn", rank=2, hidden_dim=(6, 4)), "quantize"),
    "reg_pruned_2": ("rows", dict(hidden_dim=(8, 6)), "prune"),
    "reg_standard_3": ("standard", dict(hidden_dim=(6, 5, 4)), None),
    "reg_seq_guide_2": ("seq", dict(cell="guide", hidden_dim=(6, 4)), None),
    "reg_seq_fastgrnn_int8_3": ("seq", dict(u_rank=2, hidden_dim=(6, 5, 4)), "prune_quantize"),
    "reg_fold_fastrnn_2": ("fold", dict(cell="fastrnn", hidden_dim=(6, 4)), None),
    "reg_fold_seq_guide_3": ("fold_seq", dict(cell="guide", hidden_dim=(6, 5, 4)), None),
}
PRUNED = sorted(k for k, v in VARIANTS.items() if v[2] in ("prune", "prune_quantize") or "sparse" in k)

#: every op a stacked graph may use: a one-layer graph's, and Unsqueeze + Concat for the states a layer reads
ONNX_OPS = {
    "Add", "ArgMax", "Cast", "Clip", "Concat", "Div", "Gather", "IsNaN", "MatMul", "Mul", "Neg", "Or", "Pad",
    "Relu", "Reshape", "Sigmoid", "Softmax", "Split", "Sub", "Tanh", "Transpose", "Unsqueeze", "Where",
}  # fmt: skip


def _round32(X):
    """The exported models read float32: give the Python model the same numbers."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


@pytest.fixture(scope="module")
def data():
    """Per kind of data: ``(fit X, class labels, regression targets, rows to compare on, sequences or None)``."""
    X, yc = make_classification(
        n_samples=N_ROWS, n_features=T * D, n_informative=6, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    X = _round32(X)
    yr = np.column_stack([50.0 + 20.0 * np.tanh(X[:, 0] + X[:, -1]), -300.0 + 40.0 * X[:, 4] * X[:, 8]])
    rng = np.random.RandomState(1)
    lengths = rng.randint(1, SEQ_T + 1, size=N_ROWS)
    lengths[:SEQ_T] = np.arange(1, SEQ_T + 1)  # every length, the longest included
    seqs = [_round32(5.0 + 2.0 * rng.randn(n, SEQ_D)) for n in lengths]
    seq_c = np.array([int(s[:, 0].mean() > 5.0) + int(s[-1, 1] > 6.0) for s in seqs])
    seq_r = np.array([10.0 * s[:, 0].mean() + len(s) for s in seqs])
    X3 = _round32(rng.randn(N_ROWS, FOLD_T, FOLD_D))
    fold_lengths = rng.randint(30, FOLD_T + 1, size=N_ROWS)
    fold_lengths[0] = FOLD_T
    fold_seqs = [_round32(8.0 + 2.0 * rng.randn(n, FOLD_D)) for n in fold_lengths]
    return {
        "rows": (X, yc, yr, X, None),
        "standard": (_round32(X * 3.0 + 5.0), yc, yr, _round32(X * 3.0 + 5.0), None),
        "seq": (seqs, seq_c, seq_r, pad_sequences(seqs).reshape(N_ROWS, -1), seqs),
        "fold": (X3, (X3[:, :6, 0].sum(axis=1) > 0).astype(int), 3.0 * X3[:, -5:, 1].sum(axis=1), X3, None),
        "fold_seq": (
            fold_seqs,
            np.array([int(s[:4, 0].sum() > 32.0) for s in fold_seqs]),
            np.array([s[-3:, 1].sum() for s in fold_seqs]),
            pad_sequences(fold_seqs).reshape(N_ROWS, -1),
            fold_seqs,
        ),
    }


@pytest.fixture(scope="module")
def fitted(data):
    """``get(key) -> (model, rows to compare on)``, each model fitted once per module."""
    cache = {}

    def get(key):
        if key not in cache:
            kind, params, post = VARIANTS[key]
            X, yc, yr, rows, _ = data[kind]
            regressor = key.startswith("reg")
            params = {"epochs": 3, "random_state": 0, **params}
            if kind == "rows" or kind == "standard":
                params.setdefault("n_timesteps", T)
            if kind.startswith("fold"):
                params["fold"] = "auto"
            model = (FastGRNNRegressor if regressor else FastGRNNClassifier)(**params)
            if kind in ("standard", "seq", "fold_seq"):
                model = make_pipeline(StandardScaler() if kind == "standard" else SequenceScaler(), model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # short fits: ConvergenceWarning
                model.fit(X, yr if regressor else yc)
            est = _estimator(model)
            if post in ("prune", "prune_quantize"):
                est.prune(0.5)
            if post in ("quantize", "prune_quantize"):
                est.quantize()
            assert est.network_.layout.n_layers == len(params["hidden_dim"])
            assert (est.fold_ == 3) == kind.startswith("fold")
            cache[key] = (model, rows.reshape(N_ROWS, -1))
        return cache[key]

    return get


def _estimator(model):
    return model[-1] if isinstance(model, Pipeline) else model


def _assert_matches(model, got, X):
    """C or ONNX outputs against the Python model: the same classes and probabilities, or predictions."""
    est = _estimator(model)
    if isinstance(est, FastGRNNRegressor):
        expected = np.asarray(model.predict(X)).reshape(len(X), -1)
        assert got.shape == expected.shape
        # float32 arithmetic against the float64 model, relative to each target's scale
        tol = 1e-5 * est.target_scale_ + 1e-6 * np.abs(est.target_mean_)
        error = np.abs(got - expected).max(axis=0)
        assert (error <= tol).all(), f"max abs difference per output {error}, tolerance {tol}"
    else:
        labels, proba = got
        np.testing.assert_array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)


def _assert_matches_unpadded(model, got, data, key):
    """Padded rows against the Python model on each sequence alone (its own T): every layer stopped at its end."""
    sequences = data[VARIANTS[key][0]][4]
    if sequences is None:
        return
    lengths = np.array([len(s) for s in sequences])
    for length in np.unique(lengths)[:: max(1, len(np.unique(lengths)) // 6)]:
        rows = np.flatnonzero(lengths == length)
        alone = np.stack([sequences[i] for i in rows])
        part = got[rows] if isinstance(got, np.ndarray) else (got[0][rows], got[1][rows])
        _assert_matches(model, part, alone)


def _build(model, directory, name, **kw):
    report = export_c(model, directory, name=name, **kw)
    main = os.path.join(directory, "main.c")
    regressor = isinstance(_estimator(model), FastGRNNRegressor)
    with open(main, "w") as f:
        f.write((regressor_harness_source if regressor else guarded_harness_source)(name))
    exe = os.path.join(directory, name + "_harness")
    subprocess.run([CC, *CFLAGS, "-o", exe, main, report["source"], "-lm"], check=True, capture_output=True, text=True)
    return exe, report


def _run_c(model, exe, X, directory, canaries=0):
    """The compiled model's outputs on each row, each row alone in its heap block followed by ``canaries`` 1e30."""
    rows = os.path.join(directory, "rows.f32")
    np.ascontiguousarray(X, dtype=np.float32).tofile(rows)
    run = subprocess.run([exe, rows, str(canaries)], capture_output=True, text=True, check=True)
    table = np.loadtxt(run.stdout.splitlines(), ndmin=2)
    if isinstance(_estimator(model), FastGRNNRegressor):
        return table
    return _estimator(model).classes_[table[:, 0].astype(int)], table[:, 1:]


def _run_onnx(model, X):
    ort = pytest.importorskip("onnxruntime")
    proto = to_onnx(model)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input": np.asarray(X, dtype=np.float32)})
    return (out[0] if len(out) == 1 else tuple(out)), proto


# ----------------------------------------------------------------------- C


@needs_cc
@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_c_matches_python(fitted, data, key, tmp_path):
    model, X = fitted(key)
    exe, report = _build(model, str(tmp_path), "st")
    canaries = 2 * 3 * FOLD_D if VARIANTS[key][0].startswith("fold") else 0  # a folded read past the row would show
    got = _run_c(model, exe, X, str(tmp_path), canaries)
    _assert_matches(model, got, X)
    _assert_matches_unpadded(model, got, data, key)
    est = _estimator(model)
    assert report["quantized"] == (VARIANTS[key][2] in ("quantize", "prune_quantize"))
    layers = est.network_.layout.n_layers
    assert [r["name"] for r in report["matrices"]][-1] == "W_out"
    assert {r["name"].split(".")[0] for r in report["matrices"]} >= {f"layer{k}" for k in range(2, layers + 1)}
    header = open(report["header"]).read()
    assert f"#define ST_N_LAYERS {layers}" in header and f"#define ST_HIDDEN_DIM {est.hidden_dim[-1]}" in header


@needs_cc
@pytest.mark.parametrize("key", PRUNED)
@pytest.mark.parametrize("sparse", [True, False])
def test_c_dense_and_csr_storage_agree(fitted, key, sparse, tmp_path):
    model, X = fitted(key)
    exe, report = _build(model, str(tmp_path), "sp", sparse=sparse)
    _assert_matches(model, _run_c(model, exe, X, str(tmp_path)), X)
    assert {row["format"] for row in report["matrices"]} == ({"csr"} if sparse else {"dense"})


@needs_cc
def test_names_memory_and_libm_only(fitted, tmp_path):
    """Valid C names for layer k's parameters, one state vector per layer, no malloc, only the API exported."""
    model, _ = fitted("clf_guide_2")  # guide, H = (6, 4), T = 4, D = 3, 3 classes, no scaler
    report = export_c(model, tmp_path, name="g", sparse=False)
    source = open(report["source"]).read()
    for symbol in ("g_layer2_W", "g_mv_layer2_W", "g_mv_layer2_U", "g_layer2_b_r", "g_layer2_nu", "g_layer2_zeta"):
        assert symbol in source
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("/*", "*")))
    assert "layer2." not in code and "malloc" not in code
    header = open(report["header"]).read()  # the states are in the streaming state g_state
    assert "float h[6];" in header and "float h2[4];" in header and "g_mv_W_out(h2, logits);" in source
    # the states (6 + 4), the input projection (3 * 6: shared by both layers), hu (6) and r * h (6), predict's logits
    assert report["state_bytes"] == 4 * (6 + 4 + 18 + 6 + 6 + 3)
    # W 3x18, U 6x6, b_r b_u b_c (6 each), layer2.W 6x12, layer2.U 4x4, 3 x 4 biases, W_out 4x3, b_out, 2 x (nu, zeta)
    assert report["weight_bytes"] == 4 * (54 + 36 + 18 + 72 + 16 + 12 + 12 + 3 + 4)
    obj = str(tmp_path / "g.o")
    subprocess.run([CC, *CFLAGS, "-c", "-o", obj, report["source"]], check=True, capture_output=True)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not found")
    defined = subprocess.run([nm, "-g", "--defined-only", obj], check=True, capture_output=True, text=True).stdout
    api = ["g_class", "g_class_labels", "g_predict", "g_predict_proba", "g_proba", "g_reset", "g_step"]
    assert sorted(line.split()[-1] for line in defined.splitlines()) == api
    undefined = subprocess.run([nm, "-u", obj], check=True, capture_output=True, text=True).stdout.split()
    assert {s for s in undefined if s not in ("U", "w") and not s.startswith("_GLOBAL_OFFSET")} <= {"tanhf", "expf"}


def test_one_step_drops_dead_weights_in_every_layer(fitted, tmp_path):
    model, _ = fitted("clf_guide_t1_3")
    report = export_c(model, tmp_path, name="one")
    names = {row["name"]: row["shape"] for row in report["matrices"]}
    # no U anywhere; every layer's W without the reset gate's columns (2 H of 3 H)
    assert names == {"W": (12, 10), "layer2.W": (5, 8), "layer3.W": (4, 6), "W_out": (3, 3)}
    assert report["omitted"][0].startswith("U of every layer")
    assert [o.split(":")[0] for o in report["omitted"][1:]] == ["layer 1", "layer 2", "layer 3"]
    source = open(report["source"]).read()
    assert "b_r" not in source and "hu" not in source and "rh" not in source


def test_a_one_element_tuple_exports_the_one_layer_model(data, tmp_path):
    X, y = data["rows"][0], data["rows"][1]
    models = []
    for hidden_dim in (5, (5,)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(FastGRNNClassifier(hidden_dim=hidden_dim, n_timesteps=T, epochs=2, random_state=0).fit(X, y))
    files = []
    for k, model in enumerate(models):
        report = export_c(model, tmp_path / str(k), name="same")
        files.append(open(report["header"]).read() + open(report["source"]).read())
    assert files[0] == files[1] and "LAYERS" not in files[0] and "layer" not in files[0]
    pytest.importorskip("onnx")
    assert to_onnx(models[0]).SerializeToString() == to_onnx(models[1]).SerializeToString()


# --------------------------------------------------------------------- ONNX


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_onnx_matches_python(fitted, data, key):
    pytest.importorskip("onnx")
    model, X = fitted(key)
    got, proto = _run_onnx(model, X)
    _assert_matches(model, got, X)
    _assert_matches_unpadded(model, got, data, key)
    ops = [node.op_type for node in proto.graph.node]
    assert set(ops) <= ONNX_OPS
    network = _estimator(model).network_
    n_steps = -(-network.n_timesteps // network.fold)
    # every layer masked at every step, with the one padding mask of the rows
    assert ops.count("Where") == n_steps * network.layout.n_layers + (network.fold > 1)
    assert ops.count("IsNaN") == 1 + (network.fold > 1) and ops.count("Concat") == network.layout.n_layers - 1
    assert f"{network.layout.n_layers} stacked layers" in proto.doc_string
