"""Export a fitted model to C99 source for microcontrollers (:func:`export_c`).

``<name>.h`` declares the API and ``<name>.c`` holds the weights as ``static
const`` arrays and the forward pass; no dynamic memory, no global mutable
state (the functions are reentrant), only ``<math.h>`` (``tanhf``, ``expf``,
the ``isnan`` macro) and ``<stdint.h>``. Each weight matrix is stored
transposed, one row per output, so every output is a dot product over
contiguous memory, either dense or CSR-like (row pointers, column indices,
non-zero values), and in float32 or int8 with one float scale (``y_j = scale *
sum_i q_ji x_i``: the int8 values are converted on the fly and the scale
applied once per output). The scaler is applied in C as ``(x - mean) / scale``
rather than folded into W (a StandardScaler's statistics differ per timestep,
so folding would need T copies of W, and would break the int8 weights'
exactness): with ``D`` values each when they are the same at every step (a
SequenceScaler), else one per input column (``T * D``).

The tables are ``static const``, in program memory on AVR (``PROGMEM``, read
through ``pgm_read_*`` macros; plain reads elsewhere).

``integer_only=True`` writes the same API with integer arithmetic inside: the
writer is :mod:`skfastgrnn._export_c_int`, the format and its numpy reference
:mod:`skfastgrnn._integer` (:class:`skfastgrnn.IntegerModel`).

This module writes what every cell shares (the matrices, the header, the
public API); the streaming core (``<name>_state``, ``_reset``, ``_step``, the
output layer; ``_predict`` steps through a row with it) comes from
:mod:`skfastgrnn._export_c_stream`; the layers of a stack, each one's input
projection and its state, from :mod:`skfastgrnn._export_c_layers`; each
cell's step is written by its class (``c_step`` and its helpers, in
``skfastgrnn/_cells/<cell>.py``) and each nonlinearity's C function comes from
:data:`skfastgrnn._cells.C_NONLINEARITIES`. What differs between a classifier
and a regressor is the public API on top of the shared forward pass
(:class:`_ClassifierAPI`: class labels, argmax and softmax;
:class:`_RegressorAPI`: the outputs written to the caller's buffer). What the
network is comes from :func:`skfastgrnn._export_common.describe_network`.
"""

import os

from ._cells import C_NONLINEARITIES
from ._export_c_int import render_integer
from ._export_c_layers import c_array as _c_array
from ._export_c_layers import c_float as _c_float
from ._export_c_layers import c_string as _c_string
from ._export_c_layers import (
    c_symbol,
    csr_parts,
    forward_buffers,
    layer_constants,
    rom_macros,
    rom_read,
)
from ._export_c_layers import check_c_name as _check_c_name
from ._export_c_layers import matrix_sizes as _matrix_sizes
from ._export_c_stream import state_typedef, stream_declarations, stream_floats, stream_source
from ._export_common import describe_network
from ._files import atomic_write, prepare_export_directory
from ._integer_model import describe_integer
from ._version import __version__


