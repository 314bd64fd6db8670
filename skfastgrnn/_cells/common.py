"""What every cell shares: the nonlinearities (maths, C and ONNX), the cell interface, the final-state gradient.

Each nonlinearity's derivative is written in terms of the OUTPUT ``y = f(x)``,
so the forward pass only keeps activations. Next to the numpy functions are
the same functions as the exported C code writes them (:data:`C_NONLINEARITIES`)
and as ONNX operators (:func:`onnx_nonlinearity`): adding a nonlinearity
touches this file only.
"""

import math

import numpy as np

# ---------------------------------------------------------------------------
# Nonlinearities.


def _sigmoid(x, out):
    # 0.5 + 0.5 tanh(x / 2): exact, and numpy's vectorized tanh makes this
    # about twice as fast as scipy's expit
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _d_sigmoid(y):
    return y * (1.0 - y)


def _tanh(x, out):
    return np.tanh(x, out=out)


def _d_tanh(y):
    return 1.0 - y * y


def _relu(x, out):
    return np.maximum(x, 0.0, out=out)


def _d_relu(y):
    return (y > 0.0).astype(y.dtype)


def _quant_sigm(x, out):
    # clip((x + 1) / 2, 0, 1): piecewise linear, integer friendly
    out = np.multiply(x, 0.5, out=out)
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


def _d_quant_sigm(y):
    return 0.5 * ((y > 0.0) & (y < 1.0))


def _quant_sigm4(x, out):
    out = np.multiply(x, 0.25, out=out)
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


def _d_quant_sigm4(y):
    return 0.25 * ((y > 0.0) & (y < 1.0))


def _quant_tanh(x, out):
    return np.clip(x, -1.0, 1.0, out=out)


def _d_quant_tanh(y):
    return (np.abs(y) < 1.0).astype(y.dtype)


#: name -> (function(x, out) -> y, derivative(y) -> f'(x))
NONLINEARITIES = {
    "sigmoid": (_sigmoid, _d_sigmoid),
    "tanh": (_tanh, _d_tanh),
    "relu": (_relu, _d_relu),
    "quantSigm": (_quant_sigm, _d_quant_sigm),
    "quantSigm4": (_quant_sigm4, _d_quant_sigm4),
    "quantTanh": (_quant_tanh, _d_quant_tanh),
}

#: name -> body of ``static float <name>(float v)`` in the exported C code
C_NONLINEARITIES = {
    # sigmoid as 0.5 + 0.5 tanh(x / 2), like the Python model: no overflow of expf
    "sigmoid": "return 0.5f + 0.5f * tanhf(0.5f * v);",
    "tanh": "return tanhf(v);",
    "relu": "return v > 0.0f ? v : 0.0f;",
    "quantSigm": "v = v * 0.5f + 0.5f;\n    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);",
    "quantSigm4": "v = v * 0.25f + 0.5f;\n    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);",
    "quantTanh": "return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);",
}


def onnx_nonlinearity(g, kind, x):
    """ONNX nodes computing the nonlinearity ``kind`` of the tensor named ``x``; returns the output's name.

    ``g`` is the ONNX writer's graph builder (``g.op(op_type, *inputs)``,
    ``g.const(base, array)``).
    """
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


def _logistic(v):
    # a Python float, so that float32 arrays stay float32 when scaled by it
    # (math.exp: a numpy call on a scalar costs ~1 us on every batch)
    v = float(v)
    if v < -700.0:  # math.exp would overflow; the limit is 0 anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(-v))


# ---------------------------------------------------------------------------
# The cell interface.


