"""The maths of the network: nonlinearities, recurrent cells, head and loss.

Pure numpy, no scikit-learn. Everything works on a batch at once and is
time-major: a batch of sequences is an array of shape ``(T, B, D)``.

The network is::

    P     = X W                        input projection, all timesteps in one product
    h_t   = cell(P_t, h_{t-1} U, ...)  recurrence, h_0 = 0
    z     = h_T W_out + b_out          logits
    loss  = sum_i w_i CE(softmax(z_i), y_i) / sum_i w_i + l2 / 2 * ||matrices||^2

with row-vector convention (``x W`` rather than ``W x``). Every parameter lives
in one flat buffer; :class:`Layout` names views into it, so the optimizer,
clipping, L2, saving and quantization all see one vector.

Cells
-----
``"fastgrnn"`` (Kusupati et al., 2018, eq. 3-4), W and U shared by gate and update::

    z_t = gate(x_t W + h_{t-1} U + b_z)
    c_t = update(x_t W + h_{t-1} U + b_h)
    h_t = (zeta (1 - z_t) + nu) c_t + z_t h_{t-1}
    zeta = sigmoid(zeta_logit), nu = sigmoid(nu_logit)   (trainable, kept in [0, 1])

``"fastrnn"`` (same paper, eq. 1)::

    c_t = update(x_t W + h_{t-1} U + b)
    h_t = alpha c_t + beta h_{t-1},  alpha = sigmoid(alpha_logit), beta = sigmoid(beta_logit)

``"guide"``: the cell of the Tiny Dancer FastGRNN training guide, a GRU-like cell
with separate input matrices per gate and a reset gate. It differs from the
paper's cell in that W is not shared (three input matrices, so ~3x the input
weights), the gates do not see h_{t-1}, a reset gate multiplies h_{t-1} before
the recurrent matrix, and nu, zeta are fixed scalings (``GUIDE_NU``,
``GUIDE_ZETA``), not trainable::

    r_t = gate(nu (x_t W_r + b_r))
    u_t = gate(nu (x_t W_u + b_u))
    c_t = update(zeta (x_t W_c + (r_t * h_{t-1}) U + b_c))
    h_t = u_t h_{t-1} + (1 - u_t) c_t

Its input matrix is stored as one ``W`` of shape ``(D, 3H)`` = ``[W_r | W_u | W_c]``
so the input projection stays one product. The guide writes the recurrent
matrix as ``W``; here it is ``U`` like in the other cells.

Low rank: ``W = W1 W2`` (``rank``) and ``U = U1 U2`` (``u_rank``). The full matrix
is formed once per batch, gradients flow back with ``dW1 = dW W2^T`` and
``dW2 = W1^T dW``.
"""

import math

import numpy as np

GUIDE_NU = 0.8
GUIDE_ZETA = 1.2

# ---------------------------------------------------------------------------
# Nonlinearities. Each derivative is written in terms of the OUTPUT y = f(x),
# so the forward pass only keeps activations.


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


def _logistic(v):
    # a Python float, so that float32 arrays stay float32 when scaled by it
    # (math.exp: a numpy call on a scalar costs ~1 us on every batch)
    v = float(v)
    if v < -700.0:  # math.exp would overflow; the limit is 0 anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(-v))


# ---------------------------------------------------------------------------
# Cells. Each cell works on the input projection P (T, B, G*H), already
# computed for all timesteps, and the full recurrent matrix U (H, H).
# forward returns (Hs, cache), Hs of shape (T + 1, B, H) holding h_0 .. h_T;
# backward(final, U, cache) takes a FinalStateGradient (the loss gradient with
# respect to each sequence's final state) and returns (dP, dU, {name: grad}).


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


def final_states(Hs, lengths):
    """Each row's state after its last observed step: ``h_T``, or ``h_{L_i}`` for lengths ``L``."""
    if lengths is None:
        return Hs[-1]
    return Hs[lengths, np.arange(Hs.shape[1])]


