"""The streaming C API of export_c: ``<name>_reset``, ``<name>_step`` one timestep at a time, the state readers.

Every model is compiled with the strict flags of tests/test_export.py and fed
its rows step by step, each row for its own length; after every step the
outputs are read (``<name>_class`` / ``<name>_proba`` or ``<name>_output``) and
compared with the Python model on the row cut after that step (NaN-padded):
this reads folded models in the middle of a folded step and goes on. After
the sequence the harness feeds the rest of the NaN-padded row and two junk
steps, which must change nothing, and calls ``<name>_predict`` on the row,
whose outputs must be the streamed ones bit for bit.
"""

import functools
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from test_export import CC, CFLAGS, needs_cc

from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, SequenceScaler, export_c
from skfastgrnn._sequences import pad_sequences

N_ROWS = 240  # rows per model (>= 200), each also read after every one of its steps
T, D = 8, 3  # 8 is not a multiple of the fold 3: the last folded step is partial

# name -> (estimator class, parameters, data: "fixed" rows or "varlen" sequences, post-fit step, export options)
MODELS = {
    "fastgrnn": (FastGRNNClassifier, dict(), "fixed", None, {}),
    "fastrnn": (FastGRNNClassifier, dict(cell="fastrnn", update_nonlinearity="quantTanh"), "fixed", None, {}),
    "guide": (FastGRNNClassifier, dict(cell="guide"), "fixed", None, {}),
    "guide_low_rank": (FastGRNNClassifier, dict(cell="guide", rank=2, u_rank=3), "fixed", None, {}),
    "int8": (FastGRNNClassifier, dict(gate_nonlinearity="quantSigm"), "fixed", "quantize", {}),
    "pruned_csr": (FastGRNNClassifier, dict(cell="fastrnn", u_rank=4), "fixed", "prune", dict(sparse=True)),
    "pruned_int8": (FastGRNNClassifier, dict(), "fixed", "prune_quantize", {}),
    "one_step": (FastGRNNClassifier, dict(cell="guide", n_timesteps=1), "fixed", None, {}),
    "stacked": (FastGRNNClassifier, dict(cell="guide", hidden_dim=(6, 4)), "fixed", None, {}),
    "standard_scaler": (FastGRNNClassifier, dict(), "fixed", "standard_scaler", {}),
    "fold3_standard_scaler": (FastGRNNClassifier, dict(fold=3), "fixed", "standard_scaler", {}),
    "sequence_scaler": (FastGRNNClassifier, dict(cell="fastrnn"), "varlen", None, {}),
    "fold3_sequence_scaler_int8": (FastGRNNClassifier, dict(cell="guide", fold=3), "varlen", "quantize", {}),
    "fold3_stacked_low_rank": (
        FastGRNNClassifier,
        dict(hidden_dim=(8, 4), fold=3, rank=2),
        "varlen",
        None,
        {},
    ),
    "regressor_standard_scaler": (FastGRNNRegressor, dict(cell="guide"), "fixed", "standard_scaler", {}),
    "regressor_int8_pruned": (FastGRNNRegressor, dict(), "fixed", "prune_quantize", dict(sparse=True)),
    "regressor_fold3_stacked": (FastGRNNRegressor, dict(cell="fastrnn", hidden_dim=(6, 4), fold=3), "varlen", None, {}),
}


def _harness(name, regressor):
    """C ``main``: ``harness ROWS.f32 LENGTHS.i32``; per row ``P`` lines (after each step), ``E`` and ``R``."""
    P = name.upper()
    count = f"{P}_N_OUTPUTS" if regressor else f"{P}_N_CLASSES"
    if regressor:
        read_state = f"{name}_output(&s, out);"
        read_row = f"{name}_predict(x, out);"
    else:
        read_state = f'printf(" %d", {name}_class(&s));\n    {name}_proba(&s, out);'
        read_row = f'printf(" %d", {name}_predict(x));\n    {name}_predict_proba(x, out);'
    return f"""#include <stdio.h>
#include <stdint.h>

#include "{name}.h"

static float out[{count}];

static void show(const char *tag)
{{
    int k;
    printf("%s", tag);
    for (k = 0; k < {count}; ++k) {{
        printf(" %.9g", (double)out[k]);
    }}
    printf("\\n");
}}

int main(int argc, char **argv)
{{
    float x[{P}_N_FEATURES], junk[{P}_N_STEP_FEATURES];
    int32_t length;
    int t, j;
    {name}_state s;
    FILE *rows, *lengths;
    if (argc != 3 || (rows = fopen(argv[1], "rb")) == NULL || (lengths = fopen(argv[2], "rb")) == NULL) {{
        return 2;
    }}
    for (j = 0; j < {P}_N_STEP_FEATURES; ++j) {{
        junk[j] = 1000.0f;
    }}
    while (fread(x, sizeof(float), {P}_N_FEATURES, rows) == {P}_N_FEATURES) {{
        if (fread(&length, sizeof length, 1, lengths) != 1) {{
            return 3;
        }}
        {name}_reset(&s);
        for (t = 0; t < (int)length; ++t) {{
            {name}_step(&s, x + t * {P}_N_STEP_FEATURES);
            printf("P");
            {read_state}
            show("");
        }}
        /* the NaN padding, then junk: the sequence has ended or T steps are read, nothing changes */
        for (t = (int)length; t < {P}_N_TIMESTEPS; ++t) {{
            {name}_step(&s, x + t * {P}_N_STEP_FEATURES);
        }}
        {name}_step(&s, junk);
        {name}_step(&s, junk);
        printf("E");
        {read_state}
        show("");
        printf("R");
        {read_row}
        show("");
    }}
    return 0;
}}
"""