class Cell:
    """What a recurrent cell provides: its maths, and its C and ONNX code.

    A cell is a class of static methods, registered by name in
    :data:`~skfastgrnn._cells.CELLS`; everything about one cell lives in its
    module. The exporters (``skfastgrnn._export_c``, ``skfastgrnn._export_onnx``)
    write the input projection ``a = x_t W`` (all of W's ``n_blocks * H``
    columns), the recurrent matrix product, the padding mask and the output
    layer, and ask the cell for the rest.

    Maths: ``n_blocks`` (H-wide column blocks of W), ``param_shapes(H)``,
    ``init_params(views, rng)``, ``forward(P, U, views, gate, update, ws=None)``
    and ``backward(final, U, cache)``; forward works on the input projection P
    ``(T, B, n_blocks * H)`` of every timestep and the full recurrent matrix
    U ``(H, H)``, returns ``(Hs, cache)`` with ``Hs`` of shape ``(T + 1, B,
    H)`` holding ``h_0 .. h_T``; backward takes a :class:`FinalStateGradient`
    and returns ``(dP, dU, {name: grad})``. ``ws`` is the layer's
    :class:`Scratch`: forward and backward take their work arrays from it
    (a fit reuses them for every batch; the returned arrays may be views of
    them, valid until the next batch).

    Export (``net`` is the exporters' description of ONE recurrent layer,
    ``skfastgrnn._export_common._Layer``: ``net.hidden_dim``, ``net.n_steps``
    (steps of the recurrence), ``net.gate``, ``net.update``, ``net.scalars``,
    ``net.matrices``, ``net.vectors``, ``net.omitted``, with the layer's
    parameters under the cell's plain names: the exporters call these once per
    layer of a stack, with ``layer2.W`` as ``W``):

    - ``uses_gate``: whether the gate nonlinearity is computed (the C code
      defines only the functions it calls);
    - ``export_scalars(views)``: the cell's constants as the model computes
      with them (after their sigmoid), ``{name: float}``;
    - ``export_one_step(net, why)``: with one step, ``h_0 = 0`` is the only
      state the cell sees; the exporter has dropped U, the cell drops what
      else only multiplies ``h_0`` (and says so in ``net.omitted``);
    - ``c_constants(scalars)``: the ``static const float`` the C step reads;
    - ``c_buffers(net)``: stack buffers (floats) beyond ``h``, ``a``, ``hu``
      (shared by the layers of a stack, sized for the largest);
    - ``c_step(net, w)``: the C statements of one step after ``a = x_t W``,
      inside the loop over ``t``; ``w.h`` is the layer's state buffer,
      ``w.param(name)`` the C name of the layer's constant ``name``,
      ``w.vec(name)`` the read of element ``j`` of its bias ``name`` (through
      the macro that reads program memory on AVR),
      ``w.p`` the prefix of the model's functions (``<p>_sigmoid``) and
      ``w.recurrent(source)`` the statements computing ``hu = source U``
      from the second step on;
    - ``onnx_steps(net, x, o)``: the ONNX nodes of the recurrence over the
      time-major projection ``x`` ``[T, N, n_blocks * H]``; returns the name
      of the final state. ``o.g`` is the graph builder, ``o.vec(name)``,
      ``o.scalar(value)`` constants, ``o.step(all_steps, t)`` step ``t`` of a
      time-major tensor, ``o.recurrent(h)`` the product ``h U`` and
      ``o.masked(h_prev, h_new, t)`` the state after step ``t`` (h_prev once
      the sequence has ended; None for ``h_0 = 0``), called once per step in
      order: the writer takes the states the layer above reads from there.
    """

    n_blocks = 1
    uses_gate = True

    @staticmethod
    def export_one_step(net, why):
        """Nothing beyond U only multiplies ``h_0`` (the default)."""

    @staticmethod
    def c_constants(scalars):
        return dict(scalars)

    @staticmethod
    def c_buffers(net):
        return {}


# ---------------------------------------------------------------------------
# Where the loss gradient enters the recurrence, and helpers of backward.


