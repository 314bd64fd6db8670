"""Learning curves: :func:`plot_history`.

matplotlib is an optional dependency (the ``plot`` extra), imported only when a
plot is drawn, so that ``import skfastgrnn`` stays light and works without it.
"""

import numpy as np

_INSTALL_HINT = "plot_history needs matplotlib: pip install 'skfastgrnn[plot]' (or pip install matplotlib)"


def _history_of(history):
    """The list of epoch records in ``history`` and the best epoch if it is known."""
    best_epoch = None
    if hasattr(history, "steps"):  # a Pipeline: its last step is the classifier
        history = history.steps[-1][1]
    if hasattr(history, "history_"):
        best_epoch = getattr(history, "best_epoch_", None)
        history = history.history_
    elif isinstance(history, dict) and "history" in history:  # a metrics document (save_metrics)
        best_epoch = history.get("best_epoch")
        history = history["history"]
    history = list(history)
    if not history:
        raise ValueError(
            "history is empty: nothing to plot (a model loaded from a file has no history_ until "
            "load_metrics(path) puts it back)."
        )
    if not all(isinstance(e, dict) and "epoch" in e and "train_loss" in e for e in history):
        raise ValueError("history must be a list of epoch records (dicts with 'epoch' and 'train_loss'), as history_.")
    return history, best_epoch


def _column(history, key):
    """Values of ``key`` as floats, NaN where missing (no validation set)."""
    return np.array([np.nan if e.get(key) is None else float(e[key]) for e in history])


def plot_history(history, ax=None):
    """Draw a learning curve: losses on ``ax``, accuracies on a twin right axis.

    The training and validation loss (solid lines, left axis) and accuracy
    (dashed lines, right axis) per epoch; a dotted vertical line marks the
    epoch whose weights the model kept (``best_epoch_``) when it is known.

    Parameters
    ----------
    history : list of dict, fitted FastGRNNClassifier, Pipeline or dict
        ``history_`` of a fitted model (one dict per epoch with ``epoch``,
        ``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy``);
        or the fitted model itself, or a Pipeline ending with one (then the
        best epoch is marked too); or the document ``save_metrics`` writes,
        as read by ``json.load``.
    ax : matplotlib Axes, default=None
        Where to draw; None creates a new figure with ``pyplot.subplots``.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the losses. The accuracies are on ``ax.right_ax``, its
        twin created with ``ax.twinx()``.

    Raises
    ------
    ImportError
        matplotlib is not installed (install the ``plot`` extra).
    ValueError
        The history is empty (a loaded model before ``load_metrics``) or not
        a list of epoch records.

    See Also
    --------
    skfastgrnn.FastGRNNClassifier : Its ``history_`` holds the epoch records.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, plot_history
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> clf = FastGRNNClassifier(epochs=5, validation_split=0.1, random_state=0).fit(X, y)
    >>> ax = plot_history(clf)
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['train loss', 'validation loss']
    >>> ax.figure.savefig("learning_curve.png")  # doctest: +SKIP
    """
    history, best_epoch = _history_of(history)  # check the input before importing anything
    if ax is None:  # given axes mean matplotlib is there; only a new figure needs the import
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(_INSTALL_HINT) from exc
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")

    epochs = _column(history, "epoch")
    lines = [ax.plot(epochs, _column(history, "train_loss"), color="C0", label="train loss")[0]]
    val_loss = _column(history, "val_loss")
    if not np.isnan(val_loss).all():
        lines.append(ax.plot(epochs, val_loss, color="C1", label="validation loss")[0])
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (cross-entropy)")

    right = ax.twinx()
    lines.append(right.plot(epochs, _column(history, "train_accuracy"), "--", color="C0", label="train accuracy")[0])
    val_acc = _column(history, "val_accuracy")
    if not np.isnan(val_acc).all():
        lines.append(right.plot(epochs, val_acc, "--", color="C1", label="validation accuracy")[0])
    right.set_ylabel("accuracy")
    if best_epoch is not None:
        lines.append(ax.axvline(best_epoch, color="0.4", linestyle=":", label=f"best epoch ({best_epoch})"))
    # one legend for both axes, drawn on the twin so that it is not hidden under its lines
    right.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize="small")
    ax.right_ax = right
    return ax
