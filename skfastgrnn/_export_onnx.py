"""Export a fitted model to ONNX (:func:`to_onnx`).

A graph of standard operators (opset :data:`ONNX_OPSET`) unrolled over the
fixed number of timesteps: one MatMul projects every timestep's input at once,
then MatMul/Add/Mul/Sub and Sigmoid/Tanh/Relu/Clip per step, and a Where that
keeps the state over padding (IsNaN of each step's first value, Or-ed over the
steps); int8 weights stay int8 in the file, converted by a Cast and a Mul by
their scale. Input ``"input"`` (float32, ``[N, T * D]``); outputs, for a
classifier, ``"label"`` (the class labels) and ``"probabilities"`` (float32,
``[N, n_classes]``, columns in ``classes_`` order), for a regressor
``"variable"`` (float32, ``[N, n_outputs]``, skl2onnx's name for a
regressor's output). onnx is imported only when :func:`to_onnx` runs.

This module writes what every cell shares (the scaler, padding and folding of
the rows, the input projection, the padding mask, the layers of a stack, the
output layer); each cell's recurrence is written by its class (``onnx_steps``, in
``skfastgrnn/_cells/<cell>.py``, with the nonlinearities of
:func:`skfastgrnn._cells.onnx_nonlinearity`). The one part that differs
between a classifier and a regressor is the head on the outputs
(:func:`_onnx_head`). What the network is comes from
:func:`skfastgrnn._export_common.describe_network`.

A stack runs its layers one after the other over all the steps: layer
``k >= 2`` reads the masked states ``h_1 .. h_T`` of the layer below (one
Concat, then one MatMul for every step), and every layer keeps its state from
the sequence's end on (the same mask), so the last layer's final state is the
Python model's.
"""

import numpy as np

from ._export_common import describe_network
from ._version import __version__

#: ONNX operator set of the graphs :func:`to_onnx` builds (onnxruntime >= 1.13 runs it)
ONNX_OPSET = 17


class _Graph:
    """A small builder over onnx.helper: unique names, constants, nodes."""

    def __init__(self, onnx):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        name = self.name(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, *inputs, out=None, **attrs):
        out = out or self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def node(self, op_type, inputs, outputs, **attrs):
        """A node with several outputs, named by the caller (with :meth:`name`)."""
        self.nodes.append(self.helper.make_node(op_type, list(inputs), list(outputs), **attrs))


class _Steps:
    """What a cell's ``onnx_steps`` builds its recurrence with (see :class:`skfastgrnn._cells.Cell`)."""

    def __init__(self, g, layer, u_mats, nan_first, ended_at):
        self.g, self.net = g, layer  # the layer (:class:`skfastgrnn._export_common._Layer`)
        self.u_mats = u_mats  # the recurrent matrix: U, or U1 and U2
        self.nan_first = nan_first  # [T, N, 1]: the step's first value is NaN
        self.ended = None  # [N, 1] once a step has been masked: the sequence has ended
        # the mask of each step, shared by the layers of a stack (built by the first)
        self.ended_at = ended_at
        self.states = []  # the state after each step, what the layer above reads

    def recurrent(self, v):
        """``v U``."""
        for u in self.u_mats:
            v = self.g.op("MatMul", v, u)
        return v

    def vec(self, vname):
        """The layer's bias ``vname`` as a float32 constant."""
        return self.g.const(self.net.prefix + vname, self.net.vectors[vname].astype(np.float32))

    def scalar(self, value):
        return self.g.const("c", np.float32(value))

    def step(self, all_steps, t):
        """Step ``t`` of a time-major tensor."""
        return self.g.op("Gather", all_steps, self.g.const("t", np.int64(t)), axis=0)

    def masked(self, h_prev, h_new, t):
        """The state after step t: h_new, or h_prev (h_0 = 0 at t = 0) once the sequence has ended."""
        if t < len(self.ended_at):
            self.ended = self.ended_at[t]
        else:
            nan_t = self.step(self.nan_first, t)  # [N, 1], broadcast over the hidden units
            self.ended = nan_t if self.ended is None else self.g.op("Or", self.ended, nan_t)
            self.ended_at.append(self.ended)
        keep = self.scalar(0.0) if h_prev is None else h_prev
        self.states.append(self.g.op("Where", self.ended, keep, h_new))
        return self.states[-1]


def _onnx_matrix(g, m):
    if m.int8 is None:
        return g.const(m.name, m.values.astype(np.float32))
    # Cast + Mul rather than DequantizeLinear: onnxruntime's extended optimizations
    # rewrite DequantizeLinear -> MatMul into MatMulNBits, which also quantizes the
    # activations (probabilities off by ~1e-2); Cast + Mul is folded into float weights
    q = g.op("Cast", g.const(m.name + "_int8", m.int8), to=g.onnx.TensorProto.FLOAT)
    return g.op("Mul", q, g.const(m.name + "_scale", np.float32(m.scale)))


