"""Integer-only inference: the fixed-point design, and its numpy reference.

``export_c(model, ..., integer_only=True)`` writes C that computes with
integers only after the input is quantized; :class:`IntegerNetwork` computes
exactly the same integers in numpy (int64 arrays holding the C code's int16
and int32 values), so :class:`skfastgrnn.IntegerModel` shows the device's
predictions, bit for bit, before flashing. Pure numpy, no scikit-learn: it reads
the exporters' description of the network (``_export_common._Network``).

The format
----------
- **Weights**: the int8 matrices of :meth:`~skfastgrnn.FastGRNNClassifier.quantize`
  (symmetric, one float scale per matrix, ``_compress.quantize_tensor``): a
  quantized model's int8 values are used as they are; a float model is
  quantized on a copy exactly as ``quantize()`` would (the estimator is not
  changed). Pruned / sparse-trained zeros stay zeros; dense or CSR storage as
  in the float export.
- **Input**: no float arithmetic at all: each raw float32 value is read from
  its bits as ``trunc(x 2^e)`` in int32 (``e`` per channel, or per column,
  such that ``|mean| + input_range * scale`` stays below 2^29; saturated to
  +-2^30; NaN reads as 0), then the scaler is applied in integers:
  ``round((x_int - mean_int) m / 2^k)``, saturated to int16 Q``fx``
  (``fx = 15 - ceil(log2(input_range))``: Q11 for the default
  ``input_range=16``, standardized values in [-16, 16)). On an 8-bit core a
  float subtraction and multiplication cost about 1,000 cycles per value;
  this costs about 370. A scaler mean more than 2^16 times its scale is
  refused.
- **Activations, states, pre-activations**: Q12 (1.0 is 4096). States, gate
  and update outputs and low-rank intermediates are int16 (saturated, so a
  state spans [-8, 8)). A matrix product's requantized outputs are int32
  clamped to +-(2^17 - 1) (about +-32); their sums with the biases (int32
  Q12) are saturated to int16 before each nonlinearity, where all of them
  are flat (relu saturates at 8 like a state).
- **Matrix products**: int8 weights times int16 values summed in int32
  (``|acc| <= max_j sum_i |q_ji| * 2^15 < 2^31`` is checked when the
  model is converted: it holds for fewer than 517 inputs), then requantized
  by one integer multiplier and shift per matrix: ``round(acc * m / 2^k)``
  with ``2^14 <= m < 2^15``, ``17 <= k <= 46`` (``m / 2^k`` is the float
  ``scale * 2^(f_out - f_in)`` to 15 significant bits). C computes it
  exactly, ``floor(acc m / 2^16)`` (``<p>_mulhi``: in 32-bit arithmetic, the
  product split at bit 16 of ``acc``; hardware multiplies on AVR), then a
  rounding shift by ``k - 16``.
  Power-of-two scales (shifts only) would lose up to 41 % of each matrix's
  scale and are not used.
- **Cell constants**: the FastGRNN cell's zeta and nu and the FastRNN cell's
  alpha and beta (all in (0, 1)) in unsigned Q16; the guide cell's nu and
  zeta (0.8, 1.2) in Q13. A FastGRNN gate with values in [0, 1] (sigmoid,
  quantSigm, quantSigm4) is used in unsigned Q16 too (1.0 as 65535), so the
  state update is 16 x 16-bit products and shifts by 16 (byte moves on an
  8-bit core); each product is rounded back to Q12 on its own (the cells'
  ``int_step`` docstrings give the formulas).
- **Nonlinearities**: quantSigm, quantSigm4, quantTanh and relu are exact
  shifts and clamps; tanh reads a table of ``tanh(i / 32)``, ``i = 0..192``
  (Q12 int16, 386 bytes, in flash on AVR) with linear interpolation (error at
  most 1.3 LSB, 3e-4); sigmoid is ``(1 + tanh(x / 2)) / 2`` on the same table.
- **Output layer**: ``h W_out + b_out`` in int32: Q12 scores for a classifier
  (argmax: the class, first index on ties), and for a regressor in
  ``Q<out_frac>`` with ``out_frac`` as large as the output's bound allows
  (at most 24).
- **Readers** (the only float operations): a regressor's
  outputs are ``float32(score) * 2^-out_frac``; a classifier's probabilities
  are an integer softmax (``2^(-(s_max - s_k) log2 e)`` from a 33-entry
  table, Q15) divided in float32 by their sum.

Sequences, as the float export: the first (folded) step whose first raw value
is NaN ends the sequence and every layer's state stays as it is; steps after
``T`` are ignored; a folded step reads ``fold * D`` quantized values, zeros
after the sequence's end and past ``T``.

Right shifts of negative values are arithmetic (floor), as numpy's; C99
leaves it to the implementation and the generated code checks it at compile
time (gcc, clang and avr-gcc shift arithmetically).
"""

