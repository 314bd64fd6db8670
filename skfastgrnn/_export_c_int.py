"""The integer-only C writer: ``export_c(model, directory, integer_only=True)``.

The same public API as the float export (``<p>_predict``, the streaming
``<p>_state`` / ``_reset`` / ``_step`` and the readers), computing with the
integers of :class:`skfastgrnn._integer.IntegerNetwork` (whose numpy
reference gives the same bits; the format is described there and in
docs/export.md). The source is laid out in three parts:

1. the read macros (``<P>_READ_*``: ``pgm_read_*`` on AVR), the class labels;
2. the integer-only section, between the comments ``integer-only section``
   and ``end of the integer-only section``: every table but the scaler's, the
   requantization, the nonlinearities, the matrix products, each cell's step
   (``c_int_step`` in the cell's module), the state, the output layer and
   ``<p>_scores`` / ``<p>_class``; no float and no libm in it (the tests check);
3. from :mod:`skfastgrnn._export_c_int_io`: the input (``<p>_quantize``
   reads each float from its bits into fixed point and applies the scaler
   in integers), ``<p>_step``, ``<p>_predict``, and the readers that turn
   scores into probabilities or outputs (the only float arithmetic).

On AVR (an 8-bit core without a 16 x 16-bit multiplier, where avr-gcc calls
library routines for wider products) the hot spots are inline assembly: the
dense products' loop (:func:`dot_function`, 23 cycles per weight), the
requantization's product (:func:`mulhi_function`), the cells' Q16 products
(:func:`mulq16_function`) and the CSR products' multiply-accumulate
(:func:`mac_macro`); elsewhere plain C expressions give the same integers.
"""

import numpy as np

from ._cells.common import C_INT_NONLINEARITIES, INT_TANH_TABLE
from ._export_c_int_io import header_lines, input_source
from ._export_c_layers import (
    CLayerStep,
    c_array,
    c_string,
    c_symbol,
    csr_parts,
    rom_macros,
    state_name,
    uint_type,
)
from ._integer import EXP2_TABLE, LOG2E_Q12, SOFTMAX_FLOOR

#: buffers of one step that hold int16 values (the others, ``a`` and ``hu``, are int32 pre-activations)
_INT16_BUFFERS = ("w1", "u1", "rh", "xs")


def int_rom_macros(p):
    """The float writer's read macros, and ``<P>_READ_INT16`` / ``<P>_READ_INT32`` for the integer tables."""
    P = p.upper()
    lines = rom_macros(p)
    extra = {
        "INT16": "((int16_t)pgm_read_word(&(v)))",
        "INT32": "((int32_t)pgm_read_dword(&(v)))",
    }
    avr = [f"#  define {P}_READ_{s}(v) {r}" for s, r in extra.items()]
    host = [f"#  define {P}_READ_{s}(v) (v)" for s in extra]
    at = lines.index("#else")
    return [*lines[:at], *avr, "#else", *lines[at + 1 : -1], *host, "#endif"]


def mac_macro(p):
    """``<P>_MAC(acc, w, x)``: ``acc += w * x`` for int8 ``w`` and int16 ``x``; two hardware multiplies on AVR.

    Used by the CSR products (the dense ones call :func:`dot_function`'s ``<p>_dot``). avr-gcc makes a
    16 x 16-bit multiplication (three MULs) or a library call of it; the AVR form multiplies ``w`` by
    the low (MULSU) and the high byte (MULS) of ``x`` and adds the sign-extended products at their
    byte offsets: the same sum, in about 20 cycles.
    """
    P = p.upper()
    return [
        "/* acc += w * x (int8 w, int16 x): on AVR two hardware multiplies, no library call */",
        "#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)",
        f"#  define {P}_MAC(acc, w, x) do {{ \\",
        "        int8_t w_ = (w); \\",
        "        int16_t x_ = (x); \\",
        "        uint8_t t_; \\",
        '        __asm__("mulsu %2, %A3\\n\\t" "clr %1\\n\\t" "sbrc r1, 7\\n\\t" "com %1\\n\\t" \\',
        '                "add %A0, r0\\n\\t" "adc %B0, r1\\n\\t" "adc %C0, %1\\n\\t" "adc %D0, %1\\n\\t" \\',
        '                "muls %2, %B3\\n\\t" "clr %1\\n\\t" "sbrc r1, 7\\n\\t" "com %1\\n\\t" \\',
        '                "add %B0, r0\\n\\t" "adc %C0, r1\\n\\t" "adc %D0, %1\\n\\t" "clr r1" \\',
        '                : "+r"(acc), "=&r"(t_) : "a"(w_), "a"(x_)); \\',
        "    } while (0)",
        "#else",
        f"#  define {P}_MAC(acc, w, x) ((acc) += (int32_t)(w) * (x))",
        "#endif",
    ]


