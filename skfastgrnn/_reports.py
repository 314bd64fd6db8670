"""Plain-text reports of fitted models: the tables and lines the command line prints.

Every function returns text (a string, or a list of lines without line
ends) and prints nothing, so that the reports can be checked without running
a command; :func:`save_learning_curve` writes the learning-curve PNG of the
``demo`` command, and :func:`file_metadata` reads the versions a model file
was written with.

Examples
--------
>>> from skfastgrnn._reports import text_table
>>> rows = [("", "before", "after"), ("int8 weights", "212 B", "212 B"), ("stored as", "float64", "int8")]
>>> for line in text_table(rows):
...     print(line)
              before  after
int8 weights   212 B  212 B
stored as    float64   int8
"""

import contextlib
import os

import numpy as np
from sklearn.preprocessing import StandardScaler

from ._datafiles import join_names
from ._scaler import SequenceScaler

__all__ = [
    "compression_summary",
    "describe_scaler",
    "file_metadata",
    "format_label",
    "labels_text",
    "metrics_lines",
    "save_learning_curve",
    "size_lines",
    "text_table",
]


def format_label(value):
    """A class label as text: numpy scalars as their Python value (``np.int64(1)`` -> ``'1'``).

    Examples
    --------
    >>> import numpy as np
    >>> format_label(np.int64(1)), format_label(np.str_("yes")), format_label(2.5)
    ('1', 'yes', '2.5')
    """
    return str(value.item() if isinstance(value, np.generic) else value)


def labels_text(classes, limit=8):
    """``classes`` as a comma-separated list, cut after ``limit`` of them.

    Examples
    --------
    >>> import numpy as np
    >>> labels_text(np.array([0, 1, 2]))
    '0, 1, 2'
    """
    return join_names([format_label(c) for c in classes], limit=limit)


def text_table(rows, align=None):
    """Rows of cells as aligned text lines, two spaces between columns, no trailing spaces.

    Parameters
    ----------
    rows : sequence of sequence
        The first row is usually the header; every row has the same number of cells.
    align : list of {"<", ">"}, default=None
        Per column; by default the first column left-aligned, the others
        (numbers) right-aligned.

    Returns
    -------
    list of str

    Examples
    --------
    >>> text_table([("tensor", "shape"), ("W", "5x8")], align=["<", "<"])
    ['tensor  shape', 'W       5x8']
    """
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    align = align or ["<"] + [">"] * (len(widths) - 1)
    return ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)).rstrip() for row in rows]


def describe_scaler(step):
    """One line about a scaler step of a saved pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfastgrnn import SequenceScaler
    >>> describe_scaler(StandardScaler())
    'StandardScaler (z-score per input column)'
    >>> describe_scaler(SequenceScaler(n_timesteps=4).fit(np.ones((10, 12))))  # doctest: +NORMALIZE_WHITESPACE
    'SequenceScaler (z-score per feature, one mean and scale shared by every timestep: 3 features;
    3-D input read as (n_samples, n_timesteps, n_features))'
    """
    if isinstance(step, SequenceScaler):
        layout = (
            "(n_samples, n_features, n_timesteps)" if step.channels_first else "(n_samples, n_timesteps, n_features)"
        )
        return (
            f"SequenceScaler (z-score per feature, one mean and scale shared by every timestep: "
            f"{step.n_channels_} features; 3-D input read as {layout})"
        )
    if isinstance(step, StandardScaler):
        return "StandardScaler (z-score per input column)"
    return type(step).__name__


def compression_summary(clf, path):
    """What compression changes, as text by row name: the file's size, non-zero parameters, weight sizes.

    Parameters
    ----------
    clf : FastGRNNClassifier
        Fitted.
    path : str
        The file ``clf`` was saved to (or loaded from), for its size.

    Returns
    -------
    dict of str to str
        ``file bytes``, ``non-zero parameters``, ``fp32 weights``, ``int8
        weights``, ``sparse int8 weights``, ``stored as``.
    """
    r = clf.size_report()
    return {
        "file bytes": f"{os.path.getsize(path):,}",
        "non-zero parameters": f"{r['n_nonzero']:,} of {r['n_parameters']:,}",
        "fp32 weights": f"{r['fp32_bytes']:,} B",
        "int8 weights": f"{r['int8_bytes']:,} B",
        "sparse int8 weights": f"{r['sparse_int8_bytes']:,} B",
        "stored as": "int8" if r["quantized"] else str(clf.weights_["W_out"].dtype),
    }


