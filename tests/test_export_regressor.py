"""export_c (compiled with the system C compiler) and to_onnx (run in onnxruntime) for FastGRNNRegressor.

The regressor's network outputs are its predictions (the target scaling is
folded into W_out and b_out), so the exported code must reproduce
``model.predict`` in the units of ``y``: compared here on >= 200 rows per
model, every cell, low rank, int8, pruned and sparse-trained, float32, a
StandardScaler Pipeline, NaN-padded variable-length rows behind a
SequenceScaler, and folded models (3-D input with many steps, ``fold="auto"``).
The tolerance is float32 arithmetic's, relative to each target's scale.
"""

import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from c_harness import regressor_harness_source
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from test_export import _ASAN_ENV, CC, CFLAGS, asan_flags, needs_cc  # noqa: F401 (asan_flags: a fixture, see below)

from skfastgrnn import FastGRNNRegressor, SequenceScaler, export_c, to_onnx
from skfastgrnn._sequences import pad_sequences

N_ROWS = 240  # rows compared per model (>= 200)
T, D = 4, 3  # fixed-length rows
SEQ_T = 7  # variable-length sequences of 1..7 steps of D channels
FOLD_T, FOLD_D = 70, 2  # long series: fold="auto" reads ceil(70 / 32) = 3 steps at a time, the last step partial

#: every op a regressor's graph may use: no Softmax, ArgMax or label Gather
ONNX_OPS = {
    "Add", "Cast", "Clip", "Div", "Gather", "IsNaN", "MatMul", "Mul", "Neg", "Or", "Pad", "Relu", "Reshape",
    "Sigmoid", "Split", "Sub", "Tanh", "Transpose", "Where",
}  # fmt: skip