class FastGRNNCell:
    """The paper's FastGRNN cell (shared W and U, trainable zeta and nu)."""

    n_blocks = 1

    @staticmethod
    def param_shapes(hidden_dim):
        h = hidden_dim
        return [("b_z", (h,)), ("b_h", (h,)), ("zeta_logit", (1,)), ("nu_logit", (1,))]

    @staticmethod
    def init_params(views, rng):
        # as the reference implementation, but b_z = 2 (gates start near 0.88):
        # longer memory from the start, which a task whose label depends on an
        # early step needs. Measured (5 seeds, 20 epochs, the BPTT test's task):
        # b_z = 1 fails on some seeds (min accuracy 0.47), b_z = 2 and 3 never
        # (min 0.99 / 0.98); on digits (hidden 32, l2_reg=3e-3, 5 seeds)
        # b_z = 1 / 2 / 3 reach 0.975 / 0.975 / 0.970.
        views["b_z"][...] = 2.0
        views["b_h"][...] = 1.0
        views["zeta_logit"][...] = 1.0
        views["nu_logit"][...] = -4.0

    @staticmethod
    def forward(P, U, views, gate, update):
        gate_f, d_gate = NONLINEARITIES[gate]
        update_f, d_update = NONLINEARITIES[update]
        T, B, H = P.shape
        zeta = _logistic(views["zeta_logit"][0])
        nu = _logistic(views["nu_logit"][0])
        Pz = P + views["b_z"]
        Ph = P + views["b_h"]
        Hs = np.empty((T + 1, B, H), dtype=P.dtype)
        Hs[0] = 0.0
        Z = np.empty_like(P)
        C = np.empty_like(P)
        M = np.empty_like(P)  # h_{t-1} - zeta c_t, reused by backward as dh_t/dz_t
        scale = zeta + nu
        for t in range(T):
            if t:  # h_0 = 0: the first step needs no recurrent product
                hu = Hs[t] @ U
                gate_f(np.add(Pz[t], hu, out=Z[t]), out=Z[t])
                update_f(np.add(Ph[t], hu, out=C[t]), out=C[t])
            else:
                gate_f(Pz[0], out=Z[0])
                update_f(Ph[0], out=C[0])
            # h = (zeta (1 - z) + nu) c + z h  ==  (zeta + nu) c + z (h - zeta c)
            np.subtract(Hs[t], zeta * C[t], out=M[t])
            h = np.multiply(M[t], Z[t], out=Hs[t + 1])
            h += scale * C[t]
        cache = (Hs, Z, C, M, zeta, nu, d_gate, d_update)
        return Hs, cache

    @staticmethod
    def backward(final, U, cache):
        Hs, Z, C, M, zeta, nu, d_gate, d_update = cache
        T = Z.shape[0]
        dh = final.start(T)
        # everything that does not depend on dh, for all steps at once
        dz_dpre = M * d_gate(Z)  # dh_t/dz_t * gate'
        dc_dpre = (zeta + nu - zeta * Z) * d_update(C)  # dh_t/dc_t * update'
        S = dz_dpre + dc_dpre
        dHs = np.empty_like(Z)
        dA = np.empty_like(Z)
        Ut = U.T
        for t in range(T - 1, -1, -1):
            dHs[t] = dh
            np.multiply(dh, S[t], out=dA[t])
            if t:
                dh = dh * Z[t]
                dh += dA[t] @ Ut
                final.add(t, dh)
        dU = _hprev_product(Hs, dA)
        dHC = dHs * C
        dnu = dHC.sum()
        db_z = _sum_rows(dHs * dz_dpre)
        grads = {
            "b_z": db_z,
            "b_h": _sum_rows(dA) - db_z,  # dA = dHs * (dz_dpre + dc_dpre)
            "zeta_logit": (dnu - np.vdot(dHC, Z)) * zeta * (1 - zeta),
            "nu_logit": dnu * nu * (1 - nu),
        }
        return dA, dU, grads


class FastRNNCell:
    """The paper's FastRNN cell (trainable alpha and beta)."""

    n_blocks = 1

    @staticmethod
    def param_shapes(hidden_dim):
        return [("b", (hidden_dim,)), ("alpha_logit", (1,)), ("beta_logit", (1,))]

    @staticmethod
    def init_params(views, rng):
        views["b"][...] = 0.0
        views["alpha_logit"][...] = -3.0
        views["beta_logit"][...] = 3.0

    @staticmethod
    def forward(P, U, views, gate, update):
        update_f, d_update = NONLINEARITIES[update]
        T, B, H = P.shape
        alpha = _logistic(views["alpha_logit"][0])
        beta = _logistic(views["beta_logit"][0])
        Pb = P + views["b"]
        Hs = np.empty((T + 1, B, H), dtype=P.dtype)
        Hs[0] = 0.0
        C = np.empty_like(P)
        for t in range(T):
            if t:
                update_f(np.add(Pb[t], Hs[t] @ U, out=C[t]), out=C[t])
            else:
                update_f(Pb[0], out=C[0])
            h = beta * Hs[t]
            h += alpha * C[t]
            Hs[t + 1] = h
        return Hs, (Hs, C, alpha, beta, d_update)

    @staticmethod
    def backward(final, U, cache):
        Hs, C, alpha, beta, d_update = cache
        T = C.shape[0]
        dh = final.start(T)
        S = alpha * d_update(C)
        dHs = np.empty_like(C)
        dA = np.empty_like(C)
        Ut = U.T
        for t in range(T - 1, -1, -1):
            dHs[t] = dh
            np.multiply(dh, S[t], out=dA[t])
            if t:
                dh = dh * beta
                dh += dA[t] @ Ut
                final.add(t, dh)
        dU = _hprev_product(Hs, dA)
        grads = {
            "b": _sum_rows(dA),
            "alpha_logit": np.vdot(dHs, C) * alpha * (1 - alpha),
            "beta_logit": np.vdot(dHs, Hs[:-1]) * beta * (1 - beta),
        }
        return dA, dU, grads


