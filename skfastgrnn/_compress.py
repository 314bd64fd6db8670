"""Compression maths: int8 quantization, magnitude pruning masks, size accounting.

Pure numpy, no scikit-learn. Everything works on the flat parameter vector
``theta`` and its :class:`~skfastgrnn._cells.Layout`, so the estimator, the file
format and the training loop (iterative hard thresholding) share one
implementation.

Conventions
-----------
- **Quantization** is symmetric, per tensor: ``q = round(w / scale)`` clipped to
  ``[-127, 127]`` with ``scale = max|w| / 127`` stored as float32; the weight the
  model computes with is ``q * scale``. Only the weight matrices
  (``layout.matrix_names``: W or W1, W2; U or U1, U2; W_out) are quantized; the
  biases and the cell's scalars stay float32.
- **Pruning** keeps, in each W-family matrix (W, W1, W2) and each U-family
  matrix (U, U1, U2), the entries of largest magnitude. :func:`keep_mask` takes the
  fraction KEPT (the paper's ``s_w``, ``s_u``: density); the estimator's
  ``prune(sparsity)`` takes the fraction REMOVED (the guide's ``prune(0.3)``) and
  converts. The classifier head ``W_out``, biases and scalars are never pruned.
- **Sizes** are in bytes. A sparse matrix is stored in the smallest of three
  formats, index overhead counted: dense; a bitmap of ``ceil(n / 8)`` bytes plus
  the non-zero values; or coordinate lists (one flat index per non-zero, uint8 /
  uint16 / uint32 by the matrix size, plus the value).
"""

import math

import numpy as np

#: largest int8 magnitude used (symmetric range, -128 is never produced)
INT8_MAX = 127

#: bytes of one float32 value (fp32 storage, per-tensor scales)
FP32_BYTES = 4


