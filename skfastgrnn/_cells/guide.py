"""The Tiny Dancer FastGRNN training guide's cell: its maths, C and ONNX.

A GRU-like cell with separate input matrices per gate and a reset gate. It
differs from the paper's cell in that W is not shared (three input matrices,
so ~3x the input weights), the gates do not see h_{t-1}, a reset gate
multiplies h_{t-1} before the recurrent matrix, and nu, zeta are fixed
scalings (:data:`GUIDE_NU`, :data:`GUIDE_ZETA`), not trainable::

    r_t = gate(nu (x_t W_r + b_r))
    u_t = gate(nu (x_t W_u + b_u))
    c_t = update(zeta (x_t W_c + (r_t * h_{t-1}) U + b_c))
    h_t = u_t h_{t-1} + (1 - u_t) c_t

Its input matrix is stored as one ``W`` of shape ``(D, 3H)`` = ``[W_r | W_u | W_c]``
so the input projection stays one product. The guide writes the recurrent
matrix as ``W``; here it is ``U`` like in the other cells. With one step the
reset gate only multiplies ``h_0 = 0``: the exporters leave out its columns of
W (or W2) and ``b_r``.
"""

from dataclasses import replace

import numpy as np

from .common import NONLINEARITIES, Cell, _sum_rows, onnx_nonlinearity

GUIDE_NU = 0.8
GUIDE_ZETA = 1.2


class GuideCell(Cell):
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

    # ------------------------------------------------------------------ maths

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

    # ------------------------------------------------------------------ export

    @staticmethod
    def export_scalars(views):
        return {"nu": GUIDE_NU, "zeta": GUIDE_ZETA}

    @staticmethod
    def export_one_step(net, why):
        H = net.hidden_dim
        last = net.w_names[-1]  # W or W2: its first H output columns feed the reset gate
        m = net.matrices[last]
        net.matrices[last] = replace(m, values=m.values[:, H:], int8=None if m.int8 is None else m.int8[:, H:])
        del net.vectors["b_r"]
        net.omitted.append(f"the reset gate's weights ({why}: it only multiplies h_0 = 0)")

    @staticmethod
    def c_buffers(net):
        return {"rh": net.hidden_dim} if net.n_steps > 1 else {}  # r * h, the recurrent product's input

    @staticmethod
    def c_step(net, w):
        p, h, H, T = w.p, w.h, net.hidden_dim, net.n_steps
        nu, zeta = w.param("nu"), w.param("zeta")
        # a = [x W_r | x W_u | x W_c], or [x W_u | x W_c] when T = 1 (no reset gate)
        u, c = (H, 2 * H) if T > 1 else (0, H)
        lines = []
        if T > 1:
            lines += [
                f"        for (j = 0; j < {H}; ++j) {{",
                f"            rh[j] = {p}_{net.gate}({nu} * (a[j] + {w.vec('b_r')})) * {h}[j];",
                "        }",
                *w.recurrent("rh"),
            ]
        cand = f"{zeta} * (a[{c} + j] + {w.vec('b_c')})" + (f" + {zeta} * hu[j]" if T > 1 else "")
        lines += [
            f"        for (j = 0; j < {H}; ++j) {{",
            f"            float u = {p}_{net.gate}({nu} * (a[{u} + j] + {w.vec('b_u')}));",
            f"            float c = {p}_{net.update}({cand});",
            f"            {h}[j] = c + u * ({h}[j] - c);",
            "        }",
        ]
        return lines

    @staticmethod
    def onnx_steps(net, x, o):
        g, s = o.g, net.scalars
        H, T = net.hidden_dim, net.n_steps
        parts = ["r", "u", "c"] if T > 1 else ["u", "c"]
        split = g.const("split", np.array([H] * len(parts), dtype=np.int64))
        outs = [g.name("P" + part) for part in parts]
        g.node("Split", [x, split], outs, axis=2)
        P = dict(zip(parts, outs, strict=True))

        def gate_all(part):  # the gates see only x_t: all timesteps at once
            pre = g.op("Mul", g.op("Add", P[part], o.vec("b_" + part)), o.scalar(s["nu"]))
            return onnx_nonlinearity(g, net.gate, pre)

        Ug = gate_all("u")
        R = gate_all("r") if T > 1 else None
        Pc = g.op("Mul", g.op("Add", P["c"], o.vec("b_c")), o.scalar(s["zeta"]))
        h = None
        for t in range(T):
            pre = o.step(Pc, t)
            if h is not None:
                rh = g.op("Mul", o.step(R, t), h)
                pre = g.op("Add", pre, g.op("Mul", o.recurrent(rh), o.scalar(s["zeta"])))
            c = onnx_nonlinearity(g, net.update, pre)
            u = o.step(Ug, t)
            # h = u h + (1 - u) c  ==  c + u (h - c)
            uhc = g.op("Neg", g.op("Mul", u, c)) if h is None else g.op("Mul", u, g.op("Sub", h, c))
            h = o.masked(h, g.op("Add", c, uhc), t)
        return h
