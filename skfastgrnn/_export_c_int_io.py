"""The input and the readers of the integer-only C export, and its header (used by :mod:`skfastgrnn._export_c_int`).

The part of ``<p>.c`` after the integer-only section: the input's tables (per
channel or column: ``e``, ``mean_int``, ``m``, ``k``), ``<p>_quantize`` (a
float read from its bits into Q<input_frac> int16, the scaler applied in
integers: no float arithmetic), ``<p>_step``, the row functions and the
readers that turn the integer scores into probabilities (an integer softmax
and one float division per class) or a regressor's outputs (one float
multiplication); and ``<p>.h``.
"""

from ._export_c_layers import c_array, c_float, state_name


def _read(p, kind, expr):
    return f"{p.upper()}_READ_{kind}({expr})"


def input_source(inet, p):
    """``(lines, scaler_bytes)``: the input tables, ``<p>_quantize``, ``<p>_step``, the row functions, the readers."""
    T, D, k, K = inet.T, inet.D, inet.fold, inet.b_out.size
    lines = []
    lines += c_array("int8_t", f"{p}_in_e", inet.in_exp, str, p)
    lines += c_array("int32_t", f"{p}_in_mean", inet.in_mean, str, p)
    lines += c_array("uint16_t", f"{p}_in_m", inet.in_m, str, p)
    lines += c_array("uint8_t", f"{p}_in_k", inet.in_k, str, p) + [""]
    scaler_bytes = 8 * inet.in_exp.size
    at = "j" if inet.per_channel else f"s->n * {D} + j"
    lines += [
        "/* 1 when x is NaN (read from its bits) */",
        f"static int {p}_isnan(float x)",
        "{",
        "    union {",
        "        float f;",
        "        uint32_t u;",
        "    } b;",
        "    b.f = x;",
        "    return (b.u & 0x7FFFFFFFul) > 0x7F800000ul;",
        "}",
        "",
        f"/* the input value x of channel (or column) i in Q{inet.input_frac} int16, without float arithmetic: x is",
        "   read from its bits as trunc(x 2^e) (saturated to +-2^30; NaN reads as 0), then the scaler is applied",
        "   in integers, round((x_int - mean_int) m / 2^k), saturated to int16 */",
        f"static int16_t {p}_quantize(float x, int i)",
        "{",
        "    union {",
        "        float f;",
        "        uint32_t u;",
        "    } b;",
        "    int16_t ex;",
        "    int32_t v = 0, d, r;",
        f"    uint16_t m = {_read(p, 'UINT16', f'{p}_in_m[i]')};",
        f"    uint8_t k = {_read(p, 'UINT8', f'{p}_in_k[i]')};",
        "    b.f = x;",
        "    ex = (int16_t)(((uint16_t)(b.u >> 16) >> 7) & 0xFFu); /* 16-bit shifts: cheap on 8-bit cores */",
        "    if (ex != 0 && !(ex == 255 && (b.u & 0x7FFFFFul) != 0)) { /* not 0, subnormal or NaN */",
        f"        int16_t shift = (int16_t)(ex + {_read(p, 'INT8', f'{p}_in_e[i]')} - 150);",
        "        uint32_t mag = (b.u & 0x7FFFFFul) | 0x800000ul;",
        "        if (ex == 255 || shift >= 7) {",
        "            mag = 0x40000000ul; /* saturated (infinities too) */",
        "        } else if (shift >= 0) {",
        "            mag <<= shift;",
        "        } else if (shift > -24) { /* variable shifts are loops on 8-bit cores: whole bytes first */",
        "            if (shift <= -16) {",
        "                mag >>= 16;",
        "                shift = (int16_t)(shift + 16);",
        "            }",
        "            if (shift <= -8) {",
        "                mag >>= 8;",
        "                shift = (int16_t)(shift + 8);",
        "            }",
        "            mag >>= -shift;",
        "        } else {",
        "            mag = 0;",
        "        }",
        "        v = (b.u >> 31) ? -(int32_t)mag : (int32_t)mag;",
        "    }",
        f"    d = v - {_read(p, 'INT32', f'{p}_in_mean[i]')};",
        f"    r = {p}_mulhi(d, m); /* m < 2^15 */",
        "    /* (r + 2^(k - 17)) >> (k - 16), as ((r >> (k - 17)) + 1) >> 1, whole bytes first */",
        "    k = (uint8_t)(k - 17);",
        "    if (k >= 16) {",
        "        r >>= 16;",
        "        k = (uint8_t)(k - 16);",
        "    }",
        "    if (k >= 8) {",
        "        r >>= 8;",
        "        k = (uint8_t)(k - 8);",
        "    }",
        "    r = ((r >> k) + 1) >> 1;",
        f"    return {p}_sat16(r);",
        "}",
        "",
        f"void {p}_step({p}_state *s, const float *x)",
        "{",
        (f"    int16_t *const xq = s->xs + (s->n % {k}) * {D};" if k > 1 else f"    int16_t xq[{D}];"),
        "    int j;",
        f"    if (s->ended || s->n >= {T}) {{",
        "        return; /* the sequence has ended, or T timesteps are read */",
        "    }",
        f"    if ({'' if k == 1 else f's->n % {k} == 0 && '}{p}_isnan(x[0])) {{",
        "        s->ended = 1; /* NaN padding: the sequence has ended, the state stays as it is */",
        "        return;",
        "    }",
        f"    for (j = 0; j < {D}; ++j) {{",
        f"        xq[j] = {p}_quantize(x[j], {at});",
        "    }",
        *([f"    if (s->n % {k} == {k - 1}) {{", f"        {p}_advance(s, s->xs);", "    }"] if k > 1 else []),
        *([f"    {p}_advance(s, xq);"] if k == 1 else []),
        "    s->n += 1;",
        "}",
        "",
        f"static void {p}_run(const float *x, {p}_state *s)",
        "{",
        "    int t;",
        f"    {p}_reset(s);",
        f"    for (t = 0; t < {T}; ++t) {{",
        f"        {p}_step(s, x + t * {D});",
        "    }",
        "}",
        "",
    ]
    if inet.classes is not None:
        lines += [
            f"void {p}_proba(const {p}_state *s, float *proba)",
            "{",
            f"    int32_t scores[{K}], e[{K}], total = 0;",
            "    int k;",
            f"    {p}_scores(s, scores);",
            f"    {p}_exp(scores, e);",
            f"    for (k = 0; k < {K}; ++k) {{",
            "        total += e[k];",
            "    }",
            f"    for (k = 0; k < {K}; ++k) {{",
            "        proba[k] = (float)e[k] / (float)total;",
            "    }",
            "}",
            "",
            f"int {p}_predict(const float *x)",
            "{",
            f"    {p}_state s;",
            f"    {p}_run(x, &s);",
            f"    return {p}_class(&s);",
            "}",
            "",
            f"void {p}_predict_proba(const float *x, float *proba)",
            "{",
            f"    {p}_state s;",
            f"    {p}_run(x, &s);",
            f"    {p}_proba(&s, proba);",
            "}",
            "",
        ]
    else:
        unit = c_float(2.0**-inet.out_frac)
        lines += [
            f"void {p}_output(const {p}_state *s, float *out)",
            "{",
            f"    int32_t scores[{K}];",
            "    int k;",
            f"    {p}_scores(s, scores);",
            f"    for (k = 0; k < {K}; ++k) {{",
            f"        out[k] = (float)scores[k] * {unit}; /* 2^-{inet.out_frac} */",
            "    }",
            "}",
            "",
            f"void {p}_predict(const float *x, float *out)",
            "{",
            f"    {p}_state s;",
            f"    {p}_run(x, &s);",
            f"    {p}_output(&s, out);",
            "}",
            "",
        ]
    return lines, scaler_bytes