def _c_matrix(p, m, fmt):
    """Declarations and ``static void <p>_mv_<name>(const float *x, float *y)`` computing ``y = x M``."""
    n_in, n_out = m.values.shape
    stored = m.values.T if m.int8 is None else m.int8.T  # one row per output
    ctype, value_fmt = ("float", _c_float) if m.int8 is None else ("int8_t", str)
    base = f"{p}_{c_symbol(m.name)}"
    kind = f"{fmt} {'int8 times ' + base + '_scale' if m.int8 is not None else 'float32'}"
    lines = [f"/* {m.name} ({n_in} x {n_out}, y = x {m.name}): stored transposed, one row per output; {kind} */"]
    if m.int8 is not None:
        lines.append(f"static const float {base}_scale = {_c_float(m.scale)};")
    # int8 products are summed unscaled and the scale applied once per output
    term = f"{'(float)' if m.int8 is not None else ''}{rom_read(p, ctype, 'v[i]')} * x[i]"
    result = f"acc * {base}_scale" if m.int8 is not None else "acc"
    if fmt == "dense":
        decl = _c_array(ctype, base, stored.ravel(), value_fmt, p)
        body = [
            "    int i, j;",
            f"    for (j = 0; j < {n_out}; ++j) {{",
            f"        const {ctype} *v = {base} + j * {n_in};",
            "        float acc = 0.0f;",
            f"        for (i = 0; i < {n_in}; ++i) {{",
            f"            acc += {term};",
            "        }",
            f"        y[j] = {result};",
            "    }",
        ]
    else:
        ptr, cols, values, (ptr_type, _), (idx_type, _) = csr_parts(stored)
        decl = _c_array(ptr_type, base + "_ptr", ptr, str, p)
        decl += _c_array(idx_type, base + "_idx", cols, str, p)
        decl += _c_array(ctype, base + "_val", values, value_fmt, p)
        term = term.replace("v[i]", f"{base}_val[k]").replace("x[i]", f"x[{rom_read(p, idx_type, base + '_idx[k]')}]")
        start, stop = (rom_read(p, ptr_type, f"{base}_ptr[j{d}]") for d in ("", " + 1"))
        body = [
            "    int j, k;",
            f"    for (j = 0; j < {n_out}; ++j) {{",
            "        float acc = 0.0f;",
            f"        for (k = (int){start}; k < (int){stop}; ++k) {{",
            f"            acc += {term};",
            "        }",
            f"        y[j] = {result};",
            "    }",
        ]
    lines += decl
    lines += ["", f"static void {p}_mv_{c_symbol(m.name)}(const float *x, float *y)", "{", *body, "}"]
    return lines


