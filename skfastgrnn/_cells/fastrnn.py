"""The paper's FastRNN cell (Kusupati et al., 2018, eq. 1): its maths, C and ONNX.

::

    c_t = update(x_t W + h_{t-1} U + b)
    h_t = alpha c_t + beta h_{t-1},  alpha = sigmoid(alpha_logit), beta = sigmoid(beta_logit)

It has no gate: the ``gate`` nonlinearity is not used.
"""

import numpy as np

from .common import NONLINEARITIES, Cell, _hprev_product, _logistic, _sum_rows, onnx_nonlinearity


class FastRNNCell(Cell):
    """The paper's FastRNN cell (trainable alpha and beta)."""

    n_blocks = 1
    uses_gate = False

    @staticmethod
    def param_shapes(hidden_dim):
        return [("b", (hidden_dim,)), ("alpha_logit", (1,)), ("beta_logit", (1,))]

    @staticmethod
    def init_params(views, rng):
        views["b"][...] = 0.0
        views["alpha_logit"][...] = -3.0
        views["beta_logit"][...] = 3.0

    # ------------------------------------------------------------------ maths

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

    # ------------------------------------------------------------------ export

    @staticmethod
    def export_scalars(views):
        return {"alpha": _logistic(views["alpha_logit"][0]), "beta": _logistic(views["beta_logit"][0])}

    @staticmethod
    def c_step(net, w):
        p, h, H = w.p, w.h, net.hidden_dim
        b, alpha, beta = w.vec("b"), w.param("alpha"), w.param("beta")
        recurrent = net.n_steps > 1
        rec = " + hu[j]" if recurrent else ""
        return [
            *(w.recurrent(h) if recurrent else []),
            f"        for (j = 0; j < {H}; ++j) {{",
            f"            float c = {p}_{net.update}((a[j] + {b}){rec});",
            f"            {h}[j] = {beta} * {h}[j] + {alpha} * c;",
            "        }",
        ]

    @staticmethod
    def onnx_steps(net, x, o):
        g, s = o.g, net.scalars
        h = None
        Pb = g.op("Add", x, o.vec("b"))
        for t in range(net.n_steps):
            pre = o.step(Pb, t)
            if h is not None:
                pre = g.op("Add", pre, o.recurrent(h))
            c = g.op("Mul", onnx_nonlinearity(g, net.update, pre), o.scalar(s["alpha"]))
            h = o.masked(h, c if h is None else g.op("Add", g.op("Mul", h, o.scalar(s["beta"])), c), t)
        return h