import math
from dataclasses import dataclass

import numpy as np

from ._cells import CELLS
from ._cells.common import INT16_MAX, INT16_MIN, INT_FRAC, INT_PRE_LIMIT

#: standardized inputs are represented on [-input_range, input_range) by default
DEFAULT_INPUT_RANGE = 16.0
#: largest fractional bits of a regressor's outputs
MAX_OUT_FRAC = 24
#: largest sum of |int8| in one output of a product: the int32 accumulator cannot overflow below it
MAX_ROW_L1 = ((1 << 31) - 1) >> 15
#: 2^(-i/32) in Q15 for i = 0..32: the integer softmax's table
EXP2_TABLE = np.rint(32768.0 * 2.0 ** (-np.arange(33) / 32.0)).astype(np.int64)
#: log2(e) in Q12
LOG2E_Q12 = 5909
#: the integer softmax treats score differences below -12.0 as -12.0 (exp(-12) < 2^-17: 0 in Q15)
SOFTMAX_FLOOR = 12 * (1 << INT_FRAC)


def requant_multiplier(scale, what):
    """``(m, k)`` with ``m / 2^k`` the float ``scale`` to 15 bits: ``2^14 <= m < 2^15``, ``17 <= k <= 46``.

    Examples
    --------
    >>> requant_multiplier(0.01, "W")
    (20972, 21)
    """
    if not 0.0 < scale < 0.25:
        raise ValueError(
            f"integer_only: {what} needs a requantization factor of {scale:.4g}, outside (0, 0.25): its weights "
            "are too large for the int16 input range; standardize the inputs (a StandardScaler or SequenceScaler "
            "step) or pass a larger input_range."
        )
    f, e = math.frexp(scale)  # scale = f 2^e, 0.5 <= f < 1
    m, k = int(round(f * (1 << 15))), 15 - e
    if m == 1 << 15:
        m, k = 1 << 14, k - 1
    if k < 17:  # scale rounds up to 0.25
        m, k = (1 << 15) - 1, 17
    if k > 46:  # tiny: fewer significant bits, the result is 0 or 1 LSB anyway
        m, k = int(round(scale * 2.0**46)), 46
    return m, k


def requantize(acc, m, k):
    """``round(acc * m / 2^k)`` (halves up) of an int64 array: what the C code computes exactly.

    ``m`` and ``k`` may be arrays (one per element of ``acc``, as for the input).
    """
    return (acc * m + np.left_shift(1, np.asarray(k) - 1)) >> k


#: the raw input in fixed point, ``trunc(x 2^e)``, saturates at +-2^30 (the scaler's range has 2^29)
IN_SATURATION = 1 << 30