class _CWriter:
    """Renders ``<name>.h`` and ``<name>.c`` and counts their bytes."""

    def __init__(self, net, name, sparse):
        self.net, self.p, self.P = net, name, name.upper()
        self.cell = net.cell_class
        self.formats = {}
        self.sizes = {}
        for mname, m in net.matrices.items():
            dense, csr = _matrix_sizes(m)
            self.sizes[mname] = (dense, csr)
            use_csr = sparse is True or (sparse == "auto" and csr < dense)
            self.formats[mname] = "csr" if use_csr else "dense"

    # ---------------------------------------------------------- pieces

    def _layer_defines(self):
        """A stack's header lines before ``<P>_HIDDEN_DIM`` (none for one layer)."""
        net, P = self.net, self.P
        if net.n_layers == 1:
            return []
        dims = ", ".join(str(h) for h in net.hidden_dims)
        return [
            f"/* {net.n_layers} stacked layers of {dims} hidden units, one state vector each on the stack;",
            f" * {P}_HIDDEN_DIM is the last layer's, the state the output layer reads */",
            f"#define {P}_N_LAYERS {net.n_layers}",
        ]

    # ---------------------------------------------------------- files

    def render(self, package_version):
        net, p, P = self.net, self.p, self.P
        api = (_RegressorAPI if net.is_regressor else _ClassifierAPI)(net, p, P)
        data = []
        for mname, m in net.matrices.items():
            data += _c_matrix(p, m, self.formats[mname]) + [""]
        other_bytes = 0  # biases and cell scalars, float32
        for vname, v in net.vectors.items():
            data += _c_array("float", f"{p}_{c_symbol(vname)}", v, _c_float, p) + [""]
            other_bytes += 4 * v.size
        constants, constant_bytes = layer_constants(net, p, _c_float)
        data += [*constants, ""]
        other_bytes += constant_bytes
        scaler_bytes = 0
        for sname, v in (("mean", net.mean), ("scale", net.scale)):
            if v is not None:
                data += _c_array("float", f"{p}_{sname}", v, _c_float, p) + [""]
                scaler_bytes += 4 * v.size

        used = sorted({net.update} | ({net.gate} if self.cell.uses_gate else set()))
        funcs = []
        for f in used:
            funcs += [f"static float {p}_{f}(float v)", "{", f"    {C_NONLINEARITIES[f]}", "}", ""]

        chosen = {n: s[0] if self.formats[n] == "dense" else s[1] for n, s in self.sizes.items()}
        report = {
            "weight_bytes": sum(chosen.values()) + other_bytes,
            "dense_weight_bytes": sum(s[0] for s in self.sizes.values()) + other_bytes,
            "csr_weight_bytes": sum(s[1] for s in self.sizes.values()) + other_bytes,
            "scaler_bytes": scaler_bytes,
            "scaler_layout": None if not scaler_bytes else ("per_channel" if net.scaler_per_channel else "per_column"),
            "label_bytes": api.label_bytes,
            # the forward pass's buffers plus what the public functions add on the stack
            "state_bytes": 4 * (sum(forward_buffers(net).values()) + api.stack_floats),
            # the floats of <name>_state (the streaming state), its two ints not counted
            "stream_state_bytes": 4 * sum(stream_floats(net).values()),
            "quantized": net.quantized,
            "fold": net.fold,
            "matrices": [
                {
                    "name": n,
                    "shape": tuple(m.values.shape),
                    "dtype": "int8" if m.int8 is not None else "float32",
                    "nnz": m.nnz,
                    "format": self.formats[n],
                    "dense_bytes": self.sizes[n][0],
                    "csr_bytes": self.sizes[n][1],
                }
                for n, m in net.matrices.items()
            ],
            "omitted": list(net.omitted),
        }
        summary = _summary_lines(net, report, api.counted)

        if not scaler_bytes:
            scaler_note = f"no scaler: pass rows as the {api.kind} saw them"
        elif net.scaler_per_channel:
            scaler_note = "the scaler (D statistics, shared by every step) is applied inside: pass raw rows"
        else:
            scaler_note = "the scaler (one mean and scale per column) is applied inside: pass raw rows"
        fold_lines = []
        if net.fold > 1:
            partial = ", the last one partial: its missing values are 0" if net.last_inputs < net.n_inputs else ""
            fold_lines = [
                f"/* the network reads {P}_FOLD consecutive timesteps as one step of {P}_FOLD * D values",
                f" * ({net.n_steps} steps{partial}); it folds the row itself: pass raw rows */",
                f"#define {P}_FOLD {net.fold}",
            ]
        header = [
            f"/* {p}.h: FastGRNN {api.kind} exported by skfastgrnn {package_version} (export_c). C99, no malloc,",
            " * reentrant, needs only libm. Generated file: re-export rather than edit.",
            " *",
            *[f" * {line}" for line in summary],
            " */",
            f"#ifndef {P}_H",
            f"#define {P}_H",
            "",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            "",
            f"#define {P}_N_TIMESTEPS {net.n_timesteps}",
            f"#define {P}_N_STEP_FEATURES {net.n_step_features}",
            *fold_lines,
            f"/* a row is [x_1 .. x_T], T * D floats; {scaler_note}.",
            " * A shorter sequence: fill the steps after its end with NAN (math.h). Reading stops at the first",
            *(
                [
                    " * step whose first value is NaN and the state stays as it is: the output is the Python model's",
                    " * for the NaN-padded row. */",
                ]
                if net.fold == 1
                else [
                    f" * folded step (timesteps 1, 1 + {net.fold}, 1 + {2 * net.fold}, ...) whose first value is NaN"
                    " and the state stays",
                    " * as it is; NaN inside an observed folded step reads as 0: the output is the Python model's for",
                    " * the NaN-padded row. */",
                ]
            ),
            f"#define {P}_N_FEATURES {net.n_features}",
            api.count_define,
            *self._layer_defines(),
            f"#define {P}_HIDDEN_DIM {net.hidden_dim}",
            "",
            *api.declarations(),
            *state_typedef(net, p, P),
            *stream_declarations(net, p, P),
            *api.stream_declarations(),
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            f"#endif /* {P}_H */",
            "",
        ]
        source = [
            f"/* {p}.c: generated by skfastgrnn {package_version} (export_c); see {p}.h. */",
            "#include <math.h>",
            "#include <stdint.h>",
            "",
            f'#include "{p}.h"',
            "",
            *rom_macros(p),
            "",
            *api.data(),
            *data,
            *funcs,
            *stream_source(net, p),
            *api.definitions(),
        ]
        return "\n".join(header), "\n".join(source), report


