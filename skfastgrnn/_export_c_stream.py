"""The streaming core of the exported C code (used by :mod:`skfastgrnn._export_c`).

Everything the C code computes goes through one step function: the caller's
``<p>_state`` holds every layer's state, the number of timesteps read, whether
a NaN step has ended the sequence, and for a folded model (``fold = k``) the
``k`` standardized timesteps of the folded step being read. ``<p>_step`` reads
one timestep of ``D`` raw values: it applies the scaler (per channel, or per
column at the state's timestep index), and once a (folded) step is complete
runs every layer on it (``<p>_advance``). The output readers complete a
partial folded step with zeros on a copy of the state (``<p>_finish``), as
the Python fold does, so more steps can still come. ``<p>_predict`` on a row
is ``<p>_reset``, ``<p>_step`` on each of its ``T`` timesteps and the output
layer: the same arithmetic in the same order as the streamed steps.

Rules shared with ``<p>_predict``: a (folded) step whose first value is NaN
ends the sequence (the states stay as they are, later steps are ignored);
inside an observed folded step NaN reads as 0; steps after ``T`` are ignored
(the model was trained on at most ``T``; a per-column scaler has no
statistics beyond).
"""

from ._export_c_layers import forward_buffers, layer_steps, rom_read, state_name


def stream_floats(net):
    """The floats of ``<p>_state``: every layer's state, and a folded model's step buffer ``xs``."""
    fields = {state_name(layer): layer.hidden_dim for layer in net.layers}
    if net.fold > 1:
        fields["xs"] = net.n_inputs
    return fields


def state_typedef(net, p, P):
    """The header's ``typedef struct {...} <p>_state;``."""
    fields = stream_floats(net)
    width = max(len(f"float {n}[{k}];") for n, k in fields.items())
    lines = [
        f"/* the streaming state ({4 * sum(fields.values())} bytes of floats and two ints): {p}_reset it, then",
        f" * {p}_step it once per timestep; it is all the memory a sequence needs between steps */",
        "typedef struct {",
    ]
    for layer in net.layers:
        what = "the hidden state" if net.n_layers == 1 else f"layer {layer.index}'s hidden state"
        decl = f"float {state_name(layer)}[{layer.hidden_dim}];"
        lines.append(f"    {decl:{width}s} /* {what} */")
    if net.fold > 1:
        decl = f"float xs[{net.n_inputs}];"
        lines.append(f"    {decl:{width}s} /* the standardized timesteps of the folded step being read */")
    lines += [
        f"    {'int n;':{width}s} /* timesteps read (at most {P}_N_TIMESTEPS) */",
        f"    {'int ended;':{width}s} /* 1 once a step whose first value is NaN has ended the sequence */",
        f"}} {p}_state;",
        "",
    ]
    return lines


def stream_declarations(net, p, P):
    """The header's declarations of ``<p>_reset`` and ``<p>_step``."""
    group = (
        "The first value of a step is NaN: the sequence has ended, later steps are ignored"
        if net.fold == 1
        else (
            f"The first value of the first timestep of a folded step (timesteps 1, 1 + {P}_FOLD, ...) is NaN:"
            "\n * the sequence has ended, later steps are ignored; other NaN read as 0"
        )
    )
    return [
        f"/* streaming: {p}_reset(&s), then {p}_step(&s, x_t) for each timestep as it arrives (the row is",
        " * never stored; a sequence shorter than T is just fewer calls), and read the outputs at any time.",
        f" * {group}. Steps after {P}_N_TIMESTEPS are ignored too. */",
        f"void {p}_reset({p}_state *s);",
        "",
        f"/* reads one timestep x ({P}_N_STEP_FEATURES raw floats: the scaler is applied inside) */",
        f"void {p}_step({p}_state *s, const float *x);",
        "",
    ]


def _standardized(net, p, value):
    """The C expression of ``value`` (channel ``j`` of timestep ``s->n``) after the folded scaler."""
    at = "j" if net.scaler_per_channel else f"s->n * {net.n_step_features} + j"
    expr = value
    if net.mean is not None:
        expr = f"({expr} - {rom_read(p, 'float', f'{p}_mean[{at}]')})"
    if net.scale is not None:
        expr = f"{expr} / {rom_read(p, 'float', f'{p}_scale[{at}]')}"
    return expr


def _advance(net, p):
    """``static void <p>_advance``: one (standardized, folded) step of every layer on the state."""
    buffers = forward_buffers(net)
    for name in stream_floats(net):
        buffers.pop(name, None)
    buffers.pop("xs", None)  # _step's (the standardized step), or the state's (a folded step)
    steps, _ = layer_steps(net, p)  # each layer's input projection, recurrent product and update
    who = "the network" if net.n_layers == 1 else "every layer"
    lines = [
        f"/* one step of {who} on the state; xt holds the step's {net.n_inputs} standardized values */",
        f"static void {p}_advance({p}_state *s, const float *xt)",
        "{",
        *[f"    float *const {state_name(layer)} = s->{state_name(layer)};" for layer in net.layers],
        *[f"    float {b}[{n}];" for b, n in buffers.items()],
    ]
    if net.n_steps > 1:
        index = "s->n" if net.fold == 1 else f"s->n / {net.fold}"
        lines.append(f"    const int t = {index}; /* the step's index: U is applied from the second one on */")
    lines.append("    int j;")
    if net.n_steps > 1:
        lines += [f"    for (j = 0; j < {buffers['hu']}; ++j) {{", "        hu[j] = 0.0f;", "    }"]
    lines += [line[4:] if line.startswith("        ") else line for line in steps]
    lines += ["}", ""]
    return lines


