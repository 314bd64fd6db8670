"""The paper's FastRNN cell (Kusupati et al., 2018, eq. 1): its maths, C and ONNX.

::

    c_t = update(x_t W + h_{t-1} U + b)
    h_t = alpha c_t + beta h_{t-1},  alpha = sigmoid(alpha_logit), beta = sigmoid(beta_logit)

It has no gate: the ``gate`` nonlinearity is not used.
"""

import numpy as np

from .common import (
    NONLINEARITIES,
    Cell,
    Scratch,
    _derivative,
    _hprev_product,
    _logistic,
    _sum_rows,
    onnx_nonlinearity,
)


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
    def forward(P, U, views, gate, update, ws=None):
        ws = Scratch(reuse=False) if ws is None else ws
        update_f = NONLINEARITIES[update][0]
        T, B, H = P.shape
        dt = P.dtype
        alpha = _logistic(views["alpha_logit"][0])
        beta = _logistic(views["beta_logit"][0])
        C = np.add(P, views["b"], out=ws.get("C", (T, B, H), dt))  # pre-activations, then c_t in place
        Hs = ws.get("Hs", (T + 1, B, H), dt)
        Hs[0] = 0.0
        tmp = ws.get("tmp", (B, H), dt)
        for t in range(T):
            if t:
                C[t] += np.matmul(Hs[t], U, out=tmp)
            update_f(C[t], out=C[t])
            h = np.multiply(Hs[t], beta, out=Hs[t + 1])
            h += np.multiply(C[t], alpha, out=tmp)
        return Hs, (Hs, C, alpha, beta, update, ws)

    @staticmethod
    def backward(final, U, cache):
        Hs, C, alpha, beta, update, ws = cache
        T, B, H = C.shape
        dt = C.dtype
        dh = final.start(T)  # never written to: it may be the caller's array
        S = _derivative(update, C, ws.get("S", (T, B, H), dt))
        S *= alpha
        dA = ws.get("dA", (T, B, H), dt)
        if T == 1:  # one step: no recurrence to run back through
            dHs = dh[None]
            np.multiply(dh, S[0], out=dA[0])
        else:
            dHs = ws.get("dHs", (T, B, H), dt)
            step, back = ws.get("step", (B, H), dt), ws.get("back", (B, H), dt)
            Ut = U.T
            for t in range(T - 1, -1, -1):
                dHs[t] = dh
                np.multiply(dh, S[t], out=dA[t])
                if t:
                    dh = np.multiply(dh, beta, out=step)
                    dh += np.matmul(dA[t], Ut, out=back)
                    final.add(t, dh)
        dU = _hprev_product(Hs, dA)
        grads = {
            "b": _sum_rows(dA, ws),
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

    # ------------------------------------------------------------------ integer-only export (skfastgrnn._integer)

    @staticmethod
    def int_constants(scalars):
        """alpha and beta (both in (0, 1)) in unsigned Q16."""
        from .common import int_unit_q16

        return {"alpha": int_unit_q16(scalars["alpha"]), "beta": int_unit_q16(scalars["beta"])}

    @staticmethod
    def int_step(net, a, h, recurrent):
        """One integer step: ``h = round(beta h) + round(alpha c)`` (Q16 constants), saturated to int16."""
        from .common import INT_NONLINEARITIES, int_round_shift, int_sat16

        c = INT_NONLINEARITIES[net.update](int_sat16(a + net.biases["b"] + recurrent(h)))
        k = net.consts
        return int_sat16(int_round_shift(k["beta"] * h, 16) + int_round_shift(k["alpha"] * c, 16))

    @staticmethod
    def c_int_step(net, w):
        """The C statements of :meth:`int_step`."""
        p, h, H = w.p, w.h, net.hidden_dim
        alpha, beta = w.param("alpha"), w.param("beta")
        recurrent = net.n_steps > 1
        rec = " + hu[j]" if recurrent else ""
        return [
            *(w.recurrent(h) if recurrent else []),
            f"        for (j = 0; j < {H}; ++j) {{",
            f"            int16_t c = {p}_{net.update}({p}_sat16(a[j] + {w.vec('b')}{rec}));",
            f"            int32_t v = {p}_mulq16({h}[j], (uint16_t){beta});",
            f"            v += {p}_mulq16(c, (uint16_t){alpha});",
            f"            {h}[j] = {p}_sat16(v);",
            "        }",
        ]