def _onnx_labels(classes):
    kind = classes.dtype.kind
    if kind in "iu":
        return classes.astype(np.int64)
    if kind == "f":
        return classes.astype(np.float64)
    if kind == "b":
        return classes.astype(bool)
    if kind in "OUS" and all(isinstance(c, str) for c in classes):
        return np.array([str(c) for c in classes], dtype=object)
    raise TypeError(f"to_onnx: cannot write class labels of dtype {classes.dtype} as an ONNX tensor.")


def _onnx_steps_in(g, net):
    """The rows as time-major steps ``[T, N, n_inputs]`` (standardized, folded) and the padding mask ``[T, N, 1]``."""
    # T: the recurrence's steps (folded steps when fold > 1); D: raw features per timestep
    T, D = net.n_steps, net.n_step_features
    f32 = np.float32

    def standardize(v):  # the folded scalers; NaN padding stays NaN
        if net.mean is not None:
            v = g.op("Sub", v, g.const("mean", net.mean.astype(f32)))
        if net.scale is not None:
            v = g.op("Div", v, g.const("scale", net.scale.astype(f32)))
        return v

    x = "input"
    if not net.scaler_per_channel:
        x = standardize(x)  # one mean and scale per column of [N, T * D]
    extra = net.n_steps * net.n_inputs - net.n_features
    if extra:
        # fold_steps: NaN after the row's end up to a whole number of folded steps
        pads = g.const("pads", np.array([0, 0, 0, extra], dtype=np.int64))
        x = g.op("Pad", x, pads, g.const("nan", f32(np.nan)), mode="constant")
    x = g.op("Reshape", x, g.const("shape", np.array([-1, T * net.fold, D], dtype=np.int64)))
    if net.scaler_per_channel:
        x = standardize(x)  # D statistics, broadcast over [N, T, D]
    if net.fold > 1:  # fold raw timesteps into one step of fold * D inputs
        x = g.op("Reshape", x, g.const("shape", np.array([-1, T, net.n_inputs], dtype=np.int64)))
    # time-major [T, N, D], so one MatMul projects every timestep
    x = g.op("Transpose", x, perm=[1, 0, 2])
    # padding: a step whose first value is NaN ends the sequence, [T, N, 1]
    nan_first = g.op("IsNaN", g.op("Gather", x, g.const("first", np.array([0], dtype=np.int64)), axis=2))
    if net.fold > 1:
        # inside a folded step whose first value is observed, NaN (the timesteps after the
        # sequence's end, the padding above) reads as 0, in standardized units
        x = g.op("Where", g.op("IsNaN", x), g.const("zero", f32(0.0)), x)
    return x, nan_first