#: the dense products' AVR loop, per int8 weight: 23 cycles (LPM Z+, two LD X+, MULSU, MULS, no sign extension)
_AVR_DOT = [
    "1:",
    "lpm %[w8], Z+",
    "ld %[lo], X+",
    "ld %[hi], X+",
    "mulsu %[w8], %[lo]",
    "eor r1, %[k80]",
    "add %A[acc], r0",
    "adc %B[acc], r1",
    "adc %C[acc], %[zero]",
    "adc %D[acc], %[zero]",
    "muls %[w8], %[hi]",
    "eor r1, %[k80]",
    "add %B[acc], r0",
    "adc %C[acc], r1",
    "adc %D[acc], %[zero]",
    "dec %[n]",
    "brne 1b",
    "clr r1",
]


def dot_function(p):
    """``<p>_dot(w, x, n, acc)``: ``acc + sum_i w[i] x[i]`` (mod 2^32) of ``n`` (1..255) int8 table values.

    On AVR an inline-assembly loop: each product of ``w[i]`` with the low (MULSU) and the high byte
    (MULS) of ``x[i]`` is a signed 16-bit value that is added with its sign bit flipped (that is,
    plus 2^15), so no sign extension is needed; the caller starts ``acc`` at ``<P>_DOT_BIAS(n)``,
    ``-n (2^15 + 2^23)`` mod 2^32, which cancels these biases. Elsewhere a plain loop from 0.
    """
    P = p.upper()
    asm = "".join(f'        "{line}\\n\\t"\n' for line in _AVR_DOT[:-1]) + f'        "{_AVR_DOT[-1]}"'
    return [
        f"/* acc + the sum of w[i] x[i], i < n (1..255; w an int8 table): {P}_DOT_BIAS(n) is where acc starts */",
        "#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) && defined(__AVR_HAVE_LPMX__)",
        "/* each byte product is added with its sign bit flipped (+2^15, no sign extension); the bias cancels them */",
        f"#  define {P}_DOT_BIAS(n) (0u - (uint32_t)(n) * UINT32_C(0x808000))",
        f"static uint32_t {p}_dot(const int8_t *w, const int16_t *x, uint8_t n, uint32_t acc)",
        "{",
        "    uint8_t w8, lo, hi;",
        "    const uint8_t k80 = 0x80u, zero = 0u;",
        "    __asm__ volatile(",
        *asm.splitlines(),
        '        : [acc] "+r"(acc), [n] "+r"(n), [w] "+z"(w), [x] "+x"(x), [w8] "=&a"(w8), [lo] "=&a"(lo),',
        '          [hi] "=&d"(hi)',
        '        : [k80] "r"(k80), [zero] "r"(zero)',
        '        : "r0", "memory");',
        "    return acc;",
        "}",
        "#else",
        f"#  define {P}_DOT_BIAS(n) 0u",
        f"static uint32_t {p}_dot(const int8_t *w, const int16_t *x, uint8_t n, uint32_t acc)",
        "{",
        "    int32_t sum = 0;",
        "    uint8_t i;",
        "    for (i = 0; i < n; ++i) {",
        f"        sum += (int32_t){_read(p, 'INT8', 'w[i]')} * x[i];",
        "    }",
        "    return acc + (uint32_t)sum;",
        "}",
        "#endif",
    ]


