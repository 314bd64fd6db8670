"""The registry of cells, the flat parameter buffer and the forward / backward drivers."""

import numpy as np

from .common import FinalStateGradient, _sum_rows, final_states
from .fastgrnn import FastGRNNCell
from .fastrnn import FastRNNCell
from .guide import GuideCell

#: name (the ``cell`` parameter) -> cell class
CELLS = {"fastgrnn": FastGRNNCell, "fastrnn": FastRNNCell, "guide": GuideCell}


class Layout:
    """Names, shapes and offsets of every parameter in one flat vector.

    Parameters
    ----------
    n_step_features, hidden_dim, n_outputs : int
    cell : str
        Key of :data:`CELLS`.
    rank, u_rank : int or None
        Rank of the input matrix W and of the recurrent matrix U (None: full).
    """

    def __init__(self, n_step_features, hidden_dim, n_outputs, cell, rank=None, u_rank=None):
        self.cell = CELLS[cell]
        self.n_step_features = n_step_features
        self.hidden_dim = hidden_dim
        self.n_outputs = n_outputs
        d, h = n_step_features, hidden_dim
        gh = self.cell.n_blocks * h
        shapes = []
        # rank >= full size would only add parameters: fall back to a full matrix
        self.low_rank_w = rank is not None and rank < min(d, gh)
        self.low_rank_u = u_rank is not None and u_rank < h
        if self.low_rank_w:
            shapes += [("W1", (d, rank)), ("W2", (rank, gh))]
        else:
            shapes += [("W", (d, gh))]
        if self.low_rank_u:
            shapes += [("U1", (h, u_rank)), ("U2", (u_rank, h))]
        else:
            shapes += [("U", (h, h))]
        shapes += self.cell.param_shapes(h)
        shapes += [("W_out", (h, n_outputs)), ("b_out", (n_outputs,))]
        self.shapes = shapes
        self.slices = {}
        offset = 0
        for name, shape in shapes:
            size = int(np.prod(shape))
            self.slices[name] = (offset, offset + size, shape)
            offset += size
        self.size = offset
        #: names of the weight matrices (L2 and pruning act on these only)
        self.matrix_names = [n for n, s in shapes if len(s) == 2]

    def views(self, buffer):
        """Dict name -> view of ``buffer`` with the parameter's shape."""
        return {n: buffer[a:b].reshape(s) for n, (a, b, s) in self.slices.items()}

    def mask(self, names, dtype=np.float64):
        """Flat 0/1 vector selecting the named parameters."""
        m = np.zeros(self.size, dtype=dtype)
        for n in names:
            a, b, _ = self.slices[n]
            m[a:b] = 1.0
        return m

    def init(self, rng, dtype=np.float64):
        """A new parameter vector.

        Matrices are N(0, 1 / fan_in) so that pre-activations keep unit
        variance for standardized inputs whatever the sizes; the low-rank
        factors each follow the same rule. Cell parameters follow the
        reference implementation.
        """
        theta = np.zeros(self.size, dtype=dtype)
        views = self.views(theta)
        for name in self.matrix_names:
            v = views[name]
            v[...] = rng.standard_normal(v.shape) / np.sqrt(v.shape[0])
        self.cell.init_params(views, rng)
        return theta


def _full(views, a, b, full):
    """The matrix named ``full`` or the product of its two factors."""
    return views[full] if full in views else views[a] @ views[b]


def forward(layout, views, X, gate, update, lengths=None):
    """Logits and a cache for :func:`backward`.

    Parameters
    ----------
    layout : Layout
    views : dict
        ``layout.views(theta)``: made once by the caller, since it is reused
        for every batch.
    X : ndarray of shape (T, B, D), time-major.
    gate, update : str
        Keys of :data:`NONLINEARITIES`.
    lengths : ndarray of int of shape (B,) or None
        Observed steps of each sequence (None: all ``T``); the steps after a
        sequence's end must hold finite values (e.g. zeros) and do not change
        its output (see :class:`FinalStateGradient`).
    """
    T, B, D = X.shape
    W = _full(views, "W1", "W2", "W")
    U = _full(views, "U1", "U2", "U")
    P = (X.reshape(T * B, D) @ W).reshape(T, B, W.shape[1])
    Hs, cell_cache = layout.cell.forward(P, U, views, gate, update)
    h = final_states(Hs, lengths)
    # logits are stored class-major, (K, B), and returned as a (B, K) view:
    # reductions over the few classes of each row then run along memory rows,
    # which numpy does several times faster for small K
    logits_t = views["W_out"].T @ h.T
    logits_t += views["b_out"][:, None]
    return logits_t.T, (X, U, h, lengths, cell_cache)


def backward(layout, views, grad_views, cache, dlogits):
    """Write d(loss)/d(parameters) into ``grad_views`` given d(loss)/d(logits)."""
    X, U, h, lengths, cell_cache = cache
    T, B, D = X.shape
    np.matmul(h.T, dlogits, out=grad_views["W_out"])
    grad_views["b_out"][...] = _sum_rows(dlogits)
    dh = dlogits @ views["W_out"].T
    dP, dU, cell_grads = layout.cell.backward(FinalStateGradient(dh, lengths), U, cell_cache)
    for name, g in cell_grads.items():
        grad_views[name][...] = g
    # all timesteps' input gradients in one product
    dW = X.reshape(T * B, D).T @ dP.reshape(T * B, dP.shape[2])
    _factor_grads(views, grad_views, dW, "W1", "W2", "W")
    _factor_grads(views, grad_views, dU, "U1", "U2", "U")


def _factor_grads(views, gviews, dM, a, b, full):
    if full in gviews:
        gviews[full][...] = dM
    else:
        np.matmul(dM, views[b].T, out=gviews[a])
        np.matmul(views[a].T, dM, out=gviews[b])
