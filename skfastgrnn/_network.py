"""The fitted network: one object that owns a trained FastGRNN.

Pure numpy, no scikit-learn. :class:`FastGRNNNetwork` holds everything a
trained model is (the flat parameter vector and its :class:`~skfastgrnn._cells.Layout`,
the nonlinearities, how rows are read as steps, the pruning support and the
int8 quantization) and the maths entry points: logits for rows, quantize,
prune, the stored tensors and a plain-dict state for pickle. The estimators
hold one as ``network_``; persistence, export, compression, the registry and
the command line use its public attributes and methods only.
"""

import numpy as np

from . import _compress
from ._cells import CELLS, Layout
from ._sequences import fold_steps
from ._train import predict_logits

#: estimator parameters that fix the shape of a network: a warm-start fit cannot change them
ARCHITECTURE_PARAMS = (
    "hidden_dim",
    "cell",
    "rank",
    "u_rank",
    "gate_nonlinearity",
    "update_nonlinearity",
    "n_timesteps",
    "fold",
)


def layout_spec(layout):
    """Plain-dict description of a Layout (for pickle and skops without custom classes).

    Examples
    --------
    >>> layout_spec(Layout(3, 8, 2, "fastgrnn", rank=2))["rank"]
    2
    """
    cell = next(name for name, cls in CELLS.items() if cls is layout.cell)
    return {
        "n_step_features": layout.n_step_features,
        "hidden_dim": layout.hidden_dim if layout.n_layers == 1 else list(layout.hidden_dims),
        "n_outputs": layout.n_outputs,
        "cell": cell,
        "rank": _factor_rank(layout, "W1"),
        "u_rank": _factor_rank(layout, "U1"),
    }


def _factor_rank(layout, factor):
    """The rank of the first low-rank factor named ``factor`` in any layer (None: all full)."""
    shapes = dict(layout.shapes)
    for layer in layout.layers:
        if layer.prefix + factor in shapes:
            return shapes[layer.prefix + factor][1]
    return None


def layout_from_spec(spec):
    """The Layout that :func:`layout_spec` described."""
    return Layout(
        spec["n_step_features"], spec["hidden_dim"], spec["n_outputs"], spec["cell"], spec["rank"], spec["u_rank"]
    )


def has_padding(X):
    """True when validated rows hold NaN padding (one pass, no X-sized mask)."""
    return not bool(np.isfinite(X.sum()))