class FinalStateGradient:
    """Where the loss gradient enters the recurrence, for sequences of any length.

    A sequence of length ``L`` ends in ``h_L``; NaN padding after its end
    leaves the state unchanged (a masked update), so its output is ``h_L`` and
    the steps after ``L`` get no gradient. Running every row of a batch for
    ``T`` steps and reading row ``i``'s output at ``h_{L_i}`` is exactly that.
    Backward starts from the rows that end at ``T`` and adds the others' final
    gradient when the backward sweep reaches their last step.

    Parameters
    ----------
    dh : ndarray of shape (B, H)
        d(loss) / d(final state) of each row.
    lengths : ndarray of int of shape (B,) or None
        Steps of each row (None: all ``T``).

    Examples
    --------
    >>> import numpy as np
    >>> g = FinalStateGradient(np.ones((2, 1)), np.array([1, 2]))
    >>> g.start(2).ravel().tolist()
    [0.0, 1.0]
    """

    def __init__(self, dh, lengths=None):
        self.dh = dh
        self.lengths = lengths

    def start(self, T):
        """Gradient with respect to ``h_T``: a fresh array the caller may overwrite."""
        if self.lengths is None:
            return self.dh
        dh = np.zeros_like(self.dh)
        rows = self.lengths == T
        dh[rows] = self.dh[rows]
        return dh

    def add(self, t, dh):
        """Add the final gradient of the rows of length ``t`` to ``dh`` (d loss / d h_t), in place."""
        if self.lengths is not None:
            rows = self.lengths == t
            if rows.any():
                dh[rows] += self.dh[rows]


class SequenceGradient:
    """The gradient with respect to every state ``h_1 .. h_T``: what a lower layer of a stack receives.

    The layer above reads all of this layer's states, so the loss gradient
    enters its recurrence at every step; the interface is that of
    :class:`FinalStateGradient`.

    Parameters
    ----------
    dHs : ndarray of shape (T, B, H)
        d(loss) / d(h_t), index ``t - 1`` for ``h_t``.

    Examples
    --------
    >>> import numpy as np
    >>> g = SequenceGradient(np.arange(4.0).reshape(2, 2, 1))
    >>> g.start(2).ravel().tolist()
    [2.0, 3.0]
    """

    def __init__(self, dHs):
        self.dHs = dHs

    def start(self, T):
        """Gradient with respect to ``h_T``: a fresh array the caller may overwrite."""
        return self.dHs[T - 1].copy()

    def add(self, t, dh):
        """Add d loss / d h_t from the layer above to ``dh``, in place."""
        dh += self.dHs[t - 1]


class Scratch:
    """Named work arrays that every batch of one fit reuses (the per-fit workspace).

    ``get(name, shape, dtype)`` returns a C-contiguous array of that shape
    whose contents are undefined. With ``reuse`` the same name returns the
    same memory on every later call while it fits: a fit allocates its
    arrays on the first batch, and a smaller last batch gets views of them
    (the front of one flat buffer, so they stay contiguous). Without
    ``reuse`` every call allocates (one-off forward passes). Training no
    longer allocates its activations per batch, which also keeps it immune
    to a small ``MALLOC_TRIM_THRESHOLD_`` (every large temporary would be
    mapped and unmapped again).

    Parameters
    ----------
    reuse : bool, default=True
    prefix : str, default=""
        Prepended to every name (one prefix per layer of a stack).

    Examples
    --------
    >>> s = Scratch()
    >>> a = s.get("a", (2, 3), np.float64)
    >>> b = s.get("a", (1, 3), np.float64)  # a smaller batch: the front of the same memory
    >>> np.shares_memory(a, b), b.flags.c_contiguous
    (True, True)
    """

    def __init__(self, reuse=True, prefix="", shared=None):
        self.reuse = reuse
        self.prefix = prefix
        # the storage the layers of one network share (``shared``: another scratch's)
        self.shared = shared if shared is not None else ({}, {}, {}, {}, {})
        # name -> 1-D buffer; (name, shape, dtype) -> view; ones; sets of arrays (plans); the layers
        self._flat, self._views, self._ones, self._sets, self._layers = self.shared

    def layer(self, k):
        """The scratch of layer ``k`` of a stack: the same storage under its own names."""
        key = (self.prefix, k)
        sub = self._layers.get(key)
        if sub is None:
            sub = Scratch(self.reuse, f"{self.prefix}{k}.", self.shared)
            if self.reuse:
                self._layers[key] = sub
        return sub

    def get(self, name, shape, dtype):
        """A contiguous ``shape`` array of ``dtype`` (undefined contents), reused under ``name``."""
        if not self.reuse:
            return np.empty(shape, dtype)
        key = (self.prefix + name, shape, dtype)
        view = self._views.get(key)
        if view is not None:
            return view
        size = math.prod(shape)
        flat = self._flat.get(key[0])
        if flat is None or flat.size < size or flat.dtype != dtype:
            flat = self._flat[key[0]] = np.empty(size, dtype)
            for stale in [k for k in self._views if k[0] == key[0]]:  # views of the old buffer
                del self._views[stale]
            self._sets.clear()
        view = self._views[key] = flat[:size].reshape(shape)
        return view

    def arrays(self, dtype, *specs):
        """``get(name, shape, dtype)`` for every ``(name, shape)`` of ``specs``, as a tuple (one lookup when reused)."""
        key = (self.prefix, dtype, specs)
        found = self._sets.get(key) if self.reuse else None
        if found is None:
            found = tuple(self.get(name, shape, dtype) for name, shape in specs)
            if self.reuse:
                self._sets[key] = found
        return found

    def plan(self, key, build):
        """``build(self, *key[1:])`` (key[0] names the plan), made once per ``key`` when reused: arrays and views.

        Views cost a fraction of a microsecond each to make; a path that runs
        a dozen small numpy calls per batch keeps them all in one object.
        """
        key = (self.prefix, *key)
        found = self._sets.get(key) if self.reuse else None
        if found is None:
            found = build(self, *key[2:])
            if self.reuse:
                self._sets[key] = found
        return found

    def ones(self, n, dtype):
        """A vector of ``n`` ones (cached: never write to it)."""
        key = (n, dtype)
        ones = self._ones.get(key)
        if ones is None:
            ones = self._ones[key] = np.ones(n, dtype)
        return ones