#: round(a b / 2^16) of int16 a and uint16 b on AVR: the four byte products summed from byte 1 up (byte 0 of a0 b0
#: carries nothing), the rounding half added as bit 7 of byte 1; 22 cycles
_AVR_MULQ16 = [
    "mul %A[a], %A[b]",
    "mov %[t], r1",
    "mulsu %B[a], %B[b]",
    "movw %A[r], r0",
    "mul %A[a], %B[b]",
    "add %[t], r0",
    "adc %A[r], r1",
    "adc %B[r], %[zero]",
    "mulsu %B[a], %A[b]",
    "add %[t], r0",
    "adc %A[r], r1",
    "adc %B[r], %[zero]",
    "sbrc r1, 7",
    "dec %B[r]",
    "lsl %[t]",
    "adc %A[r], %[zero]",
    "adc %B[r], %[zero]",
    "clr r1",
]


#: floor(a m / 2^16) of int32 a and uint16 m (< 2^15) on AVR: bytes 2..5 of the 48-bit product; about 42 cycles
_AVR_MULHI = [
    "mul %A[a], %A[m]",
    "mov %[t], r1",
    "mul %B[a], %B[m]",
    "movw %A[r], r0",
    "mulsu %D[a], %B[m]",
    "movw %C[r], r0",
    "mul %A[a], %B[m]",
    "add %[t], r0",
    "adc %A[r], r1",
    "adc %B[r], %[zero]",
    "adc %C[r], %[zero]",
    "adc %D[r], %[zero]",
    "mul %B[a], %A[m]",
    "add %[t], r0",
    "adc %A[r], r1",
    "adc %B[r], %[zero]",
    "adc %C[r], %[zero]",
    "adc %D[r], %[zero]",
    "mul %C[a], %A[m]",
    "add %A[r], r0",
    "adc %B[r], r1",
    "adc %C[r], %[zero]",
    "adc %D[r], %[zero]",
    "mul %C[a], %B[m]",
    "add %B[r], r0",
    "adc %C[r], r1",
    "adc %D[r], %[zero]",
    "mulsu %D[a], %A[m]",
    "add %B[r], r0",
    "adc %C[r], r1",
    "adc %D[r], %[zero]",
    "sbrc r1, 7",
    "dec %D[r]",
    "clr r1",
]


def mulhi_function(p):
    """``<p>_mulhi(a, m)``: ``floor(a m / 2^16)`` of an int32 ``a`` and a uint16 ``m < 2^15``, exactly.

    The requantizations' product (``round(a m / 2^k)`` is ``(<p>_mulhi(a, m) + 2^(k - 17)) >> (k - 16)``);
    on AVR eight hardware multiplies in inline assembly, elsewhere the product split at bit 16 of ``a``.
    """
    asm = "".join(f'        "{line}\\n\\t"\n' for line in _AVR_MULHI[:-1]) + f'        "{_AVR_MULHI[-1]}"'
    return [
        "/* floor(a m / 2^16) of int32 a and uint16 m < 2^15, exactly (inlined) */",
        "#if defined(__GNUC__)",
        "__attribute__((always_inline))",
        "#endif",
        f"static inline int32_t {p}_mulhi(int32_t a, uint16_t m)",
        "{",
        "#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)",
        "    int32_t r;",
        "    uint8_t t;",
        "    const uint8_t zero = 0u;",
        "    __asm__(",
        *asm.splitlines(),
        '        : [r] "=&r"(r), [t] "=&r"(t)',
        '        : [a] "a"(a), [m] "a"(m), [zero] "r"(zero)',
        '        : "r0");',
        "    return r;",
        "#else",
        "    int32_t r = (int32_t)(int16_t)(a >> 16) * (int32_t)m;",
        "    return r + (int32_t)(((uint32_t)(uint16_t)a * (uint32_t)m) >> 16);",
        "#endif",
        "}",
        "",
    ]


