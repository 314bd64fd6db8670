"""Integer-only inference: ``IntegerModel`` (the numpy reference) and ``export_c(..., integer_only=True)``.

Every variant (each cell and nonlinearity, low rank, pruned in CSR, stacked,
fold with a partial last step, NaN-padded sequences, scalers, classifiers and
regressors) is compiled with the host compiler and the strict flags of
tests/test_export.py, and its integer scores must equal the Python reference's
bit for bit on 240 rows; the readers must agree too. With avr-gcc and simavr,
six of these variants (each cell, low rank, CSR, stacked, folded sequences; the
AVR assembly paths), the routing model and a 128-step x 9-feature hidden-32
model run on a simulated ATmega328P (integer scores identical to the
reference, time per prediction printed, RAM checked).
"""

import functools
import os
import re
import subprocess
import warnings

import numpy as np
import pytest
from c_harness import avr_firmware_source, integer_harness_source, xorshift_rows
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from test_export import CC, CFLAGS, needs_cc
from test_export_streaming import AVR_GCC, SIMAVR, needs_avr

from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, IntegerModel, SequenceScaler, export_c
from skfastgrnn._integer import int_softmax
from skfastgrnn._sequences import pad_sequences
from skfastgrnn.datasets import load_digits_sequences, make_routing

N_ROWS = 240
T, D = 8, 3  # 8 is not a multiple of the fold 3: the last folded step is partial

# name -> (estimator class, parameters, data ("fixed" rows, half NaN-padded; "varlen" sequences), post, export options)
MODELS = {
    "fastgrnn_scaler": (FastGRNNClassifier, dict(), "fixed", "standard_scaler", {}),
    "fastgrnn_quant_relu": (
        FastGRNNClassifier,
        dict(gate_nonlinearity="quantSigm4", update_nonlinearity="relu"),
        "fixed",
        None,
        {},
    ),
    "fastrnn_quanttanh": (FastGRNNClassifier, dict(cell="fastrnn", update_nonlinearity="quantTanh"), "fixed", None, {}),
    "guide_quantsigm": (FastGRNNClassifier, dict(cell="guide", gate_nonlinearity="quantSigm"), "fixed", None, {}),
    "guide_low_rank": (FastGRNNClassifier, dict(cell="guide", rank=2, u_rank=3), "fixed", None, {}),
    "fastgrnn_low_rank": (FastGRNNClassifier, dict(rank=2, u_rank=3), "fixed", "quantize", {}),
    "pruned_csr": (FastGRNNClassifier, dict(cell="fastrnn", u_rank=4), "fixed", "prune", dict(sparse=True)),
    "pruned_int8": (FastGRNNClassifier, dict(), "fixed", "prune_quantize", {}),
    "one_step": (FastGRNNClassifier, dict(cell="guide", n_timesteps=1), "fixed", None, {}),
    "stacked_32_16": (FastGRNNClassifier, dict(hidden_dim=(32, 16)), "fixed", None, {}),
    "stacked_guide": (FastGRNNClassifier, dict(cell="guide", hidden_dim=(6, 4)), "fixed", "standard_scaler", {}),
    "varlen_fastrnn": (FastGRNNClassifier, dict(cell="fastrnn"), "varlen", None, {}),
    "varlen_fold3_guide_int8": (FastGRNNClassifier, dict(cell="guide", fold=3), "varlen", "quantize", {}),
    "varlen_fold3_stacked_low_rank": (FastGRNNClassifier, dict(hidden_dim=(8, 4), fold=3, rank=2), "varlen", None, {}),
    "fold3_standard_scaler": (FastGRNNClassifier, dict(fold=3), "fixed", "standard_scaler", {}),
    "regressor_guide_scaler": (FastGRNNRegressor, dict(cell="guide"), "fixed", "standard_scaler", {}),
    "regressor_pruned_int8": (FastGRNNRegressor, dict(), "fixed", "prune_quantize", dict(sparse=True)),
    "regressor_varlen_fold3_stacked": (
        FastGRNNRegressor,
        dict(cell="fastrnn", hidden_dim=(6, 4), fold=3),
        "varlen",
        None,
        {},
    ),
}