def _input_tables(mean, scale, input_range, frac):
    """Per channel (or column): ``e``, ``mean_int``, ``m``, ``k`` of the integer scaler.

    ``x`` is read as ``trunc(x 2^e)`` with ``e`` such that ``|mean| + input_range * scale`` (the
    inputs the int16 range represents) stays below 2^29; ``mean_int = round(mean 2^e)``; ``m / 2^k``
    is ``2^(frac - e) / scale``.
    """
    bound = np.abs(mean) + input_range * scale
    e = np.clip(29 - np.ceil(np.log2(bound)), -126, 126).astype(np.int64)
    mean_int = np.rint(mean * np.exp2(e)).astype(np.int64)
    try:
        mk = [requant_multiplier(2.0 ** (frac - int(ei)) / si, "input") for ei, si in zip(e, scale, strict=True)]
    except ValueError:
        raise ValueError(
            "integer_only: a scaler mean is more than 2^16 times its scale: the input cannot be read in "
            "32-bit fixed point; standardize such features before the model."
        ) from None
    return e, mean_int, np.array([m for m, _ in mk], dtype=np.int64), np.array([k for _, k in mk], dtype=np.int64)


@dataclass
class IntMatrix:
    """One int8 matrix ``(n_in, n_out)`` (``x M``) with its requantization; ``out`` says how results are kept.

    ``out``: ``"pre"`` (int32 Q12 clamped to +-INT_PRE_LIMIT), ``"int16"`` (a
    low-rank intermediate, saturated to int16) or ``"score"`` (the output layer).
    """

    name: str
    q: np.ndarray
    m: int
    k: int
    out: str

    def apply(self, x):
        """The product of int64 rows ``x`` (n, n_in) with the matrix, requantized."""
        y = requantize(x @ self.q.astype(np.int64), self.m, self.k)
        if self.out == "pre":
            return np.clip(y, -INT_PRE_LIMIT, INT_PRE_LIMIT)
        if self.out == "int16":
            return np.clip(y, INT16_MIN, INT16_MAX)
        return y


class IntLayer:
    """One recurrent layer in integers, under the cell's plain names (what ``int_step`` / ``c_int_step`` read).

    ``matrices`` (:class:`IntMatrix`), ``biases`` (int64 Q12), ``consts``
    (Q13 ints, the cell's ``c_constants``); ``prefix`` and ``index`` as in
    ``_export_common._Layer``.
    """

    def __init__(self, layer, input_frac, gate, update):
        self.index, self.prefix, self.hidden_dim = layer.index, layer.prefix, layer.hidden_dim
        self.n_inputs, self.n_steps, self.gate, self.update = layer.n_inputs, layer.n_steps, gate, update
        self.matrices = {}
        for name, mat in layer.matrices.items():
            # the first factor of a low-rank pair keeps an int16 intermediate; W / W1 read the layer's input
            f_in = input_frac if name in ("W", "W1") else INT_FRAC
            out = "int16" if name in ("W1", "U1") else "pre"
            self.matrices[name] = _int_matrix(layer.prefix + name, mat, f_in, INT_FRAC, out)
        self.biases = {n: _fixed(v, INT_FRAC, INT_PRE_LIMIT, layer.prefix + n) for n, v in layer.vectors.items()}
        self.consts = CELLS[layer.net.cell].int_constants(layer.scalars)

    @property
    def w_names(self):
        return [n for n in ("W1", "W2", "W") if n in self.matrices]

    @property
    def u_names(self):
        return [n for n in ("U1", "U2", "U") if n in self.matrices]

    def project(self, x):
        """The input projection ``x W`` (or ``(x W1) W2``) of int64 rows: Q12 pre-activations."""
        for name in self.w_names:
            x = self.matrices[name].apply(x)
        return x

    def recurrent(self, h):
        """``h U`` (or ``(h U1) U2``), Q12; 0 without U (one step: h_0 = 0)."""
        if not self.u_names:
            return 0
        for name in self.u_names:
            h = self.matrices[name].apply(h)
        return h


