"""The recurrent layers of the exported C forward pass (used by :mod:`skfastgrnn._export_c`).

The C code reads a row step by step, in one loop; at step ``t`` it runs every
layer in turn: layer 1 reads the (standardized, folded) step ``x_t`` and
layer ``k >= 2`` the state layer ``k - 1`` has just computed, its ``h_t``.
The first step whose first value is NaN ends the loop for every layer at
once: all states stay as they are from the sequence's end, and the output
layer reads the last layer's state.

Memory: one state vector per layer (``h``, ``h2``, ``h3``, ...); the buffers
of one step (the input projection ``a``, the recurrent product ``hu``, the
low-rank intermediates, the cell's own) are shared by the layers, which use
them one after the other, and sized for the largest.

The tables (weights, biases, scaler statistics) are read through
:func:`rom_read`: on AVR they live in program memory (``PROGMEM``) and are
read with ``pgm_read_*``; elsewhere the macros are plain reads.

Layer ``k >= 2``'s parameters are named ``layer<k>.W`` and so on in the model;
in C the dot becomes an underscore (``<p>_layer2_W``, ``<p>_mv_layer2_W``):
no name of the first layer starts with ``layer``, so the names cannot clash.
"""


def c_symbol(name):
    """The C spelling of a parameter's name: ``"layer2.W"`` -> ``"layer2_W"`` (the first layer's stay as they are)."""
    return name.replace(".", "_")


# the C type of a table -> the suffix of its read macro (<P>_READ_FLOAT, ...; defined by the writer)
ROM_READERS = {
    "float": ("FLOAT", "pgm_read_float(&(v))"),
    "int8_t": ("INT8", "((int8_t)pgm_read_byte(&(v)))"),
    "uint8_t": ("UINT8", "pgm_read_byte(&(v))"),
    "uint16_t": ("UINT16", "pgm_read_word(&(v))"),
    "uint32_t": ("UINT32", "pgm_read_dword(&(v))"),
}


def rom_read(p, ctype, expr):
    """The C expression reading the table element ``expr`` of type ``ctype`` (from flash on AVR)."""
    return f"{p.upper()}_READ_{ROM_READERS[ctype][0]}({expr})"


def rom_macros(p):
    """The source's lines defining ``<P>_FLASH`` (the tables' attribute) and the ``<P>_READ_*`` macros."""
    P = p.upper()
    avr = [f"#  define {P}_READ_{suffix}(v) {read}" for suffix, read in ROM_READERS.values()]
    host = [f"#  define {P}_READ_{suffix}(v) (v)" for suffix, _ in ROM_READERS.values()]
    return [
        "/* the tables: in program memory on AVR (PROGMEM, read with pgm_read_*), plain const elsewhere */",
        "#ifdef __AVR__",
        "#  include <avr/pgmspace.h>",
        f"#  define {P}_FLASH PROGMEM",
        *avr,
        "#else",
        f"#  define {P}_FLASH",
        *host,
        "#endif",
    ]


def state_name(layer):
    """The C buffer of a layer's state: ``h`` for the first layer, ``h<k>`` for layer ``k``."""
    return "h" if layer.index == 1 else f"h{layer.index}"


class CLayerStep:
    """What a cell's ``c_step`` writes one layer's step with (``w`` in :class:`skfastgrnn._cells.Cell`).

    ``p`` prefixes the model's functions (``<p>_sigmoid``, ...), ``h`` is the
    layer's state buffer, ``param(name)`` the C name of the layer's bias or
    constant ``name`` (as the cell names it), ``mv(name)`` the function
    computing ``y = x M`` for its matrix ``name``, ``recurrent(source)`` the
    statements computing ``hu = source U`` from the second step on.
    """

    def __init__(self, p, layer):
        self.p, self.layer = p, layer
        self.h = state_name(layer)

    def param(self, name):
        return f"{self.p}_{c_symbol(self.layer.prefix + name)}"

    def vec(self, name, index="j"):
        """The C expression reading element ``index`` of the layer's bias ``name`` (from flash on AVR)."""
        return rom_read(self.p, "float", f"{self.param(name)}[{index}]")

    def mv(self, name):
        return f"{self.p}_mv_{c_symbol(self.layer.prefix + name)}"

    def recurrent(self, source):
        """C statements computing ``hu = source U`` from the second step on (``h_0 = 0``: hu stays zero)."""
        if "U" in self.layer.matrices:
            calls = [f"{self.mv('U')}({source}, hu);"]
        else:
            calls = [f"{self.mv('U1')}({source}, u1);", f"{self.mv('U2')}(u1, hu);"]
        return ["        if (t > 0) {", *[f"            {s}" for s in calls], "        }"]


def forward_buffers(net):
    """Stack buffers of the forward pass: name -> number of floats.

    One state per layer, then the buffers of one step, shared by the layers:
    the input projection ``a``, ``w1`` (low-rank W), ``xs`` (the
    standardized or folded step), ``hu`` and ``u1`` (the recurrent product,
    from the second step on) and the cell's own (``c_buffers``).
    """
    buffers = {state_name(layer): layer.hidden_dim for layer in net.layers}

    def need(name, n):
        buffers[name] = max(buffers.get(name, 0), n)

    for layer in net.layers:
        need("a", sum(m.values.shape[1] for n, m in layer.matrices.items() if n in ("W", "W2")))
        if "W1" in layer.matrices:
            need("w1", layer.matrices["W1"].values.shape[1])
    if net.mean is not None or net.scale is not None or net.fold > 1:
        # the standardized step; a folded step also zero-fills its values after the sequence's end
        need("xs", net.n_inputs)
    if net.n_steps > 1:
        for layer in net.layers:
            need("hu", layer.hidden_dim)
            if "U1" in layer.matrices:
                need("u1", layer.matrices["U1"].values.shape[1])
    for layer in net.layers:
        for name, n in net.cell_class.c_buffers(layer).items():
            need(name, n)
    return buffers


def layer_steps(net, p):
    """C statements of one step of every layer, inside the loop over ``t``, after ``xt`` holds the step.

    Returns ``(lines, state)``: ``state`` is the last layer's state buffer,
    what the output layer reads.
    """
    lines, source = [], "xt"
    for layer in net.layers:
        w = CLayerStep(p, layer)
        if net.n_layers > 1:
            what = "the step" if layer.index == 1 else f"layer {layer.index - 1}'s new state"
            lines.append(f"        /* layer {layer.index}: reads {what}, updates {w.h} */")
        if "W1" in layer.matrices:
            lines += [f"        {w.mv('W1')}({source}, w1);", f"        {w.mv('W2')}(w1, a);"]
        else:
            lines.append(f"        {w.mv('W')}({source}, a);")
        lines += net.cell_class.c_step(layer, w)  # the recurrent product, the cell's update of the state
        source = w.h
    return lines, source


def layer_constants(net, p, c_float):
    """``static const float`` lines of every layer's cell constants (``c_constants``), and their bytes."""
    lines = []
    for layer in net.layers:
        w = CLayerStep(p, layer)
        for name, value in net.cell_class.c_constants(layer.scalars).items():
            lines.append(f"static const float {w.param(name)} = {c_float(value)};")
    return lines, 4 * len(lines)