class GuideCell:
    """The Tiny Dancer guide's cell: reset/update gates, fixed nu and zeta."""

    n_blocks = 3

    @staticmethod
    def param_shapes(hidden_dim):
        h = hidden_dim
        return [("b_r", (h,)), ("b_u", (h,)), ("b_c", (h,))]

    @staticmethod
    def init_params(views, rng):
        views["b_r"][...] = 0.0
        views["b_u"][...] = 0.0
        views["b_c"][...] = 0.0

    @staticmethod
    def forward(P, U, views, gate, update):
        gate_f, d_gate = NONLINEARITIES[gate]
        update_f, d_update = NONLINEARITIES[update]
        T, B, H3 = P.shape
        H = H3 // 3
        # the gates see only x_t: compute them for all steps at once
        R = gate_f(GUIDE_NU * (P[:, :, :H] + views["b_r"]), out=None)
        Ug = gate_f(GUIDE_NU * (P[:, :, H : 2 * H] + views["b_u"]), out=None)
        Pc = GUIDE_ZETA * (P[:, :, 2 * H :] + views["b_c"])
        Hs = np.empty((T + 1, B, H), dtype=P.dtype)
        Hs[0] = 0.0
        RH = np.empty((T, B, H), dtype=P.dtype)  # r_t * h_{t-1}
        C = np.empty((T, B, H), dtype=P.dtype)
        zU = GUIDE_ZETA * U
        for t in range(T):
            np.multiply(R[t], Hs[t], out=RH[t])
            if t:
                update_f(np.add(Pc[t], RH[t] @ zU, out=C[t]), out=C[t])
            else:
                update_f(Pc[0], out=C[0])
            # h = u h + (1 - u) c  ==  c + u (h - c)
            h = Hs[t] - C[t]
            h *= Ug[t]
            h += C[t]
            Hs[t + 1] = h
        return Hs, (Hs, R, Ug, C, RH, d_gate, d_update)

    @staticmethod
    def backward(final, U, cache):
        Hs, R, Ug, C, RH, d_gate, d_update = cache
        T, B, H = C.shape
        dh = final.start(T)
        Sc = GUIDE_ZETA * (1.0 - Ug) * d_update(C)  # dh_t / d(pre-zeta candidate)
        dHs = np.empty_like(C)
        dAc = np.empty_like(C)  # gradient of x W_c + (r h) U + b_c
        dRH = np.empty_like(C)
        Ut = U.T
        for t in range(T - 1, -1, -1):
            dHs[t] = dh
            np.multiply(dh, Sc[t], out=dAc[t])
            if t:
                np.matmul(dAc[t], Ut, out=dRH[t])
                dh = dh * Ug[t]
                dh += dRH[t] * R[t]
                final.add(t, dh)
            else:
                dRH[0] = 0.0  # h_0 = 0: nothing flows into r_0
        dR = dRH * Hs[:-1]
        dPr = GUIDE_NU * dR * d_gate(R)
        dPu = GUIDE_NU * (dHs * (Hs[:-1] - C)) * d_gate(Ug)
        dP = np.concatenate([dPr, dPu, dAc], axis=2)
        dU = RH.reshape(T * B, H).T @ dAc.reshape(T * B, H)
        grads = {
            "b_r": _sum_rows(dPr),
            "b_u": _sum_rows(dPu),
            "b_c": _sum_rows(dAc),
        }
        return dP, dU, grads