def _fixed(values, frac, limit, what):
    """Float values as rounded integers with ``frac`` fractional bits, clamped to +-limit."""
    del what  # clamping a bias beyond +-32 changes nothing a nonlinearity can see
    return np.clip(np.rint(np.asarray(values, dtype=np.float64) * 2.0**frac), -limit, limit).astype(np.int64)


def _int_matrix(name, mat, f_in, f_out, out):
    if mat.int8 is None:
        raise ValueError(f"integer_only: the matrix {name} is not quantized (internal error: quantize a copy first).")
    q = np.asarray(mat.int8, dtype=np.int8)
    l1 = int(np.abs(q.astype(np.int64)).sum(axis=0).max()) if q.size else 0
    if l1 > MAX_ROW_L1:
        raise ValueError(
            f"integer_only: {name} has {q.shape[0]} inputs with |int8| summing to {l1} in one output: its int32 "
            f"sums could overflow (at most {MAX_ROW_L1}); use fewer inputs per step (a smaller fold or hidden_dim)."
        )
    m, k = requant_multiplier(mat.scale * 2.0 ** (f_out - f_in), name)
    return IntMatrix(name, q, m, k, out)


class IntegerNetwork:
    """The integer network of a described, quantized model (``_export_common._Network``).

    Parameters
    ----------
    net : _Network
        From ``describe_network``, with int8 matrices.
    input_range : float
        Standardized inputs are represented on ``[-input_range, input_range)``.

    Examples
    --------
    >>> requantize(np.array([1000, -1000]), 20972, 21)  # 0.01 * acc, rounded
    array([ 10, -10])
    """

    def __init__(self, net, input_range=DEFAULT_INPUT_RANGE):
        if not 1.0 <= input_range <= 32768.0:
            raise ValueError(f"input_range must be in [1, 32768]; got {input_range!r}.")
        self.cell = CELLS[net.cell]
        self.T, self.D, self.fold = net.n_timesteps, net.n_step_features, net.fold
        self.n_steps, self.n_inputs = net.n_steps, net.n_inputs
        self.classes = net.classes
        self.input_frac = 15 - math.ceil(math.log2(input_range))
        self.per_channel = net.mean is None and net.scale is None or net.scaler_per_channel
        width = self.D if self.per_channel else self.T * self.D
        mean = np.zeros(width) if net.mean is None else np.asarray(net.mean, dtype=np.float64)
        scale = np.ones(width) if net.scale is None else np.asarray(net.scale, dtype=np.float64)
        self.in_exp, self.in_mean, self.in_m, self.in_k = _input_tables(mean, scale, input_range, self.input_frac)
        self.layers = []
        for layer in net.layers:
            f_in = self.input_frac if layer.index == 1 else INT_FRAC
            self.layers.append(IntLayer(layer, f_in, net.gate, net.update))
        w_out = net.matrices["W_out"]
        b_out = np.asarray(net.vectors["b_out"], dtype=np.float64)
        self.out_frac = INT_FRAC if self.classes is not None else _out_frac(w_out, b_out)
        self.W_out = _int_matrix("W_out", w_out, INT_FRAC, self.out_frac, "score")
        self.b_out = _fixed(b_out, self.out_frac, 1 << 30, "b_out")
        self.omitted = list(net.omitted)

    @property
    def hidden_dims(self):
        return tuple(layer.hidden_dim for layer in self.layers)

    def quantize_input(self, rows):
        """The int16 values (as int64) the C code's ``<p>_step`` makes of float rows ``(n, T * D)``.

        Each float32 value ``x`` becomes ``trunc(x 2^e)`` exactly (saturated to +-2^30; NaN reads as 0),
        then ``round((x_int - mean_int) m / 2^k)`` saturated to int16: the scaler in integers.
        """
        x = np.asarray(rows, dtype=np.float32).astype(np.float64)
        tiles = self.T if self.per_channel else 1
        e, mean, m, k = (np.tile(t, tiles) for t in (self.in_exp, self.in_mean, self.in_m, self.in_k))
        with np.errstate(invalid="ignore"):
            v = np.clip(np.trunc(x * np.exp2(e)), -IN_SATURATION, IN_SATURATION)
        fixed = np.where(np.isnan(v), 0, v).astype(np.int64)
        return np.clip(requantize(fixed - mean, m, k), INT16_MIN, INT16_MAX)

    def observed(self, rows):
        """``(n, n_steps)`` bool: the (folded) steps read, up to the first whose first raw value is NaN."""
        first = np.asarray(rows, dtype=np.float64)[:, :: self.fold * self.D][:, : self.n_steps]
        return np.cumprod(~np.isnan(first), axis=1).astype(bool)

    def scores(self, rows):
        """Integer outputs (int64 ``(n, n_outputs)``) of float rows ``(n, T * D)``, NaN-padded after an end."""
        rows = np.asarray(rows, dtype=np.float64)
        n = rows.shape[0]
        if rows.ndim != 2 or rows.shape[1] != self.T * self.D:
            raise ValueError(f"expected rows of {self.T * self.D} values; got shape {rows.shape}.")
        xq = self.quantize_input(rows)
        pad = self.n_steps * self.n_inputs - xq.shape[1]
        xq = np.concatenate([xq, np.zeros((n, pad), dtype=np.int64)], axis=1).reshape(n, self.n_steps, -1)
        observed = self.observed(rows)
        states = [np.zeros((n, layer.hidden_dim), dtype=np.int64) for layer in self.layers]
        for t in range(self.n_steps):
            source, mask = xq[:, t], observed[:, t, None]
            if not mask.any():
                break
            for i, layer in enumerate(self.layers):
                new = self.cell.int_step(layer, layer.project(source), states[i], layer.recurrent)
                states[i] = np.where(mask, new, states[i])
                source = states[i]
        return self.W_out.apply(states[-1]) + self.b_out

    def outputs(self, scores):
        """A regressor's outputs: ``float32(score) * 2^-out_frac``, as C's ``<p>_output``."""
        return np.asarray(scores).astype(np.float32) * np.float32(2.0**-self.out_frac)


