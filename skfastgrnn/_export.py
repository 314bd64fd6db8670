"""Export a fitted model to C99 source for microcontrollers, and to ONNX.

Both exporters read the same description of the network (:class:`_Network`):
the classifier's parameters exactly as it computes with them (the dequantized
int8 values for a quantized model, with the int8 tensors and their scales
alongside), the StandardScaler and SequenceScaler steps of a Pipeline folded
into one affine map, and the cell's scalars after their sigmoid.

Both read one row ``[x_1 .. x_T]`` of ``T * D`` floats and accept sequences
shorter than ``T``: NaN after a sequence's end is padding, and the first step
whose first value is NaN ends the sequence. The state then stays as it is (the
masked update of :class:`~skfastgrnn._cells.FinalStateGradient`), so the
output is the Python model's for the NaN-padded row.

A model fitted with ``fold_ = k > 1`` reads ``k`` consecutive timesteps as
one step of ``k * D`` inputs (:func:`~skfastgrnn._sequences.fold_steps`);
both exporters still take the raw row and fold it themselves, after the
scaler: the end of a sequence is checked on each folded step's first value,
NaN inside an observed folded step reads as 0 (in standardized units), and
the last folded step of a row whose T is not a multiple of ``k`` holds the
row's last values followed by zeros (C never reads past the row's ``T * D``
floats; ONNX pads the row with NaN first).

C (:func:`export_c`)
--------------------
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

Dead weights are not exported: with one timestep ``h_0 = 0`` makes the
recurrent matrix (and the guide cell's reset gate) irrelevant.

ONNX (:func:`to_onnx`)
----------------------
A graph of standard operators (opset :data:`ONNX_OPSET`) unrolled over the
fixed number of timesteps: one MatMul projects every timestep's input at once,
then MatMul/Add/Mul/Sub and Sigmoid/Tanh/Relu/Clip per step, and a Where that
keeps the state over padding (IsNaN of each step's first value, Or-ed over the
steps); int8 weights stay int8 in the file, converted by a Cast and a Mul by
their scale. Input ``"input"`` (float32, ``[N, T * D]``); outputs ``"label"``
(the class labels) and ``"probabilities"`` (float32, ``[N, n_classes]``,
columns in ``classes_`` order). onnx is imported only when :func:`to_onnx`
runs.
"""

import errno
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._cells import GUIDE_NU, GUIDE_ZETA, _logistic
from ._persist import atomic_write
from ._scaler import SequenceScaler

#: ONNX operator set of the graphs :func:`to_onnx` builds (onnxruntime >= 1.13 runs it)
ONNX_OPSET = 17

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

#: float32 rounding of a scaler mean, in standardized units, above which export warns
_MEAN_ROUNDING_WARN = 1e-4


# ---------------------------------------------------------------------------
# What the model is, independent of the target language.


@dataclass
class _Matrix:
    """One weight matrix ``(n_in, n_out)`` as the model computes with it (``x M``)."""

    name: str
    values: np.ndarray  # float64, the computed-with values (dequantized for int8)
    int8: np.ndarray | None = None
    scale: float | None = None

    @property
    def nnz(self):
        return int(np.count_nonzero(self.values))