def _reset(net, p):
    lines = [f"void {p}_reset({p}_state *s)", "{", "    int j;"]
    by_size = {}
    for name, n in stream_floats(net).items():
        by_size.setdefault(n, []).append(name)
    for size, group in by_size.items():
        lines += [f"    for (j = 0; j < {size}; ++j) {{", *[f"        s->{b}[j] = 0.0f;" for b in group], "    }"]
    lines += ["    s->n = 0;", "    s->ended = 0;", "}", ""]
    return lines


def _step(net, p):
    T, D, k = net.n_timesteps, net.n_step_features, net.fold
    scaled = net.mean is not None or net.scale is not None
    lines = [f"void {p}_step({p}_state *s, const float *x)", "{"]
    if k > 1:
        lines += [f"    float *const xs = s->xs + (s->n % {k}) * {D};", "    int j;"]
    elif scaled:
        lines += [f"    float xs[{D}];", "    int j;"]
    first = "isnan(x[0])" if k == 1 else f"s->n % {k} == 0 && isnan(x[0])"
    lines += [
        f"    if (s->ended || s->n >= {T}) {{",
        "        return; /* the sequence has ended, or T timesteps are read */",
        "    }",
        f"    if ({first}) {{",
        "        s->ended = 1; /* NaN padding: the sequence has ended, the state stays as it is */",
        "        return;",
        "    }",
    ]
    if k > 1:
        lines += [
            "    /* NaN inside an observed folded step reads as 0 (standardized) */",
            f"    for (j = 0; j < {D}; ++j) {{",
            f"        xs[j] = isnan(x[j]) ? 0.0f : {_standardized(net, p, 'x[j]')};",
            "    }",
            f"    if (s->n % {k} == {k - 1}) {{",
            f"        {p}_advance(s, s->xs);",
            "    }",
        ]
    elif scaled:
        lines += [
            f"    for (j = 0; j < {D}; ++j) {{",
            f"        xs[j] = {_standardized(net, p, 'x[j]')};",
            "    }",
            f"    {p}_advance(s, xs);",
        ]
    else:
        lines.append(f"    {p}_advance(s, x);")
    lines += ["    s->n += 1;", "}", ""]
    return lines


def _finish(net, p):
    """``static void <p>_finish`` (folded models): runs a partial folded step, its missing timesteps 0."""
    k, D = net.fold, net.n_step_features
    return [
        "/* a partial folded step (the sequence stopped inside one): its missing timesteps read as 0, as in",
        "   Python; the state is then complete (only its outputs are read) */",
        f"static void {p}_finish({p}_state *s)",
        "{",
        "    int j;",
        f"    if (s->n % {k} != 0) {{",
        f"        for (j = (s->n % {k}) * {D}; j < {net.n_inputs}; ++j) {{",
        "            s->xs[j] = 0.0f;",
        "        }",
        f"        {p}_advance(s, s->xs);",
        f"        s->n += {k} - s->n % {k};",
        "    }",
        "}",
        "",
    ]


def stream_source(net, p):
    """The source's static step core and public ``<p>_reset`` / ``<p>_step``, and the row and state readers.

    Defines ``static void <p>_forward(const float *x, float *logits)`` (the
    network's outputs on a row) and ``static void <p>_logits(const <p>_state
    *s, float *logits)`` (on a state, not changing it), for the public API.
    """
    last = state_name(net.layers[-1])
    T, D, K = net.n_timesteps, net.n_step_features, net.n_outputs
    lines = [*_advance(net, p), *_reset(net, p), *_step(net, p)]
    if net.fold > 1:
        lines += _finish(net, p)
    whose = "the hidden state" if net.n_layers == 1 else "the last layer's state"
    lines += [
        f"/* the network's outputs: W_out and b_out on {whose} */",
        f"static void {p}_head(const float *{last}, float *logits)",
        "{",
        "    int j;",
        f"    {p}_mv_W_out({last}, logits);",
        f"    for (j = 0; j < {K}; ++j) {{",
        f"        logits[j] += {rom_read(p, 'float', f'{p}_b_out[j]')};",
        "    }",
        "}",
        "",
        f"/* the outputs of one row x = [x_1 .. x_T]: its {T} timesteps through {p}_step */",
        f"static void {p}_forward(const float *x, float *logits)",
        "{",
        f"    {p}_state s;",
        "    int t;",
        f"    {p}_reset(&s);",
        f"    for (t = 0; t < {T}; ++t) {{",
        f"        {p}_step(&s, x + t * {D});",
        "    }",
        *([f"    {p}_finish(&s);"] if net.fold > 1 else []),
        f"    {p}_head(s.{last}, logits);",
        "}",
        "",
        "/* the outputs of the state; it does not change */",
        f"static void {p}_logits(const {p}_state *s, float *logits)",
        "{",
    ]
    if net.fold > 1:
        lines += [
            f"    {p}_state done = *s; /* a partial folded step is completed on a copy */",
            f"    {p}_finish(&done);",
            f"    {p}_head(done.{last}, logits);",
        ]
    else:
        lines.append(f"    {p}_head(s->{last}, logits);")
    lines += ["}", ""]
    return lines
