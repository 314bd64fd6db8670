"""What the exporters write: the fitted model as one description of the network.

:func:`describe_network` reads a fitted classifier or regressor, or a Pipeline
of StandardScaler / SequenceScaler steps and one of them, into a
:class:`_Network`: the estimator's parameters exactly as it computes with them
(the dequantized int8 values for a quantized model, with the int8 tensors and
their scales alongside), the scaler steps folded into one affine map, and the
cell's scalars after their sigmoid. The C writer (:mod:`skfastgrnn._export_c`)
and the ONNX writer (:mod:`skfastgrnn._export_onnx`) read only that
description, and ask the cell (``net.cell_class``, see
:class:`skfastgrnn._cells.Cell`) for what differs between cells.

The network's outputs (``h_T W_out + b_out``) are the classifier's logits,
and the regressor's predictions (its target scaling is folded into ``W_out``
and ``b_out``); ``net.classes`` (None for a regressor) is all the writers
look at to choose their task-specific head: argmax and softmax with class
labels, or the outputs as they are.

Both read one row ``[x_1 .. x_T]`` of ``T * D`` floats and accept sequences
shorter than ``T``: NaN after a sequence's end is padding, and the first step
whose first value is NaN ends the sequence. The state then stays as it is (the
masked update of :class:`~skfastgrnn._cells.FinalStateGradient`), so the
output is the Python model's for the NaN-padded row.

A model fitted with ``fold_ = k > 1`` reads ``k`` consecutive timesteps as
one step of ``k * D`` inputs (:func:`~skfastgrnn._sequences.fold_steps`);
both exporters still take the raw row and fold it themselves, after the
scaler: the end of a sequence is checked on each folded step's first value,
NaN inside an observed folded step reads as 0 (in standardized units), and
the last folded step of a row whose T is not a multiple of ``k`` holds the
row's last values followed by zeros (C never reads past the row's ``T * D``
floats; ONNX pads the row with NaN first).

A stacked network (``hidden_dim=(16, 8)``) is described layer by layer
(``net.layers``, each a :class:`_Layer`: the layer's parameters under the
cell's plain names, ``layer2.W`` as ``W``), so each cell writes every layer
with the code it writes one layer with. Every layer reads the state sequence
of the one below; both writers run the layers step by step and stop every
layer at the sequence's end, so all states are frozen from there on: the last
layer's final state is then the Python model's, which reads it at the
sequence's last step.

Dead weights are not exported: with one step ``h_0 = 0`` makes the recurrent
matrix (and the guide cell's reset gate) irrelevant, in every layer.
"""

import warnings
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._cells import CELLS
from ._classifier import FastGRNNClassifier
from ._regressor import FastGRNNRegressor
from ._scaler import SequenceScaler

#: float32 rounding of a scaler mean, in standardized units, above which export warns
_MEAN_ROUNDING_WARN = 1e-4


# ---------------------------------------------------------------------------
# What the model is, independent of the target language.


@dataclass
class _Matrix:
    """One weight matrix ``(n_in, n_out)`` as the model computes with it (``x M``)."""

    name: str
    values: np.ndarray  # float64, the computed-with values (dequantized for int8)
    int8: np.ndarray | None = None
    scale: float | None = None

    @property
    def nnz(self):
        return int(np.count_nonzero(self.values))