def mulq16_function(p):
    """``<p>_mulq16(a, b)``: ``round(a b / 2^16)`` (halves up) of an int16 ``a`` and a uint16 ``b``, an int16.

    The cells' products with a Q16 constant or gate; on AVR four hardware multiplies in inline
    assembly (avr-gcc calls a library routine for a 16 x 16 -> 32-bit product), elsewhere C.
    """
    asm = "".join(f'        "{line}\\n\\t"\n' for line in _AVR_MULQ16[:-1]) + f'        "{_AVR_MULQ16[-1]}"'
    return [
        "/* round(a b / 2^16) of int16 a and uint16 b: an int16 (inlined: a call costs as much as the product) */",
        "#if defined(__GNUC__)",
        "__attribute__((always_inline))",
        "#endif",
        f"static inline int16_t {p}_mulq16(int16_t a, uint16_t b)",
        "{",
        "#if defined(__AVR__) && defined(__AVR_HAVE_MUL__)",
        "    int16_t r;",
        "    uint8_t t;",
        "    const uint8_t zero = 0u;",
        "    __asm__(",
        *asm.splitlines(),
        '        : [r] "=&r"(r), [t] "=&r"(t)',
        '        : [a] "a"(a), [b] "a"(b), [zero] "r"(zero)',
        '        : "r0");',
        "    return r;",
        "#else",
        "    return (int16_t)(((int32_t)a * (int32_t)b + 32768) >> 16);",
        "#endif",
        "}",
        "",
    ]


def _read(p, kind, expr):
    return f"{p.upper()}_READ_{kind}({expr})"


class CIntLayerStep(CLayerStep):
    """:class:`~skfastgrnn._export_c_layers.CLayerStep` for ``c_int_step``: biases are int32 tables."""

    def vec(self, name, index="j"):
        return _read(self.p, "INT32", f"{self.param(name)}[{index}]")


def _matrix(p, m, csr):
    """The int8 table(s) of one :class:`~skfastgrnn._integer.IntMatrix` and ``<p>_mv_<name>``; and its bytes."""
    n_in, n_out = m.q.shape
    stored = m.q.T  # one row per output
    base = f"{p}_{c_symbol(m.name)}"
    out_type = "int16_t" if m.out == "int16" else "int32_t"
    result = {"pre": f"{p}_pre(r)", "int16": f"{p}_sat16(r)", "score": "r"}[m.out]
    # round(acc * m / 2^k) exactly in 32-bit arithmetic: acc * m split at the 16th bit of acc, constant shifts
    requant = [
        f"        int32_t r = {p}_mulhi(acc, {m.m}u);",
        f"        r = (r + INT32_C({1 << (m.k - 17)})) >> {m.k - 16};",
    ]
    kind = "CSR" if csr else "dense"
    lines = [
        f"/* {m.name} ({n_in} x {n_out}, y = x {m.name}): int8, {kind}, one row per output; "
        f"y = round(acc * {m.m} / 2^{m.k}) */"
    ]
    P = p.upper()
    if not csr:
        lines += c_array("int8_t", base, stored.ravel(), str, p)
        nbytes = stored.size
        chunks = [(start, min(255, n_in - start)) for start in range(0, n_in, 255)]
        dots = [
            f"        u = {p}_dot(v + {a}, x + {a}, {n}, {'u + ' if a else ''}{P}_DOT_BIAS({n}));".replace(" + 0,", ",")
            for a, n in chunks
        ]
        body = [
            "    int j;",
            f"    for (j = 0; j < {n_out}; ++j) {{",
            f"        const int8_t *v = {base} + j * {n_in};",
            "        uint32_t u;",
            *dots,
            "        int32_t acc = (int32_t)u;",
            *requant,
            f"        y[j] = {result};",
            "    }",
        ]
    else:
        ptr, cols, values, (ptr_type, ptr_bytes), (idx_type, idx_bytes) = csr_parts(stored)
        lines += c_array(ptr_type, base + "_ptr", ptr, str, p)
        lines += c_array(idx_type, base + "_idx", cols, str, p)
        lines += c_array("int8_t", base + "_val", values, str, p)
        nbytes = ptr.size * ptr_bytes + max(len(cols), 1) * (idx_bytes + 1)
        idx = f"{p.upper()}_READ_{idx_type[:-2].upper()}({base}_idx[k])"
        start = f"{p.upper()}_READ_{ptr_type[:-2].upper()}({base}_ptr[j])"
        stop = f"{p.upper()}_READ_{ptr_type[:-2].upper()}({base}_ptr[j + 1])"
        body = [
            "    int j, k;",
            f"    for (j = 0; j < {n_out}; ++j) {{",
            "        int32_t acc = 0;",
            f"        for (k = (int){start}; k < (int){stop}; ++k) {{",
            f"            {P}_MAC(acc, {_read(p, 'INT8', f'{base}_val[k]')}, x[{idx}]);",
            "        }",
            *requant,
            f"        y[j] = {result};",
            "    }",
        ]
    lines += ["", f"static void {p}_mv_{c_symbol(m.name)}(const int16_t *x, {out_type} *y)", "{", *body, "}", ""]
    return lines, nbytes