def _sum_rows(A):
    """Sum over every axis but the last, as one matrix-vector product.

    numpy's ``sum(axis=0)`` over a tall, narrow array is an order of magnitude
    slower than BLAS here, and these sums sit on the training hot path.
    """
    A = A.reshape(-1, A.shape[-1])
    return np.ones(A.shape[0], dtype=A.dtype) @ A


def _hprev_product(Hs, dA):
    """sum_t h_{t-1}^T dA_t in one product (h_0 = 0 contributes nothing)."""
    T, B, H = dA.shape
    if T == 1:
        return np.zeros((H, H), dtype=dA.dtype)
    return Hs[1:T].reshape((T - 1) * B, H).T @ dA[1:].reshape((T - 1) * B, H)


CELLS = {"fastgrnn": FastGRNNCell, "fastrnn": FastRNNCell, "guide": GuideCell}


# ---------------------------------------------------------------------------
# The flat parameter buffer.


class Layout:
    """Names, shapes and offsets of every parameter in one flat vector.

    Parameters
    ----------
    n_step_features, hidden_dim, n_outputs : int
    cell : str
        Key of :data:`CELLS`.
    rank, u_rank : int or None
        Rank of the input matrix W and of the recurrent matrix U (None: full).
    """

    def __init__(self, n_step_features, hidden_dim, n_outputs, cell, rank=None, u_rank=None):
        self.cell = CELLS[cell]
        self.n_step_features = n_step_features
        self.hidden_dim = hidden_dim
        self.n_outputs = n_outputs
        d, h = n_step_features, hidden_dim
        gh = self.cell.n_blocks * h
        shapes = []
        # rank >= full size would only add parameters: fall back to a full matrix
        self.low_rank_w = rank is not None and rank < min(d, gh)
        self.low_rank_u = u_rank is not None and u_rank < h
        if self.low_rank_w:
            shapes += [("W1", (d, rank)), ("W2", (rank, gh))]
        else:
            shapes += [("W", (d, gh))]
        if self.low_rank_u:
            shapes += [("U1", (h, u_rank)), ("U2", (u_rank, h))]
        else:
            shapes += [("U", (h, h))]
        shapes += self.cell.param_shapes(h)
        shapes += [("W_out", (h, n_outputs)), ("b_out", (n_outputs,))]
        self.shapes = shapes
        self.slices = {}
        offset = 0
        for name, shape in shapes:
            size = int(np.prod(shape))
            self.slices[name] = (offset, offset + size, shape)
            offset += size
        self.size = offset
        #: names of the weight matrices (L2 and pruning act on these only)
        self.matrix_names = [n for n, s in shapes if len(s) == 2]

    def views(self, buffer):
        """Dict name -> view of ``buffer`` with the parameter's shape."""
        return {n: buffer[a:b].reshape(s) for n, (a, b, s) in self.slices.items()}

    def mask(self, names, dtype=np.float64):
        """Flat 0/1 vector selecting the named parameters."""
        m = np.zeros(self.size, dtype=dtype)
        for n in names:
            a, b, _ = self.slices[n]
            m[a:b] = 1.0
        return m

    def init(self, rng, dtype=np.float64):
        """A new parameter vector.

        Matrices are N(0, 1 / fan_in) so that pre-activations keep unit
        variance for standardized inputs whatever the sizes; the low-rank
        factors each follow the same rule. Cell parameters follow the
        reference implementation.
        """
        theta = np.zeros(self.size, dtype=dtype)
        views = self.views(theta)
        for name in self.matrix_names:
            v = views[name]
            v[...] = rng.standard_normal(v.shape) / np.sqrt(v.shape[0])
        self.cell.init_params(views, rng)
        return theta


def _full(views, a, b, full):
    """The matrix named ``full`` or the product of its two factors."""
    return views[full] if full in views else views[a] @ views[b]


def forward(layout, views, X, gate, update, lengths=None):
    """Logits and a cache for :func:`backward`.

    Parameters
    ----------
    layout : Layout
    views : dict
        ``layout.views(theta)``: made once by the caller, since it is reused
        for every batch.
    X : ndarray of shape (T, B, D), time-major.
    gate, update : str
        Keys of :data:`NONLINEARITIES`.
    lengths : ndarray of int of shape (B,) or None
        Observed steps of each sequence (None: all ``T``); the steps after a
        sequence's end must hold finite values (e.g. zeros) and do not change
        its output (see :class:`FinalStateGradient`).
    """
    T, B, D = X.shape
    W = _full(views, "W1", "W2", "W")
    U = _full(views, "U1", "U2", "U")
    P = (X.reshape(T * B, D) @ W).reshape(T, B, W.shape[1])
    Hs, cell_cache = layout.cell.forward(P, U, views, gate, update)
    h = final_states(Hs, lengths)
    # logits are stored class-major, (K, B), and returned as a (B, K) view:
    # reductions over the few classes of each row then run along memory rows,
    # which numpy does several times faster for small K
    logits_t = views["W_out"].T @ h.T
    logits_t += views["b_out"][:, None]
    return logits_t.T, (X, U, h, lengths, cell_cache)