def quantize_tensor(w):
    """Symmetric per-tensor int8 quantization of one array.

    Parameters
    ----------
    w : ndarray of float

    Returns
    -------
    q : ndarray of int8, same shape as ``w``
        Values in ``[-127, 127]``.
    scale : float
        A float32-representable positive number; ``q * scale`` approximates ``w``
        with an error of at most ``scale / 2`` per entry. An all-zero ``w`` gets
        ``scale = 1.0``.

    Examples
    --------
    >>> import numpy as np
    >>> q, scale = quantize_tensor(np.array([0.5, -1.27, 0.0]))
    >>> q.tolist(), round(scale, 4)
    ([50, -127, 0], 0.01)
    """
    w = np.asarray(w, dtype=np.float64)
    peak = float(np.max(np.abs(w))) if w.size else 0.0
    scale = float(np.float32(peak / INT8_MAX)) if peak > 0 else 1.0
    if scale == 0.0:  # peak below the smallest float32 subnormal * 127
        scale = float(np.finfo(np.float32).smallest_subnormal)
    q = np.clip(np.rint(w / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def dequantize_tensor(q, scale, dtype=np.float64):
    """``q * scale`` (computed in float64, returned in ``dtype``): the weights a quantized model computes with.

    Examples
    --------
    >>> import numpy as np
    >>> dequantize_tensor(np.array([50, -127], dtype=np.int8), 0.01).tolist()
    [0.5, -1.27]
    """
    return (q.astype(np.float64) * float(scale)).astype(dtype, copy=False)


def quantize_params(layout, theta):
    """Quantize the weight matrices of a flat parameter vector.

    Parameters
    ----------
    layout : Layout
    theta : ndarray of shape (layout.size,)

    Returns
    -------
    int8 : dict of str to ndarray of int8
        One entry per name of ``layout.matrix_names``, with the matrix's shape.
    scales : dict of str to float
    theta_q : ndarray of the dtype of ``theta``
        The parameters the quantized model computes with: the matrices
        dequantized, every other parameter rounded to float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn._cells import Layout
    >>> layout = Layout(3, 4, 2, "fastgrnn")
    >>> theta = layout.init(np.random.RandomState(0))
    >>> int8, scales, theta_q = quantize_params(layout, theta)
    >>> sorted(int8), int8["U"].dtype.name
    (['U', 'W', 'W_out'], 'int8')
    """
    theta_q = theta.astype(np.float32).astype(theta.dtype)
    views = layout.views(theta)
    views_q = layout.views(theta_q)
    int8, scales = {}, {}
    for name in layout.matrix_names:
        int8[name], scales[name] = quantize_tensor(views[name])
        views_q[name][...] = dequantize_tensor(int8[name], scales[name])
    return int8, scales, theta_q


def is_quantized_state(layout, theta, int8, scales):
    """Whether ``theta`` is exactly what ``(int8, scales)`` and float32 rest give.

    False once training (or anything else) has changed the weights after
    quantization: the int8 tensors no longer describe the model.
    """
    if set(int8) != set(layout.matrix_names) or set(scales) != set(int8):
        return False
    views = layout.views(theta)
    for name, _ in layout.shapes:
        v = views[name]
        if name in int8:
            expected = dequantize_tensor(int8[name], scales[name], v.dtype)
        else:
            expected = v.astype(np.float32).astype(v.dtype)
        if not np.array_equal(v, expected):
            return False
    return True


# --------------------------------------------------------------------- pruning


def prunable_names(layout):
    """Names of the W-family and U-family matrices (the pruning targets).

    Returns
    -------
    dict with keys ``"W"`` and ``"U"``, each a list of parameter names:
    ``["W"]`` or ``["W1", "W2"]``, ``["U"]`` or ``["U1", "U2"]`` (and the same
    names of the stacked layers, ``layer2.W`` ...).
    """
    names = [n for n in layout.matrix_names if n != "W_out"]
    # a stacked layer's names carry a "layer<k>." prefix
    return {family: [n for n in names if n.rpartition(".")[2].startswith(family)] for family in ("W", "U")}


def n_kept(size, keep):
    """Entries kept of a matrix of ``size`` entries at density ``keep``: ``ceil(keep * size)``."""
    return min(size, int(math.ceil(keep * size - 1e-9)))


def keep_mask(layout, theta, w_keep=1.0, u_keep=1.0):
    """0/1 vector keeping the largest-|w| fraction of each W and U matrix.

    This is the hard-thresholding projection of the paper (Kusupati et al.,
    2018): in each W-family matrix keep the ``ceil(w_keep * n)`` entries of
    largest magnitude, in each U-family matrix ``ceil(u_keep * n)``; every other
    parameter (``W_out``, biases, scalars) is kept. Ties are broken by position
    (earlier entries win), so the mask is deterministic.

    Parameters
    ----------
    layout : Layout
    theta : ndarray of shape (layout.size,)
    w_keep, u_keep : float in [0, 1], default=1.0
        Fraction KEPT (density) of each W-family and each U-family matrix.

    Returns
    -------
    mask : ndarray of the dtype of ``theta``, shape (layout.size,)
        1.0 for kept entries, 0.0 for pruned ones; ``theta * mask`` is the
        pruned vector (also usable as the training loop's ``support``).

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn._cells import Layout
    >>> layout = Layout(5, 8, 2, "fastgrnn")
    >>> theta = layout.init(np.random.RandomState(0))
    >>> mask = keep_mask(layout, theta, w_keep=0.5, u_keep=0.25)
    >>> views = layout.views(mask)
    >>> int(views["W"].sum()), int(views["U"].sum()), int(views["W_out"].sum())
    (20, 16, 16)
    """
    for label, keep in (("w_keep", w_keep), ("u_keep", u_keep)):
        if not 0.0 <= keep <= 1.0:
            raise ValueError(f"{label} must be a fraction kept in [0, 1]; got {keep!r}.")
    mask = np.ones(layout.size, dtype=theta.dtype)
    families = prunable_names(layout)
    for family, keep in (("W", w_keep), ("U", u_keep)):
        for name in families[family]:
            a, b, _ = layout.slices[name]
            k = n_kept(b - a, keep)
            if k == b - a:
                continue
            order = np.argsort(-np.abs(theta[a:b]), kind="stable")
            mask[a + order[k:]] = 0.0
    return mask


# ------------------------------------------------------------ size accounting


def index_bytes(size):
    """Bytes of one flat index into a matrix of ``size`` entries (uint8/16/32)."""
    if size <= 2**8:
        return 1
    if size <= 2**16:
        return 2
    return 4


def sparse_bytes(size, nnz, value_bytes):
    """Bytes and format of the smallest storage of one matrix.

    Parameters
    ----------
    size : int
        Entries of the matrix.
    nnz : int
        Non-zero entries.
    value_bytes : int
        Bytes of one stored value (4 for float32, 1 for int8).

    Returns
    -------
    (bytes, format) with format one of ``"dense"``, ``"bitmap"``, ``"coo"``.

    Examples
    --------
    >>> sparse_bytes(1024, 300, 1)
    (428, 'bitmap')
    >>> sparse_bytes(1024, 1024, 1)
    (1024, 'dense')
    """
    options = [
        (size * value_bytes, "dense"),
        (math.ceil(size / 8) + nnz * value_bytes, "bitmap"),
        (nnz * (index_bytes(size) + value_bytes), "coo"),
    ]
    return min(options, key=lambda o: o[0])  # ties: the earlier (simpler) format


def size_table(layout, theta, quantized_names=()):
    """Per-tensor and total size accounting of a parameter vector.

    Parameters
    ----------
    layout : Layout
    theta : ndarray of shape (layout.size,)
    quantized_names : iterable of str
        Names that would be stored in int8 (with one float32 scale each). Pass
        ``layout.matrix_names`` for the int8 columns; it does not change the
        fp32 columns.

    Returns
    -------
    dict
        ``n_parameters``, ``n_nonzero``, ``fp32_bytes`` (every parameter in
        float32), ``int8_bytes`` (weight matrices in int8 plus a 4-byte scale
        each, the rest in float32), ``sparse_fp32_bytes`` and
        ``sparse_int8_bytes`` (the same with each W/U matrix in its smallest
        sparse format, index overhead counted), and ``tensors``: one dict per
        parameter with ``name``, ``shape``, ``n``, ``nnz``, ``int8`` (bool),
        ``sparse_format_fp32`` and ``sparse_format_int8``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn._cells import Layout
    >>> layout = Layout(5, 8, 2, "fastgrnn")
    >>> t = size_table(layout, layout.init(np.random.RandomState(0)), layout.matrix_names)
    >>> t["n_parameters"], t["fp32_bytes"], t["int8_bytes"]
    (140, 560, 212)
    """
    quantized_names = set(quantized_names)
    sparse_candidates = {n for family in prunable_names(layout).values() for n in family}
    rows = []
    totals = dict.fromkeys(("fp32_bytes", "int8_bytes", "sparse_fp32_bytes", "sparse_int8_bytes"), 0)
    for name, shape in layout.shapes:
        a, b, _ = layout.slices[name]
        n = b - a
        nnz = int(np.count_nonzero(theta[a:b]))
        q = name in quantized_names
        int8_value = 1 if q else FP32_BYTES
        scale_bytes = FP32_BYTES if q else 0
        if name in sparse_candidates:
            sp32, fmt32 = sparse_bytes(n, nnz, FP32_BYTES)
            sp8, fmt8 = sparse_bytes(n, nnz, int8_value)
        else:
            sp32, fmt32 = n * FP32_BYTES, "dense"
            sp8, fmt8 = n * int8_value, "dense"
        totals["fp32_bytes"] += n * FP32_BYTES
        totals["int8_bytes"] += n * int8_value + scale_bytes
        totals["sparse_fp32_bytes"] += sp32
        totals["sparse_int8_bytes"] += sp8 + scale_bytes
        rows.append(
            {
                "name": name,
                "shape": tuple(shape),
                "n": n,
                "nnz": nnz,
                "int8": q,
                "sparse_format_fp32": fmt32,
                "sparse_format_int8": fmt8,
            }
        )
    return {
        "n_parameters": layout.size,
        "n_nonzero": int(np.count_nonzero(theta)),
        **totals,
        "tensors": rows,
    }
