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

from .common import NONLINEARITIES, Cell, Scratch, _derivative, _sum_rows, onnx_nonlinearity

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
    def forward(P, U, views, gate, update, ws=None):
        ws = Scratch(reuse=False) if ws is None else ws
        gate_f = NONLINEARITIES[gate][0]
        update_f = NONLINEARITIES[update][0]
        T, B, H3 = P.shape
        H = H3 // 3
        dt = P.dtype

        def block(name, j, bias, factor):  # factor * (P's j-th block + bias)
            out = np.add(P[:, :, j * H : (j + 1) * H], views[bias], out=ws.get(name, (T, B, H), dt))
            out *= factor
            return out

        # the gates see only x_t: compute them for all steps at once
        R = gate_f(block("R", 0, "b_r", GUIDE_NU), out=ws.get("R", (T, B, H), dt))
        Ug = gate_f(block("Ug", 1, "b_u", GUIDE_NU), out=ws.get("Ug", (T, B, H), dt))
        C = block("C", 2, "b_c", GUIDE_ZETA)  # zeta (x W_c + b_c), then c_t in place
        Hs = ws.get("Hs", (T + 1, B, H), dt)
        Hs[0] = 0.0
        RH = ws.get("RH", (T, B, H), dt)  # r_t * h_{t-1}
        tmp = ws.get("tmp", (B, H), dt)
        zU = GUIDE_ZETA * U
        for t in range(T):
            np.multiply(R[t], Hs[t], out=RH[t])
            if t:
                C[t] += np.matmul(RH[t], zU, out=tmp)
            update_f(C[t], out=C[t])
            # h = u h + (1 - u) c  ==  c + u (h - c)
            h = np.subtract(Hs[t], C[t], out=Hs[t + 1])
            h *= Ug[t]
            h += C[t]
        return Hs, (Hs, R, Ug, C, RH, gate, update, ws)

    @staticmethod
    def backward(final, U, cache):
        Hs, R, Ug, C, RH, gate, update, ws = cache
        T, B, H = C.shape
        dt = C.dtype
        dh = final.start(T)  # never written to: it may be the caller's array
        Sc = np.subtract(1.0, Ug, out=ws.get("Sc", (T, B, H), dt))
        Sc *= GUIDE_ZETA
        Sc *= _derivative(update, C, ws.get("dC", (T, B, H), dt))  # dh_t / d(pre-zeta candidate)
        dHs = ws.get("dHs", (T, B, H), dt)
        dAc = ws.get("dAc", (T, B, H), dt)  # gradient of x W_c + (r h) U + b_c
        dRH = ws.get("dRH", (T, B, H), dt)
        step, back = ws.get("step", (B, H), dt), ws.get("back", (B, H), dt)
        Ut = U.T
        for t in range(T - 1, -1, -1):
            dHs[t] = dh
            np.multiply(dh, Sc[t], out=dAc[t])
            if t:
                np.matmul(dAc[t], Ut, out=dRH[t])
                dh = np.multiply(dh, Ug[t], out=step)
                dh += np.multiply(dRH[t], R[t], out=back)
                final.add(t, dh)
            else:
                dRH[0] = 0.0  # h_0 = 0: nothing flows into r_0
        Hprev = Hs[:-1]
        dPr = np.multiply(dRH, Hprev, out=dRH)  # dR
        dPr *= GUIDE_NU
        dPr *= _derivative(gate, R, ws.get("dgate", (T, B, H), dt))
        dPu = np.subtract(Hprev, C, out=ws.get("dPu", (T, B, H), dt))
        dPu *= dHs
        dPu *= GUIDE_NU
        dPu *= _derivative(gate, Ug, ws.get("dgate", (T, B, H), dt))
        dP = np.concatenate([dPr, dPu, dAc], axis=2, out=ws.get("dP", (T, B, 3 * H), dt))
        dU = RH.reshape(T * B, H).T @ dAc.reshape(T * B, H)
        grads = {
            "b_r": _sum_rows(dPr, ws),
            "b_u": _sum_rows(dPu, ws),
            "b_c": _sum_rows(dAc, ws),
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

    # ------------------------------------------------------------------ integer-only export (skfastgrnn._integer)

    @staticmethod
    def int_constants(scalars):
        """nu and zeta in Q13 (zeta = 1.2 does not fit unsigned Q16)."""
        from .common import INT_CONST_FRAC

        return {name: int(round(scalars[name] * (1 << INT_CONST_FRAC))) for name in ("nu", "zeta")}

    @staticmethod
    def int_step(net, a, h, recurrent):
        """One integer step: the gates and the candidate read Q13 ``nu``, ``zeta`` times clamped Q12 sums.

        ``r h`` is rounded to Q12 (int16) before ``U``; ``h = c + round(u h) - round(u c)``, saturated to int16.
        """
        from .common import INT_FRAC, INT_NONLINEARITIES, int_mul_const, int_round_shift, int_sat16

        H, b, k = net.hidden_dim, net.biases, net.consts
        gate, update = INT_NONLINEARITIES[net.gate], INT_NONLINEARITIES[net.update]
        u0, c0 = (H, 2 * H) if net.n_steps > 1 else (0, H)
        hu = 0
        if net.n_steps > 1:
            r = gate(int_sat16(int_mul_const(k["nu"], a[:, :H] + b["b_r"])))
            hu = recurrent(int_round_shift(r * h, INT_FRAC))
        u = gate(int_sat16(int_mul_const(k["nu"], a[:, u0 : u0 + H] + b["b_u"])))
        c = update(int_sat16(int_mul_const(k["zeta"], a[:, c0 : c0 + H] + b["b_c"] + hu)))
        return int_sat16(c + int_round_shift(u * h, INT_FRAC) - int_round_shift(u * c, INT_FRAC))

    @staticmethod
    def c_int_step(net, w):
        """The C statements of :meth:`int_step` (``{p}_mulc(k, v)``: Q13 constant times the clamped ``v``)."""
        p, h, H, T = w.p, w.h, net.hidden_dim, net.n_steps
        nu, zeta = w.param("nu"), w.param("zeta")
        u, c = (H, 2 * H) if T > 1 else (0, H)
        lines = []
        if T > 1:
            lines += [
                f"        for (j = 0; j < {H}; ++j) {{",
                f"            int16_t r = {p}_{net.gate}({p}_sat16({p}_mulc({nu}, a[j] + {w.vec('b_r')})));",
                f"            rh[j] = {p}_sat16(((int32_t)r * {h}[j] + 2048) >> 12);",
                "        }",
                *w.recurrent("rh"),
            ]
        rec = " + hu[j]" if T > 1 else ""
        lines += [
            f"        for (j = 0; j < {H}; ++j) {{",
            f"            int16_t g = {p}_{net.gate}({p}_sat16({p}_mulc({nu}, a[{u} + j] + {w.vec('b_u')})));",
            f"            int16_t c = {p}_{net.update}({p}_sat16({p}_mulc({zeta}, a[{c} + j] + {w.vec('b_c')}{rec})));",
            f"            int32_t v = (((int32_t)g * {h}[j] + 2048) >> 12) - (((int32_t)g * c + 2048) >> 12);",
            f"            {h}[j] = {p}_sat16(c + v);",
            "        }",
        ]
        return lines