@dataclass
class _Network:
    cell: str
    n_timesteps: int  # T, raw timesteps of a row
    n_step_features: int  # D, raw features per timestep (what the scaler sees)
    hidden_dim: int  # the last layer's: what the output layer reads
    classes: np.ndarray | None  # the classifier's classes_; None for a regressor
    gate: str
    update: str
    # name -> _Matrix, in layout order (W or W1, W2; U or U1, U2 of each layer; W_out);
    # layer k >= 2's names start with "layer<k>."
    matrices: dict
    vectors: dict  # biases: name -> float64 vector (every layer's, then b_out)
    # the folded scaler steps, x -> (x - mean) / scale: D values applied at every
    # step when ``scaler_per_channel``, else one per input column (T * D)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    scaler_per_channel: bool = False
    omitted: list = field(default_factory=list)
    # the network reads ``fold`` raw timesteps as one step of ``fold * D`` inputs
    fold: int = 1
    # the recurrent layers, first to last (:class:`_Layer`, views of matrices and vectors)
    layers: list = field(default_factory=list)

    @property
    def n_features(self):
        """Width of a raw row, ``T * D``: what the exported code reads."""
        return self.n_timesteps * self.n_step_features

    @property
    def n_steps(self):
        """Steps of the recurrence, ``ceil(T / fold)``."""
        return -(-self.n_timesteps // self.fold)

    @property
    def n_inputs(self):
        """Inputs of one recurrent step (the rows of W or W1), ``fold * D``."""
        return self.fold * self.n_step_features

    @property
    def last_inputs(self):
        """Values of the row in the last folded step, ``(T - (n_steps - 1) * fold) * D``; the rest are 0."""
        return self.n_features - (self.n_steps - 1) * self.n_inputs

    @property
    def n_outputs(self):
        """Outputs of the network (the columns of W_out): the classes, or the regressor's targets."""
        return self.vectors["b_out"].size

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def is_regressor(self):
        return self.classes is None

    @property
    def cell_class(self):
        """The cell's class (:data:`skfastgrnn._cells.CELLS`): its C and ONNX code."""
        return CELLS[self.cell]

    @property
    def quantized(self):
        return any(m.int8 is not None for m in self.matrices.values())

    @property
    def n_layers(self):
        return len(self.layers)

    @property
    def hidden_dims(self):
        return tuple(layer.hidden_dim for layer in self.layers)


class _Prefixed(MutableMapping):
    """One layer's entries of a dict of the whole network, under the layer's plain names; writes go through."""

    def __init__(self, parent, prefix, names):
        self.parent, self.prefix, self.names = parent, prefix, names

    def _key(self, name):
        if name not in self.names:
            raise KeyError(name)
        return self.prefix + name

    def __getitem__(self, name):
        return self.parent[self._key(name)]

    def __setitem__(self, name, value):
        self.parent[self._key(name)] = value

    def __delitem__(self, name):
        del self.parent[self._key(name)]

    def __iter__(self):
        return (n for n in self.names if self.prefix + n in self.parent)

    def __len__(self):
        return sum(1 for _ in self)


class _Layer:
    """One recurrent layer as its cell's export code sees it (the ``net`` of :class:`skfastgrnn._cells.Cell`).

    ``matrices`` and ``vectors`` are the layer's entries of the network's
    dicts under the cell's plain names (``layer2.W`` is ``W`` here; a change
    goes through to the network); ``scalars`` are the layer's cell constants
    after their sigmoid; ``prefix`` is ``""`` for the first layer and
    ``"layer<k>."`` for layer ``k``; ``omitted`` collects what the cell
    leaves out with one step.
    """

    def __init__(self, net, spec, index, scalars):
        self.net, self.index, self.prefix = net, index, spec.prefix
        self.n_inputs, self.hidden_dim = spec.n_inputs, spec.hidden_dim
        self.matrices = _Prefixed(net.matrices, spec.prefix, spec.names)
        self.vectors = _Prefixed(net.vectors, spec.prefix, spec.names)
        self.scalars = scalars
        self.omitted = []

    def __repr__(self):
        return f"_Layer({self.index}, {self.n_inputs} -> {self.hidden_dim}, {list(self.matrices)})"

    @property
    def n_steps(self):
        return self.net.n_steps

    @property
    def gate(self):
        return self.net.gate

    @property
    def update(self):
        return self.net.update

    @property
    def w_names(self):
        return [n for n in ("W1", "W2", "W") if n in self.matrices]

    @property
    def u_names(self):
        return [n for n in ("U1", "U2", "U") if n in self.matrices]


_SCALERS = (StandardScaler, SequenceScaler)
_ESTIMATORS = (FastGRNNClassifier, FastGRNNRegressor)


def _unpack(model, what):
    """The classifier or regressor and the scaler steps of ``model``, with clear errors."""
    if isinstance(model, _ESTIMATORS):
        check_is_fitted(model)
        return model, []
    if isinstance(model, Pipeline):
        steps = [(name, est) for name, est in model.steps if est is not None and est != "passthrough"]
        if not steps or not isinstance(steps[-1][1], _ESTIMATORS):
            last = type(steps[-1][1]).__name__ if steps else "nothing"
            raise TypeError(
                f"{what} needs a Pipeline ending with a FastGRNNClassifier or a FastGRNNRegressor; this one ends "
                f"with {last}."
            )
        for name, est in steps[:-1]:
            # exact types: a subclass may transform differently
            if type(est) not in _SCALERS:
                raise TypeError(
                    f"{what} cannot export the Pipeline step {name!r} ({type(est).__name__}): only StandardScaler "
                    "and SequenceScaler steps followed by one FastGRNNClassifier or FastGRNNRegressor are supported."
                )
            check_is_fitted(est)
        check_is_fitted(steps[-1][1])
        return steps[-1][1], [est for _, est in steps[:-1]]
    raise TypeError(
        f"{what} needs a fitted FastGRNNClassifier or FastGRNNRegressor, or a Pipeline of StandardScaler / "
        f"SequenceScaler steps and one of them; got a {type(model).__name__}."
    )


def _scaler_columns(s, n_timesteps, n_step_features):
    """``(mean, scale)`` of one fitted scaler step over the ``T * D`` columns of a row (None: identity)."""
    n_features = n_timesteps * n_step_features
    if type(s) is StandardScaler:
        if s.n_features_in_ != n_features:
            raise ValueError(
                f"the StandardScaler was fitted on {s.n_features_in_} features, the classifier on {n_features} "
                f"({n_timesteps} timesteps x {n_step_features} features)."
            )
        width = n_features
    else:
        # a SequenceScaler applies its n_channels_ statistics to every n_channels_-wide
        # chunk of a row: the classifier's D, or what its n_timesteps made of the rows
        width = s.n_channels_
        rows = getattr(s, "n_features_in_", None)  # only when fitted on 2-D rows
        if rows is not None and rows != n_features:
            raise ValueError(
                f"the SequenceScaler was fitted on rows of {rows} features, the classifier on {n_features} "
                f"({n_timesteps} timesteps x {n_step_features} features)."
            )
        if n_features % width:
            raise ValueError(
                f"the SequenceScaler has {width} channels per step, the classifier {n_step_features} "
                f"({n_timesteps} timesteps): its statistics do not fit the classifier's rows."
            )
    mean = s.mean_ if s.with_mean else None
    scale = s.scale_ if s.with_std else None
    tiles = n_features // width
    mean = None if mean is None else np.tile(np.asarray(mean, dtype=np.float64), tiles)
    scale = None if scale is None else np.tile(np.asarray(scale, dtype=np.float64), tiles)
    return mean, scale


def _fold_scalers(scalers, n_timesteps, n_step_features):
    """``(mean, scale, per_channel)`` for a chain of scaler steps (None for a no-op part).

    ``((x - m1) / s1 - m2) / s2 == (x - (m1 + m2 s1)) / (s1 s2)``, column by
    column; when the result is the same at every timestep (SequenceScaler
    steps only, or one timestep) it is kept as ``D`` values, ``per_channel``.
    """
    T, D = n_timesteps, n_step_features
    mean = np.zeros(T * D)
    scale = np.ones(T * D)
    for s in scalers:
        m, d = _scaler_columns(s, T, D)
        if m is not None:
            mean = mean + m * scale
        if d is not None:
            scale = scale * d
    per_channel = bool((mean.reshape(T, D) == mean[:D]).all() and (scale.reshape(T, D) == scale[:D]).all())
    if per_channel:
        mean, scale = mean[:D], scale[:D]
    # the C code and the ONNX graph standardize in float32: a large mean next to a
    # small spread loses the digits that matter in the float32 rounding of the mean
    error = np.abs(mean) * 2.0**-24 / scale
    if error.size and error.max() > _MEAN_ROUNDING_WARN:
        i = int(np.argmax(error))
        where = f"channel {i}" if per_channel else f"column {i} (step {i // D}, channel {i % D})"
        warnings.warn(
            f"a scaler mean is large next to its scale ({where}: mean {mean[i]:.6g}, scale {scale[i]:.3g}): "
            f"rounding it to float32 shifts standardized inputs by up to {error[i]:.2g}; standardize such "
            "features before the exported model.",
            UserWarning,
            stacklevel=4,
        )
    return (mean if mean.any() else None), (scale if (scale != 1.0).any() else None), per_channel


def describe_network(model, what):
    """The :class:`_Network` of a fitted classifier, regressor or Pipeline; ``what`` names the caller in errors.

    The only place the exporters read the estimator's state: its fitted
    network (``network_``), and ``classes_`` for a classifier or
    ``n_outputs_`` for a regressor (whose network's outputs are its
    predictions: the target scaling is folded into the output layer).
    """
    est, scalers = _unpack(model, what)
    network = est.network_
    if isinstance(est, FastGRNNClassifier):
        classes, n_outputs = est.classes_, len(est.classes_)
    else:
        classes, n_outputs = None, est.n_outputs_
    if network.layout.n_outputs != n_outputs:
        raise ValueError(f"{what}: the network has {network.layout.n_outputs} outputs, the estimator {n_outputs}.")
    layout, T, fold = network.layout, network.n_timesteps, network.fold
    if layout.n_step_features != fold * network.n_step_features:
        raise ValueError(
            f"{what}: the network reads {layout.n_step_features} inputs per step, not fold * n_step_features = "
            f"{fold} * {network.n_step_features}."
        )
    views = network.weights
    quant = network.quantization
    H = layout.hidden_dim
    if not np.isfinite(network.parameters).all():
        raise ValueError(f"{what}: the model has non-finite weights.")
    matrices = {}
    for name in layout.matrix_names:
        values = np.asarray(views[name], dtype=np.float64)
        if quant is None:
            matrices[name] = _Matrix(name, values)
        else:
            matrices[name] = _Matrix(name, values, quant[0][name], float(quant[1][name]))
    # biases (the cell's and b_out); the *_logit scalars go through their sigmoid in export_scalars
    vectors = {n: np.asarray(views[n], dtype=np.float64) for n, s in layout.shapes if len(s) == 1 and "logit" not in n}
    cell = network.cell
    net = _Network(
        cell=cell,
        n_timesteps=T,
        n_step_features=network.n_step_features,
        hidden_dim=H,
        classes=classes,
        gate=network.gate,
        update=network.update,
        matrices=matrices,
        vectors=vectors,
        fold=fold,
    )
    for k, spec in enumerate(layout.layers, 1):
        net.layers.append(_Layer(net, spec, k, CELLS[cell].export_scalars(spec.views(views))))
    if scalers:
        net.mean, net.scale, net.scaler_per_channel = _fold_scalers(scalers, T, net.n_step_features)
    if net.n_steps == 1:
        _omit_dead_weights(net)
    return net


def _omit_dead_weights(net):
    """With one step, h_0 = 0: the recurrent product is zero (and so is what the cell multiplies with h_0).

    So in every layer of a stack: each one's h_0 is 0.
    """
    T, fold = net.n_timesteps, net.fold
    one = "one timestep" if T == 1 else f"one folded step ({T} timesteps, fold {fold})"
    for layer in net.layers:
        for name in layer.u_names:
            del layer.matrices[name]
    every = " of every layer" if net.n_layers > 1 else ""
    net.omitted.append(f"U{every} ({one}: h_0 = 0 makes it irrelevant)")
    for layer in net.layers:
        net.cell_class.export_one_step(layer, one)
        net.omitted += [f"layer {layer.index}: {o}" if net.n_layers > 1 else o for o in layer.omitted]