def _csr_pays(m, sparse):
    n_in, n_out = m.q.shape
    nnz = int(np.count_nonzero(m.q))
    csr = (n_out + 1) * uint_type(nnz)[1] + max(nnz, 1) * (uint_type(max(n_in - 1, 0))[1] + 1)
    return sparse is True or (sparse == "auto" and csr < n_in * n_out), n_in * n_out, csr


def _helpers(p, inet, mulc, mulq16):
    """Requantization, clamps and the nonlinearities the model uses (no unused static function)."""
    lines = [
        "/* a pre-activation clamped to +-(2^17 - 1), about +-32.0 in Q12 */",
        f"static int32_t {p}_pre(int32_t v)",
        "{",
        "    return v < -INT32_C(131071) ? -INT32_C(131071) : (v > INT32_C(131071) ? INT32_C(131071) : v);",
        "}",
        "",
        f"static int16_t {p}_sat16(int32_t v)",
        "{",
        "    return (int16_t)(v < -INT32_C(32768) ? -INT32_C(32768) : (v > INT32_C(32767) ? INT32_C(32767) : v));",
        "}",
        "",
    ]
    if mulc:
        lines += [
            "/* a Q13 constant times a clamped Q12 pre-activation, rounded to Q12 */",
            f"static int32_t {p}_mulc(int32_t c, int32_t v)",
            "{",
            f"    return (c * {p}_pre(v) + 4096) >> 13;",
            "}",
            "",
        ]
    lines += mulhi_function(p)
    if mulq16:
        lines += mulq16_function(p)
    layer = inet.layers[0]
    used = sorted({layer.update} | ({layer.gate} if inet.cell.uses_gate else set()))
    if {"tanh", "sigmoid"} & set(used):
        n = INT_TANH_TABLE.size - 1
        lines += c_array("int16_t", f"{p}_tanh_table", INT_TANH_TABLE, str, p) + [""]
        shifts = sorted({7 for f in used if f == "tanh"} | {8 for f in used if f == "sigmoid"})
        for shift in shifts:
            # (t1 - t0) <= 128 and rest < 2^shift <= 256: the interpolation fits unsigned 16-bit arithmetic
            lines += [
                f"/* tanh(|v| / 2^{shift}) in Q12 (v in Q12: tanh(v{'' if shift == 7 else ' / 2'})), from the table of",
                f"   tanh(i / 32), i = 0..{n}, linearly interpolated; 16-bit arithmetic */",
                f"static int16_t {p}_tanh_at{shift}(int16_t v)",
                "{",
                "    uint16_t a = v < 0 ? (uint16_t)(0u - (uint16_t)v) : (uint16_t)v;",
                f"    uint16_t i = (uint16_t)(a >> {shift});",
                "    int16_t y = 4096;",
                f"    if (i < {n}) {{",
                f"        int16_t t0 = {_read(p, 'INT16', f'{p}_tanh_table[i]')};",
                f"        int16_t t1 = {_read(p, 'INT16', f'{p}_tanh_table[i + 1]')};",
                f"        uint16_t rest = (uint16_t)(a & {(1 << shift) - 1}u);",
                f"        uint16_t part = (uint16_t)((uint16_t)(t1 - t0) * rest + {1 << (shift - 1)}u);",
                f"        y = (int16_t)(t0 + (int16_t)(part >> {shift}));",
                "    }",
                "    return v < 0 ? (int16_t)-y : y;",
                "}",
                "",
            ]
    for f in used:
        body = C_INT_NONLINEARITIES[f].replace("{p}", p)
        lines += [f"static int16_t {p}_{f}(int16_t v)", "{", f"    {body}", "}", ""]
    return lines, (2 * INT_TANH_TABLE.size if {"tanh", "sigmoid"} & set(used) else 0)


