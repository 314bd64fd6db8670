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
import warnings

import numpy as np
from sklearn.base import is_regressor
from sklearn.metrics import (
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._datacolumns import accepts_any_length, final_estimator
from ._datafiles import check_readable, join_names, metrics_path_for, one_line
from ._files import ModelFileError
from ._scaler import SequenceScaler

__all__ = [
    "compression_summary",
    "demo_lines",
    "describe_scaler",
    "evaluation_lines",
    "file_metadata",
    "format_label",
    "labels_text",
    "metrics_lines",
    "model_lines",
    "model_score",
    "predictions_table",
    "save_learning_curve",
    "size_lines",
    "text_table",
    "training_lines",
    "training_metrics_lines",
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


#: what the regressor's training losses are
_REGRESSION_LOSS = "half the mean squared error of the standardized target; 0.5 = predicting the mean"


def metrics_lines(clf, source):
    """The training metrics of a fitted estimator: epochs, training time, the kept and the last epoch.

    Parameters
    ----------
    clf : FastGRNNClassifier or FastGRNNRegressor
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
        keys = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
        parts = [f"{key} {best[key]:.4f}" for key in keys if best[key] is not None]
        lines.append(f"  epoch {best['epoch']} (kept): " + ", ".join(parts))
        lines.append(f"  last epoch {history[-1]['epoch']}: learning_rate {history[-1]['learning_rate']:.3g}")
        if is_regressor(clf):
            lines.append(f"  (losses: {_REGRESSION_LOSS})")
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


# --------------------------------------------------------------------- the command line's reports


def training_lines(model, source, X, y, seconds):
    """What ``train`` says about a model it has just fitted: the data, the normalization, the epochs.

    Parameters
    ----------
    model : Pipeline
        A scaler step, then a fitted FastGRNNClassifier or FastGRNNRegressor.
    source : str
        The data file, named in the first line.
    X : ndarray of shape (n_samples, T * D)
        The rows trained on (NaN-padded sequences: the line says how long they are).
    y : ndarray of shape (n_samples,)
        The labels or targets trained on.
    seconds : float
        Training time.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfastgrnn import FastGRNNRegressor
    >>> X = np.random.RandomState(0).normal(size=(40, 2)); y = 3 * X[:, 0] + 10
    >>> model = make_pipeline(StandardScaler(), FastGRNNRegressor(hidden_dim=2, epochs=2, random_state=0)).fit(X, y)
    >>> for line in training_lines(model, "d.csv", X, y, 0.1):
    ...     print(line)  # doctest: +ELLIPSIS
    trained on d.csv: 40 rows, 2 features (1 timestep x 2), target mean ..., std ..., from ... to ...
    normalization: StandardScaler (z-score per input column)
    2 epochs in 0.1 s; kept epoch 2: training loss ... (half the mean squared error of the standardized target; ...)
    """
    clf = final_estimator(model)
    T, D = clf.n_timesteps_, clf.n_step_features_
    padding = ""
    if T > 1:
        observed = (~np.isnan(X.reshape(len(X), T, D)).all(axis=2)).sum(axis=1)
        if observed.min() < T:
            padding = f"; sequences of {observed.min()} to {observed.max()} timesteps, NaN padded"
    if is_regressor(clf):
        what = f"target mean {np.mean(y):.4g}, std {np.std(y):.4g}, from {np.min(y):.4g} to {np.max(y):.4g}"
    else:
        what = f"classes {labels_text(clf.classes_)}"
    best = next(e for e in clf.history_ if e["epoch"] == clf.best_epoch_)
    prefix = "val" if best["val_loss"] is not None else "train"
    split = "validation" if prefix == "val" else "training"
    loss, accuracy = best[f"{prefix}_loss"], best[f"{prefix}_accuracy"]
    if accuracy is None:
        score = f"{split} loss {loss:.4f} ({_REGRESSION_LOSS})"
    else:
        score = f"{split} accuracy {accuracy:.2%}, loss {loss:.4f}"
    return [
        f"trained on {source}: {len(y):,} rows, {clf.n_features_in_} features "
        f"({T} timestep{'s' if T > 1 else ''} x {D}{padding}), {what}",
        f"normalization: {describe_scaler(model[0])}",
        f"{clf.n_iter_} epoch{'s' if clf.n_iter_ != 1 else ''} in {seconds:.1f} s; "
        f"kept epoch {clf.best_epoch_}: {score}",
    ]


def _target_line(clf):
    """The ``info`` line on what ``clf`` predicts: its classes, or its outputs."""
    if not is_regressor(clf):
        return f"  classes ({len(clf.classes_)}): {labels_text(clf.classes_, limit=20)}"
    n = clf.n_outputs_
    mean = ", ".join(f"{v:.4g}" for v in np.ravel(clf.target_mean_))
    std = ", ".join(f"{v:.4g}" for v in np.ravel(clf.target_scale_))
    return (
        f"  outputs: {n} (regression; predictions in the target's units; the training target"
        f"{'s' if n > 1 else ''} had mean {mean}, std {std})"
    )


def model_lines(model, path):
    """What ``info`` prints about the model saved at ``path``, except its training metrics.

    The kind of model, the versions that wrote it, the network, the input
    layout, the normalization, the classes (or the regressor's outputs), the
    training settings and :func:`size_lines`.

    Examples
    --------
    >>> import numpy as np, skfastgrnn
    >>> from skfastgrnn import FastGRNNRegressor
    >>> X = np.random.RandomState(0).normal(size=(40, 2))
    >>> skfastgrnn.save(FastGRNNRegressor(hidden_dim=2, epochs=2, random_state=0).fit(X, X[:, 0]), "r.safetensors")
    >>> lines = model_lines(skfastgrnn.load("r.safetensors"), "r.safetensors")
    >>> lines[1], lines[6][:33]
    ('  kind: FastGRNNRegressor', '  outputs: 1 (regression; predict')
    """
    clf = final_estimator(model)
    meta = file_metadata(path)
    pipeline = isinstance(model, Pipeline)
    kind = (
        "Pipeline(" + ", ".join(type(step).__name__ for _, step in model.steps) + ")"
        if pipeline
        else type(clf).__name__
    )
    lines = [f"{path}: {os.path.getsize(path):,} bytes", f"  kind: {kind}"]
    if meta:
        lines.append(
            f"  written by skfastgrnn {meta.get('package_version', '?')}, format version {meta.get('format_version')}"
        )
    arch = clf.network_.architecture
    lines.append(
        f"  network: cell {arch['cell']}, hidden_dim {arch['hidden_dim']}, rank {arch['rank']}, "
        f"u_rank {arch['u_rank']}, gate {arch['gate_nonlinearity']}, update {arch['update_nonlinearity']}, "
        f"fold {clf.fold_} (fold={arch['fold']!r})"
    )
    step = clf.n_step_features_
    names = getattr(model, "feature_names_in_", None)
    lines.append(
        f"  input: {clf.n_features_in_} values per row = {clf.n_timesteps_} timestep(s) x {step} features"
        + (f" ({join_names(names)})" if names is not None else "")
    )
    if accepts_any_length(model) and (clf.n_timesteps_ > 1 or pipeline):
        lines.append(
            f"  3-D input (n_samples, n_timesteps, {step}) may have any number of timesteps; NaN pads after an end"
        )
    if pipeline:
        lines += [
            f"  normalization: {describe_scaler(scaler)}, stored in the same file" for _, scaler in model.steps[:-1]
        ]
    else:
        lines.append(f"  normalization: none in the file (the {type(clf).__name__} takes the values as they are)")
    lines.append(_target_line(clf))
    params = clf.get_params()
    training = ("learning_rate", "batch_size", "epochs", "validation_split", "early_stopping_patience", "l2_reg")
    lines.append("  training: " + ", ".join(f"{k}={params[k]}" for k in training))
    lines.append(f"  epochs run: {clf.n_iter_}, weights of epoch {clf.best_epoch_}")
    return lines + size_lines(clf)


def predictions_table(model, X):
    """``(header, rows)`` of ``predict``'s CSV: the prediction, then each class's probability.

    A regressor gives ``prediction`` (``prediction_1``, ... for several
    outputs), each value written to round-trip exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn import FastGRNNClassifier
    >>> clf = FastGRNNClassifier(hidden_dim=2, epochs=1, random_state=0).fit(np.eye(4), ["a", "b", "a", "b"])
    >>> header, rows = predictions_table(clf, np.eye(4)[:1])
    >>> header, len(list(rows)[0])
    (['prediction', 'proba_a', 'proba_b'], 3)
    """
    clf = final_estimator(model)
    if is_regressor(clf):
        predicted = np.asarray(model.predict(X), dtype=np.float64).reshape(len(X), -1)
        k = predicted.shape[1]
        header = ["prediction"] if k == 1 else [f"prediction_{j}" for j in range(1, k + 1)]
        return header, ([repr(float(v)) for v in row] for row in predicted)
    proba = model.predict_proba(X)
    classes = clf.classes_
    labels = classes[np.argmax(proba, axis=1)]
    header = ["prediction"] + [f"proba_{format_label(c)}" for c in classes]
    return header, ([format_label(label)] + [f"{p:.6g}" for p in row] for label, row in zip(labels, proba, strict=True))


def model_score(model, X, y):
    """``(name, value)``: the accuracy of a classifier, the R^2 of a regressor, on ``(X, y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> model_score(DummyRegressor().fit(np.zeros((4, 1)), [1, 2, 3, 4]), np.zeros((4, 1)), [1, 2, 3, 4])
    ('R^2', 0.0)
    """
    if is_regressor(final_estimator(model)):
        return "R^2", float(r2_score(y, model.predict(X)))
    return "accuracy", float(np.mean(model.predict(X) == y))


def _number(value):
    """A value in the target's units: 4 decimals, or 4 significant digits below 0.01.

    Examples
    --------
    >>> _number(1.0), _number(12345.67891), _number(0.000123456)
    ('1.0000', '12345.6789', '0.0001235')
    """
    return f"{value:.4f}" if value == 0 or abs(value) >= 0.01 else f"{value:.4g}"


def evaluation_lines(model, X, y):
    """What ``evaluate`` prints: R^2, MAE and RMSE of a regressor; accuracy, log loss and confusion matrix else.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> evaluation_lines(DummyRegressor().fit(np.zeros((4, 1)), [1, 2, 3, 4]), np.zeros((4, 1)), np.array([1, 2, 3, 4]))
    ['R^2: 0.0000', 'MAE: 1.0000', 'RMSE: 1.1180']
    """
    clf = final_estimator(model)
    if is_regressor(clf):
        predicted = model.predict(X)
        return [
            f"R^2: {r2_score(y, predicted):.4f}",
            f"MAE: {_number(mean_absolute_error(y, predicted))}",
            f"RMSE: {_number(root_mean_squared_error(y, predicted))}",
        ]
    classes = clf.classes_
    proba = model.predict_proba(X)
    predicted = classes[np.argmax(proba, axis=1)]
    labels = [format_label(c) for c in classes]
    matrix = confusion_matrix(y, predicted, labels=classes)
    rows = [["", *labels], *([label, *row] for label, row in zip(labels, matrix.tolist(), strict=True))]
    return [
        f"accuracy: {np.mean(predicted == y):.4f}",
        f"log loss: {log_loss(y, proba, labels=classes):.4f}",
        "confusion matrix (rows: true label, columns: predicted label):",
        *("  " + line for line in text_table(rows)),
    ]


def demo_lines(report, out_dir, written):
    """What ``demo`` prints after training: epochs, accuracies, sizes, latencies, files, the next commands.

    Parameters
    ----------
    report : dict
        The content of ``report.json``.
    out_dir : str
        The output directory.
    written : list of str
        The files written into it.

    Examples
    --------
    >>> report = dict(epochs_run=3, best_epoch=3, training_seconds=0.5, test_accuracy=0.9, test_accuracy_int8=0.89,
    ...               fp32_bytes=2000, int8_bytes=600, n_parameters=500, file_bytes=5000, latency_us_1_row=80.0,
    ...               latency_us_1_row_network_only=20.0, latency_us_per_row_batch_32=3.0, data={"n_test": 60})
    >>> print(demo_lines(report, "out", ["model.safetensors"])[2])
                       test accuracy    weights (bytes)
    """
    model_path = os.path.join(out_dir, "model.safetensors")
    rows = [
        ("", "test accuracy", "weights (bytes)"),
        ("float", f"{report['test_accuracy']:.2%}", f"{report['fp32_bytes']:,} (as fp32)"),
        ("int8 (quantize())", f"{report['test_accuracy_int8']:.2%}", f"{report['int8_bytes']:,}"),
    ]
    return [
        f"trained {report['epochs_run']} epochs in {report['training_seconds']:.1f} s; "
        f"kept the weights of epoch {report['best_epoch']}",
        "",
        *text_table(rows),
        "",
        f"parameters: {report['n_parameters']:,}; model file with its normalization: {report['file_bytes']:,} bytes",
        f"prediction latency (predict_proba, median): {report['latency_us_1_row']:.0f} us for 1 row with the scaler, "
        f"{report['latency_us_1_row_network_only']:.0f} us for the network alone; "
        f"{report['latency_us_per_row_batch_32']:.1f} us per row in a batch of {min(32, report['data']['n_test'])}",
        f"wrote {out_dir}{os.sep}: {', '.join(written)}",
        "next:",
        f"  skfastgrnn info {model_path}",
        f"  skfastgrnn evaluate {model_path} {os.path.join(out_dir, 'test.csv')} --target label",
        f"  skfastgrnn train {os.path.join(out_dir, 'train.csv')} --target label --out router.safetensors",
    ]


def training_metrics_lines(clf, model_path, metrics=None):
    """Load the training metrics of the model saved at ``model_path`` into ``clf``; what ``info`` says about them.

    Parameters
    ----------
    clf : FastGRNNClassifier or FastGRNNRegressor
        The loaded model's estimator; its ``history_`` is replaced.
    model_path : str
        The model file: its metrics file sits next to it (:func:`metrics_path_for`).
    metrics : str, default=None
        A metrics file to read instead (``--metrics``): any problem with it is an error.

    Returns
    -------
    list of str
        :func:`metrics_lines`, or one line saying there are none.

    Warns
    -----
    UserWarning
        The metrics file next to the model cannot be read (it is then ignored).
    """
    if metrics is not None:
        check_readable(metrics)
        clf.load_metrics(metrics)
        return metrics_lines(clf, metrics)
    metrics = metrics_path_for(model_path)
    if os.path.isfile(metrics):
        try:
            clf.load_metrics(metrics)
        except (ModelFileError, OSError) as exc:
            warnings.warn(f"ignoring {metrics}: {one_line(exc)}", UserWarning, stacklevel=2)
        else:
            return metrics_lines(clf, metrics)
    return [f"metrics: none (no readable {os.path.basename(metrics)} next to the model; give one with --metrics FILE)"]