def size_lines(clf):
    """The size of a fitted classifier: its state, a per-tensor table, and its sparse storage.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> lines = size_lines(FastGRNNClassifier(hidden_dim=8, epochs=3, random_state=0).fit(X, y))
    >>> lines[0], lines[1].split()
    ('size: float (float64)', ['tensor', 'shape', 'non-zero', 'fp32', 'B', 'int8', 'B'])
    >>> lines[-2].split()
    ['total', '140/140', '560', '212']
    """
    r = clf.size_report()
    state = ("quantized (int8)" if r["quantized"] else f"float ({clf.weights_['W_out'].dtype})") + (
        ", pruned" if r["pruned"] else ""
    )
    rows = [("tensor", "shape", "non-zero", "fp32 B", "int8 B")]
    for t in r["tensors"]:
        fp32 = 4 * t["n"]
        int8 = (t["n"] + 4) if t["int8"] else fp32
        rows.append((t["name"], "x".join(map(str, t["shape"])), f"{t['nnz']:,}/{t['n']:,}", f"{fp32:,}", f"{int8:,}"))
    rows.append(
        ("total", "", f"{r['n_nonzero']:,}/{r['n_parameters']:,}", f"{r['fp32_bytes']:,}", f"{r['int8_bytes']:,}")
    )
    return [
        f"size: {state}",
        *("  " + line for line in text_table(rows, ["<", "<", ">", ">", ">"])),
        f"  sparse storage: fp32 {r['sparse_fp32_bytes']:,} B, int8 {r['sparse_int8_bytes']:,} B "
        "(smallest of dense, bitmap and index formats per W/U matrix)",
    ]


def metrics_lines(clf, source):
    """The training metrics of a fitted classifier: epochs, training time, the kept and the last epoch.

    Parameters
    ----------
    clf : FastGRNNClassifier
        Fitted (or with metrics loaded by ``load_metrics``).
    source : str
        Where the metrics come from (a metrics file), named in the first line.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=8, epochs=3, random_state=0).fit(X, y)
    >>> lines = metrics_lines(clf, "router.metrics.json")
    >>> lines[0]  # doctest: +ELLIPSIS
    'metrics (router.metrics.json): 3 epochs, ... s of training'
    >>> lines[1].startswith("  epoch 3 (kept): train_loss"), lines[2]
    (True, '  last epoch 3: learning_rate 0.01')
    """
    history = clf.history_
    best = next(e for e in history if e["epoch"] == clf.best_epoch_) if history else None
    lines = [f"metrics ({source}): {len(history)} epochs, {sum(e['seconds'] for e in history):.1f} s of training"]
    if best is not None:
        parts = [f"train_loss {best['train_loss']:.4f}", f"train_accuracy {best['train_accuracy']:.4f}"]
        if best["val_loss"] is not None:
            parts += [f"val_loss {best['val_loss']:.4f}", f"val_accuracy {best['val_accuracy']:.4f}"]
        lines.append(f"  epoch {best['epoch']} (kept): " + ", ".join(parts))
        lines.append(f"  last epoch {history[-1]['epoch']}: learning_rate {history[-1]['learning_rate']:.3g}")
    return lines


def file_metadata(path):
    """The metadata of the header of the safetensors file ``path`` (package and format version); {} if unreadable.

    Examples
    --------
    >>> file_metadata("not-a-model.safetensors")
    {}
    """
    with contextlib.suppress(Exception):  # the header was already checked by load; this only adds versions
        import safetensors

        with safetensors.safe_open(path, framework="numpy") as f:
            return f.metadata() or {}
    return {}


def save_learning_curve(clf, path):
    """Write the learning curve of a fitted classifier (``plot_history``) as a PNG.

    Returns
    -------
    bool
        False, and no file written, when matplotlib is not installed.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier
    >>> X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0).fit(X, y)
    >>> save_learning_curve(clf, "curve.png") in (True, False)
    True
    """
    try:
        from matplotlib.figure import Figure  # no pyplot: no GUI backend needed
    except ImportError:
        return False
    from ._plot import plot_history

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = plot_history(clf, ax=fig.subplots())
    ax.set_title("skfastgrnn learning curve")
    fig.savefig(path, dpi=100)
    return True