class _ClassifierAPI:
    """A classifier's public C API over ``<p>_forward`` (a row) and ``<p>_logits`` (a streaming state)."""

    kind = "classifier"

    def __init__(self, net, p, P):
        self.net, self.p, self.P = net, p, P
        self.count_define = f"#define {P}_N_CLASSES {net.n_classes}"
        self.counted = f"{net.n_classes} classes"
        self.label_bytes = sum(len(str(c).encode("utf-8")) + 1 for c in net.classes)
        self.stack_floats = net.n_classes  # predict's logits (predict_proba uses proba)

    def declarations(self):
        """The header's lines after the defines."""
        p, P = self.p, self.P
        return [
            f"/* the class labels as text, in the order of the indices {p}_predict returns */",
            f"extern const char *const {p}_class_labels[{P}_N_CLASSES];",
            "",
            f"/* index of the most probable class of the row x ({P}_N_FEATURES floats) */",
            f"int {p}_predict(const float *x);",
            "",
            f"/* class probabilities of the row x, written to proba ({P}_N_CLASSES floats) */",
            f"void {p}_predict_proba(const float *x, float *proba);",
            "",
        ]

    def stream_declarations(self):
        """The header's readers of a streaming state."""
        p, P = self.p, self.P
        return [
            "/* index of the most probable class of the timesteps read so far; the state does not change */",
            f"int {p}_class(const {p}_state *s);",
            "",
            f"/* class probabilities of the timesteps read so far, written to proba ({P}_N_CLASSES floats) */",
            f"void {p}_proba(const {p}_state *s, float *proba);",
            "",
        ]

    def data(self):
        """The source's first definitions: the class labels."""
        labels = ", ".join(_c_string(c) for c in self.net.classes)
        return [f"const char *const {self.p}_class_labels[{self.P}_N_CLASSES] = {{{labels}}};", ""]

    def definitions(self):
        """The source's public functions, after ``<p>_forward`` and ``<p>_logits``."""
        p, K = self.p, self.net.n_classes
        return [
            "static int " + p + "_argmax(const float *logits)",
            "{",
            "    int k, best = 0;",
            f"    for (k = 1; k < {K}; ++k) {{",
            "        if (logits[k] > logits[best]) {",
            "            best = k;",
            "        }",
            "    }",
            "    return best;",
            "}",
            "",
            f"static void {p}_softmax(float *proba)",
            "{",
            "    float peak = proba[0], total = 0.0f;",
            "    int k;",
            f"    for (k = 1; k < {K}; ++k) {{",
            "        peak = proba[k] > peak ? proba[k] : peak;",
            "    }",
            f"    for (k = 0; k < {K}; ++k) {{",
            "        proba[k] = expf(proba[k] - peak);",
            "        total += proba[k];",
            "    }",
            f"    for (k = 0; k < {K}; ++k) {{",
            "        proba[k] /= total;",
            "    }",
            "}",
            "",
            f"int {p}_predict(const float *x)",
            "{",
            f"    float logits[{K}];",
            f"    {p}_forward(x, logits);",
            f"    return {p}_argmax(logits);",
            "}",
            "",
            f"void {p}_predict_proba(const float *x, float *proba)",
            "{",
            f"    {p}_forward(x, proba);",
            f"    {p}_softmax(proba);",
            "}",
            "",
            f"int {p}_class(const {p}_state *s)",
            "{",
            f"    float logits[{K}];",
            f"    {p}_logits(s, logits);",
            f"    return {p}_argmax(logits);",
            "}",
            "",
            f"void {p}_proba(const {p}_state *s, float *proba)",
            "{",
            f"    {p}_logits(s, proba);",
            f"    {p}_softmax(proba);",
            "}",
            "",
        ]