class FastGRNNNetwork:
    """A trained FastGRNN: parameters, how it reads rows, and its compression state.

    Parameters
    ----------
    layout : Layout
        Names, shapes and offsets of the parameters; the cell and its sizes.
    parameters : ndarray of shape (layout.size,)
        The flat parameter vector (float64 or float32). Training updates it
        in place.
    gate, update : str
        The cell's nonlinearities (keys of ``skfastgrnn._cells.NONLINEARITIES``).
    n_timesteps, n_step_features : int
        Rows are ``n_timesteps`` steps of ``n_step_features`` values, laid out
        ``[x_1, ..., x_T]`` (other lengths work for sequence input).
    fold : int, default=1
        Steps read as one step of the cell (``fold * n_step_features`` inputs).
    architecture : dict or None, default=None
        The estimator parameters the network was built from (``hidden_dim``,
        ``cell``, ...): a warm-start fit compares them, files store them.

    Attributes
    ----------
    support : ndarray or None
        0/1 vector over the parameters after pruning (training keeps the
        zeros), None when nothing is pruned.
    quantization : tuple or None
        ``(int8, scales)`` (dicts by matrix name) while the parameters are
        exactly the quantized weights, else None.

    Examples
    --------
    >>> import numpy as np
    >>> layout = Layout(2, 4, 3, "fastgrnn")
    >>> net = FastGRNNNetwork.initialize(layout, np.random.RandomState(0), gate="sigmoid", update="tanh",
    ...                                  n_timesteps=5, n_step_features=2)
    >>> net.logits(np.zeros((7, 10))).shape
    (7, 3)
    >>> net.quantize().quantization is not None
    True
    """

    def __init__(self, layout, parameters, *, gate, update, n_timesteps, n_step_features, fold=1, architecture=None):
        self.layout = layout
        self.parameters = parameters
        self.gate = gate
        self.update = update
        self.n_timesteps = n_timesteps
        self.n_step_features = n_step_features
        self.fold = fold
        self.architecture = dict(architecture or {})
        self._support = None
        self._int8 = self._scales = None

    @classmethod
    def initialize(cls, layout, rng, dtype=np.float64, **reading):
        """A new network with freshly initialized parameters (``layout.init``).

        ``reading`` holds the keyword arguments of the constructor after
        ``parameters`` (gate, update, n_timesteps, n_step_features, fold,
        architecture).
        """
        return cls(layout, layout.init(rng, dtype), **reading)

    # ------------------------------------------------------------- views

    @property
    def dtype(self):
        """The float dtype the network computes in."""
        return self.parameters.dtype

    @property
    def cell(self):
        """Name of the cell (a key of ``skfastgrnn._cells.CELLS``)."""
        return layout_spec(self.layout)["cell"]

    @property
    def weights(self):
        """Dict name -> view of each parameter with its shape."""
        return self.layout.views(self.parameters)

    def copy(self):
        """An independent copy (parameters, support and quantization copied)."""
        other = FastGRNNNetwork(self.layout, self.parameters.copy(), **self._reading())
        other.set_support(None if self._support is None else self._support.copy())
        if self._int8 is not None:
            other.set_quantization({k: v.copy() for k, v in self._int8.items()}, dict(self._scales))
        return other

    def _reading(self):
        return {
            "gate": self.gate,
            "update": self.update,
            "n_timesteps": self.n_timesteps,
            "n_step_features": self.n_step_features,
            "fold": self.fold,
            "architecture": self.architecture,
        }

    # ----------------------------------------------------------- predict

    def logits(self, X, n_steps=None, reduce=None, may_be_padded=True):
        """Logits for validated rows ``X`` of ``n_steps`` raw steps (default: ``n_timesteps``).

        ``reduce``, when given, maps each chunk's logits to one value per row
        (e.g. the argmax) and only that is kept. ``may_be_padded=False`` skips
        the search for NaN padding (the caller knows the rows are finite).
        """
        n_steps = self.n_timesteps if n_steps is None else n_steps
        X, n_steps = fold_steps(X, n_steps, self.fold)
        # folding zero-fills partial steps: only whole padding steps stay NaN
        padded = may_be_padded and has_padding(X)
        return predict_logits(self, X, n_steps, reduce=reduce, padded=padded)

    # ------------------------------------------------------- compression

    @property
    def support(self):
        """The pruning support if it still describes the parameters and removes something, else None."""
        support = self._support
        if support is None or support.shape != self.parameters.shape or support.all():
            return None
        if np.any(self.parameters[support == 0] != 0):
            return None  # trained from scratch since prune()
        return support

    @property
    def quantization(self):
        """``(int8, scales)`` while the parameters are exactly the quantized weights, else None."""
        if self._int8 is None:
            return None
        if not _compress.is_quantized_state(self.layout, self.parameters, self._int8, self._scales):
            return None  # trained since quantize(): a float network again
        return self._int8, self._scales

    def set_support(self, support):
        """Keep the parameters where ``support`` (0/1 vector) is 0 at zero from now on (None: forget it)."""
        self._support = support
        return self

    def set_quantization(self, int8, scales):
        """Record the int8 matrices and scales the parameters were dequantized from (a loaded file)."""
        self._int8, self._scales = int8, scales
        return self

    def quantize(self):
        """Quantize the weight matrices to int8 (symmetric, per tensor); the rest to float32. Idempotent."""
        if self.quantization is None:
            self._int8, self._scales, self.parameters = _compress.quantize_params(self.layout, self.parameters)
        return self

    def prune(self, w_keep, u_keep):
        """Zero all but the largest-magnitude ``w_keep`` / ``u_keep`` fraction of each W / U matrix.

        Zeros of an earlier pruning stay zero; int8 weights are zeroed too.
        """
        quant = self.quantization
        support = _compress.keep_mask(self.layout, self.parameters, w_keep, u_keep)
        old = self.support
        if old is not None:
            support *= old
        self.parameters = self.parameters * support
        self._support = support
        if quant is not None:
            zero = self.layout.views(support)
            self._int8 = {name: np.where(zero[name] == 0, 0, q).astype(np.int8) for name, q in quant[0].items()}
        return self

    def size_table(self):
        """Parameter counts and fp32 / int8 / sparse sizes (see ``_compress.size_table``)."""
        return _compress.size_table(self.layout, self.parameters, self.layout.matrix_names)

    # ----------------------------------------------------------- tensors

    def tensors(self):
        """The tensors a file stores, by parameter name.

        A float network gives each parameter in its own dtype (an exact round
        trip); a quantized one the matrices in int8 with a float32
        ``<name>.scale`` each and the rest in float32. A pruned network adds
        ``support``, bit-packed.
        """
        quant = self.quantization
        views = self.weights
        out = {}
        for name, _ in self.layout.shapes:
            if quant is None:
                out[name] = np.ascontiguousarray(views[name])
            elif name in quant[0]:
                out[name] = quant[0][name]
                out[f"{name}.scale"] = np.array([quant[1][name]], dtype=np.float32)
            else:
                out[name] = views[name].astype(np.float32)
        support = self.support
        if support is not None:
            out["support"] = np.packbits(support != 0)
        return out

    # ------------------------------------------------------------ pickle

    def to_state(self):
        """Everything as plain dicts, arrays and scalars (pickle, skops: no custom classes)."""
        return {
            "layout": layout_spec(self.layout),
            "parameters": self.parameters,
            **self._reading(),
            "support": self._support,
            "int8": self._int8,
            "scales": self._scales,
        }

    @classmethod
    def from_state(cls, state):
        """The network :meth:`to_state` described."""
        state = dict(state)
        layout = layout_from_spec(state.pop("layout"))
        support, int8, scales = state.pop("support"), state.pop("int8"), state.pop("scales")
        network = cls(layout, state.pop("parameters"), **state)
        return network.set_support(support).set_quantization(int8, scales)