def _buffers(inet):
    """The stack buffers of one step, name -> (C type, count): shared by the layers, sized for the largest."""
    sizes = {}

    def need(name, n):
        sizes[name] = max(sizes.get(name, 0), n)

    for layer in inet.layers:
        mats = layer.matrices
        need("a", sum(mats[n].q.shape[1] for n in ("W", "W2") if n in mats))
        if "W1" in mats:
            need("w1", mats["W1"].q.shape[1])
        if inet.n_steps > 1:
            need("hu", layer.hidden_dim)
            if "U1" in mats:
                need("u1", mats["U1"].q.shape[1])
        for name, n in inet.cell.c_buffers(layer).items():
            need(name, n)
    return {n: ("int16_t" if n in _INT16_BUFFERS else "int32_t", k) for n, k in sizes.items()}


def integer_source(inet, p, sparse):
    """``(lines, sizes)``: the integer-only section of ``<p>.c`` (see the module docstring) and its bytes."""
    P = p.upper()
    lines, weight_bytes, matrices = [], 0, []
    data = []
    for layer in [*inet.layers, None]:
        mats = layer.matrices.values() if layer else [inet.W_out]
        for m in mats:
            csr, dense_b, csr_b = _csr_pays(m, sparse)
            decl, nbytes = _matrix(p, m, csr)
            data += decl
            weight_bytes += nbytes
            matrices.append(
                {
                    "name": m.name,
                    "shape": tuple(m.q.shape),
                    "dtype": "int8",
                    "nnz": int(np.count_nonzero(m.q)),
                    "format": "csr" if csr else "dense",
                    "dense_bytes": dense_b,
                    "csr_bytes": csr_b,
                    "multiplier": m.m,
                    "shift": m.k,
                }
            )
        if layer is None:
            continue
        for name, v in layer.biases.items():
            data += c_array("int32_t", f"{p}_{c_symbol(layer.prefix + name)}", v, str, p) + [""]
            weight_bytes += 4 * v.size
        for name, v in layer.consts.items():
            data.append(f"static const int32_t {p}_{c_symbol(layer.prefix + name)} = {v}; /* Q13 */")
            weight_bytes += 4
        data.append("")
    data += c_array("int32_t", f"{p}_b_out", inet.b_out, str, p) + [""]
    weight_bytes += 4 * inet.b_out.size
    core = _stream_core(inet, p)
    helpers, table_bytes = _helpers(
        p, inet, any(f"{p}_mulc(" in line for line in core), any(f"{p}_mulq16(" in line for line in core)
    )
    lines += [*helpers, *data, *core]
    return lines, {"weight_bytes": weight_bytes, "table_bytes": table_bytes, "matrices": matrices, "P": P}