class _RegressorAPI:
    """A regressor's public C API: ``<p>_predict`` writes the network's outputs, the predictions, to ``out``."""

    kind = "regressor"

    def __init__(self, net, p, P):
        self.net, self.p, self.P = net, p, P
        K = net.n_outputs
        self.count_define = f"#define {P}_N_OUTPUTS {K}"
        self.counted = f"{K} output" + ("s" if K != 1 else "")
        self.label_bytes = 0
        self.stack_floats = 0  # predict writes into the caller's out

    def declarations(self):
        p, P = self.p, self.P
        return [
            f"/* the predicted targets of the row x ({P}_N_FEATURES floats), written to out ({P}_N_OUTPUTS floats:",
            " * the columns of y in the order they were fitted, in the units of y; one value for a 1-D y) */",
            f"void {p}_predict(const float *x, float *out);",
            "",
        ]

    def stream_declarations(self):
        p, P = self.p, self.P
        return [
            f"/* the predicted targets of the timesteps read so far, written to out ({P}_N_OUTPUTS floats);",
            " * the state does not change */",
            f"void {p}_output(const {p}_state *s, float *out);",
            "",
        ]

    def data(self):
        return []

    def definitions(self):
        p = self.p
        return [
            f"void {p}_predict(const float *x, float *out)",
            "{",
            "    /* the network's outputs are the predictions: the target scaling is folded into W_out and b_out */",
            f"    {p}_forward(x, out);",
            "}",
            "",
            f"void {p}_output(const {p}_state *s, float *out)",
            "{",
            f"    {p}_logits(s, out);",
            "}",
            "",
        ]


def _summary_lines(net, report, counted):
    low_rank = [n for n in ("W1", "U1") if any(n in layer.matrices for layer in net.layers)]
    layout = {
        "per_channel": f" (per channel: {net.n_step_features} values each, shared by every step)",
        "per_column": f" (per column: {net.n_features} values each)",
        None: "",
    }[report["scaler_layout"]]
    hidden = str(net.hidden_dim)
    if net.n_layers > 1:
        hidden = "(" + ", ".join(str(h) for h in net.hidden_dims) + ")"  # as hidden_dim=(16, 8) says
    folded = ""
    if net.fold > 1:
        folded = f" read {net.fold} at a time ({net.n_steps} steps of {net.n_inputs} inputs)"
    lines = [
        f"cell {net.cell}, gate {net.gate}, update {net.update}, hidden {hidden}, "
        f"{net.n_timesteps} timesteps x {net.n_step_features} features{folded}, {counted}"
        + (", low rank " + " ".join(n[0] for n in low_rank) if low_rank else ""),
        f"weights {report['weight_bytes']} bytes as written (all dense: {report['dense_weight_bytes']}, "
        f"all CSR: {report['csr_weight_bytes']}); scaler {report['scaler_bytes']} bytes{layout}; "
        f"stack state {report['state_bytes']} bytes",
    ]
    width = max(5, *(len(row["name"]) for row in report["matrices"]))  # a stack's names are longer: layer2.W
    for row in report["matrices"]:
        shape = "x".join(str(s) for s in row["shape"])
        lines.append(
            f"  {row['name']:{width}s} {shape:>8s} {row['dtype']:7s} nnz {row['nnz']:6d}  {row['format']:5s}  "
            f"dense {row['dense_bytes']} B, csr {row['csr_bytes']} B"
        )
    lines += [f"not exported: {o}" for o in report["omitted"]]
    return lines


