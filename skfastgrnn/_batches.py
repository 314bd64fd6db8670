"""Batches and the per-fit workspace: what every mini-batch of a fit reuses.

Pure numpy, no scikit-learn. A :class:`Workspace` holds the parameter views,
the gradient buffer and a :class:`~skfastgrnn._cells.common.Scratch` of work
arrays (the gathered batch, the activations, the gradients), allocated on the
first batch and reused by every later one: training allocates nothing per
batch, whatever ``MALLOC_TRIM_THRESHOLD_`` says, and a smaller last batch
works on views. Row and class indices use the smallest dtype that holds them
(:func:`index_dtype`, :func:`compact_targets`).
"""

from dataclasses import dataclass

import numpy as np

from ._cells import backward, forward
from ._cells.common import Scratch
from ._kernel import batch_kernel
from ._optim import add_l2
from ._sequences import batch_lengths


def time_major(X, n_timesteps):
    """Rows ``(B, T * D)`` laid out ``[x_1 .. x_T]`` -> contiguous ``(T, B, D)``."""
    B = X.shape[0]
    if n_timesteps == 1:
        return X.reshape(1, B, -1)
    return np.ascontiguousarray(X.reshape(B, n_timesteps, -1).transpose(1, 0, 2))


def batch_sequences(X_rows, n_timesteps, padded):
    """A batch of rows as ``(X_tm, lengths)`` for :func:`~skfastgrnn._cells.forward`.

    With ``padded``, the NaN padding is replaced by zeros (in a copy: ``X_rows``
    is never written), the steps after the batch's longest sequence are
    dropped, and ``lengths`` gives each row's observed steps (None when all
    are full length).
    """
    X_tm = time_major(X_rows, n_timesteps)
    if not padded:
        return X_tm, None
    if np.may_share_memory(X_tm, X_rows):  # T = 1: a view of the caller's rows
        X_tm = X_tm.copy()
    lengths = batch_lengths(X_tm)
    if lengths is None:
        return X_tm, None
    longest = int(lengths.max())
    return X_tm[:longest], lengths


@dataclass
class Batch:
    """One mini-batch: time-major inputs ``X`` (T, B, D), the row indices (for the loss's targets), weights, lengths."""

    X: np.ndarray
    rows: np.ndarray
    weight: np.ndarray
    lengths: np.ndarray | None = None


class Workspace:
    """The parameter views, the gradient buffer and the work arrays that every batch of one fit reuses.

    Parameters
    ----------
    network : FastGRNNNetwork
        Its parameter vector is updated in place during the fit (the views
        stay valid).
    l2_reg : float, default=0.0
        L2 strength on the weight matrices (biases and scalars are not shrunk).
    targets : LossTargets or None, default=None
        ``loss.compiled_targets()``: with numba installed, the batches that
        the compiled kernel covers run through it (:mod:`skfastgrnn._kernel`);
        None keeps every batch on the numpy path.

    Notes
    -----
    ``scratch`` (a :class:`~skfastgrnn._cells.common.Scratch`) holds the
    forward activations, the backward gradients and the gathered batch;
    they are allocated on the first batch and reused by every later one
    (views of them for a smaller last batch), so a fit's working memory is
    allocated once.
    """

    def __init__(self, network, l2_reg=0.0, targets=None):
        self.network = network
        layout = network.layout
        self.views = layout.views(network.parameters)
        self.grad = np.zeros_like(network.parameters)
        self.grad_views = layout.views(self.grad)
        self.l2_mask = l2_reg * layout.mask(layout.matrix_names, network.dtype) if l2_reg > 0 else None
        self.scratch = Scratch()
        #: the compiled :class:`~skfastgrnn._kernel.BatchKernel`, or None (the numpy path)
        self.kernel = batch_kernel(network, targets, l2_reg)

    def gather(self, X, rows, n_timesteps, padded):
        """The rows ``rows`` of ``X`` as a time-major batch ``(X_tm, lengths)``, in reused buffers.

        The same as :func:`batch_sequences` on ``X.take(rows, axis=0)``,
        without allocating.
        """
        B = len(rows)
        # the method with out= and mode="clip" (the rows are valid) skips np.take's buffering
        picked = X.take(rows, 0, self.scratch.get("rows", (B, X.shape[1]), X.dtype), "clip")
        if n_timesteps == 1:
            X_tm = picked.reshape(1, B, -1)
        else:
            X_tm = self.scratch.get("X_tm", (n_timesteps, B, X.shape[1] // n_timesteps), X.dtype)
            np.copyto(X_tm, picked.reshape(B, n_timesteps, -1).transpose(1, 0, 2))
        if not padded:
            return X_tm, None
        lengths = batch_lengths(X_tm)
        if lengths is None:
            return X_tm, None
        return X_tm[: int(lengths.max())], lengths


def batch_loss_and_grad(workspace, batch, loss):
    """Loss of one batch and its gradient (written into ``workspace.grad``).

    Returns ``(data_loss, l2_penalty, n_correct)``; ``workspace.grad`` is the
    gradient of their sum.
    """
    net = workspace.network
    kernel = workspace.kernel
    if kernel is not None and kernel.accepts(batch, net.parameters):
        return kernel(workspace, batch)
    ws = workspace.scratch
    logits, cache = forward(net.layout, workspace.views, batch.X, net.gate, net.update, batch.lengths, ws)
    value, dlogits, n_correct = loss(logits, batch.rows, batch.weight)
    backward(net.layout, workspace.views, workspace.grad_views, cache, dlogits)
    mask = workspace.l2_mask
    penalty = 0.0 if mask is None else add_l2(net.parameters, workspace.grad, mask)
    return value, penalty, n_correct


def index_dtype(n):
    """The smallest signed integer dtype that indexes ``n`` rows (int32 below 2**31 rows).

    Examples
    --------
    >>> index_dtype(1000), index_dtype(2**40)
    (dtype('int32'), dtype('int64'))
    """
    return np.dtype(np.int32 if n < 2**31 else np.int64)


def compact_rows(rows, n):
    """Row indices (or class indices) into ``n`` rows (classes) in :func:`index_dtype`; None stays None.

    An array already of that dtype is returned as is; the caller drops the
    wider one (e.g. ``np.arange``'s int64, 8 bytes a row).
    """
    return None if rows is None else rows.astype(index_dtype(n), copy=False)


def compact_targets(targets):
    """Class indices in the smallest unsigned dtype (uint8 up to 256 classes); other targets unchanged."""
    if targets.ndim != 1 or targets.dtype.kind not in "iu" or targets.size == 0 or targets.min() < 0:
        return targets
    return targets.astype(np.min_scalar_type(int(targets.max())), copy=False)