@dataclass
class _Network:
    cell: str
    n_timesteps: int  # T, raw timesteps of a row
    n_step_features: int  # D, raw features per timestep (what the scaler sees)
    hidden_dim: int
    classes: np.ndarray
    gate: str
    update: str
    matrices: dict  # name -> _Matrix, in layout order (W or W1, W2; U or U1, U2; W_out)
    vectors: dict  # biases: name -> float64 vector
    scalars: dict  # cell constants after the sigmoid: name -> float
    # the folded scaler steps, x -> (x - mean) / scale: D values applied at every
    # step when ``scaler_per_channel``, else one per input column (T * D)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    scaler_per_channel: bool = False
    omitted: list = field(default_factory=list)
    # the network reads ``fold`` raw timesteps as one step of ``fold * D`` inputs
    fold: int = 1

    @property
    def n_features(self):
        """Width of a raw row, ``T * D``: what the exported code reads."""
        return self.n_timesteps * self.n_step_features

    @property
    def n_steps(self):
        """Steps of the recurrence, ``ceil(T / fold)``."""
        return -(-self.n_timesteps // self.fold)

    @property
    def n_inputs(self):
        """Inputs of one recurrent step (the rows of W or W1), ``fold * D``."""
        return self.fold * self.n_step_features

    @property
    def last_inputs(self):
        """Values of the row in the last folded step, ``(T - (n_steps - 1) * fold) * D``; the rest are 0."""
        return self.n_features - (self.n_steps - 1) * self.n_inputs

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def quantized(self):
        return any(m.int8 is not None for m in self.matrices.values())

    @property
    def w_names(self):
        return [n for n in ("W1", "W2", "W") if n in self.matrices]

    @property
    def u_names(self):
        return [n for n in ("U1", "U2", "U") if n in self.matrices]


_SCALERS = (StandardScaler, SequenceScaler)


def _unpack(model, what):
    """The classifier and the scaler steps of ``model``, with clear errors."""
    from ._classifier import FastGRNNClassifier

    if isinstance(model, FastGRNNClassifier):
        check_is_fitted(model)
        return model, []
    if isinstance(model, Pipeline):
        steps = [(name, est) for name, est in model.steps if est is not None and est != "passthrough"]
        if not steps or not isinstance(steps[-1][1], FastGRNNClassifier):
            last = type(steps[-1][1]).__name__ if steps else "nothing"
            raise TypeError(f"{what} needs a Pipeline ending with a FastGRNNClassifier; this one ends with {last}.")
        for name, est in steps[:-1]:
            # exact types: a subclass may transform differently
            if type(est) not in _SCALERS:
                raise TypeError(
                    f"{what} cannot export the Pipeline step {name!r} ({type(est).__name__}): only StandardScaler "
                    "and SequenceScaler steps followed by one FastGRNNClassifier are supported."
                )
            check_is_fitted(est)
        check_is_fitted(steps[-1][1])
        return steps[-1][1], [est for _, est in steps[:-1]]
    raise TypeError(
        f"{what} needs a fitted FastGRNNClassifier or a Pipeline of StandardScaler / SequenceScaler steps and a "
        f"FastGRNNClassifier; got a {type(model).__name__}."
    )


def _scaler_columns(s, n_timesteps, n_step_features):
    """``(mean, scale)`` of one fitted scaler step over the ``T * D`` columns of a row (None: identity)."""
    n_features = n_timesteps * n_step_features
    if type(s) is StandardScaler:
        if s.n_features_in_ != n_features:
            raise ValueError(
                f"the StandardScaler was fitted on {s.n_features_in_} features, the classifier on {n_features} "
                f"({n_timesteps} timesteps x {n_step_features} features)."
            )
        width = n_features
    else:
        # a SequenceScaler applies its n_channels_ statistics to every n_channels_-wide
        # chunk of a row: the classifier's D, or what its n_timesteps made of the rows
        width = s.n_channels_
        rows = getattr(s, "n_features_in_", None)  # only when fitted on 2-D rows
        if rows is not None and rows != n_features:
            raise ValueError(
                f"the SequenceScaler was fitted on rows of {rows} features, the classifier on {n_features} "
                f"({n_timesteps} timesteps x {n_step_features} features)."
            )
        if n_features % width:
            raise ValueError(
                f"the SequenceScaler has {width} channels per step, the classifier {n_step_features} "
                f"({n_timesteps} timesteps): its statistics do not fit the classifier's rows."
            )
    mean = s.mean_ if s.with_mean else None
    scale = s.scale_ if s.with_std else None
    tiles = n_features // width
    mean = None if mean is None else np.tile(np.asarray(mean, dtype=np.float64), tiles)
    scale = None if scale is None else np.tile(np.asarray(scale, dtype=np.float64), tiles)
    return mean, scale


def _fold_scalers(scalers, n_timesteps, n_step_features):
    """``(mean, scale, per_channel)`` for a chain of scaler steps (None for a no-op part).

    ``((x - m1) / s1 - m2) / s2 == (x - (m1 + m2 s1)) / (s1 s2)``, column by
    column; when the result is the same at every timestep (SequenceScaler
    steps only, or one timestep) it is kept as ``D`` values, ``per_channel``.
    """
    T, D = n_timesteps, n_step_features
    mean = np.zeros(T * D)
    scale = np.ones(T * D)
    for s in scalers:
        m, d = _scaler_columns(s, T, D)
        if m is not None:
            mean = mean + m * scale
        if d is not None:
            scale = scale * d
    per_channel = bool((mean.reshape(T, D) == mean[:D]).all() and (scale.reshape(T, D) == scale[:D]).all())
    if per_channel:
        mean, scale = mean[:D], scale[:D]
    # the C code and the ONNX graph standardize in float32: a large mean next to a
    # small spread loses the digits that matter in the float32 rounding of the mean
    error = np.abs(mean) * 2.0**-24 / scale
    if error.size and error.max() > _MEAN_ROUNDING_WARN:
        i = int(np.argmax(error))
        where = f"channel {i}" if per_channel else f"column {i} (step {i // D}, channel {i % D})"
        warnings.warn(
            f"a scaler mean is large next to its scale ({where}: mean {mean[i]:.6g}, scale {scale[i]:.3g}): "
            f"rounding it to float32 shifts standardized inputs by up to {error[i]:.2g}; standardize such "
            "features before the exported model.",
            UserWarning,
            stacklevel=4,
        )
    return (mean if mean.any() else None), (scale if (scale != 1.0).any() else None), per_channel


def _network(model, what):
    clf, scalers = _unpack(model, what)
    layout, T = clf._layout, clf.n_timesteps_
    fold = int(getattr(clf, "fold_", 1))  # models fitted before ``fold`` existed read one step at a time
    if layout.n_step_features != fold * clf.n_step_features_:
        raise ValueError(
            f"{what}: the network reads {layout.n_step_features} inputs per step, not fold_ * n_step_features_ = "
            f"{fold} * {clf.n_step_features_}."
        )
    views = clf.weights_
    quant = clf._quantization()
    H = layout.hidden_dim
    if not np.isfinite(clf._theta).all():
        raise ValueError(f"{what}: the model has non-finite weights.")
    matrices = {}
    for name in layout.matrix_names:
        values = np.asarray(views[name], dtype=np.float64)
        if quant is None:
            matrices[name] = _Matrix(name, values)
        else:
            matrices[name] = _Matrix(name, values, quant[0][name], float(quant[1][name]))
    # biases (the cell's and b_out); the *_logit scalars go through their sigmoid below
    vectors = {n: np.asarray(views[n], dtype=np.float64) for n, s in layout.shapes if len(s) == 1 and "logit" not in n}
    cell = clf._fitted_architecture["cell"]
    if cell == "fastgrnn":
        scalars = {"zeta": _logistic(views["zeta_logit"][0]), "nu": _logistic(views["nu_logit"][0])}
    elif cell == "fastrnn":
        scalars = {"alpha": _logistic(views["alpha_logit"][0]), "beta": _logistic(views["beta_logit"][0])}
    else:
        scalars = {"nu": GUIDE_NU, "zeta": GUIDE_ZETA}
    net = _Network(
        cell=cell,
        n_timesteps=T,
        n_step_features=clf.n_step_features_,
        hidden_dim=H,
        classes=clf.classes_,
        gate=clf.gate_nonlinearity_,
        update=clf.update_nonlinearity_,
        matrices=matrices,
        vectors=vectors,
        scalars=scalars,
        fold=fold,
    )
    if scalers:
        net.mean, net.scale, net.scaler_per_channel = _fold_scalers(scalers, T, net.n_step_features)
    if net.n_steps == 1:
        # h_0 = 0: the recurrent product is zero, and so is the guide's r * h_0
        one = "one timestep" if T == 1 else f"one folded step ({T} timesteps, fold {fold})"
        for name in net.u_names:
            del net.matrices[name]
        net.omitted.append(f"U ({one}: h_0 = 0 makes it irrelevant)")
        if cell == "guide":
            last = net.w_names[-1]  # W or W2: its first H output columns feed the reset gate
            m = net.matrices[last]
            net.matrices[last] = _Matrix(m.name, m.values[:, H:], None if m.int8 is None else m.int8[:, H:], m.scale)
            del net.vectors["b_r"]
            net.omitted.append(f"the reset gate's weights ({one}: it only multiplies h_0 = 0)")
    return net


# ---------------------------------------------------------------------------
# C99


def _check_c_name(name):
    # the name only ever appears with a suffix (name_predict, NAME_N_CLASSES, name.h),
    # so C keywords are fine; a leading underscore would make reserved identifiers
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"name={name!r} is not a usable C identifier: it must start with a letter and hold only letters, "
            "digits and underscores (it prefixes every exported symbol and names the files)."
        )