def export_c(model, directory, name="fastgrnn", *, sparse="auto", integer_only=False, input_range=16.0):
    """Write the fitted model as self-contained C99 source: ``<name>.h`` and ``<name>.c``.

    The generated code needs no dynamic memory and nothing beyond libm
    (``tanhf``, ``expf``); every function is reentrant (the state lives on the
    stack). For a classifier it offers::

        int  <name>_predict(const float *x);                 /* class index */
        void <name>_predict_proba(const float *x, float *proba);
        extern const char *const <name>_class_labels[];      /* classes_ as text */

    and for a :class:`~skfastgrnn.FastGRNNRegressor`::

        void <name>_predict(const float *x, float *out);     /* the predictions */

    and, to feed one timestep at a time without storing the row::

        <name>_state s;                                      /* the caller's */
        void <name>_reset(<name>_state *s);
        void <name>_step(<name>_state *s, const float *x_t); /* D raw values */
        int  <name>_class(const <name>_state *s);            /* classifier */
        void <name>_proba(const <name>_state *s, float *proba);
        void <name>_output(const <name>_state *s, float *out); /* regressor */

    (the readers can be called after any step and do not change the state;
    ``_predict`` on a row is the same steps, bit for bit).

    where ``x`` is one row laid out ``[x_1 .. x_T]`` (``<NAME>_N_FEATURES``
    floats, raw values: the scaler steps are applied inside), ``proba``
    receives ``<NAME>_N_CLASSES`` floats in ``classes_`` order and ``out``
    ``<NAME>_N_OUTPUTS`` floats (``n_outputs_``, in the units of ``y``: the
    regressor's target scaling is in its output layer). A sequence
    shorter than ``T`` is NaN-padded after its end, as in Python: the C code
    reads the row step by step and stops at the first step whose first value
    is NaN, the state staying as it is, so the output is the Python model's
    for the padded row. A folded model (``fold_ = k > 1``) still takes the
    raw row: the C code reads ``k`` timesteps per step (``<NAME>_FOLD``),
    zero-fills them after the sequence's end, and never reads past the
    row's ``T * D`` floats when ``T`` is not a multiple of ``k``. The
    computation is in float32: the outputs match the Python model to about
    1e-6 (times the targets' scale for a regressor; ``docs/export.md``).

    Parameters
    ----------
    model : FastGRNNClassifier, FastGRNNRegressor or Pipeline
        Fitted; a Pipeline may hold StandardScaler and
        :class:`~skfastgrnn.SequenceScaler` steps (and "passthrough"), in
        any order, before one FastGRNNClassifier or FastGRNNRegressor. They
        are folded into one ``(x - mean) / scale`` applied in C (folding it
        into W would need one W per timestep where the statistics differ per
        column): ``D`` means and scales applied at every step when the
        result is the same at every step (SequenceScaler steps only), else
        one per input column (``T * D``, as a StandardScaler needs). A
        quantized model (:meth:`~FastGRNNClassifier.quantize`) is written
        with int8 matrices and one float scale each; a pruned or
        sparse-trained one keeps its exact zeros.
    directory : str or os.PathLike
        Created if missing. Each file is written atomically (a temporary file
        renamed over the old one).
    name : str, default="fastgrnn"
        A C identifier: prefixes every symbol and names the two files.
    sparse : {"auto", True, False}, default="auto"
        Storage of each weight matrix: "auto" picks CSR (row pointers, column
        indices, non-zero values) where it takes fewer bytes than dense, True
        uses CSR for every matrix, False dense for every matrix.
    integer_only : bool, default=False
        Write integer-only C for microcontrollers without an FPU: int8
        weights (a float model is quantized on a copy, as ``quantize()``
        would), the input read from its float bits into fixed point and the
        scaler applied in integers, Q12 int16 states, int32 sums, table-based
        tanh and sigmoid, no libm; the same API plus ``<name>_scores`` (the
        int32 scores). Only the readers (``_proba``, ``_predict_proba``, a
        regressor's ``_output`` / ``_predict``) use float, to turn the scores
        into probabilities or outputs. :class:`~skfastgrnn.IntegerModel` gives
        the same integers in Python (docs/export.md, "Integer-only inference").
    input_range : float, default=16.0
        With ``integer_only``: standardized inputs are represented as int16 on
        ``[-input_range, input_range)`` (rounded up to a power of two);
        larger values saturate.

    Returns
    -------
    dict
        ``header`` and ``source`` (paths); ``weight_bytes`` (the network's
        constants as written: matrices with their indices and scales, biases,
        cell scalars), ``dense_weight_bytes`` and ``csr_weight_bytes`` (the
        same with every matrix dense / CSR), ``scaler_bytes`` (the folded
        scalers' mean and scale: ``8 * D`` per channel, ``8 * T * D`` per
        column, 4 bytes per value fewer without a mean or a scale, 0
        without a scaler), ``scaler_layout`` (``"per_channel"``,
        ``"per_column"`` or None), ``label_bytes`` (the class-label
        strings; 0 for a regressor), ``state_bytes`` (the stack buffers of
        one ``predict`` call, a regressor's ``out`` not included; loop
        counters and call frames are the compiler's),
        ``stream_state_bytes`` (the floats of ``<name>_state``: every
        layer's state, and ``fold * D`` values for a folded model; its two
        ints not counted), ``quantized``,
        ``fold`` (the model's ``fold_``: the input matrix has ``fold * D``
        rows), per-matrix ``matrices`` rows and ``omitted`` (weights that
        cannot change the output and are left out, e.g. U with one
        timestep). The same summary heads ``<name>.h`` as a comment.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The estimator or a scaler is not fitted.
    TypeError
        Not a FastGRNNClassifier or FastGRNNRegressor, or a Pipeline of
        StandardScaler / SequenceScaler steps ending with one; or
        ``integer_only`` is not a bool.
    ValueError
        ``name`` is not a C identifier, ``sparse`` is not one of its
        choices, the weights are not finite, or a scaler was fitted on
        other rows than the estimator; with ``integer_only``, a
        configuration the integer format cannot hold (the message says what
        and what to do: weights too large for the input range, more than
        516 inputs per step, a scaler mean over 2^16 times its scale).
    OSError
        ``directory`` is a file, cannot be created or is not writable (the
        message names it).

    See Also
    --------
    to_onnx : The same model as an ONNX graph, for onnxruntime.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, export_c
    >>> X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=8, n_timesteps=2, epochs=3, random_state=0).fit(X, y)
    >>> report = export_c(clf, tempfile.mkdtemp(), name="tiny")
    >>> os.path.basename(report["header"]), os.path.basename(report["source"])
    ('tiny.h', 'tiny.c')
    >>> report["weight_bytes"], report["state_bytes"]
    (496, 104)
    >>> export_c(clf.quantize(), tempfile.mkdtemp())["weight_bytes"]  # int8 matrices, float biases
    196
    >>> export_c(clf, tempfile.mkdtemp(), integer_only=True)["integer_only"]  # no float after the input
    True
    """
    if sparse not in ("auto", True, False):
        raise ValueError(f"sparse must be 'auto', True or False; got {sparse!r}.")
    _check_c_name(name)
    if integer_only not in (True, False):
        raise TypeError(f"integer_only must be True or False; got {integer_only!r}.")
    if integer_only:
        header, source, report = render_integer(
            describe_integer(model, "export_c", input_range), name, __version__, sparse
        )
    else:
        net = describe_network(model, "export_c")
        header, source, report = _CWriter(net, name, sparse).render(__version__)
    directory = prepare_export_directory(directory)
    paths = {"header": os.path.join(directory, name + ".h"), "source": os.path.join(directory, name + ".c")}
    # the source first: a reader that sees the new header finds its matching source
    atomic_write(paths["source"], source.encode("utf-8"))
    atomic_write(paths["header"], header.encode("utf-8"))
    return {**paths, **report}