def _round32(X):
    """The exported models read float32: give the Python model the same numbers."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def _regressor(model):
    return model[-1] if isinstance(model, Pipeline) else model


def _tolerance(model):
    """Per-output tolerance of float32 arithmetic against the float64 model, in the units of y."""
    reg = _regressor(model)
    return 1e-5 * reg.target_scale_ + 1e-6 * np.abs(reg.target_mean_)


def _assert_close(model, got, expected):
    """``got`` (n, n_outputs) against ``expected`` (``predict``'s output: 1-D for one target)."""
    n_outputs = _regressor(model).n_outputs_
    expected = np.asarray(expected).reshape(len(expected), -1)
    assert got.shape == expected.shape == (len(expected), n_outputs)
    error = np.abs(got - expected).max(axis=0)
    tol = _tolerance(model)
    assert (error <= tol).all(), f"max abs difference per output {error}, tolerance {tol}"


def _build(model, directory, name, asan=(), **kw):
    report = export_c(model, directory, name=name, **kw)
    main = os.path.join(directory, "main.c")
    with open(main, "w") as f:
        f.write(regressor_harness_source(name))
    exe = os.path.join(directory, name + "_harness")
    cmd = [CC, *CFLAGS, *asan, "-o", exe, main, report["source"], "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe, report


def _run_c(exe, X, directory, canaries=0):
    """The outputs of the compiled model on each row, ``(n, n_outputs)``."""
    rows = os.path.join(directory, "rows.f32")
    np.ascontiguousarray(X, dtype=np.float32).tofile(rows)
    run = subprocess.run([exe, rows, str(canaries)], capture_output=True, text=True, env=_ASAN_ENV)
    assert run.returncode == 0, run.stderr[-3000:]
    return np.loadtxt(run.stdout.splitlines(), ndmin=2)


def _run_onnx(model, X):
    ort = pytest.importorskip("onnxruntime")
    proto = to_onnx(model)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": np.asarray(X, dtype=np.float32)})
    assert out.dtype == np.float32
    return out, proto


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits: ConvergenceWarning
        return model.fit(X, y)


def _post(model, post):
    reg = _regressor(model)
    if post == "quantize":
        reg.quantize()
    elif post == "prune":
        reg.prune(0.6)
    elif post == "prune_quantize":
        reg.prune(0.6).quantize()
    return model


def _params(**params):
    return {"hidden_dim": 8, "epochs": 3, "random_state": 0, **params}


# ------------------------------------------------------------ fixed-length rows

# name -> (regressor parameters, post-fit step, number of targets)
MODELS = {
    "fastgrnn": (dict(), None, 1),
    "fastgrnn_t1": (dict(n_timesteps=1, gate_nonlinearity="quantSigm4", update_nonlinearity="relu"), None, 2),
    "fastrnn": (dict(cell="fastrnn"), None, 2),
    "guide": (dict(cell="guide"), None, 2),
    "guide_t1": (dict(cell="guide", n_timesteps=1), None, 1),
    "low_rank": (dict(rank=2, u_rank=3, gate_nonlinearity="quantSigm", update_nonlinearity="quantTanh"), None, 2),
    "guide_low_rank": (dict(cell="guide", rank=2, u_rank=3), None, 1),
    "quantized": (dict(), "quantize", 2),
    "quantized_low_rank": (dict(cell="guide", rank=2, u_rank=4), "quantize", 1),
    "sparse_trained": (dict(w_sparsity=0.5, u_sparsity=0.7, epochs=6), None, 2),
    "pruned": (dict(cell="fastrnn", u_rank=4), "prune", 1),
    "pruned_quantized": (dict(), "prune_quantize", 2),
    "pipeline": (dict(cell="guide"), "pipeline", 2),
    "float32": (dict(hidden_dim=12), "float32", 2),
}


@pytest.fixture(scope="module")
def data():
    """Rows of T x D values and two targets of very different scales and offsets."""
    rng = np.random.RandomState(0)
    X = _round32(rng.randn(N_ROWS, T * D))
    steps = X.reshape(N_ROWS, T, D)
    y = np.column_stack(
        [
            50.0 + 20.0 * np.tanh(steps[:, :, 0].sum(axis=1)),
            -3000.0 + 400.0 * steps[:, -1, 1] * steps[:, 0, 2],
        ]
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    """``get(key) -> (model, rows)``, fitted once per module."""
    X, Y = data
    cache = {}

    def get(key):
        if key not in cache:
            params, post, n_outputs = MODELS[key]
            params = _params(**{"n_timesteps": T, **params})
            y = Y[:, 0] if n_outputs == 1 else Y
            if post == "pipeline":  # off-centre, widely scaled raw features
                Xm = _round32(X * 3.0 + 5.0)
                model = _fit(make_pipeline(StandardScaler(), FastGRNNRegressor(**params)), Xm, y)
            elif post == "float32":
                Xm = X.astype(np.float32)
                model = _fit(FastGRNNRegressor(**params), Xm, y)
            else:
                Xm = X
                model = _post(_fit(FastGRNNRegressor(**params), X, y), post)
            assert _regressor(model).n_outputs_ == n_outputs
            cache[key] = (model, Xm)
        return cache[key]

    return get


@needs_cc
@pytest.mark.parametrize("key", sorted(MODELS))
def test_c_matches_python(fitted, key, tmp_path):
    model, X = fitted(key)
    assert X.shape[0] >= 200
    exe, report = _build(model, str(tmp_path), "r_" + key)
    _assert_close(model, _run_c(exe, X, str(tmp_path)), model.predict(X))
    assert report["quantized"] == (MODELS[key][1] in ("quantize", "prune_quantize"))
    assert report["scaler_bytes"] == (8 * T * D if MODELS[key][1] == "pipeline" else 0)
    assert report["label_bytes"] == 0 and report["weight_bytes"] > 0


@needs_cc
@pytest.mark.parametrize("key", ["sparse_trained", "pruned", "pruned_quantized"])
@pytest.mark.parametrize("sparse", [True, False])
def test_c_dense_and_csr_storage_agree(fitted, key, sparse, tmp_path):
    model, X = fitted(key)
    exe, report = _build(model, str(tmp_path), "s", sparse=sparse)
    _assert_close(model, _run_c(exe, X, str(tmp_path)), model.predict(X))
    assert {row["format"] for row in report["matrices"]} == ({"csr"} if sparse else {"dense"})


@pytest.mark.parametrize("key", sorted(MODELS))
def test_onnx_matches_python(fitted, key):
    pytest.importorskip("onnx")
    model, X = fitted(key)
    out, proto = _run_onnx(model, X)
    _assert_close(model, out, model.predict(X))
    n_outputs = MODELS[key][2]
    # skl2onnx's convention for a regressor: one float tensor "variable" [N, n_outputs], 2-D even for one target
    assert [o.name for o in proto.graph.output] == ["variable"]
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", n_outputs]
    assert proto.graph.output[0].type.tensor_type.elem_type == 1  # TensorProto.FLOAT
    assert {node.op_type for node in proto.graph.node} <= ONNX_OPS
    assert "FastGRNN regressor" in proto.doc_string
    if MODELS[key][1] in ("quantize", "prune_quantize"):
        int8 = {t.name.split("_int8")[0] for t in proto.graph.initializer if t.data_type == 3}  # INT8
        quantized = _regressor(model).network_.quantization[0]
        assert int8 == {n for n in quantized if _regressor(model).n_timesteps_ > 1 or not n.startswith("U")}


def test_onnx_batch_of_one(fitted):
    pytest.importorskip("onnx")
    model, X = fitted("fastgrnn")
    out, _ = _run_onnx(model, X[:1])
    assert out.shape == (1, 1)
    _assert_close(model, out, model.predict(X[:1]))


# ----------------------------------------------------------------- the C API


@needs_cc
def test_header_declares_the_regressor_api(fitted, tmp_path):
    model, _ = fitted("pipeline")  # H=8, D=3, T=4, 2 targets, fp32, a per-column scaler
    report = export_c(model, tmp_path, name="api", sparse=False)
    header, source = open(report["header"]).read(), open(report["source"]).read()
    assert "FastGRNN regressor" in header and ", 2 outputs" in header
    assert "#define API_N_OUTPUTS 2" in header and f"#define API_N_FEATURES {T * D}" in header
    assert "void api_predict(const float *x, float *out);" in header
    for classifier_only in ("N_CLASSES", "class_labels", "predict_proba", "int api_predict"):
        assert classifier_only not in header and classifier_only not in source
    # guide cell: W 3x24, U 8x8, b_r, b_u, b_c, W_out 8x2, b_out, nu and zeta: all float32
    assert report["weight_bytes"] == 4 * (3 * 24 + 8 * 8 + 3 * 8 + 8 * 2 + 2 + 2)
    # the forward pass's buffers only (h, a, the standardized step, hu, r * h): predict writes into the caller's out
    assert report["state_bytes"] == 4 * (8 + 24 + 3 + 8 + 8)
    # the caller sees no other function, and the code needs only libm
    obj = str(tmp_path / "api.o")
    subprocess.run([CC, *CFLAGS, "-c", "-o", obj, report["source"]], check=True, capture_output=True)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not found")
    symbols = subprocess.run([nm, "-g", "--defined-only", obj], check=True, capture_output=True, text=True).stdout
    assert sorted(line.split()[-1] for line in symbols.splitlines()) == [
        "api_output",
        "api_predict",
        "api_reset",
        "api_step",
    ]
    undefined = subprocess.run([nm, "-u", obj], check=True, capture_output=True, text=True).stdout.split()
    assert {s for s in undefined if s not in ("U", "w") and not s.startswith("_GLOBAL_OFFSET")} <= {"tanhf", "expf"}


def test_one_timestep_drops_dead_weights(fitted, tmp_path):
    model, _ = fitted("guide_t1")
    report = export_c(model, tmp_path, name="g1")
    assert {row["name"] for row in report["matrices"]} == {"W", "W_out"} and len(report["omitted"]) == 2


def test_export_rejects_bad_input(fitted, data, tmp_path):
    model, X = fitted("fastgrnn")
    with pytest.raises(NotFittedError):
        export_c(FastGRNNRegressor(), tmp_path)
    with pytest.raises(NotFittedError):
        export_c(Pipeline([("s", StandardScaler()), ("m", model)]), tmp_path)
    with pytest.raises(TypeError, match="MinMaxScaler"):
        export_c(make_pipeline(MinMaxScaler().fit(X), model), tmp_path)
    with pytest.raises(TypeError, match="FastGRNNRegressor"):
        export_c(make_pipeline(StandardScaler().fit(X)), tmp_path)
    assert os.listdir(tmp_path) == []
    pytest.importorskip("onnx")
    with pytest.raises(NotFittedError):
        to_onnx(FastGRNNRegressor())
    with pytest.raises(TypeError, match="MinMaxScaler"):
        to_onnx(make_pipeline(MinMaxScaler().fit(X), model))


# --------------------------------------------- variable-length sequences, SequenceScaler

# name -> (regressor parameters, post-fit step, number of targets); each in Pipeline(SequenceScaler, regressor)
SEQ_MODELS = {
    "fastgrnn": (dict(), None, 1),
    "fastrnn": (dict(cell="fastrnn"), None, 2),
    "guide": (dict(cell="guide"), None, 2),
    "low_rank": (dict(rank=2, u_rank=3, gate_nonlinearity="quantSigm", update_nonlinearity="quantTanh"), None, 2),
    "guide_low_rank_quantized": (dict(cell="guide", rank=2, u_rank=4), "quantize", 2),
    "sparse_trained": (dict(w_sparsity=0.5, u_sparsity=0.7, epochs=6), None, 1),
    "pruned_quantized": (dict(cell="fastrnn", u_rank=4), "prune_quantize", 2),
}


def _sequence_targets(sequences):
    return np.array([[20.0 + 8.0 * s[:, 0].mean() + len(s), 500.0 - 90.0 * s[-1, 1]] for s in sequences])


@pytest.fixture(scope="module")
def seq_data():
    """Sequences of 1..7 steps of D raw, off-centre channels; their two targets, NaN-padded rows and lengths."""
    rng = np.random.RandomState(1)
    lengths = rng.randint(1, SEQ_T + 1, size=N_ROWS)
    lengths[:SEQ_T] = np.arange(1, SEQ_T + 1)  # every length, the longest included
    sequences = [_round32(10.0 + 3.0 * rng.randn(n, D)) for n in lengths]
    rows = pad_sequences(sequences).reshape(N_ROWS, -1)
    assert rows.shape == (N_ROWS, SEQ_T * D) and np.isnan(rows).any()
    return sequences, _sequence_targets([(s - 10.0) / 3.0 for s in sequences]), rows, lengths


@pytest.fixture(scope="module")
def seq_fitted(seq_data):
    sequences, Y, _, _ = seq_data
    cache = {}

    def get(key):
        if key not in cache:
            params, post, n_outputs = SEQ_MODELS[key]
            y = Y[:, 0] if n_outputs == 1 else Y
            model = _fit(make_pipeline(SequenceScaler(), FastGRNNRegressor(**_params(**params))), sequences, y)
            assert model[-1].n_timesteps_ == SEQ_T
            cache[key] = _post(model, post)
        return cache[key]

    return get


def _assert_matches_unpadded(model, sequences, lengths, out):
    """Outputs on padded rows against the Python model on each sequence alone (no padding, T = its length)."""
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        _assert_close(model, out[rows], model.predict(np.stack([sequences[i] for i in rows])))


@needs_cc
@pytest.mark.parametrize("key", sorted(SEQ_MODELS))
def test_c_variable_length_matches_python(seq_fitted, seq_data, key, tmp_path):
    sequences, _, X, lengths = seq_data
    model = seq_fitted(key)
    exe, report = _build(model, str(tmp_path), "v_" + key)
    out = _run_c(exe, X, str(tmp_path))
    _assert_close(model, out, model.predict(X))
    _assert_matches_unpadded(model, sequences, lengths, out)
    assert report["scaler_bytes"] == 8 * D and report["scaler_layout"] == "per_channel"
    assert report["quantized"] == (SEQ_MODELS[key][1] is not None and "quantize" in SEQ_MODELS[key][1])


@needs_cc
def test_a_row_with_no_observed_step_gives_b_out(seq_fitted, tmp_path):
    """Documented in docs/export.md: no step read, h = 0, the outputs are b_out (Python rejects such a row)."""
    model = seq_fitted("guide")
    empty = np.full((1, SEQ_T * D), np.nan)
    b_out = np.float32(model[-1].weights_["b_out"])
    exe, _ = _build(model, str(tmp_path), "e")
    np.testing.assert_allclose(_run_c(exe, empty, str(tmp_path))[0], b_out, rtol=1e-6)
    pytest.importorskip("onnx")
    np.testing.assert_allclose(_run_onnx(model, empty)[0][0], b_out, rtol=1e-6)


@pytest.mark.parametrize("key", sorted(SEQ_MODELS))
def test_onnx_variable_length_matches_python(seq_fitted, seq_data, key):
    pytest.importorskip("onnx")
    sequences, _, X, lengths = seq_data
    model = seq_fitted(key)
    out, proto = _run_onnx(model, X)
    _assert_close(model, out, model.predict(X))
    _assert_matches_unpadded(model, sequences, lengths, out)
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Where") == SEQ_T and ops.count("IsNaN") == 1


# ------------------------------------------------------ folded models (fold="auto")

# name -> (kind, regressor parameters, post-fit step, number of targets); kind: "3d" a bare regressor fitted on a
# 3-D array, "varlen" Pipeline(SequenceScaler, regressor) on sequences of 30..70 steps, "standard"
# Pipeline(StandardScaler, regressor) on the NaN-padded rows of those sequences (per-column statistics)
FOLD_MODELS = {
    "3d_fastgrnn": ("3d", dict(), None, 1),
    "3d_fastrnn": ("3d", dict(cell="fastrnn"), None, 2),
    "3d_guide": ("3d", dict(cell="guide"), None, 2),
    "3d_low_rank_quantized": ("3d", dict(rank=2, u_rank=3), "quantize", 2),
    "3d_pruned": ("3d", dict(cell="guide"), "prune", 1),
    "varlen_fastgrnn": ("varlen", dict(), None, 2),
    "varlen_guide_quantized": ("varlen", dict(cell="guide"), "quantize", 1),
    "varlen_sparse_trained": ("varlen", dict(cell="fastrnn", w_sparsity=0.5, u_sparsity=0.7, epochs=6), None, 2),
    "standard_guide": ("standard", dict(cell="guide"), None, 2),
}


@pytest.fixture(scope="module")
def fold_data():
    rng = np.random.RandomState(2)
    X3 = _round32(rng.randn(N_ROWS, FOLD_T, FOLD_D))
    Y3 = np.column_stack([10.0 + 4.0 * X3[:, -8:, 0].sum(axis=1), 1e4 * np.tanh(X3[:, :5, 1].mean(axis=1))])
    lengths = rng.randint(30, FOLD_T + 1, size=N_ROWS)
    lengths[0] = FOLD_T
    # far from zero: a zero-fill before the scaler (raw 0, not standardized 0) would show
    sequences = [_round32(8.0 + 2.0 * rng.randn(n, FOLD_D)) for n in lengths]
    rows = pad_sequences(sequences).reshape(N_ROWS, -1)
    assert rows.shape == (N_ROWS, FOLD_T * FOLD_D)
    Ys = _sequence_targets([(s - 8.0) / 2.0 for s in sequences])
    return {"3d": (X3, Y3), "varlen": (sequences, Ys, rows, lengths)}


@pytest.fixture(scope="module")
def fold_fitted(fold_data):
    """``get(key) -> (model, rows)``: the fold="auto" model and the raw rows to compare on."""
    cache = {}

    def get(key):
        if key not in cache:
            kind, params, post, n_outputs = FOLD_MODELS[key]
            reg = FastGRNNRegressor(**_params(fold="auto", **params))
            if kind == "3d":
                X3, Y = fold_data["3d"]
                model, X = _fit(reg, X3, Y[:, 0] if n_outputs == 1 else Y), X3.reshape(N_ROWS, -1)
            else:
                sequences, Y, X, _ = fold_data["varlen"]
                y = Y[:, 0] if n_outputs == 1 else Y
                if kind == "varlen":
                    model = _fit(make_pipeline(SequenceScaler(), reg), sequences, y)
                else:
                    reg.set_params(n_timesteps=FOLD_T)
                    model = _fit(make_pipeline(StandardScaler(), reg), X, y)
            assert _regressor(model).fold_ == 3 and _regressor(model).n_timesteps_ == FOLD_T
            cache[key] = (_post(model, post), X)
        return cache[key]

    return get


@needs_cc
@pytest.mark.parametrize("key", sorted(FOLD_MODELS))
def test_c_folded_matches_python_and_reads_only_the_row(fold_fitted, fold_data, key, tmp_path, request):
    model, X = fold_fitted(key)
    # test_export's fixture: AddressSanitizer's flags when the compiler supports it here, else []
    exe, report = _build(model, str(tmp_path), "fo", asan=request.getfixturevalue("asan_flags"))
    expected = model.predict(X)
    # each row alone in a block of exactly T * D floats: AddressSanitizer (when available) fails on any read past it
    _assert_close(model, _run_c(exe, X, str(tmp_path)), expected)
    # ... and followed by huge values, which would change the outputs if read
    out = _run_c(exe, X, str(tmp_path), canaries=2 * 3 * FOLD_D)
    _assert_close(model, out, expected)
    kind = FOLD_MODELS[key][0]
    if kind == "3d":
        _assert_close(model, out, model.predict(fold_data["3d"][0]))  # the 3-D array the model was fitted on
    elif kind == "varlen":
        sequences, _, _, lengths = fold_data["varlen"]
        _assert_matches_unpadded(model, sequences, lengths, out)
    assert report["fold"] == 3 and report["matrices"][0]["shape"][0] == 3 * FOLD_D
    header = open(report["header"]).read()
    assert "#define FO_FOLD 3" in header and f"#define FO_N_FEATURES {FOLD_T * FOLD_D}" in header


@pytest.mark.parametrize("key", sorted(FOLD_MODELS))
def test_onnx_folded_matches_python(fold_fitted, fold_data, key):
    pytest.importorskip("onnx")
    model, X = fold_fitted(key)
    out, proto = _run_onnx(model, X)
    _assert_close(model, out, model.predict(X))
    if FOLD_MODELS[key][0] == "varlen":
        sequences, _, _, lengths = fold_data["varlen"]
        _assert_matches_unpadded(model, sequences, lengths, out)
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Pad") == 1 and set(ops) <= ONNX_OPS
    assert [o.name for o in proto.graph.output] == ["variable"]