def header_lines(inet, p, summary, version):
    """``<p>.h``: the defines, the state and the API (the float export's, plus ``<p>_scores``)."""
    P, K = p.upper(), inet.b_out.size
    classifier = inet.classes is not None
    fields = [(state_name(layer), layer.hidden_dim, "hidden state, Q12") for layer in inet.layers]
    if inet.fold > 1:
        fields.append(
            ("xs", inet.n_inputs, f"the quantized timesteps of the folded step being read, Q{inet.input_frac}")
        )
    kind = "classifier" if classifier else "regressor"
    lines = [
        f"/* {p}.h: FastGRNN {kind} exported by skfastgrnn {version} (export_c, integer_only=True). C99, no malloc,",
        " * reentrant, no libm: integers only after each input value is quantized. Generated file: re-export.",
        " *",
        *[f" * {line}" for line in summary],
        " */",
        f"#ifndef {P}_H",
        f"#define {P}_H",
        "",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"#define {P}_INTEGER_ONLY 1",
        f"#define {P}_N_TIMESTEPS {inet.T}",
        f"#define {P}_N_STEP_FEATURES {inet.D}",
        *([f"#define {P}_FOLD {inet.fold}"] if inet.fold > 1 else []),
        "/* a row is [x_1 .. x_T], T * D floats, raw values (the scaler is applied inside); a shorter sequence is",
        " * NaN-padded after its end: reading stops at the first (folded) step whose first value is NaN */",
        f"#define {P}_N_FEATURES {inet.T * inet.D}",
        f"#define {P}_N_CLASSES {K}" if classifier else f"#define {P}_N_OUTPUTS {K}",
        *([f"#define {P}_N_LAYERS {len(inet.layers)}"] if len(inet.layers) > 1 else []),
        f"#define {P}_HIDDEN_DIM {inet.layers[-1].hidden_dim}",
        f"/* the input is quantized to Q{P}_INPUT_FRAC int16; the scores are Q{P}_OUT_FRAC int32 */",
        f"#define {P}_INPUT_FRAC {inet.input_frac}",
        f"#define {P}_OUT_FRAC {inet.out_frac}",
        "",
        "typedef struct {",
        *[f"    int16_t {n}[{size}]; /* {what} */" for n, size, what in fields],
        f"    int n;     /* timesteps read (at most {P}_N_TIMESTEPS) */",
        "    int ended; /* 1 once a step whose first value is NaN has ended the sequence */",
        f"}} {p}_state;",
        "",
        f"void {p}_reset({p}_state *s);",
        f"/* reads one timestep x ({P}_N_STEP_FEATURES raw floats) */",
        f"void {p}_step({p}_state *s, const float *x);",
        f"/* the integer scores of the timesteps read so far ({'Q12 logits' if classifier else 'outputs'},"
        f" {P}_N_{'CLASSES' if classifier else 'OUTPUTS'} values) */",
        f"void {p}_scores(const {p}_state *s, int32_t *scores);",
    ]
    if classifier:
        lines += [
            f"extern const char *const {p}_class_labels[{P}_N_CLASSES];",
            f"int {p}_class(const {p}_state *s);",
            f"void {p}_proba(const {p}_state *s, float *proba);",
            f"int {p}_predict(const float *x);",
            f"void {p}_predict_proba(const float *x, float *proba);",
        ]
    else:
        lines += [
            f"void {p}_output(const {p}_state *s, float *out);",
            f"void {p}_predict(const float *x, float *out);",
        ]
    lines += ["", "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {P}_H */", ""]
    return lines
