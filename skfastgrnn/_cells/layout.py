"""The registry of cells, the flat parameter buffer and the forward / backward drivers."""

import numpy as np

from .common import FinalStateGradient, Scratch, SequenceGradient, _sum_rows, final_states
from .fastgrnn import FastGRNNCell
from .fastrnn import FastRNNCell
from .guide import GuideCell

#: name (the ``cell`` parameter) -> cell class
CELLS = {"fastgrnn": FastGRNNCell, "fastrnn": FastRNNCell, "guide": GuideCell}


class Layout:
    """Names, shapes and offsets of every parameter in one flat vector.

    Parameters
    ----------
    n_step_features : int
        Inputs per step of the first layer.
    hidden_dim : int or tuple of int
        Hidden units; a tuple stacks layers, each reading the state sequence
        of the one before (the head reads the last layer's final state).
    n_outputs : int
        Outputs of the head (classes, or regression targets).
    cell : str
        Key of :data:`CELLS`.
    rank, u_rank : int or None
        Rank of each input matrix W and of each recurrent matrix U (None:
        full; a rank not below a matrix's smaller side keeps it full).

    Notes
    -----
    The first layer's parameters keep their plain names (``W``, ``U``, the
    cell's biases and scalars); layer ``k >= 2`` prefixes them with
    ``"layer<k>."`` (``layer2.W``). The head is ``W_out`` and ``b_out``.

    Examples
    --------
    >>> layout = Layout(3, (8, 4), 2, "fastgrnn")
    >>> [name for name, _ in layout.shapes][:6]
    ['W', 'U', 'b_z', 'b_h', 'zeta_logit', 'nu_logit']
    >>> layout.hidden_dim, layout.hidden_dims, dict(layout.shapes)["layer2.W"]
    (4, (8, 4), (8, 4))
    """

    def __init__(self, n_step_features, hidden_dim, n_outputs, cell, rank=None, u_rank=None):
        self.cell = CELLS[cell]
        self.n_step_features = n_step_features
        dims = tuple(int(h) for h in hidden_dim) if isinstance(hidden_dim, (tuple, list)) else (int(hidden_dim),)
        #: hidden units of every layer; ``hidden_dim`` is the last one's (what the head reads)
        self.hidden_dims = dims
        self.hidden_dim = dims[-1]
        self.n_outputs = n_outputs
        shapes = []
        self.layers = []
        d = n_step_features
        for k, h in enumerate(dims, 1):
            layer = LayerSpec("" if k == 1 else f"layer{k}.", d, h, self.cell, rank, u_rank)
            self.layers.append(layer)
            shapes += layer.shapes
            d = h
        # the first layer's low-rank flags (what a one-layer network has)
        self.low_rank_w, self.low_rank_u = self.layers[0].low_rank_w, self.layers[0].low_rank_u
        shapes += [("W_out", (self.hidden_dim, n_outputs)), ("b_out", (n_outputs,))]
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

    @property
    def n_layers(self):
        """Number of stacked recurrent layers."""
        return len(self.layers)

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
        for layer in self.layers:
            self.cell.init_params(layer.views(views), rng)
        return theta


class LayerSpec:
    """One recurrent layer of a :class:`Layout`: its parameter names (with their prefix) and shapes."""

    def __init__(self, prefix, n_inputs, hidden_dim, cell, rank, u_rank):
        self.prefix = prefix
        self.n_inputs = n_inputs
        self.hidden_dim = hidden_dim
        d, h = n_inputs, hidden_dim
        gh = cell.n_blocks * h
        # rank >= full size would only add parameters: fall back to a full matrix
        self.low_rank_w = rank is not None and rank < min(d, gh)
        self.low_rank_u = u_rank is not None and u_rank < h
        shapes = [("W1", (d, rank)), ("W2", (rank, gh))] if self.low_rank_w else [("W", (d, gh))]
        shapes += [("U1", (h, u_rank)), ("U2", (u_rank, h))] if self.low_rank_u else [("U", (h, h))]
        shapes += cell.param_shapes(h)
        #: the layer's own (unprefixed) names, in order
        self.names = [name for name, _ in shapes]
        self.shapes = [(prefix + name, shape) for name, shape in shapes]

    def views(self, views):
        """The layer's entries of a views dict, under their unprefixed names (the cell's names)."""
        if not self.prefix:
            return views
        return {name: views[self.prefix + name] for name in self.names}