@pytest.fixture(scope="module")
def data():
    """``fixed``: (rows of T steps x D, y); ``varlen``: (sequences of 1..T steps x D, y)."""
    X, y = make_classification(
        n_samples=N_ROWS, n_features=T * D, n_informative=12, n_classes=3, n_clusters_per_class=1, random_state=3
    )
    rng = np.random.RandomState(3)
    lengths = rng.randint(1, T + 1, size=N_ROWS)
    lengths[:20] = T
    drift = np.array([[0.5, -0.5, 0.0], [-0.3, 0.2, 0.6], [0.0, 0.4, -0.4]])
    ys = rng.randint(3, size=N_ROWS)
    sequences = [
        (10.0 + 3.0 * rng.randn(n, D) + 2.0 * drift[c] * np.arange(n)[:, None]).astype(np.float32).astype(np.float64)
        for n, c in zip(lengths, ys, strict=True)
    ]
    return {"fixed": (X.astype(np.float32).astype(np.float64), y), "varlen": (sequences, ys)}


def _fit(key, data):
    """``(model, rows, lengths)``: the fitted model, its NaN-padded rows and each row's length."""
    cls, params, kind, post, _ = MODELS[key]
    params = {"hidden_dim": 8, "epochs": 3, "random_state": 0, **params}
    regressor = cls is FastGRNNRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "fixed":
            X, y = data["fixed"]
            params.setdefault("n_timesteps", T)
            n_steps = params["n_timesteps"]
            if post == "standard_scaler":
                X = (X * 3.0 + 5.0).astype(np.float32).astype(np.float64)  # far from standardized
            if regressor:
                y = np.column_stack([X[:, :3].sum(axis=1), X[:, -1] * 2.0 + 1.0])
            est = cls(**params)
            model = make_pipeline(StandardScaler(), est).fit(X, y) if post == "standard_scaler" else est.fit(X, y)
            rng = np.random.RandomState(5)
            lengths = rng.randint(1, n_steps + 1, size=len(X)) if n_steps > 1 else np.ones(len(X), int)
            rows = X.copy()
            step = X.shape[1] // n_steps
            for i, n in enumerate(lengths):
                rows[i, n * step :] = np.nan
        else:
            sequences, y = data["varlen"]
            if regressor:
                y = np.array([s[-1].sum() - s[0, 0] for s in sequences])
            model = make_pipeline(SequenceScaler(), cls(**params)).fit(sequences, y)
            lengths = np.array([len(s) for s in sequences])
            rows = pad_sequences(sequences).reshape(len(sequences), -1)
    est = model[-1] if isinstance(model, Pipeline) else model
    if post in ("prune", "prune_quantize"):
        est.prune(0.6)
    if post in ("quantize", "prune_quantize"):
        est.quantize()
    return model, rows, lengths