def final_states(Hs, lengths):
    """Each row's state after its last observed step: ``h_T``, or ``h_{L_i}`` for lengths ``L``."""
    if lengths is None:
        return Hs[-1]
    return Hs[lengths, np.arange(Hs.shape[1])]


def _sum_rows(A, ws=None, out=None):
    """Sum over every axis but the last, as one matrix-vector product.

    numpy's ``sum(axis=0)`` over a tall, narrow array is an order of magnitude
    slower than BLAS here, and these sums sit on the training hot path.
    ``ws`` (a :class:`Scratch`) caches the vector of ones; ``out`` receives
    the sum.
    """
    A = A.reshape(-1, A.shape[-1])
    ones = np.ones(A.shape[0], dtype=A.dtype) if ws is None else ws.ones(A.shape[0], A.dtype)
    return np.matmul(ones, A, out=out)


def _derivative(kind, y, out):
    """The derivative of the nonlinearity ``kind`` at its output ``y``, written into ``out``.

    The same numbers as ``NONLINEARITIES[kind][1](y)``, without temporaries
    for the default sigmoid and tanh.
    """
    if kind == "sigmoid":  # y (1 - y)
        np.subtract(1.0, y, out=out)
        out *= y
    elif kind == "tanh":  # 1 - y^2
        np.multiply(y, y, out=out)
        np.subtract(1.0, out, out=out)
    else:
        out[...] = NONLINEARITIES[kind][1](y)
    return out


def _hprev_product(Hs, dA):
    """sum_t h_{t-1}^T dA_t in one product (h_0 = 0 contributes nothing)."""
    T, B, H = dA.shape
    if T == 1:
        return np.zeros((H, H), dtype=dA.dtype)
    return Hs[1:T].reshape((T - 1) * B, H).T @ dA[1:].reshape((T - 1) * B, H)


# ---------------------------------------------------------------------------
# Integer-only inference: the fixed-point formats and the nonlinearities on them.
# (skfastgrnn._integer documents the whole design; the cells' int_step / c_int_step use these.)

#: fractional bits of activations, states and pre-activations (Q12: 1.0 is 4096)
INT_FRAC = 12
INT_ONE = 1 << INT_FRAC
#: fractional bits of the guide cell's constants nu and zeta (Q13)
INT_CONST_FRAC = 13
#: the sums a matrix product contributes to are clamped to +-INT_PRE_LIMIT (about +-32.0)
INT_PRE_LIMIT = (1 << 17) - 1
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
#: tanh(i / 32) in Q12 for i = 0 .. 192 (x in [0, 6]); beyond 6, tanh is 1.0 to Q12 precision
INT_TANH_STEP_BITS = 5
INT_TANH_TABLE = np.rint(INT_ONE * np.tanh(np.arange(193) / 32.0)).astype(np.int64)


