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

import re

import numpy as np

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


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


# ---------------------------------------------------------------------------
# C literals and tables, shared by the float and the integer writers.


def check_c_name(name):
    # the name only ever appears with a suffix (name_predict, NAME_N_CLASSES, name.h),
    # so C keywords are fine; a leading underscore would make reserved identifiers
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise ValueError(
            f"name={name!r} is not a usable C identifier: it must start with a letter and hold only letters, "
            "digits and underscores (it prefixes every exported symbol and names the files)."
        )


def c_float(v):
    """A float literal that parses back to exactly ``float32(v)``."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError(f"cannot write the non-finite value {v!r} into C source.")
    text = str(f)  # numpy prints the shortest text that round-trips in float32
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def c_array(ctype, name, values, fmt, p):
    """A ``static const`` table of the model ``p``: in program memory on AVR (``<P>_FLASH``)."""
    values = list(values)
    if not values:  # C99 has no empty arrays; a pad element, counted in the sizes
        values = [0]
    items = [fmt(v) for v in values]
    per_line = 8 if ctype == "float" else 16
    flash = p.upper() + "_FLASH"
    lines = [f"static const {ctype} {name}[{len(items)}] {flash} = {{"]
    for start in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[start : start + per_line]) + ",")
    lines.append("};")
    return lines


def uint_type(max_value):
    for ctype, limit, size in (("uint8_t", 0xFF, 1), ("uint16_t", 0xFFFF, 2), ("uint32_t", 0xFFFFFFFF, 4)):
        if max_value <= limit:
            return ctype, size
    raise ValueError("matrix too large for 32-bit indices")


def csr_parts(stored):
    """A stored ``(n_out, n_in)`` matrix in the CSR form the C code reads (the float and the integer writers).

    Returns ``(ptr, cols, values, (ptr_type, ptr_bytes), (idx_type, idx_bytes))``:
    row pointers, column indices and values, and the smallest unsigned C
    types (with their sizes) of the pointers and the indices.
    """
    n_out, n_in = stored.shape
    rows, cols = np.nonzero(stored)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_out))])
    return ptr, cols, stored[rows, cols], uint_type(int(ptr[-1])), uint_type(max(n_in - 1, 0))


def matrix_sizes(m):
    """``(dense_bytes, csr_bytes)`` of one matrix as :func:`_c_matrix` writes it."""
    n_in, n_out = m.values.shape
    value_bytes = 1 if m.int8 is not None else 4
    extra = 4 if m.int8 is not None else 0  # the float scale
    nnz = m.nnz
    ptr_bytes = uint_type(nnz)[1]
    idx_bytes = uint_type(max(n_in - 1, 0))[1]
    dense = n_in * n_out * value_bytes + extra
    csr = (n_out + 1) * ptr_bytes + max(nnz, 1) * (idx_bytes + value_bytes) + extra
    return dense, csr


def c_string(text):
    out = []
    for byte in str(text).encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\?':  # '?' too: "??=" would be a trigraph in C99
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'