@pytest.fixture(scope="module")
def data():
    """``fixed``: rows of T steps x D and 3 classes; ``varlen``: sequences of 1..T steps."""
    rng = np.random.RandomState(3)
    y = rng.randint(3, size=N_ROWS)
    X = rng.randn(N_ROWS, T, D) + 0.8 * np.eye(3)[y][:, None, :] * np.linspace(0.2, 1.5, T)[None, :, None]
    X = X.reshape(N_ROWS, -1).astype(np.float32).astype(np.float64)
    lengths = rng.randint(1, T + 1, size=N_ROWS)
    lengths[:20] = T
    drift = np.array([[0.5, -0.5, 0.0], [-0.3, 0.2, 0.6], [0.0, 0.4, -0.4]])
    ys = rng.randint(3, size=N_ROWS)
    sequences = [
        (10.0 + 3.0 * rng.randn(n, D) + 2.0 * drift[c] * np.arange(n)[:, None]).astype(np.float32).astype(np.float64)
        for n, c in zip(lengths, ys, strict=True)
    ]
    return {"fixed": (X, y), "varlen": (sequences, ys)}


def _fit(key, data):
    """``(model, rows)``: the fitted model and its rows as C reads them (NaN-padded after each end)."""
    cls, params, kind, post, _ = MODELS[key]
    params = {"hidden_dim": 8, "epochs": 3, "random_state": 0, **params}
    regressor = cls is FastGRNNRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "fixed":
            X, y = data["fixed"]
            n_steps = params.setdefault("n_timesteps", T)
            if post == "standard_scaler":
                X = (X * 3.0 + 5.0).astype(np.float32).astype(np.float64)  # far from standardized
            if regressor:
                y = np.column_stack([X[:, :3].sum(axis=1), X[:, -1] * 2.0 + 1.0])
            est = cls(**params)
            model = make_pipeline(StandardScaler(), est).fit(X, y) if post == "standard_scaler" else est.fit(X, y)
            lengths = np.random.RandomState(5).randint(1, n_steps + 1, size=len(X))
            rows = X.copy()
            step = X.shape[1] // n_steps
            for i, n in enumerate(lengths[: len(X) // 2]):  # half the rows are padded sequences
                rows[i, n * step :] = np.nan
        else:
            sequences, y = data["varlen"]
            if regressor:
                y = np.array([s[-1].sum() - s[0, 0] for s in sequences])
            model = make_pipeline(SequenceScaler(), cls(**params)).fit(sequences, y)
            rows = pad_sequences(sequences).reshape(len(sequences), -1)
    est = model[-1] if isinstance(model, Pipeline) else model
    if post in ("prune", "prune_quantize"):
        est.prune(0.6)
    if post in ("quantize", "prune_quantize"):
        est.quantize()
    return model, rows


@pytest.fixture(scope="module")
def fitted(data):
    """``fitted(key)``: the model of ``key``, fitted once per module."""
    return functools.cache(lambda key: _fit(key, data))


def _build(model, directory, name, options=None):
    """Export integer-only, compile with the integer harness; returns (executable, report)."""
    report = export_c(model, directory, name=name, integer_only=True, **(options or {}))
    regressor = isinstance(model[-1] if isinstance(model, Pipeline) else model, FastGRNNRegressor)
    main = os.path.join(directory, f"main_{name}.c")
    with open(main, "w") as f:
        f.write(integer_harness_source(name, regressor))
    exe = os.path.join(directory, name)
    build = subprocess.run([CC, *CFLAGS, "-o", exe, main, report["source"]], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    return exe, report


def _run(exe, rows, directory):
    """The harness's three columns: scores (int), classes (int, maybe empty), reader floats."""
    path = os.path.join(directory, "rows.f32")
    np.ascontiguousarray(rows, dtype=np.float32).tofile(path)
    run = subprocess.run([exe, path], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    parts = [line.split("|") for line in run.stdout.splitlines()]
    scores = np.array([[int(v) for v in p[0].split()] for p in parts])
    classes = np.array([[int(v) for v in p[1].split()] for p in parts])
    floats = np.array([[np.float32(v) for v in p[2].split()] for p in parts])
    return scores, classes, floats


@needs_cc
@pytest.mark.parametrize("key", sorted(MODELS))
def test_c_equals_python_integer_reference_bit_for_bit(fitted, key, tmp_path):
    model, rows = fitted(key)
    exe, report = _build(model, str(tmp_path), "q_" + key, MODELS[key][4])
    scores, classes, floats = _run(exe, rows, str(tmp_path))
    device = IntegerModel(model)
    assert len(rows) >= 100
    np.testing.assert_array_equal(scores, device.scores(rows))  # identical integers
    streamed, whole = floats[:, ::2], floats[:, 1::2]
    np.testing.assert_array_equal(streamed, whole)  # <name>_predict on the row is the stream
    if device.is_regressor:
        np.testing.assert_array_equal(streamed, device.network.outputs(scores))
        np.testing.assert_allclose(device.predict(rows).reshape(len(rows), -1), streamed, rtol=1e-6)
    else:
        np.testing.assert_array_equal(classes[:, 0], np.argmax(scores, axis=1))
        np.testing.assert_array_equal(classes[:, 1], classes[:, 0])
        np.testing.assert_array_equal(device.classes_[classes[:, 0]], device.predict(rows))
        np.testing.assert_array_equal(streamed, int_softmax(scores))
    assert report["integer_only"] and report["fold"] == device.network.fold


def test_integer_reference_stays_close_to_the_float_model(fitted, data):
    """Not a bit-level check: the quantized, fixed-point model predicts like the float model it comes from."""
    for key in ("fastgrnn_scaler", "guide_low_rank", "stacked_32_16", "varlen_fastrnn", "regressor_guide_scaler"):
        model, rows = fitted(key)
        device = IntegerModel(model)
        if device.is_regressor:
            est = model[-1]
            err = np.abs(device.predict(rows) - model.predict(rows)).max(axis=0)
            assert (err < 0.05 * est.target_scale_).all(), (key, err)
        else:
            assert (device.predict(rows) == model.predict(rows)).mean() >= 0.95, key


@needs_cc
def test_integer_section_has_no_float_and_no_libm(fitted, tmp_path):
    """After the input is quantized: no float, no double, no math.h; the object file needs nothing from libm."""
    for key in ("fastgrnn_scaler", "guide_low_rank", "regressor_varlen_fold3_stacked"):
        model, _ = fitted(key)
        report = export_c(model, tmp_path, name="s", integer_only=True)
        source = open(report["source"]).read()
        header = open(report["header"]).read()
        assert "math.h" not in source + header and "NAN" not in source
        start = source.index("/* ---- integer-only section: no float from here ---- */")
        stop = source.index("/* ---- end of the integer-only section")
        body = re.sub(r"/\*.*?\*/", "", source[start:stop], flags=re.S)  # the code, without its comments
        assert not re.search(r"\b(float|double)\b", body), re.findall(r".*\b(?:float|double)\b.*", body)[:3]
        tail = source[stop:]
        assert "_advance(" in tail and "_step(" in tail  # the float part only quantizes and reads
        obj = str(tmp_path / "s.o")
        subprocess.run([CC, *CFLAGS, "-c", "-o", obj, report["source"]], check=True, capture_output=True)
        undefined = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True).stdout.split()
        assert not [u for u in undefined if u not in ("U",)], undefined


def test_quantized_model_is_used_as_is_and_a_float_model_is_not_changed(fitted):
    model, _ = fitted("pruned_int8")
    est = model
    int8, _ = est.network_.quantization
    device = IntegerModel(model)
    np.testing.assert_array_equal(device.network.layers[0].matrices["W"].q, int8["W"])
    np.testing.assert_array_equal(device.network.W_out.q, int8["W_out"])
    float_model, _ = fitted("guide_low_rank")
    before = float_model.network_.parameters.copy()
    device = IntegerModel(float_model)
    assert float_model.network_.quantization is None
    np.testing.assert_array_equal(float_model.network_.parameters, before)
    quantized = IntegerModel(_copy_quantized(float_model))
    np.testing.assert_array_equal(quantized.scores(np.zeros((3, T * D))), device.scores(np.zeros((3, T * D))))


def _copy_quantized(model):
    import copy

    other = copy.deepcopy(model)
    other.quantize()
    return other


def test_api_and_clear_errors(fitted, tmp_path):
    model, rows = fitted("fastgrnn_scaler")
    device = IntegerModel(model)
    proba = device.predict_proba(rows)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(device.decision_function(rows) * 4096, device.scores(rows))
    assert 0.0 <= device.score(rows[:50], model.predict(rows[:50])) <= 1.0
    X3 = rows.reshape(len(rows), T, D)[:5]
    np.testing.assert_array_equal(device.scores(X3), device.scores(rows[:5]))  # 3-D input
    with pytest.raises(ValueError, match="model reads rows of 24"):
        device.predict(np.zeros((2, 7)))
    with pytest.raises(TypeError, match="integer_only must be True or False"):
        export_c(model, tmp_path, integer_only="yes")
    with pytest.raises(ValueError, match="input_range must be in"):
        IntegerModel(model, input_range=0.5)
    reg, _ = fitted("regressor_guide_scaler")
    with pytest.raises(AttributeError, match="for classifiers"):
        IntegerModel(reg).predict_proba(rows)
    with pytest.raises(NotFittedError):
        IntegerModel(FastGRNNClassifier())
    # weights far too large for the int16 input range: a clear refusal, naming the way out
    X, y = make_routing(200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastGRNNClassifier(hidden_dim=4, epochs=1, random_state=0).fit(X, y)
    clf.network_.weights["W"][...] *= 1000.0
    with pytest.raises(ValueError, match="standardize the inputs"):
        export_c(clf, tmp_path, integer_only=True)


def test_accuracy_within_one_point_of_fp32():
    """The routing data and the digits sequence task: integer accuracy within 1 point of the float model's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = make_routing(5000, random_state=0)
        routing = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=16, random_state=0))
        routing.fit(X[:3500], y[:3500])
        Xd, yd = load_digits_sequences()  # 8 steps of 8 pixels
        order = np.random.RandomState(0).permutation(len(yd))
        Xd, yd = Xd[order], yd[order]
        digits = make_pipeline(
            SequenceScaler(n_timesteps=8), FastGRNNClassifier(hidden_dim=32, n_timesteps=8, epochs=30, random_state=0)
        )
        digits.fit(Xd[:1200], yd[:1200])
    for model, Xt, yt in ((routing, X[3500:], y[3500:]), (digits, Xd[1200:], yd[1200:])):
        fp32, integer = model.score(Xt, yt), IntegerModel(model).score(Xt, yt)
        print(f"fp32 {fp32:.4f} integer {integer:.4f}")
        assert abs(fp32 - integer) <= 0.01


# ------------------------------------------------------------------ AVR (simavr)

AVR_ROWS = 100  # routing rows in the firmware's flash
AVR_LONG_ROWS = 12  # 128-step rows generated on the device (each about 0.4 s of simulated time)


def _avr_run(model, directory, rows=None, n_random=0, integer=True, options=None):
    """Cross-compile the export and the firmware for the ATmega328P, run it in simavr.

    Returns ``(lines, ms_per_prediction, sizes)``: the ``C`` lines (class, then the integer scores),
    Timer1's mean time per prediction (reset, every step, class) and the ELF's section sizes.
    """
    name = "m"
    report = export_c(model, directory, name=name, integer_only=integer, **(options or {}))
    main = os.path.join(directory, "main.c")
    with open(main, "w") as f:
        f.write(avr_firmware_source(name, integer, rows, n_random))
    elf = os.path.join(directory, "m.elf")
    cmd = [AVR_GCC, "-mmcu=atmega328p", "-DF_CPU=16000000UL", "-Os", "-std=gnu99", "-Wall", "-Wextra", "-Werror"]
    cmd += ["-o", elf, main, report["source"], *([] if integer else ["-lm"])]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    listing = subprocess.run(["avr-size", "-A", elf], capture_output=True, text=True, check=True).stdout
    sizes = {line.split()[0]: int(line.split()[1]) for line in listing.splitlines() if line.startswith(".")}
    run = subprocess.run(
        [SIMAVR, "-m", "atmega328p", "-f", "16000000", elf], capture_output=True, text=True, timeout=600
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    lines = [line.strip().rstrip(".") for line in text.splitlines()]
    assert "DONE" in lines, text[-2000:]
    ticks, n = (int(v) for v in next(line for line in lines if line.startswith("T ")).split()[1:])
    found = np.array([[int(v) for v in line.split()[1:]] for line in lines if line.startswith("C ")])
    return found, ticks * 4e-3 / n, sizes, report


def _ram(sizes):
    return sizes.get(".data", 0) + sizes.get(".bss", 0)


def _flash(sizes):
    return sizes.get(".text", 0) + sizes.get(".data", 0)


@needs_avr
def test_routing_model_on_the_atmega328p(tmp_path):
    """1 step x 5 features, hidden 16: the device's classes and scores are the Python reference's, bit for bit."""
    X, y = make_routing(3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=16, random_state=0, epochs=20))
        model.fit(X[:2000], y[:2000])
    rows = X[2000 : 2000 + AVR_ROWS]
    found, ms, sizes, report = _avr_run(model, str(tmp_path), rows=rows)
    expected = IntegerModel(model).scores(rows)
    np.testing.assert_array_equal(found[:, 1:], expected)
    np.testing.assert_array_equal(found[:, 0], np.argmax(expected, axis=1))
    print(
        f"\nrouting, integer-only, ATmega328P: {ms:.3f} ms per prediction, flash {_flash(sizes)} B, RAM {_ram(sizes)} B"
    )
    # RAM: avr-libc's and the harness's stdio, the class labels; every table is in flash
    assert _ram(sizes) <= 64 + report["label_bytes"] + 2 * len(model.classes_), sizes
    fp32, ms32, sizes32, _ = _avr_run(model, str(tmp_path), rows=rows, integer=False)  # for comparison only
    assert (model.classes_[fp32[:, 0]] == model.predict(rows.astype(np.float32).astype(np.float64))).all()
    print(f"routing, fp32, ATmega328P: {ms32:.3f} ms per prediction, flash {_flash(sizes32)} B, RAM {_ram(sizes32)} B")


#: classifiers of MODELS cross-compiled for the ATmega328P: each cell, low rank, CSR, stacked, folded sequences
AVR_VARIANTS = (
    "fastgrnn_quant_relu",
    "fastrnn_quanttanh",
    "guide_low_rank",
    "pruned_csr",
    "stacked_32_16",
    "varlen_fold3_stacked_low_rank",
)


@needs_avr
@pytest.mark.parametrize("key", AVR_VARIANTS)
def test_variants_on_the_atmega328p(fitted, key, tmp_path):
    """The AVR assembly paths (dense and CSR products, Q16 and Q13 products) give the reference's integers."""
    model, rows = fitted(key)
    est = model[-1] if isinstance(model, Pipeline) else model
    rows = rows[:40]
    found, _, _, _ = _avr_run(model, str(tmp_path), rows=rows, options=MODELS[key][4])
    np.testing.assert_array_equal(found[:, 1:], IntegerModel(model).scores(rows))
    assert est.classes_.size == found.shape[1] - 1


@needs_avr
def test_long_sequence_model_on_the_atmega328p(tmp_path):
    """128 steps x 9 features, hidden 32, streamed: RAM <= 1 KB, classes of the reference, >= 98 % of fp32's."""
    rng = np.random.RandomState(0)
    X = rng.randn(600, 128, 9).astype(np.float32)
    y = rng.randint(3, size=600)
    for c in range(3):
        X[y == c, :, c] += 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(SequenceScaler(), FastGRNNClassifier(hidden_dim=32, epochs=3, random_state=0)).fit(X, y)
    found, ms, sizes, report = _avr_run(model, str(tmp_path), n_random=AVR_LONG_ROWS)
    device = IntegerModel(model)
    rows = xorshift_rows(AVR_LONG_ROWS, 128 * 9)
    np.testing.assert_array_equal(found[:, 1:], device.scores(rows))
    print(
        f"\n128 x 9, hidden 32, integer-only on ATmega328P: {ms:.1f} ms per 128-step sequence, "
        f"flash {_flash(sizes)} B, RAM {_ram(sizes)} B (+ stack: state {report['stream_state_bytes']} B)"
    )
    assert _ram(sizes) <= 1024, sizes
    fp32, ms32, sizes32, _ = _avr_run(model, str(tmp_path), n_random=2, integer=False)  # for comparison only
    assert (model.classes_[fp32[:, 0]] == model.predict(rows[:2])).all()
    print(f"128 x 9, hidden 32, fp32, ATmega328P: {ms32:.1f} ms, flash {_flash(sizes32)} B, RAM {_ram(sizes32)} B")
    many = xorshift_rows(1000, 128 * 9, seed=12345)
    agreement = (device.predict(many) == model.predict(many)).mean()
    print(f"integer / fp32 class agreement on 1000 random sequences: {agreement:.3f}")
    assert agreement >= 0.98


def test_channels_first_pipeline_reads_n_d_t():
    """A Pipeline starting with SequenceScaler(channels_first=True) predicts (n, D, T): IntegerModel reads it so."""
    rng = np.random.RandomState(1)
    y = rng.randint(3, size=150)
    X = rng.randn(150, 6, 3) + 0.8 * np.eye(3)[y][:, None, :]  # (n, T, D), T != D
    X_cf = np.swapaxes(X, 1, 2)  # (n, D, T): aeon's layout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(SequenceScaler(channels_first=True), FastGRNNClassifier(hidden_dim=8, epochs=3))
        model.fit(X_cf, y)
    device = IntegerModel(model)
    assert device.channels_first_ and not IntegerModel(model[-1]).channels_first_
    rows = X.reshape(len(X), -1)  # 2-D rows are [x_1 .. x_T] whatever the 3-D layout
    np.testing.assert_array_equal(device.scores(X_cf), device.scores(rows))
    np.testing.assert_array_equal(device.scores([a[:, :4] for a in X_cf[:5]]), device.scores(_nan_after(rows[:5], 12)))
    assert (device.predict(X_cf) == model.predict(X_cf)).mean() >= 0.95
    with pytest.raises(ValueError, match=r"3-D arrays \(n, 3, T\)"):
        device.predict(np.zeros((2, 7)))


def _nan_after(rows, n):
    out = rows.copy()
    out[:, n:] = np.nan
    return out