def _c_float(v):
    """A float literal that parses back to exactly ``float32(v)``."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError(f"cannot write the non-finite value {v!r} into C source.")
    text = str(f)  # numpy prints the shortest text that round-trips in float32
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def _c_array(ctype, name, values, fmt):
    values = list(values)
    if not values:  # C99 has no empty arrays; a pad element, counted in the sizes
        values = [0]
    items = [fmt(v) for v in values]
    per_line = 8 if ctype == "float" else 16
    lines = [f"static const {ctype} {name}[{len(items)}] = {{"]
    for start in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[start : start + per_line]) + ",")
    lines.append("};")
    return lines


def _uint_type(max_value):
    for ctype, limit, size in (("uint8_t", 0xFF, 1), ("uint16_t", 0xFFFF, 2), ("uint32_t", 0xFFFFFFFF, 4)):
        if max_value <= limit:
            return ctype, size
    raise ValueError("matrix too large for 32-bit indices")


def _matrix_sizes(m):
    """``(dense_bytes, csr_bytes)`` of one matrix as :func:`_c_matrix` writes it."""
    n_in, n_out = m.values.shape
    value_bytes = 1 if m.int8 is not None else 4
    extra = 4 if m.int8 is not None else 0  # the float scale
    nnz = m.nnz
    ptr_bytes = _uint_type(nnz)[1]
    idx_bytes = _uint_type(max(n_in - 1, 0))[1]
    dense = n_in * n_out * value_bytes + extra
    csr = (n_out + 1) * ptr_bytes + max(nnz, 1) * (idx_bytes + value_bytes) + extra
    return dense, csr


def _c_matrix(p, m, fmt):
    """Declarations and ``static void <p>_mv_<name>(const float *x, float *y)`` computing ``y = x M``."""
    n_in, n_out = m.values.shape
    stored = m.values.T if m.int8 is None else m.int8.T  # one row per output
    ctype, value_fmt = ("float", _c_float) if m.int8 is None else ("int8_t", str)
    base = f"{p}_{m.name}"
    kind = f"{fmt} {'int8 times ' + base + '_scale' if m.int8 is not None else 'float32'}"
    lines = [f"/* {m.name} ({n_in} x {n_out}, y = x {m.name}): stored transposed, one row per output; {kind} */"]
    if m.int8 is not None:
        lines.append(f"static const float {base}_scale = {_c_float(m.scale)};")
    # int8 products are summed unscaled and the scale applied once per output
    term = "(float)v[i] * x[i]" if m.int8 is not None else "v[i] * x[i]"
    result = f"acc * {base}_scale" if m.int8 is not None else "acc"
    if fmt == "dense":
        decl = _c_array(ctype, base, stored.ravel(), value_fmt)
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
        rows, cols = np.nonzero(stored)
        ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_out))])
        ptr_type, _ = _uint_type(int(ptr[-1]))
        idx_type, _ = _uint_type(max(n_in - 1, 0))
        decl = _c_array(ptr_type, base + "_ptr", ptr, str)
        decl += _c_array(idx_type, base + "_idx", cols, str)
        decl += _c_array(ctype, base + "_val", stored[rows, cols], value_fmt)
        term = term.replace("v[i]", f"{base}_val[k]").replace("x[i]", f"x[{base}_idx[k]]")
        body = [
            "    int j, k;",
            f"    for (j = 0; j < {n_out}; ++j) {{",
            "        float acc = 0.0f;",
            f"        for (k = (int){base}_ptr[j]; k < (int){base}_ptr[j + 1]; ++k) {{",
            f"            acc += {term};",
            "        }",
            f"        y[j] = {result};",
            "    }",
        ]
    lines += decl
    lines += ["", f"static void {p}_mv_{m.name}(const float *x, float *y)", "{", *body, "}"]
    return lines


_C_NONLINEARITIES = {
    # sigmoid as 0.5 + 0.5 tanh(x / 2), like the Python model: no overflow of expf
    "sigmoid": "return 0.5f + 0.5f * tanhf(0.5f * v);",
    "tanh": "return tanhf(v);",
    "relu": "return v > 0.0f ? v : 0.0f;",
    "quantSigm": "v = v * 0.5f + 0.5f;\n    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);",
    "quantSigm4": "v = v * 0.25f + 0.5f;\n    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);",
    "quantTanh": "return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);",
}


def _c_string(text):
    out = []
    for byte in str(text).encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\?':  # '?' too: "??=" would be a trigraph in C99
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


class _CWriter:
    """Renders ``<name>.h`` and ``<name>.c`` and counts their bytes."""

    def __init__(self, net, name, sparse):
        self.net, self.p, self.P = net, name, name.upper()
        self.formats = {}
        self.sizes = {}
        for mname, m in net.matrices.items():
            dense, csr = _matrix_sizes(m)
            self.sizes[mname] = (dense, csr)
            use_csr = sparse is True or (sparse == "auto" and csr < dense)
            self.formats[mname] = "csr" if use_csr else "dense"

    # ---------------------------------------------------------- pieces

    def _buffers(self):
        """Stack buffers of the forward pass: name -> number of floats."""
        net = self.net
        H, T = net.hidden_dim, net.n_steps
        n_proj = sum(m.values.shape[1] for n, m in net.matrices.items() if n in ("W", "W2"))
        buffers = {"h": H, "a": n_proj}
        if "W1" in net.matrices:
            buffers["w1"] = net.matrices["W1"].values.shape[1]
        if net.mean is not None or net.scale is not None or net.fold > 1:
            # the standardized step; a folded step also zero-fills its values after the sequence's end
            buffers["xs"] = net.n_inputs
        if T > 1:
            buffers["hu"] = H
            if "U1" in net.matrices:
                buffers["u1"] = net.matrices["U1"].values.shape[1]
            if net.cell == "guide":
                buffers["rh"] = H
        return buffers

    def _cell_step(self):
        """C statements of one timestep after ``a = x_t W`` (and ``hu = h U`` when T > 1)."""
        net, p = self.net, self.p
        H, T = net.hidden_dim, net.n_steps
        rec = " + hu[j]" if T > 1 else ""
        if net.cell == "fastgrnn":
            # h = (zeta (1 - z) + nu) c + z h, written (h - zeta c) z + (zeta + nu) c as in Python
            return [
                f"        for (j = 0; j < {H}; ++j) {{",
                f"            float z = {p}_{net.gate}((a[j] + {p}_b_z[j]){rec});",
                f"            float c = {p}_{net.update}((a[j] + {p}_b_h[j]){rec});",
                f"            h[j] = (h[j] - {p}_zeta * c) * z + {p}_zeta_plus_nu * c;",
                "        }",
            ]
        if net.cell == "fastrnn":
            return [
                f"        for (j = 0; j < {H}; ++j) {{",
                f"            float c = {p}_{net.update}((a[j] + {p}_b[j]){rec});",
                f"            h[j] = {p}_beta * h[j] + {p}_alpha * c;",
                "        }",
            ]
        # guide: a = [x W_r | x W_u | x W_c], or [x W_u | x W_c] when T = 1 (no reset gate)
        u, c = (H, 2 * H) if T > 1 else (0, H)
        lines = []
        if T > 1:
            lines += [
                f"        for (j = 0; j < {H}; ++j) {{",
                f"            rh[j] = {p}_{net.gate}({p}_nu * (a[j] + {p}_b_r[j])) * h[j];",
                "        }",
                "        if (t > 0) {",
                *[f"            {s}" for s in self._recurrent("rh")],
                "        }",
            ]
        cand = f"{p}_zeta * (a[{c} + j] + {p}_b_c[j])" + (f" + {p}_zeta * hu[j]" if T > 1 else "")
        lines += [
            f"        for (j = 0; j < {H}; ++j) {{",
            f"            float u = {p}_{net.gate}({p}_nu * (a[{u} + j] + {p}_b_u[j]));",
            f"            float c = {p}_{net.update}({cand});",
            "            h[j] = c + u * (h[j] - c);",
            "        }",
        ]
        return lines

    def _recurrent(self, source):
        p = self.p
        if "U" in self.net.matrices:
            return [f"{p}_mv_U({source}, hu);"]
        return [f"{p}_mv_U1({source}, u1);", f"{p}_mv_U2(u1, hu);"]

    def _forward(self):
        net, p = self.net, self.p
        H, T, D = net.hidden_dim, net.n_steps, net.n_step_features
        buffers = self._buffers()
        if net.fold == 1:
            what = "every intermediate lives on the stack"
        else:
            what = (
                f"the network reads {net.fold} timesteps ({net.n_inputs} values) per step, {T} steps; "
                "every intermediate lives on the stack"
            )
        lines = [
            "/* logits of one row x = [x_1 .. x_T], read up to the first step whose first value is NaN;",
            f"   {what} */",
            f"static void {p}_forward(const float *x, float *logits)",
            "{",
        ]
        lines += [f"    float {b}[{n}];" for b, n in buffers.items()]
        lines += [
            "    int t, j;" if net.last_inputs == net.n_inputs else "    int t, j, nx;",
            f"    for (j = 0; j < {H}; ++j) {{",
            "        h[j] = 0.0f;",
            *(["        hu[j] = 0.0f;"] if T > 1 else []),
            "    }",
            f"    for (t = 0; t < {T}; ++t) {{",
            f"        const float *xt = x + t * {net.n_inputs};",
        ]
        if net.fold > 1:
            lines += self._read_folded_step()
        else:
            lines += [
                "        if (isnan(xt[0])) {",
                "            break; /* NaN padding: the sequence has ended, h stays as it is */",
                "        }",
            ]
        if net.fold == 1 and "xs" in buffers:
            expr = "xt[j]"
            # D statistics shared by every step, or one per column of the row
            at = "j" if net.scaler_per_channel else f"t * {D} + j"
            if net.mean is not None:
                expr = f"({expr} - {p}_mean[{at}])"
            if net.scale is not None:
                expr = f"{expr} / {p}_scale[{at}]"
            lines += [f"        for (j = 0; j < {D}; ++j) {{", f"            xs[j] = {expr};", "        }"]
            lines.append("        xt = xs;")
        if "W1" in net.matrices:
            lines += [f"        {p}_mv_W1(xt, w1);", f"        {p}_mv_W2(w1, a);"]
        else:
            lines.append(f"        {p}_mv_W(xt, a);")
        if T > 1 and net.cell != "guide":
            # h_0 = 0: hu stays zero at the first step
            lines += ["        if (t > 0) {", *[f"            {s}" for s in self._recurrent("h")], "        }"]
        lines += self._cell_step()
        K = net.n_classes
        lines += [
            "    }",
            f"    {p}_mv_W_out(h, logits);",
            f"    for (j = 0; j < {K}; ++j) {{",
            f"        logits[j] += {p}_b_out[j];",
            "    }",
            "}",
        ]
        return lines

    def _read_folded_step(self):
        """C statements reading folded step t into ``xs`` (``fold * D`` values), as ``fold_steps`` does.

        Padding is decided on the folded step's first value; inside an observed
        folded step NaN reads as 0 (after the scaler: 0 in standardized units),
        and so do the values past the row's end in a partial last step, which
        are never read.
        """
        net, p = self.net, self.p
        T, D, n_in = net.n_steps, net.n_step_features, net.n_inputs
        lines = [
            "        if (isnan(xt[0])) {",
            "            break; /* NaN padding: the sequence has ended, h stays as it is */",
            "        }",
        ]
        expr = "xt[j]"
        if net.mean is not None or net.scale is not None:
            # D statistics shared by every step (channel j % D), or one per column of the row
            at = (f"j % {D}" if D > 1 else "0") if net.scaler_per_channel else f"t * {n_in} + j"
            if net.mean is not None:
                expr = f"({expr} - {p}_mean[{at}])"
            if net.scale is not None:
                expr = f"{expr} / {p}_scale[{at}]"
        last = net.last_inputs
        if last == n_in:
            lines += [
                "        /* NaN inside an observed step: the steps after the sequence's end, read as 0 */",
                f"        for (j = 0; j < {n_in}; ++j) {{",
                f"            xs[j] = isnan(xt[j]) ? 0.0f : {expr};",
                "        }",
            ]
        else:
            # T is not a multiple of the fold: the last folded step holds the row's last
            # ``last`` values followed by zeros; x ends there and is never read beyond
            lines += [
                (
                    f"        nx = t < {T - 1} ? {n_in} : {last}; /* the values of x in this step */"
                    if T > 1
                    else f"        nx = {last}; /* the values of x: fold > T */"
                ),
                "        /* NaN inside an observed step (the steps after the sequence's end) and the values past",
                "           the row's end read as 0 */",
                f"        for (j = 0; j < {n_in}; ++j) {{",
                f"            xs[j] = (j >= nx || isnan(xt[j])) ? 0.0f : {expr};",
                "        }",
            ]
        lines.append("        xt = xs;")
        return lines

    # ---------------------------------------------------------- files

    def render(self, package_version):
        net, p, P = self.net, self.p, self.P
        K = net.n_classes
        data = []
        for mname, m in net.matrices.items():
            data += _c_matrix(p, m, self.formats[mname]) + [""]
        other_bytes = 0  # biases and cell scalars, float32
        for vname, v in net.vectors.items():
            data += _c_array("float", f"{p}_{vname}", v, _c_float) + [""]
            other_bytes += 4 * v.size
        scalars = dict(net.scalars)
        if net.cell == "fastgrnn":
            scalars["zeta_plus_nu"] = scalars["zeta"] + scalars["nu"]
            del scalars["nu"]
        for sname, value in scalars.items():
            data.append(f"static const float {p}_{sname} = {_c_float(value)};")
            other_bytes += 4
        data.append("")
        scaler_bytes = 0
        for sname, v in (("mean", net.mean), ("scale", net.scale)):
            if v is not None:
                data += _c_array("float", f"{p}_{sname}", v, _c_float) + [""]
                scaler_bytes += 4 * v.size
        labels = [_c_string(c) for c in net.classes]

        used = sorted({net.update} | ({net.gate} if net.cell != "fastrnn" else set()))
        funcs = []
        for f in used:
            funcs += [f"static float {p}_{f}(float v)", "{", f"    {_C_NONLINEARITIES[f]}", "}", ""]

        chosen = {n: s[0] if self.formats[n] == "dense" else s[1] for n, s in self.sizes.items()}
        report = {
            "weight_bytes": sum(chosen.values()) + other_bytes,
            "dense_weight_bytes": sum(s[0] for s in self.sizes.values()) + other_bytes,
            "csr_weight_bytes": sum(s[1] for s in self.sizes.values()) + other_bytes,
            "scaler_bytes": scaler_bytes,
            "scaler_layout": None if not scaler_bytes else ("per_channel" if net.scaler_per_channel else "per_column"),
            "label_bytes": sum(len(str(c).encode("utf-8")) + 1 for c in net.classes),
            # the forward pass's buffers plus predict's logits (predict_proba uses proba)
            "state_bytes": 4 * (sum(self._buffers().values()) + K),
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
        summary = _summary_lines(net, report)

        if not scaler_bytes:
            scaler_note = "no scaler: pass rows as the classifier saw them"
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
            f"/* {p}.h: FastGRNN classifier exported by skfastgrnn {package_version} (export_c). C99, no malloc,",
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
            f"#define {P}_N_CLASSES {K}",
            f"#define {P}_HIDDEN_DIM {net.hidden_dim}",
            "",
            f"/* the class labels as text, in the order of the indices {p}_predict returns */",
            f"extern const char *const {p}_class_labels[{P}_N_CLASSES];",
            "",
            f"/* index of the most probable class of the row x ({P}_N_FEATURES floats) */",
            f"int {p}_predict(const float *x);",
            "",
            f"/* class probabilities of the row x, written to proba ({P}_N_CLASSES floats) */",
            f"void {p}_predict_proba(const float *x, float *proba);",
            "",
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
            f"const char *const {p}_class_labels[{P}_N_CLASSES] = {{{', '.join(labels)}}};",
            "",
            *data,
            *funcs,
            *self._forward(),
            "",
            f"int {p}_predict(const float *x)",
            "{",
            f"    float logits[{K}];",
            "    int k, best = 0;",
            f"    {p}_forward(x, logits);",
            f"    for (k = 1; k < {K}; ++k) {{",
            "        if (logits[k] > logits[best]) {",
            "            best = k;",
            "        }",
            "    }",
            "    return best;",
            "}",
            "",
            f"void {p}_predict_proba(const float *x, float *proba)",
            "{",
            "    float peak, total = 0.0f;",
            "    int k;",
            f"    {p}_forward(x, proba);",
            "    peak = proba[0];",
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
        ]
        return "\n".join(header), "\n".join(source), report


def _summary_lines(net, report):
    low_rank = [n for n in ("W1", "U1") if n in net.matrices]
    layout = {
        "per_channel": f" (per channel: {net.n_step_features} values each, shared by every step)",
        "per_column": f" (per column: {net.n_features} values each)",
        None: "",
    }[report["scaler_layout"]]
    folded = ""
    if net.fold > 1:
        folded = f" read {net.fold} at a time ({net.n_steps} steps of {net.n_inputs} inputs)"
    lines = [
        f"cell {net.cell}, gate {net.gate}, update {net.update}, hidden {net.hidden_dim}, "
        f"{net.n_timesteps} timesteps x {net.n_step_features} features{folded}, {net.n_classes} classes"
        + (", low rank " + " ".join(n[0] for n in low_rank) if low_rank else ""),
        f"weights {report['weight_bytes']} bytes as written (all dense: {report['dense_weight_bytes']}, "
        f"all CSR: {report['csr_weight_bytes']}); scaler {report['scaler_bytes']} bytes{layout}; "
        f"stack state {report['state_bytes']} bytes",
    ]
    for row in report["matrices"]:
        shape = "x".join(str(s) for s in row["shape"])
        lines.append(
            f"  {row['name']:5s} {shape:>8s} {row['dtype']:7s} nnz {row['nnz']:6d}  {row['format']:5s}  "
            f"dense {row['dense_bytes']} B, csr {row['csr_bytes']} B"
        )
    lines += [f"not exported: {o}" for o in report["omitted"]]
    return lines


def _prepare_directory(directory):
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(errno.ENOTDIR, f"{directory}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise type(exc)(exc.errno, f"{directory}: cannot create the export directory ({exc.strerror})") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"{directory}: the export directory is not writable")
    return directory


def export_c(model, directory, name="fastgrnn", *, sparse="auto"):
    """Write the fitted model as self-contained C99 source: ``<name>.h`` and ``<name>.c``.

    The generated code needs no dynamic memory and nothing beyond libm
    (``tanhf``, ``expf``); every function is reentrant (the state lives on the
    stack). It offers::

        int  <name>_predict(const float *x);                 /* class index */
        void <name>_predict_proba(const float *x, float *proba);
        extern const char *const <name>_class_labels[];      /* classes_ as text */

    where ``x`` is one row laid out ``[x_1 .. x_T]`` (``<NAME>_N_FEATURES``
    floats, raw values: the scaler steps are applied inside) and ``proba``
    receives ``<NAME>_N_CLASSES`` floats in ``classes_`` order. A sequence
    shorter than ``T`` is NaN-padded after its end, as in Python: the C code
    reads the row step by step and stops at the first step whose first value
    is NaN, the state staying as it is, so the output is the Python model's
    for the padded row. A folded model (``fold_ = k > 1``) still takes the
    raw row: the C code reads ``k`` timesteps per step (``<NAME>_FOLD``),
    zero-fills them after the sequence's end, and never reads past the
    row's ``T * D`` floats when ``T`` is not a multiple of ``k``. The computation is in float32: the outputs match the
    Python model to about 1e-6 (``docs/export.md``).

    Parameters
    ----------
    model : FastGRNNClassifier or Pipeline
        Fitted; a Pipeline may hold StandardScaler and
        :class:`~skfastgrnn.SequenceScaler` steps (and "passthrough"), in
        any order, before one FastGRNNClassifier. They are folded into one
        ``(x - mean) / scale`` applied in C (folding it into W would need one
        W per timestep where the statistics differ per column): ``D`` means
        and scales applied at every step when the result is the same at
        every step (SequenceScaler steps only), else one per input column
        (``T * D``, as a StandardScaler needs). A quantized
        model (:meth:`~FastGRNNClassifier.quantize`) is written with int8
        matrices and one float scale each; a pruned or sparse-trained one
        keeps its exact zeros.
    directory : str or os.PathLike
        Created if missing. Each file is written atomically (a temporary file
        renamed over the old one).
    name : str, default="fastgrnn"
        A C identifier: prefixes every symbol and names the two files.
    sparse : {"auto", True, False}, default="auto"
        Storage of each weight matrix: "auto" picks CSR (row pointers, column
        indices, non-zero values) where it takes fewer bytes than dense, True
        uses CSR for every matrix, False dense for every matrix.

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
        ``"per_column"`` or None),
        ``label_bytes`` (the class-label strings), ``state_bytes`` (the stack
        buffers of one ``predict`` call; loop counters and call frames are the
        compiler's), ``quantized``, ``fold`` (the model's ``fold_``: the
        input matrix has ``fold * D`` rows), per-matrix ``matrices`` rows and
        ``omitted`` (weights that cannot change the
        output and are left out, e.g. U with one timestep). The same summary
        heads ``<name>.h`` as a comment.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The classifier or a scaler is not fitted.
    TypeError
        Not a FastGRNNClassifier or a Pipeline of StandardScaler /
        SequenceScaler steps ending with one.
    ValueError
        ``name`` is not a C identifier, ``sparse`` is not one of its
        choices, the weights are not finite, or a scaler was fitted on
        other rows than the classifier.
    OSError
        ``directory`` is a file, cannot be created or is not writable (the
        message names it).

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
    """
    from . import __version__

    if sparse not in ("auto", True, False):
        raise ValueError(f"sparse must be 'auto', True or False; got {sparse!r}.")
    _check_c_name(name)
    net = _network(model, "export_c")
    header, source, report = _CWriter(net, name, sparse).render(__version__)
    directory = _prepare_directory(directory)
    paths = {"header": os.path.join(directory, name + ".h"), "source": os.path.join(directory, name + ".c")}
    # the source first: a reader that sees the new header finds its matching source
    atomic_write(paths["source"], source.encode("utf-8"))
    atomic_write(paths["header"], header.encode("utf-8"))
    return {**paths, **report}


# ---------------------------------------------------------------------------
# ONNX


class _Graph:
    """A small builder over onnx.helper: unique names, constants, nodes."""

    def __init__(self, onnx):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        name = self.name(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, *inputs, out=None, **attrs):
        out = out or self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _onnx_matrix(g, m):
    if m.int8 is None:
        return g.const(m.name, m.values.astype(np.float32))
    # Cast + Mul rather than DequantizeLinear: onnxruntime's extended optimizations
    # rewrite DequantizeLinear -> MatMul into MatMulNBits, which also quantizes the
    # activations (probabilities off by ~1e-2); Cast + Mul is folded into float weights
    q = g.op("Cast", g.const(m.name + "_int8", m.int8), to=g.onnx.TensorProto.FLOAT)
    return g.op("Mul", q, g.const(m.name + "_scale", np.float32(m.scale)))


def _onnx_nonlinearity(g, kind, x):
    if kind == "sigmoid":
        return g.op("Sigmoid", x)
    if kind == "tanh":
        return g.op("Tanh", x)
    if kind == "relu":
        return g.op("Relu", x)
    lo, hi = (-1.0, 1.0) if kind == "quantTanh" else (0.0, 1.0)
    if kind in ("quantSigm", "quantSigm4"):
        x = g.op("Mul", x, g.const("slope", np.float32(0.5 if kind == "quantSigm" else 0.25)))
        x = g.op("Add", x, g.const("half", np.float32(0.5)))
    return g.op("Clip", x, g.const("lo", np.float32(lo)), g.const("hi", np.float32(hi)))


def _onnx_labels(classes):
    kind = classes.dtype.kind
    if kind in "iu":
        return classes.astype(np.int64)
    if kind == "f":
        return classes.astype(np.float64)
    if kind == "b":
        return classes.astype(bool)
    if kind in "OUS" and all(isinstance(c, str) for c in classes):
        return np.array([str(c) for c in classes], dtype=object)
    raise TypeError(f"to_onnx: cannot write class labels of dtype {classes.dtype} as an ONNX tensor.")


def to_onnx(model):
    """Build an ONNX model of the fitted classifier (or scaler + classifier Pipeline).

    The graph uses standard operators only (opset :data:`ONNX_OPSET`), unrolled
    over the model's fixed number of timesteps: input ``"input"``, float32 of
    shape ``[N, T * D]`` laid out ``[x_1 .. x_T]``; outputs ``"label"`` (the
    class labels, int64 / double / bool / string like ``classes_``) and
    ``"probabilities"`` (float32 ``[N, n_classes]``). Rows may be NaN-padded
    after a sequence's end, as in Python: from the first step whose first
    value is NaN on, a Where keeps the state as it is (a masked update), so
    the outputs are the Python model's for padded rows. A folded model
    (``fold_ = k > 1``) takes the same raw rows: the graph pads them with
    NaN to a whole number of folded steps (Pad), reshapes to ``[N, ceil(T /
    k), k * D]``, takes the padding mask from each folded step's first value
    and reads the other NaN as 0 (a Where). The folded scaler
    steps become a Sub and a Div (on ``D`` values per step after the
    Reshape when they are per channel); the int8 matrices of a quantized model are stored
    as int8, converted by a Cast and a Mul by their scale (not
    DequantizeLinear: onnxruntime would turn that into an integer MatMul that
    also quantizes the activations). It computes in float32.

    Needs the optional dependency: ``pip install "skfastgrnn[onnx]"``.

    Parameters
    ----------
    model : FastGRNNClassifier or Pipeline
        As for :func:`export_c`.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker``; save it with ``onnx.save(proto, path)``.

    Raises
    ------
    ImportError
        onnx is not installed.
    sklearn.exceptions.NotFittedError, TypeError
        As for :func:`export_c`; also TypeError for class labels ONNX cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, to_onnx
    >>> X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=8, n_timesteps=2, epochs=3, random_state=0).fit(X, y)
    >>> proto = to_onnx(clf)  # doctest: +SKIP
    >>> import onnxruntime  # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession(proto.SerializeToString())  # doctest: +SKIP
    >>> label, proba = session.run(None, {"input": X.astype(np.float32)})  # doctest: +SKIP
    >>> bool((label == clf.predict(X)).mean() > 0.99)  # doctest: +SKIP
    True
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError('to_onnx needs the optional dependency onnx: pip install "skfastgrnn[onnx]"') from exc
    from . import __version__

    net = _network(model, "to_onnx")
    labels = _onnx_labels(net.classes)
    g = _Graph(onnx)
    # T: the recurrence's steps (folded steps when fold > 1); D: raw features per timestep
    H, T, D = net.hidden_dim, net.n_steps, net.n_step_features
    f32 = np.float32

    def standardize(v):  # the folded scalers; NaN padding stays NaN
        if net.mean is not None:
            v = g.op("Sub", v, g.const("mean", net.mean.astype(f32)))
        if net.scale is not None:
            v = g.op("Div", v, g.const("scale", net.scale.astype(f32)))
        return v

    x = "input"
    if not net.scaler_per_channel:
        x = standardize(x)  # one mean and scale per column of [N, T * D]
    extra = net.n_steps * net.n_inputs - net.n_features
    if extra:
        # fold_steps: NaN after the row's end up to a whole number of folded steps
        pads = g.const("pads", np.array([0, 0, 0, extra], dtype=np.int64))
        x = g.op("Pad", x, pads, g.const("nan", f32(np.nan)), mode="constant")
    x = g.op("Reshape", x, g.const("shape", np.array([-1, T * net.fold, D], dtype=np.int64)))
    if net.scaler_per_channel:
        x = standardize(x)  # D statistics, broadcast over [N, T, D]
    if net.fold > 1:  # fold raw timesteps into one step of fold * D inputs
        x = g.op("Reshape", x, g.const("shape", np.array([-1, T, net.n_inputs], dtype=np.int64)))
    # time-major [T, N, D], so one MatMul projects every timestep
    x = g.op("Transpose", x, perm=[1, 0, 2])
    # padding: a step whose first value is NaN ends the sequence, [T, N, 1]
    nan_first = g.op("IsNaN", g.op("Gather", x, g.const("first", np.array([0], dtype=np.int64)), axis=2))
    if net.fold > 1:
        # inside a folded step whose first value is observed, NaN (the timesteps after the
        # sequence's end, the padding above) reads as 0, in standardized units
        x = g.op("Where", g.op("IsNaN", x), g.const("zero", f32(0.0)), x)
    ended = None
    for wname in net.w_names:
        x = g.op("MatMul", x, _onnx_matrix(g, net.matrices[wname]))
    u_mats = [_onnx_matrix(g, net.matrices[n]) for n in net.u_names]

    def recurrent(v):
        for u in u_mats:
            v = g.op("MatMul", v, u)
        return v

    def vec(vname):
        return g.const(vname, net.vectors[vname].astype(f32))

    def scalar(value):
        return g.const("c", f32(value))

    def step(all_steps, t):
        return g.op("Gather", all_steps, g.const("t", np.int64(t)), axis=0)

    def masked(h_prev, h_new, t):
        """The state after step t: h_new, or h_prev (h_0 = 0 at t = 0) once the sequence has ended."""
        nonlocal ended
        nan_t = step(nan_first, t)  # [N, 1], broadcast over the hidden units
        ended = nan_t if ended is None else g.op("Or", ended, nan_t)
        keep = scalar(0.0) if h_prev is None else h_prev
        return g.op("Where", ended, keep, h_new)

    s = net.scalars
    h = None
    if net.cell == "fastgrnn":
        Pz, Ph = g.op("Add", x, vec("b_z")), g.op("Add", x, vec("b_h"))
        for t in range(T):
            pz, ph = step(Pz, t), step(Ph, t)
            if h is not None:
                hu = recurrent(h)
                pz, ph = g.op("Add", pz, hu), g.op("Add", ph, hu)
            z = _onnx_nonlinearity(g, net.gate, pz)
            c = _onnx_nonlinearity(g, net.update, ph)
            zc = g.op("Mul", c, scalar(s["zeta"]))
            m = g.op("Neg", zc) if h is None else g.op("Sub", h, zc)
            h = masked(h, g.op("Add", g.op("Mul", m, z), g.op("Mul", c, scalar(s["zeta"] + s["nu"]))), t)
    elif net.cell == "fastrnn":
        Pb = g.op("Add", x, vec("b"))
        for t in range(T):
            pre = step(Pb, t)
            if h is not None:
                pre = g.op("Add", pre, recurrent(h))
            c = g.op("Mul", _onnx_nonlinearity(g, net.update, pre), scalar(s["alpha"]))
            h = masked(h, c if h is None else g.op("Add", g.op("Mul", h, scalar(s["beta"])), c), t)
    else:
        parts = ["r", "u", "c"] if T > 1 else ["u", "c"]
        split = g.const("split", np.array([H] * len(parts), dtype=np.int64))
        outs = [g.name("P" + part) for part in parts]
        g.nodes.append(g.helper.make_node("Split", [x, split], outs, axis=2))
        P = dict(zip(parts, outs, strict=True))

        def gate_all(part):  # the gates see only x_t: all timesteps at once
            pre = g.op("Mul", g.op("Add", P[part], vec("b_" + part)), scalar(s["nu"]))
            return _onnx_nonlinearity(g, net.gate, pre)

        Ug = gate_all("u")
        R = gate_all("r") if T > 1 else None
        Pc = g.op("Mul", g.op("Add", P["c"], vec("b_c")), scalar(s["zeta"]))
        for t in range(T):
            pre = step(Pc, t)
            if h is not None:
                rh = g.op("Mul", step(R, t), h)
                pre = g.op("Add", pre, g.op("Mul", recurrent(rh), scalar(s["zeta"])))
            c = _onnx_nonlinearity(g, net.update, pre)
            u = step(Ug, t)
            # h = u h + (1 - u) c  ==  c + u (h - c)
            uhc = g.op("Neg", g.op("Mul", u, c)) if h is None else g.op("Mul", u, g.op("Sub", h, c))
            h = masked(h, g.op("Add", c, uhc), t)
    logits = g.op("Add", g.op("MatMul", h, _onnx_matrix(g, net.matrices["W_out"])), vec("b_out"))
    g.op("Softmax", logits, out="probabilities", axis=1)
    index = g.op("ArgMax", logits, axis=1, keepdims=0)
    g.op("Gather", g.const("classes", labels), index, out="label", axis=0)

    helper = onnx.helper
    label_type = (
        onnx.helper.np_dtype_to_tensor_dtype(labels.dtype) if labels.dtype != object else onnx.TensorProto.STRING
    )
    graph = helper.make_graph(
        g.nodes,
        "skfastgrnn",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", net.n_features])],
        [
            helper.make_tensor_value_info("label", label_type, ["N"]),
            helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["N", net.n_classes]),
        ],
        initializer=g.initializers,
    )
    proto = helper.make_model(
        graph,
        producer_name="skfastgrnn",
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        doc_string=(
            f"FastGRNN classifier ({net.cell}, {net.n_timesteps} timesteps x {D} features"
            + (f", read {net.fold} at a time" if net.fold > 1 else "")
            + f", {net.n_classes} classes); rows may be NaN-padded after a sequence's end (the first "
            + ("folded " if net.fold > 1 else "")
            + "step whose first value is NaN ends it)"
        ),
    )
    proto.ir_version = 8  # the IR of opset 17: readable by onnxruntime >= 1.13
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _harness_source(name):
    """C ``main`` for tests and benchmarks: reads float32 rows from a file, prints predictions or timings.

    ``harness ROWS`` prints one line per row: ``<name>_predict``'s index then
    the probabilities; ``harness ROWS REPEATS`` calls ``<name>_predict_proba``
    on every row REPEATS times and prints the mean nanoseconds per call. The
    harness, not the model, uses malloc and the clock.
    """
    P = name.upper()
    return f"""/* test and benchmark harness for {name}.c (generated by skfastgrnn) */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "{name}.h"

int main(int argc, char **argv)
{{
    FILE *f;
    float *rows = NULL, proba[{P}_N_CLASSES];
    size_t n = 0, cap = 0, i;
    int k;
    if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL) {{
        fprintf(stderr, "usage: %s ROWS.f32 [REPEATS]\\n", argv[0]);
        return 2;
    }}
    for (;;) {{
        if (n == cap) {{
            float *grown;
            cap = cap ? 2 * cap : 1024;
            grown = (float *)realloc(rows, cap * {P}_N_FEATURES * sizeof(float));
            if (grown == NULL) {{
                return 3;
            }}
            rows = grown;
        }}
        if (fread(rows + n * {P}_N_FEATURES, sizeof(float), {P}_N_FEATURES, f) != {P}_N_FEATURES) {{
            break;
        }}
        ++n;
    }}
    fclose(f);
    if (argc == 2) {{
        for (i = 0; i < n; ++i) {{
            const float *x = rows + i * {P}_N_FEATURES;
            printf("%d", {name}_predict(x));
            {name}_predict_proba(x, proba);
            for (k = 0; k < {P}_N_CLASSES; ++k) {{
                printf(" %.9g", (double)proba[k]);
            }}
            printf("\\n");
        }}
    }} else {{
        long repeats = atol(argv[2]), r;
        volatile float sink = 0.0f;
        struct timespec start, stop;
        double ns;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (r = 0; r < repeats; ++r) {{
            for (i = 0; i < n; ++i) {{
                {name}_predict_proba(rows + i * {P}_N_FEATURES, proba);
                sink = sink + proba[0];
            }}
        }}
        clock_gettime(CLOCK_MONOTONIC, &stop);
        ns = (double)(stop.tv_sec - start.tv_sec) * 1e9 + (double)(stop.tv_nsec - start.tv_nsec);
        printf("%.2f\\n", ns / ((double)repeats * (double)n));
    }}
    free(rows);
    return 0;
}}
"""