def _full(views, a, b, full):
    """The matrix named ``full`` or the product of its two factors."""
    return views[full] if full in views else views[a] @ views[b]


def forward(layout, views, X, gate, update, lengths=None, ws=None):
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
        its output (see :class:`FinalStateGradient`). In a stack every layer
        runs all ``T`` steps: a layer's state at step ``t`` depends on the
        layer below up to ``t`` only, so the output at ``h_{L_i}`` of the last
        layer never sees what follows a sequence's end.
    ws : Scratch or None
        Where the activations, the logits and (in :func:`backward`) the
        gradients are written: a fit passes one :class:`Scratch` for all its
        batches, so they are allocated once (the returned logits and the
        cache are then overwritten by the next batch). None allocates.
    """
    ws = Scratch(reuse=False) if ws is None else ws
    T, B, _ = X.shape
    dt = X.dtype
    inputs, layer_caches = X, []
    for k, layer in enumerate(layout.layers):
        lv, lws = layer.views(views), ws.layer(k)
        W = _full(lv, "W1", "W2", "W")
        U = _full(lv, "U1", "U2", "U")
        P = lws.get("P", (T, B, W.shape[1]), dt)
        np.matmul(inputs.reshape(T * B, inputs.shape[2]), W, out=P.reshape(T * B, W.shape[1]))
        Hs, cell_cache = layout.cell.forward(P, U, lv, gate, update, lws)
        layer_caches.append((inputs, U, cell_cache))
        inputs = Hs[1:]  # Hs[0] is h_0; the layer above reads h_1 .. h_T
    h = final_states(Hs, lengths)
    # logits are stored class-major, (K, B), and returned as a (B, K) view:
    # reductions over the few classes of each row then run along memory rows,
    # which numpy does several times faster for small K
    logits_t = np.matmul(views["W_out"].T, h.T, out=ws.get("logits", (layout.n_outputs, B), dt))
    logits_t += views["b_out"][:, None]
    return logits_t.T, (layer_caches, h, lengths, ws)


def backward(layout, views, grad_views, cache, dlogits):
    """Write d(loss)/d(parameters) into ``grad_views`` given d(loss)/d(logits).

    Through a stack, the gradient with respect to every state of a lower
    layer (``dP @ W.T`` of the layer above) enters that layer's recurrence
    at every step (:class:`SequenceGradient`).
    """
    layer_caches, h, lengths, ws = cache
    np.matmul(h.T, dlogits, out=grad_views["W_out"])
    _sum_rows(dlogits, ws, out=grad_views["b_out"])
    dh = np.matmul(dlogits, views["W_out"].T, out=ws.get("dh", h.shape, h.dtype))
    upstream = FinalStateGradient(dh, lengths)
    for k in range(layout.n_layers - 1, -1, -1):
        layer, (inputs, U, cell_cache) = layout.layers[k], layer_caches[k]
        lv, lg = layer.views(views), layer.views(grad_views)
        dP, dU, cell_grads = layout.cell.backward(upstream, U, cell_cache)
        for name, g in cell_grads.items():
            lg[name][...] = g
        # all timesteps' input gradients in one product
        T, B, D = inputs.shape
        dP2 = dP.reshape(T * B, dP.shape[2])
        X2t = inputs.reshape(T * B, D).T
        if "W" in lg:
            np.matmul(X2t, dP2, out=lg["W"])
        else:
            _factor_grads(lv, lg, X2t @ dP2, "W1", "W2", "W")
        _factor_grads(lv, lg, dU, "U1", "U2", "U")
        if k:  # the gradient of every state of the layer below
            dX = ws.layer(k).get("dX", (T, B, D), dP.dtype)
            np.matmul(dP2, _full(lv, "W1", "W2", "W").T, out=dX.reshape(T * B, D))
            upstream = SequenceGradient(dX)


def _factor_grads(views, gviews, dM, a, b, full):
    if full in gviews:
        gviews[full][...] = dM
    else:
        np.matmul(dM, views[b].T, out=gviews[a])
        np.matmul(views[a].T, dM, out=gviews[b])