def _stream_core(inet, p):
    """``<p>_advance`` (every layer's step), ``<p>_reset``, ``<p>_finish``, ``<p>_head``, ``<p>_scores``."""
    buffers = _buffers(inet)
    T, K = inet.n_steps, inet.b_out.size
    lines = [
        f"/* one step of every layer on the state; xt holds the step's {inet.n_inputs} quantized values */",
        f"static void {p}_advance({p}_state *s, const int16_t *xt)",
        "{",
        *[f"    int16_t *const {state_name(layer)} = s->{state_name(layer)};" for layer in inet.layers],
        *[f"    {ctype} {b}[{n}];" for b, (ctype, n) in buffers.items()],
    ]
    if T > 1:
        index = "s->n" if inet.fold == 1 else f"s->n / {inet.fold}"
        lines.append(f"    const int t = {index}; /* the step's index: U is applied from the second one on */")
    lines.append("    int j;")
    if T > 1:
        lines += [f"    for (j = 0; j < {buffers['hu'][1]}; ++j) {{", "        hu[j] = 0;", "    }"]
    source = "xt"
    for layer in inet.layers:
        w = CIntLayerStep(p, layer)
        if "W1" in layer.matrices:
            steps = [f"        {w.mv('W1')}({source}, w1);", f"        {w.mv('W2')}(w1, a);"]
        else:
            steps = [f"        {w.mv('W')}({source}, a);"]
        steps += inet.cell.c_int_step(layer, w)
        lines += [line[4:] if line.startswith("        ") else line for line in steps]
        source = w.h
    lines += ["}", ""]
    # reset
    lines += [f"void {p}_reset({p}_state *s)", "{", "    int j;"]
    fields = {state_name(layer): layer.hidden_dim for layer in inet.layers}
    if inet.fold > 1:
        fields["xs"] = inet.n_inputs
    for name, n in fields.items():
        lines += [f"    for (j = 0; j < {n}; ++j) {{", f"        s->{name}[j] = 0;", "    }"]
    lines += ["    s->n = 0;", "    s->ended = 0;", "}", ""]
    k, D = inet.fold, inet.D
    if k > 1:
        lines += [
            "/* a partial folded step: its missing timesteps read as 0, as in Python */",
            f"static void {p}_finish({p}_state *s)",
            "{",
            "    int j;",
            f"    if (s->n % {k} != 0) {{",
            f"        for (j = (s->n % {k}) * {D}; j < {inet.n_inputs}; ++j) {{",
            "            s->xs[j] = 0;",
            "        }",
            f"        {p}_advance(s, s->xs);",
            f"        s->n += {k} - s->n % {k};",
            "    }",
            "}",
            "",
        ]
    last = state_name(inet.layers[-1])
    lines += [
        f"static void {p}_head(const int16_t *{last}, int32_t *scores)",
        "{",
        "    int j;",
        f"    {p}_mv_W_out({last}, scores);",
        f"    for (j = 0; j < {K}; ++j) {{",
        f"        scores[j] += {_read(p, 'INT32', f'{p}_b_out[j]')};",
        "    }",
        "}",
        "",
        f"void {p}_scores(const {p}_state *s, int32_t *scores)",
        "{",
    ]
    if k > 1:
        lines += [f"    {p}_state done = *s;", f"    {p}_finish(&done);", f"    {p}_head(done.{last}, scores);"]
    else:
        lines.append(f"    {p}_head(s->{last}, scores);")
    lines += ["}", ""]
    if inet.classes is not None:
        lines += [
            f"int {p}_class(const {p}_state *s)",
            "{",
            f"    int32_t scores[{K}];",
            "    int k, best = 0;",
            f"    {p}_scores(s, scores);",
            f"    for (k = 1; k < {K}; ++k) {{",
            "        if (scores[k] > scores[best]) {",
            "            best = k;",
            "        }",
            "    }",
            "    return best;",
            "}",
            "",
            "/* the integer softmax: 2^(-(max - s_k) log2 e) in Q15 (differences below -12 count as -12) */",
            f"static void {p}_exp(const int32_t *scores, int32_t *e)",
            "{",
            "    int32_t peak = scores[0];",
            "    int k;",
            f"    for (k = 1; k < {K}; ++k) {{",
            "        peak = scores[k] > peak ? scores[k] : peak;",
            "    }",
            f"    for (k = 0; k < {K}; ++k) {{",
            "        int32_t d = scores[k] - peak, y, f, e0, e1;",
            f"        d = d < -INT32_C({SOFTMAX_FLOOR}) ? -INT32_C({SOFTMAX_FLOOR}) : d;",
            f"        y = (-d * {LOG2E_Q12} + 2048) >> 12;",
            "        f = y & 4095;",
            f"        e0 = (int32_t){_read(p, 'UINT16', f'{p}_exp2[f >> 7]')};",
            f"        e1 = (int32_t){_read(p, 'UINT16', f'{p}_exp2[(f >> 7) + 1]')};",
            "        e[k] = (e0 - (((e0 - e1) * (f & 127) + 64) >> 7)) >> (y >> 12);",
            "    }",
            "}",
            "",
        ]
    return lines