def int_softmax(scores):
    """The probabilities C's ``<p>_proba`` computes from Q12 integer scores (float32).

    Examples
    --------
    >>> np.round(int_softmax(np.array([[0, 0], [4096, 0]])).astype(np.float64), 3).tolist()
    [[0.5, 0.5], [0.731, 0.269]]
    """
    d = np.maximum(scores - scores.max(axis=1, keepdims=True), -SOFTMAX_FLOOR)
    y = (-d * LOG2E_Q12 + (1 << (INT_FRAC - 1))) >> INT_FRAC  # Q12 powers of 1/2
    n, f = y >> INT_FRAC, y & ((1 << INT_FRAC) - 1)
    idx, rest = f >> 7, f & 127
    e0, e1 = EXP2_TABLE[idx], EXP2_TABLE[idx + 1]
    e = (e0 - (((e0 - e1) * rest + 64) >> 7)) >> n
    return e.astype(np.float32) / e.sum(axis=1, keepdims=True).astype(np.float32)


def _out_frac(w_out, b_out):
    """A regressor's output fractional bits: as many as keep ``|h W_out + b_out| < 2^30`` for ``|h| < 8``."""
    bound = float((np.abs(w_out.values).sum(axis=0) * 8.0 + np.abs(b_out)).max())
    frac = MAX_OUT_FRAC if bound <= 0 else min(MAX_OUT_FRAC, math.floor(30 - math.log2(bound)))
    # the requantization factor scale * 2^(frac - 12) must stay below 0.25
    while frac > 0 and w_out.scale * 2.0 ** (frac - INT_FRAC) >= 0.25:
        frac -= 1
    if frac < 0:
        raise ValueError("integer_only: the regressor's outputs are too large for int32 scores.")
    return frac