def _run(model, rows, lengths, directory, key):
    """The harness's ``P``, ``E`` and ``R`` tables (class index first for a classifier) and the export report."""
    name = "s_" + key
    est = model[-1] if isinstance(model, Pipeline) else model
    report = export_c(model, directory, name=name, **MODELS[key][4])
    main = os.path.join(directory, "main.c")
    with open(main, "w") as f:
        f.write(_harness(name, isinstance(est, FastGRNNRegressor)))
    exe = os.path.join(directory, name)
    build = subprocess.run([CC, *CFLAGS, "-o", exe, main, report["source"], "-lm"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    np.ascontiguousarray(rows, dtype=np.float32).tofile(os.path.join(directory, "rows.f32"))
    np.ascontiguousarray(lengths, dtype=np.int32).tofile(os.path.join(directory, "lengths.i32"))
    run = subprocess.run([exe, "rows.f32", "lengths.i32"], cwd=directory, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    tables = {"P": [], "E": [], "R": []}
    for line in run.stdout.splitlines():
        tag, *values = line.split()
        tables[tag].append(values)
    return {tag: np.array(v) for tag, v in tables.items()}, report


def _prefix_rows(rows, lengths, n_step_features):
    """Each row cut after each of its steps (NaN after), in the order the harness prints them."""
    out = []
    for row, n in zip(rows, lengths, strict=True):
        for t in range(1, n + 1):
            cut = row.copy()
            cut[t * n_step_features :] = np.nan
            out.append(cut)
    return np.array(out)


def _assert_matches(model, got, X):
    """``got``: the harness's text table; X: the rows it read, as Python sees them."""
    est = model[-1] if isinstance(model, Pipeline) else model
    values = got.astype(np.float64)
    if isinstance(est, FastGRNNRegressor):
        expected = np.asarray(model.predict(X)).reshape(len(X), -1)
        tol = 1e-5 * est.target_scale_ + 1e-6 * np.abs(est.target_mean_)
        assert values.shape == expected.shape
        assert (np.abs(values - expected).max(axis=0) <= tol).all()
    else:
        np.testing.assert_array_equal(est.classes_[values[:, 0].astype(int)], model.predict(X))
        np.testing.assert_allclose(values[:, 1:], model.predict_proba(X), rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def fitted(data):
    """``fitted(key)``: the model of ``key``, fitted once per module."""
    return functools.cache(lambda key: _fit(key, data))


@needs_cc
@pytest.mark.parametrize("key", sorted(MODELS))
def test_streamed_steps_match_python_and_predict(fitted, key, tmp_path):
    model, rows, lengths = fitted(key)
    est = model[-1] if isinstance(model, Pipeline) else model
    D_model = rows.shape[1] // est.n_timesteps_
    tables, report = _run(model, rows, lengths, str(tmp_path), key)
    assert len(tables["P"]) == lengths.sum() and len(tables["E"]) == len(tables["R"]) == N_ROWS
    # after every step (mid folded step included): the Python model on the row cut there
    _assert_matches(model, tables["P"], _prefix_rows(rows, lengths, D_model))
    # the padding and junk steps after the sequence change nothing, and predict on the row is the stream, exactly
    last = np.cumsum(lengths) - 1
    np.testing.assert_array_equal(tables["E"], tables["P"][last])
    np.testing.assert_array_equal(tables["R"], tables["E"])
    _assert_matches(model, tables["R"], rows)
    assert report["fold"] == est.fold_
    assert report["stream_state_bytes"] == 4 * (
        sum(np.atleast_1d(est.hidden_dim)) + (est.fold_ * D_model if est.fold_ > 1 else 0)
    )


def test_header_declares_the_streaming_api(fitted, tmp_path):
    model, _, _ = fitted("fold3_sequence_scaler_int8")
    report = export_c(model, tmp_path, name="sensor")
    header = open(report["header"]).read()
    for decl in (
        "} sensor_state;",
        "float h[8];",
        "float xs[9];",
        "void sensor_reset(sensor_state *s);",
        "void sensor_step(sensor_state *s, const float *x);",
        "int sensor_class(const sensor_state *s);",
        "void sensor_proba(const sensor_state *s, float *proba);",
    ):
        assert decl in header
    reg, _, _ = fitted("regressor_standard_scaler")
    header = open(export_c(reg, tmp_path, name="load")["header"]).read()
    assert "void load_output(const load_state *s, float *out);" in header and "load_class" not in header


def test_tables_are_in_program_memory_on_avr(fitted, tmp_path):
    """Every table is declared with <P>_FLASH and read through a <P>_READ_* macro (pgm_read_* on AVR)."""
    model, _, _ = fitted("pruned_int8")
    source = open(export_c(model, tmp_path, name="rom", sparse=True)["source"]).read()
    tables = [line for line in source.splitlines() if line.startswith("static const") and "[" in line]
    assert tables and all(" ROM_FLASH = {" in line for line in tables)
    for macro in ("ROM_READ_INT8(", "ROM_READ_FLOAT(", "ROM_READ_UINT8("):
        assert macro in source
    assert "#  define ROM_FLASH PROGMEM" in source and "#  define ROM_READ_FLOAT(v) pgm_read_float(&(v))" in source


# ------------------------------------------------------------------ AVR (simavr)

AVR_GCC, SIMAVR = shutil.which("avr-gcc"), shutil.which("simavr")
needs_avr = pytest.mark.skipif(
    AVR_GCC is None or SIMAVR is None,
    reason="no AVR toolchain: apt-get install gcc-avr avr-libc simavr (avr-gcc and simavr on PATH)",
)
AVR_ROWS = 100  # rows in the firmware's flash (the ATmega328P has 32 KB)


def _avr_harness(name, n_rows, rows, lengths, regressor):
    """Firmware for the ATmega328P: the rows in flash, each streamed and predicted, printed on UART0."""
    P = name.upper()
    count = f"{P}_N_OUTPUTS" if regressor else f"{P}_N_CLASSES"
    table = ",\n".join("{" + ", ".join(f"{float(np.float32(v))!r}f" for v in row) + "}" for row in rows)
    table = table.replace("nanf", "NAN")
    if regressor:
        stream, whole = f"{name}_output(&s, out);", f"{name}_predict(x, out);"
    else:
        stream = f'printf(" %d", {name}_class(&s));\n        {name}_proba(&s, out);'
        whole = f'printf(" %d", {name}_predict(x));\n        {name}_predict_proba(x, out);'
    return f"""#include <math.h>
#include <stdio.h>
#include <string.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

#include "{name}.h"

static const float X[{n_rows}][{P}_N_FEATURES] PROGMEM = {{{table}}};
static const unsigned char LENGTH[{n_rows}] PROGMEM = {{{", ".join(str(int(n)) for n in lengths)}}};

static int put(char c, FILE *f)
{{
    (void)f;
    loop_until_bit_is_set(UCSR0A, UDRE0);
    UDR0 = c;
    return 0;
}}

static FILE uart = FDEV_SETUP_STREAM(put, NULL, _FDEV_SETUP_WRITE);

static void show(const float *out)
{{
    int k;
    for (k = 0; k < {count}; ++k) {{
        printf(" %.8e", (double)out[k]);
    }}
    printf("\\n");
}}

int main(void)
{{
    float x[{P}_N_FEATURES], out[{count}];
    {name}_state s;
    int i, t;
    UBRR0L = 8;
    UCSR0B = 1 << TXEN0;
    UCSR0C = 3 << UCSZ00;
    stdout = &uart;
    for (i = 0; i < {n_rows}; ++i) {{
        int n = pgm_read_byte(&LENGTH[i]);
        memcpy_P(x, X[i], sizeof x);
        {name}_reset(&s);
        for (t = 0; t < n; ++t) {{
            {name}_step(&s, x + t * {P}_N_STEP_FEATURES);
        }}
        printf("S");
        {stream}
        show(out);
        printf("R");
        {whole}
        show(out);
    }}
    printf("DONE\\n");
    cli();
    for (;;) {{
        sleep_cpu();
    }}
}}
"""


@needs_avr
@pytest.mark.parametrize("key", ["fold3_stacked_low_rank", "pruned_csr", "pruned_int8", "regressor_fold3_stacked"])
def test_avr_streaming_in_simavr_matches_python(fitted, key, tmp_path):
    """Cross-compiled for the ATmega328P, run in simavr: the weights stay in flash, the outputs are Python's."""
    model, rows, lengths = fitted(key)
    rows, lengths = rows[:AVR_ROWS], lengths[:AVR_ROWS]
    est = model[-1] if isinstance(model, Pipeline) else model
    regressor = isinstance(est, FastGRNNRegressor)
    name = "m"
    report = export_c(model, tmp_path, name=name, **MODELS[key][4])
    main = tmp_path / "main.c"
    main.write_text(_avr_harness(name, len(rows), rows, lengths, regressor))
    elf = str(tmp_path / "m.elf")
    cmd = [AVR_GCC, "-mmcu=atmega328p", "-DF_CPU=16000000UL", "-Os", "-std=gnu99", "-Wall", "-Wextra", "-Werror"]
    cmd += ["-o", elf, str(main), report["source"], "-Wl,-u,vfprintf", "-lprintf_flt", "-lm"]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    # RAM: the weights and the scaler are not copied to .data (PROGMEM); only the class labels' strings are
    sizes = subprocess.run(["avr-size", "-A", elf], capture_output=True, text=True, check=True).stdout
    ram = sum(int(line.split()[1]) for line in sizes.splitlines() if line.split()[:1] in ([".data"], [".bss"]))
    # avr-libc's and the harness's stdio (about 30 bytes) and the labels (a pointer and a string each)
    labels = 0 if regressor else report["label_bytes"] + 2 * len(est.classes_)
    assert ram <= 64 + labels < report["weight_bytes"], sizes
    run = subprocess.run(
        [SIMAVR, "-m", "atmega328p", "-f", "16000000", elf], capture_output=True, text=True, timeout=300
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    lines = [line.strip().rstrip(".") for line in text.splitlines()]
    assert "DONE" in lines, text[-2000:]
    tables = {tag: np.array([line.split()[1:] for line in lines if line.startswith(tag + " ")]) for tag in "SR"}
    assert len(tables["S"]) == len(tables["R"]) == len(rows)
    np.testing.assert_array_equal(tables["S"], tables["R"])  # the same code: the same bits
    _assert_matches(model, tables["S"], rows)