def render_integer(inet, p, version, sparse):
    """``(header, source, report)`` of the integer-only export of ``inet`` (an IntegerNetwork)."""
    body, sizes = integer_source(inet, p, sparse)
    tail, scaler_bytes = input_source(inet, p)
    classifier = inet.classes is not None
    labels = []
    label_bytes = 0
    if classifier:
        items = ", ".join(c_string(c) for c in inet.classes)
        labels = [f"const char *const {p}_class_labels[{p.upper()}_N_CLASSES] = {{{items}}};", ""]
        label_bytes = sum(len(str(c).encode("utf-8")) + 1 for c in inet.classes)
        body = c_array("uint16_t", f"{p}_exp2", EXP2_TABLE, str, p) + [""] + body
        sizes["table_bytes"] += 2 * EXP2_TABLE.size
    buffers = _buffers(inet)
    stream_bytes = 2 * (sum(inet.hidden_dims) + (inet.n_inputs if inet.fold > 1 else 0))
    step_bytes = sum((2 if t == "int16_t" else 4) * n for t, n in buffers.values()) + 2 * inet.D
    report = {
        "integer_only": True,
        "weight_bytes": sizes["weight_bytes"],
        "table_bytes": sizes["table_bytes"],
        "scaler_bytes": scaler_bytes,
        "scaler_layout": "per_channel" if inet.per_channel else "per_column",
        "label_bytes": label_bytes,
        "state_bytes": stream_bytes + step_bytes + 4 * inet.b_out.size,
        "stream_state_bytes": stream_bytes,
        "quantized": True,
        "fold": inet.fold,
        "input_frac": inet.input_frac,
        "out_frac": inet.out_frac,
        "matrices": sizes["matrices"],
        "omitted": list(inet.omitted),
    }
    summary = [
        f"integer-only: int8 weights, Q{inet.input_frac} int16 input, Q12 int16 states, int32 sums; "
        f"weights {report['weight_bytes']} bytes, tables {report['table_bytes']} bytes, "
        f"scaler {scaler_bytes} bytes (float32), state {stream_bytes} bytes",
        *[f"  {row['name']} {'x'.join(map(str, row['shape']))} {row['format']}" for row in sizes["matrices"]],
        *[f"not exported: {o}" for o in inet.omitted],
    ]
    header = header_lines(inet, p, summary, version)
    source = [
        f"/* {p}.c: generated by skfastgrnn {version} (export_c, integer_only=True); see {p}.h. */",
        "#include <stdint.h>",
        "",
        f'#include "{p}.h"',
        "",
        *int_rom_macros(p),
        "",
        *mac_macro(p),
        "",
        *(dot_function(p) + [""] if any(f"{p}_dot(" in line for line in body) else []),
        "/* the fixed-point code needs >> of a negative value to be arithmetic (gcc, clang, avr-gcc) */",
        f"typedef char {p}_arithmetic_shift[(-1 >> 1) == -1 ? 1 : -1];",
        "",
        *labels,
        "/* ---- integer-only section: no float from here ---- */",
        "",
        *body,
        "/* ---- end of the integer-only section: the float input and the readers follow ---- */",
        "",
        *tail,
    ]
    return "\n".join(header), "\n".join(source), report