def backward(layout, views, grad_views, cache, dlogits):
    """Write d(loss)/d(parameters) into ``grad_views`` given d(loss)/d(logits)."""
    X, U, h, lengths, cell_cache = cache
    T, B, D = X.shape
    np.matmul(h.T, dlogits, out=grad_views["W_out"])
    grad_views["b_out"][...] = _sum_rows(dlogits)
    dh = dlogits @ views["W_out"].T
    dP, dU, cell_grads = layout.cell.backward(FinalStateGradient(dh, lengths), U, cell_cache)
    for name, g in cell_grads.items():
        grad_views[name][...] = g
    # all timesteps' input gradients in one product
    dW = X.reshape(T * B, D).T @ dP.reshape(T * B, dP.shape[2])
    _factor_grads(views, grad_views, dW, "W1", "W2", "W")
    _factor_grads(views, grad_views, dU, "U1", "U2", "U")


def _factor_grads(views, gviews, dM, a, b, full):
    if full in gviews:
        gviews[full][...] = dM
    else:
        np.matmul(dM, views[b].T, out=gviews[a])
        np.matmul(views[a].T, dM, out=gviews[b])


def softmax(logits, out=None):
    """Row-wise softmax, stable for large logits; ``out=logits`` works in place."""
    z = np.subtract(logits, logits.max(axis=1, keepdims=True), out=out)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def log_softmax(logits, out=None):
    """Row-wise log-softmax, stable for large logits; ``out=logits`` works in place."""
    z = np.subtract(logits, logits.max(axis=1, keepdims=True), out=out)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


def cross_entropy(logits, y, weight):
    """Weighted mean cross-entropy and its gradient with respect to the logits.

    Parameters
    ----------
    logits : ndarray of shape (B, K)
    y : ndarray of int of shape (B,)
        Class indices.
    weight : ndarray of shape (B,)
        Non-negative sample weights with a positive sum.

    Returns
    -------
    loss : float
    dlogits : ndarray of shape (B, K)
    n_correct : float
        Weighted count of correct argmax predictions.
    """
    rows = np.arange(logits.shape[0])
    # work class-major (see forward): z_t[k, i] is logit k of row i
    z_t = logits.T - logits.T.max(axis=0)
    d_t = np.exp(z_t)
    norm = d_t.sum(axis=0)
    total = weight.sum()
    # -log softmax(z)_y = log sum exp z - z_y
    loss = float(np.dot(weight, np.log(norm)) - np.dot(weight, z_t[y, rows])) / total
    n_correct = float(np.dot(weight, z_t.argmax(axis=0) == y))
    d_t /= norm
    d_t[y, rows] -= 1.0
    d_t *= weight / total
    return loss, d_t.T, n_correct


def distillation_loss(logits, y, weight, soft_targets, temperature, alpha):
    """Knowledge-distillation loss (Hinton et al., 2015) and its gradient.

    ``alpha * T^2 * CE(softmax(z / T), q) + (1 - alpha) * CE(softmax(z), y)``,
    each a weighted mean over the rows; ``q`` are the teacher's soft targets
    (rows summing to 1, columns in class order). The ``T^2`` keeps the soft
    term's gradient, ``T * (softmax(z / T) - q)``, on the scale of the hard one.

    Returns ``(loss, dlogits, n_correct)`` like :func:`cross_entropy`.
    """
    hard_loss, d_hard, n_correct = cross_entropy(logits, y, weight)
    z_t = logits.T / temperature
    z_t -= z_t.max(axis=0)
    logp_t = z_t - np.log(np.exp(z_t).sum(axis=0))
    q_t = soft_targets.T
    scale = weight / weight.sum()
    soft_loss = -float(np.dot((q_t * logp_t).sum(axis=0), scale))
    d_soft = np.exp(logp_t)
    d_soft -= q_t
    d_soft *= scale * (alpha * temperature)
    d_soft += (1.0 - alpha) * d_hard.T
    loss = alpha * temperature**2 * soft_loss + (1.0 - alpha) * hard_loss
    return loss, d_soft.T, n_correct