def int_round_shift(v, k):
    """``round(v / 2^k)`` (halves up) of an int64 array, as C's ``(v + (1 << (k - 1))) >> k``."""
    return (v + (1 << (k - 1))) >> k


def int_unit_q16(x):
    """A constant in [0, 1] as unsigned Q16 (1.0 saturates to 65535): the cells' zeta, nu, alpha, beta."""
    return int(min(max(round(float(x) * 65536.0), 0), 65535))


def int_mul_const(c, v):
    """``c * v`` for a Q13 constant ``c`` and a Q12 value ``v`` (clamped to +-INT_PRE_LIMIT first), in Q12."""
    return int_round_shift(c * np.clip(v, -INT_PRE_LIMIT, INT_PRE_LIMIT), INT_CONST_FRAC)


def int_sat16(v):
    """Saturation to int16: every nonlinearity reads a saturated Q12 value (+-8.0, where all are flat)."""
    return np.clip(v, INT16_MIN, INT16_MAX)


def _int_tanh_core(v, shift):
    # tanh(|v| / 2^shift): table index |v| >> shift, linear interpolation on the rest
    a = np.abs(v)
    idx = a >> shift
    inside = idx < INT_TANH_TABLE.size - 1
    i = np.minimum(idx, INT_TANH_TABLE.size - 2)
    t0, t1 = INT_TANH_TABLE[i], INT_TANH_TABLE[i + 1]
    y = t0 + int_round_shift((t1 - t0) * (a & ((1 << shift) - 1)), shift)
    y = np.where(inside, y, INT_ONE)
    return np.where(v < 0, -y, y)


#: name -> integer function of Q12 int16 values (int64 arrays) giving Q12 int16 values
INT_NONLINEARITIES = {
    "tanh": lambda v: _int_tanh_core(v, INT_FRAC - INT_TANH_STEP_BITS),
    # sigmoid(x) = (1 + tanh(x / 2)) / 2: the same table read at half the slope
    "sigmoid": lambda v: (INT_ONE + _int_tanh_core(v, INT_FRAC - INT_TANH_STEP_BITS + 1)) >> 1,
    "relu": lambda v: np.maximum(v, 0),
    "quantSigm": lambda v: np.clip((v >> 1) + INT_ONE // 2, 0, INT_ONE),
    "quantSigm4": lambda v: np.clip((v >> 2) + INT_ONE // 2, 0, INT_ONE),
    "quantTanh": lambda v: np.clip(v, -INT_ONE, INT_ONE),
}

#: the nonlinearities whose values lie in [0, 1]: as a FastGRNN gate they are used in unsigned Q16
INT_UNIT_GATES = ("sigmoid", "quantSigm", "quantSigm4")

#: name -> body of ``static int16_t <p>_<name>(int16_t v)`` (16-bit arithmetic); ``{p}`` is the model's
#: prefix (``{p}_tanh_at<shift>(v)``: the table reading the writer defines for tanh (7) and sigmoid (8))
C_INT_NONLINEARITIES = {
    "tanh": f"return {{p}}_tanh_at{INT_FRAC - INT_TANH_STEP_BITS}(v);",
    "sigmoid": f"return (int16_t)(({INT_ONE} + {{p}}_tanh_at{INT_FRAC - INT_TANH_STEP_BITS + 1}(v)) >> 1);",
    "relu": "return v < 0 ? 0 : v;",
    "quantSigm": f"v = (int16_t)((v >> 1) + {INT_ONE // 2});\n    return v < 0 ? 0 : (v > {INT_ONE} ? {INT_ONE} : v);",
    "quantSigm4": f"v = (int16_t)((v >> 2) + {INT_ONE // 2});\n    return v < 0 ? 0 : (v > {INT_ONE} ? {INT_ONE} : v);",
    "quantTanh": f"return v < -{INT_ONE} ? -{INT_ONE} : (v > {INT_ONE} ? {INT_ONE} : v);",
}