def to_onnx(model):
    """Build an ONNX model of the fitted classifier or regressor (or scaler + estimator Pipeline).

    The graph uses standard operators only (opset :data:`ONNX_OPSET`), unrolled
    over the model's fixed number of timesteps: input ``"input"``, float32 of
    shape ``[N, T * D]`` laid out ``[x_1 .. x_T]``; outputs, for a
    classifier, ``"label"`` (the class labels, int64 / double / bool /
    string like ``classes_``) and ``"probabilities"`` (float32 ``[N,
    n_classes]``), for a :class:`~skfastgrnn.FastGRNNRegressor` one output
    ``"variable"`` (float32 ``[N, n_outputs_]``, 2-D even for one target:
    skl2onnx's convention for regressors; the network's outputs, in the
    units of ``y``). Rows may be NaN-padded
    after a sequence's end, as in Python: from the first step whose first
    value is NaN on, a Where keeps the state as it is (a masked update), so
    the outputs are the Python model's for padded rows. A folded model
    (``fold_ = k > 1``) takes the same raw rows: the graph pads them with
    NaN to a whole number of folded steps (Pad), reshapes to ``[N, ceil(T /
    k), k * D]``, takes the padding mask from each folded step's first value
    and reads the other NaN as 0 (a Where). The folded scaler
    steps become a Sub and a Div (on ``D`` values per step after the
    Reshape when they are per channel); the int8 matrices of a quantized model are stored
    as int8, converted by a Cast and a Mul by their scale (not
    DequantizeLinear: onnxruntime would turn that into an integer MatMul that
    also quantizes the activations). It computes in float32.

    Needs the optional dependency: ``pip install "skfastgrnn[onnx]"``.

    Parameters
    ----------
    model : FastGRNNClassifier, FastGRNNRegressor or Pipeline
        As for :func:`export_c`.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker``; save it with ``onnx.save(proto, path)``.

    Raises
    ------
    ImportError
        onnx is not installed.
    sklearn.exceptions.NotFittedError, TypeError
        As for :func:`export_c`; also TypeError for class labels ONNX cannot hold.

    See Also
    --------
    export_c : The same model as C99 source, for microcontrollers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, to_onnx
    >>> X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=8, n_timesteps=2, epochs=3, random_state=0).fit(X, y)
    >>> proto = to_onnx(clf)  # doctest: +SKIP
    >>> import onnxruntime  # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession(proto.SerializeToString())  # doctest: +SKIP
    >>> label, proba = session.run(None, {"input": X.astype(np.float32)})  # doctest: +SKIP
    >>> bool((label == clf.predict(X)).mean() > 0.99)  # doctest: +SKIP
    True
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError('to_onnx needs the optional dependency onnx: pip install "skfastgrnn[onnx]"') from exc
    net = describe_network(model, "to_onnx")
    g = _Graph(onnx)
    x, nan_first = _onnx_steps_in(g, net)
    ended_at, below = [], None
    for layer in net.layers:
        if below is not None:  # the states h_1 .. h_T of the layer below, time-major [T, N, H]
            axes = g.const("axes", np.array([0], dtype=np.int64))
            x = g.op("Concat", *[g.op("Unsqueeze", state, axes) for state in below], axis=0)
        for wname in layer.w_names:
            x = g.op("MatMul", x, _onnx_matrix(g, layer.matrices[wname]))
        u_mats = [_onnx_matrix(g, layer.matrices[n]) for n in layer.u_names]
        steps = _Steps(g, layer, u_mats, nan_first, ended_at)
        h = net.cell_class.onnx_steps(layer, x, steps)  # the cell's recurrence, masked over the padding
        below = steps.states
    outputs, what = _onnx_head(g, net, h)
    return _onnx_model(onnx, g, net, outputs, what)


def _onnx_head(g, net, h):
    """The output layer and the task's outputs: ``(output value infos, description for the doc string)``.

    A classifier: ``"probabilities"`` (Softmax of the logits) and ``"label"``
    (the classes at their ArgMax). A regressor: the outputs are the
    predictions, ``"variable"`` ``[N, n_outputs]`` as skl2onnx names a
    regressor's output.
    """
    FLOAT, out = g.onnx.TensorProto.FLOAT, g.helper.make_tensor_value_info
    labels = None if net.is_regressor else _onnx_labels(net.classes)
    product = g.op("MatMul", h, _onnx_matrix(g, net.matrices["W_out"]))
    b_out = g.const("b_out", net.vectors["b_out"].astype(np.float32))
    if net.is_regressor:
        g.op("Add", product, b_out, out="variable")
        K = net.n_outputs
        return [out("variable", FLOAT, ["N", K])], ("regressor", f"{K} output{'s' * (K != 1)}")
    logits = g.op("Add", product, b_out)
    g.op("Softmax", logits, out="probabilities", axis=1)
    index = g.op("ArgMax", logits, axis=1, keepdims=0)
    g.op("Gather", g.const("classes", labels), index, out="label", axis=0)
    strings = labels.dtype == object
    label_type = g.onnx.TensorProto.STRING if strings else g.helper.np_dtype_to_tensor_dtype(labels.dtype)
    outputs = [out("label", label_type, ["N"]), out("probabilities", FLOAT, ["N", net.n_classes])]
    return outputs, ("classifier", f"{net.n_classes} classes")


def _onnx_model(onnx, g, net, outputs, what):
    """The checked ModelProto of the graph ``g`` with the given output value infos; ``what``: (kind, outputs)."""
    helper = onnx.helper
    graph = helper.make_graph(
        g.nodes,
        "skfastgrnn",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", net.n_features])],
        outputs,
        initializer=g.initializers,
    )
    proto = helper.make_model(
        graph,
        producer_name="skfastgrnn",
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        doc_string=(
            f"FastGRNN {what[0]} ({net.cell}, {net.n_timesteps} timesteps x {net.n_step_features} features"
            + (f", read {net.fold} at a time" if net.fold > 1 else "")
            + (
                f", {net.n_layers} stacked layers of {', '.join(map(str, net.hidden_dims))} units"
                if net.n_layers > 1
                else ""
            )
            + f", {what[1]}); rows may be NaN-padded after a sequence's end (the first "
            + ("folded " if net.fold > 1 else "")
            + "step whose first value is NaN ends it)"
        ),
    )
    proto.ir_version = 8  # the IR of opset 17: readable by onnxruntime >= 1.13
    onnx.checker.check_model(proto, full_check=True)
    return proto
