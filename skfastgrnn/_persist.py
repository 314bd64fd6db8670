"""One-file persistence of a FastGRNNClassifier, a FastGRNNRegressor, or a Pipeline of scalers and one of them.

The file is `safetensors <https://huggingface.co/docs/safetensors>`_: a JSON
header followed by raw little-endian tensors. Loading parses JSON and copies
numbers: it never executes code, unlike pickle.

Contents of a file (format ``"skfastgrnn"``)
--------------------------------------------
Tensors, for a classifier (prefixed ``step<i>.`` inside a Pipeline):

- one tensor per named parameter of the network (``W`` or ``W1``/``W2``, ``U``
  or ``U1``/``U2``, the cell's biases and scalars, ``W_out``, ``b_out``), in
  the model's own float dtype (float64, or float32 for a model trained on
  float32 input) for a float model (exact round trip), or for a quantized model the
  weight matrices in int8 with a ``<name>.scale`` float32 tensor each and the
  rest in float32;
- ``support`` (only for pruned models): the 0/1 keep-mask over all parameters,
  bit-packed (``numpy.packbits``), so a warm-start fit after loading keeps the
  pruned weights at zero.

A StandardScaler step stores the tensors ``mean_``, ``var_``, ``scale_`` (those
that are not None) and ``n_samples_seen_``, and the metadata ``params``,
``n_features_in``, ``feature_names_in`` (if any) and ``n_samples_seen_scalar``.

A SequenceScaler step (one statistic per channel, shared by all timesteps)
stores the tensors ``mean_``, ``var_``, ``scale_`` (those that are not None,
shape ``(n_channels,)``) and ``n_samples_seen_`` (int64, shape ``(1,)``), and
the metadata ``params`` (``n_timesteps``, ``channels_first``, ``with_mean``,
``with_std``, ``copy``), ``n_channels`` and, only when it was fitted on 2-D
rows, ``n_features_in`` and ``feature_names_in`` (if any).

Metadata (all strings, as safetensors requires): ``format``,
``format_version``, ``package_version``, ``kind`` (``FastGRNNClassifier``,
``FastGRNNRegressor`` or ``Pipeline``), ``steps`` (a Pipeline's ``[name, class name]`` pairs),
``checksum_sha256`` (over the metadata and every tensor, so a
flipped byte anywhere is detected), and per estimator its ``params``
(``get_params`` as JSON), for a classifier ``classes`` (dtype and values as
JSON), for a regressor ``n_outputs`` (and the float64 tensors ``target_mean_``
and ``target_scale_`` of shape ``(n_outputs,)``), ``n_features_in``,
``feature_names_in``, ``n_timesteps``, ``n_step_features``, ``fold``
(``fold_``: timesteps read as one step of the cell), ``n_iter``,
``best_epoch``, ``fitted_architecture`` and ``quantization``.

Format versions
---------------
A file is written with the lowest version that can hold it (so older readers
load every file they can understand); :data:`FORMAT_VERSION` is the newest. A
reader refuses a newer version with an "upgrade skfastgrnn" message (rather
than misreading it) and reads every older one:

- 1: a FastGRNNClassifier, or a Pipeline of StandardScaler steps followed by
  one FastGRNNClassifier; the classifier reads one timestep per step of the
  cell (there is no ``fold``: such a model loads with ``fold=1``).
- 2: adds SequenceScaler steps (in any mix with StandardScaler steps) and the
  classifier's ``fold`` (the parameter in ``params`` and
  ``fitted_architecture``, ``fold_`` in the metadata entry ``fold``). Every
  classifier now records its fold, which a version-1 reader does not know,
  so every file is written as version 2 or later.
- 3: adds FastGRNNRegressor (alone or as a Pipeline's last step). Files
  holding a classifier are still written as version 2.

Not stored: the Adam moments (a loaded model restarts Adam, as a warm-start fit
does anyway), ``history_`` (see ``save_metrics``; a loaded model has an empty
``history_`` until ``load_metrics``), and a ``random_state`` that is a
RandomState instance (stored as None).

Errors
------
Every problem with a file's content raises :class:`ModelFileError` (a
ValueError) whose message starts with the file name. A missing or unreadable
file raises the usual OSError.
"""

import hashlib
import json
import math
import os

import numpy as np
import safetensors
import safetensors.numpy
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from . import _compress
from ._cells import Layout
from ._files import (
    FileReader,
    ModelFileError,
    atomic_write,
    check_size,
    header_length,
    parse_header,
    read_model_file,
    to_json,
)
from ._network import ARCHITECTURE_PARAMS, FastGRNNNetwork
from ._persist_scalers import SCALER_DECODERS, SCALER_ENCODERS
from ._scaler import SequenceScaler
from ._train import History
from ._version import __version__

FORMAT = "skfastgrnn"
#: the format version this package writes, and the newest it reads; bump when a
#: change would make older readers misread a file (see "Format versions" above)
FORMAT_VERSION = 3
#: the version that introduced each estimator a file may hold
_ESTIMATOR_VERSIONS = {"FastGRNNClassifier": 1, "FastGRNNRegressor": 3}
#: every file records the classifier's fold (version 2): the lowest version written
_MIN_WRITTEN_VERSION = 2
#: the version that introduced each step kind a Pipeline may hold before its classifier
_SCALER_VERSIONS = {"StandardScaler": 1, "SequenceScaler": 2}
#: the version that introduced the classifier's ``fold``
_FOLD_VERSION = 2
QUANT_SCHEME = "int8-symmetric-per-tensor"
_CHECKSUM_KEY = "checksum_sha256"


#: the estimator classes a file can hold, by class name (the ``kind`` in the file);
#: each estimator module registers its class with :func:`storable`, so this module
#: never imports the estimators (no import cycle)
_ESTIMATORS = {}


def storable(cls):
    """Class decorator: files may hold this estimator (it has ``network_`` and the classifier's fitted attributes)."""
    _ESTIMATORS[cls.__name__] = cls
    return cls


def _is_storable(obj):
    return _ESTIMATORS.get(type(obj).__name__) is type(obj)


#: wrapper classes saved as the model one of their fitted attributes holds
#: (``DistilledFastGRNN`` -> ``student_``), registered with :func:`saved_as`
_WRAPPERS = {}


def saved_as(attribute):
    """Class decorator: :func:`encode` saves a fitted instance as its ``attribute`` (e.g. ``"student_"``)."""

    def register(cls):
        _WRAPPERS[cls] = attribute
        return cls

    return register


def _unwrap(obj):
    """``obj``, or for a registered wrapper (alone or a Pipeline's last step) the model it ships.

    A Pipeline keeps its other steps and the last step's name; only the last
    step is replaced. An unfitted wrapper raises NotFittedError.
    """
    if isinstance(obj, Pipeline) and obj.steps and type(obj.steps[-1][1]) in _WRAPPERS:
        name, last = obj.steps[-1]
        return Pipeline([*obj.steps[:-1], (name, _unwrap(last))])
    attribute = _WRAPPERS.get(type(obj))
    if attribute is None:
        return obj
    check_is_fitted(obj, attribute)
    return getattr(obj, attribute)


# ----------------------------------------------------------------- encode


def _encode_classes(classes):
    """``classes_`` as JSON ``{"dtype", "values"}``; ValueError for labels JSON cannot hold."""
    classes = np.asarray(classes)
    if classes.dtype.kind not in "biufUO":
        raise ValueError(f"cannot store classes_ of dtype {classes.dtype}: labels must be int, float, bool or str")
    if classes.dtype.kind == "O" and not all(isinstance(c, str) for c in classes):
        raise ValueError(f"cannot store classes_ {classes!r}: object labels must all be str")
    text = to_json({"dtype": classes.dtype.str, "values": classes.tolist()}, f"classes_ {classes!r}")
    back = _decode_classes(json.loads(text))
    if back.dtype != classes.dtype or not np.array_equal(back, classes):
        raise ValueError(f"cannot store classes_ {classes!r}: they do not survive a JSON round trip")
    return text


def _encode_classifier_targets(clf, prefix, tensors, meta):
    meta[prefix + "classes"] = _encode_classes(clf.classes_)


def _encode_regressor_targets(reg, prefix, tensors, meta):
    meta[prefix + "n_outputs"] = to_json(reg.n_outputs_, "n_outputs_")
    for name in ("target_mean_", "target_scale_"):
        tensors[prefix + name] = np.ascontiguousarray(getattr(reg, name), dtype=np.float64)


def _encode_estimator(clf, prefix, tensors, meta):
    check_is_fitted(clf)
    params = clf.get_params(deep=False)
    if params.get("random_state") is not None and not isinstance(params["random_state"], (int, np.integer)):
        params["random_state"] = None  # a RandomState instance: not storable, documented
    network = clf.network_
    # a file's parameters must describe its network (load checks it): refuse an architecture
    # parameter changed by set_params after the fit rather than write a file that cannot load
    changed = [
        f"{name}={params[name]!r} (fitted with {network.architecture[name]!r})"
        for name in ARCHITECTURE_PARAMS
        if params[name] != network.architecture[name]
    ]
    if changed:
        raise ValueError(
            f"{type(clf).__name__} parameters changed since the fit: {', '.join(changed)}; fit again, or set them "
            "back before saving"
        )
    for name, tensor in network.tensors().items():
        tensors[prefix + name] = tensor
    meta[prefix + "params"] = to_json(params, "get_params()")
    meta[prefix + "fitted_architecture"] = to_json(network.architecture, "the fitted architecture")
    _TARGET_CODECS[type(clf).__name__][0](clf, prefix, tensors, meta)
    for key in ("n_features_in", "n_timesteps", "n_step_features", "fold", "n_iter", "best_epoch"):
        meta[prefix + key] = to_json(getattr(clf, key + "_"), key + "_")
    if hasattr(clf, "feature_names_in_"):
        meta[prefix + "feature_names_in"] = to_json(list(clf.feature_names_in_), "feature_names_in_")
    quant = network.quantization
    meta[prefix + "quantization"] = (
        "none"
        if quant is None
        else to_json(
            {"scheme": QUANT_SCHEME, "tensors": sorted(quant[0]), "compute_dtype": network.dtype.name}, "quantization"
        )
    )


def _check_widths(steps, fail):
    """``fail(message)`` unless rows of the classifier's width can pass through every step.

    Every step that knows its input width (``n_features_in_``: the classifier,
    a StandardScaler, a SequenceScaler fitted on 2-D rows) must agree, and
    each SequenceScaler's ``n_channels_`` must divide that width.
    """
    width = steps[-1][1].n_features_in_
    widths = [getattr(est, "n_features_in_", None) for _, est in steps]
    if any(w is not None and w != width for w in widths):
        fail(f"the steps' n_features_in disagree: {widths}")
    for i, (_, est) in enumerate(steps[:-1]):
        if isinstance(est, SequenceScaler) and width % est.n_channels_:
            fail(
                f"step {i} (SequenceScaler) has n_channels {est.n_channels_}, which does not divide the "
                f"classifier's n_features_in ({width})"
            )


def encode(obj):
    """Tensors and metadata of a fitted classifier or scaler + classifier Pipeline.

    A registered wrapper (:func:`saved_as`; ``DistilledFastGRNN``), alone or
    as a Pipeline's last step, is replaced first by the model it ships (its
    ``student_``): the file holds that model, and :func:`load` returns it.

    Returns
    -------
    tensors : dict of str to ndarray
    metadata : dict of str to str
        Without the checksum (added by :func:`pack`).

    Raises
    ------
    TypeError
        ``obj`` is not a FastGRNNClassifier or a Pipeline of StandardScaler
        and SequenceScaler steps ending with one.
    sklearn.exceptions.NotFittedError
    ValueError
        Something cannot be stored (e.g. labels JSON cannot hold), or the
        steps of a Pipeline do not fit together.
    """
    obj = _unwrap(obj)
    tensors = {}
    meta = {"format": FORMAT, "format_version": None, "package_version": __version__}
    if _is_storable(obj):
        meta["kind"] = type(obj).__name__
        meta["format_version"] = _version_for(obj)
        _encode_estimator(obj, "", tensors, meta)
        return tensors, meta
    if isinstance(obj, Pipeline):
        steps = obj.steps
        kinds = [type(est) for _, est in steps]
        if kinds and _is_storable(steps[-1][1]) and all(k in SCALER_ENCODERS for k in kinds[:-1]):
            meta["kind"] = "Pipeline"
            meta["format_version"] = _version_for(steps[-1][1])
            meta["steps"] = to_json([[name, type(est).__name__] for name, est in steps], "the pipeline steps")
            for i, (_, est) in enumerate(steps):
                encode_step = _encode_estimator if _is_storable(est) else SCALER_ENCODERS[type(est)]
                encode_step(est, f"step{i}.", tensors, meta)

            def fail(problem):
                raise ValueError(f"cannot save this Pipeline: {problem}")

            _check_widths(steps, fail)
            return tensors, meta
        names = ", ".join(type(est).__name__ for _, est in steps)
        raise TypeError(
            f"cannot save a Pipeline of ({names}): the skfastgrnn format holds StandardScaler and SequenceScaler "
            "steps followed by one FastGRNNClassifier or FastGRNNRegressor; use skops.io or joblib for other pipelines"
        )
    raise TypeError(
        f"cannot save a {type(obj).__name__}: expected a FastGRNNClassifier, a FastGRNNRegressor or a "
        "Pipeline(StandardScaler or SequenceScaler, ..., FastGRNNClassifier or FastGRNNRegressor); use skops.io or "
        "joblib for other objects"
    )


def _checksum(tensors, meta):
    h = hashlib.sha256()
    h.update(to_json({k: v for k, v in meta.items() if k != _CHECKSUM_KEY}, "metadata").encode())
    for name in sorted(tensors):
        a = tensors[name]
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def pack(tensors, meta):
    """safetensors bytes of ``tensors`` and ``meta`` with the checksum added."""
    meta = dict(meta)
    meta[_CHECKSUM_KEY] = _checksum(tensors, meta)
    return safetensors.numpy.save(tensors, metadata=meta)


def dumps(obj):
    """The bytes :func:`save` writes for ``obj``."""
    return pack(*encode(obj))


def save(obj, path):
    """Save a fitted FastGRNNClassifier or FastGRNNRegressor, or a Pipeline of scalers and one, to one file.

    The write is atomic: a failure leaves an existing file at ``path``
    untouched. The file holds the network's weights (int8 when quantized), the
    scaler's statistics, the configuration and the labels; see
    ``docs/deployment.md``.

    Parameters
    ----------
    obj : FastGRNNClassifier, FastGRNNRegressor or Pipeline
        Fitted; a Pipeline may hold StandardScaler and SequenceScaler steps,
        in any mix, followed by one FastGRNNClassifier or FastGRNNRegressor.
    path : str or os.PathLike
        Destination, conventionally ``*.safetensors``.

    Raises
    ------
    TypeError, ValueError, sklearn.exceptions.NotFittedError, OSError
        The message names ``path`` and the problem.

    See Also
    --------
    load : Read the file back.
    ModelRegistry : Versioned saves with their metrics.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> import skfastgrnn
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> model = make_pipeline(StandardScaler(), skfastgrnn.FastGRNNClassifier(epochs=5, random_state=0))
    >>> model = model.fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> skfastgrnn.save(model, path)
    >>> (skfastgrnn.load(path).predict(X) == model.predict(X)).all()
    np.True_
    """
    try:
        data = dumps(obj)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{os.fspath(path)}: {exc}") from None
    atomic_write(path, data)


# ----------------------------------------------------------------- decode


_CLASS_KINDS = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float), "U": (str,), "O": (str,)}
_MAX_LABEL_CHARS = 4096


def _decode_classes(doc):
    """``classes_`` from its JSON document; ValueError when it is not a valid one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("dtype"), str) or not isinstance(doc.get("values"), list):
        raise ValueError('classes must be {"dtype": str, "values": list}')
    try:
        dtype = np.dtype(doc["dtype"])
    except (TypeError, ValueError):
        raise ValueError(f"classes dtype {doc['dtype']!r} is not a numpy dtype") from None
    values = doc["values"]
    kinds = _CLASS_KINDS.get(dtype.kind)
    if kinds is None or (dtype.kind == "U" and dtype.itemsize > 4 * _MAX_LABEL_CHARS):
        raise ValueError(f"classes dtype {dtype} is not supported")
    if not all(isinstance(v, kinds) and (bool in kinds or not isinstance(v, bool)) for v in values):
        raise ValueError(f"classes values do not match their dtype {dtype}")
    try:
        return np.array(values, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as exc:
        raise ValueError(f"classes values do not fit dtype {dtype} ({exc})") from None


def _decode_classifier_targets(r, prefix, clf):
    """Set ``classes_`` from the file; the number of outputs."""
    try:
        classes = _decode_classes(r.json(prefix + "classes", dict))
    except ValueError as exc:
        raise r.error(str(exc)) from None
    if len(classes) < 2 or len(np.unique(classes)) != len(classes):
        raise r.error(f"classes must be at least 2 distinct labels; got {classes!r}")
    clf.classes_ = classes
    return len(classes)


def _decode_regressor_targets(r, prefix, reg):
    """Set ``n_outputs_``, ``target_mean_`` and ``target_scale_`` from the file; the number of outputs."""
    n_outputs = r.int(prefix + "n_outputs", 1)
    reg.n_outputs_ = n_outputs
    reg.target_mean_ = r.tensor(prefix + "target_mean_", np.float64, (n_outputs,)).copy()
    reg.target_scale_ = r.tensor(prefix + "target_scale_", np.float64, (n_outputs,)).copy()
    if not np.all(reg.target_scale_ > 0):
        raise r.error(f"tensor {prefix}target_scale_ must be positive")
    return n_outputs


#: per estimator kind: (encode its targets into the file, decode them and return the number of outputs)
_TARGET_CODECS = {
    "FastGRNNClassifier": (_encode_classifier_targets, _decode_classifier_targets),
    "FastGRNNRegressor": (_encode_regressor_targets, _decode_regressor_targets),
}


def _version_for(estimator):
    """The format version a file holding ``estimator`` is written with: the lowest that can hold it."""
    return str(max(_MIN_WRITTEN_VERSION, _ESTIMATOR_VERSIONS[type(estimator).__name__]))


def _decode_estimator(r, prefix, version, kind):
    if _ESTIMATOR_VERSIONS[kind] > version:
        raise r.error(
            f"a {kind} needs format version {_ESTIMATOR_VERSIONS[kind]}; this file is version {version}: "
            "the file is inconsistent"
        )
    cls = _ESTIMATORS[kind]
    params = r.json(prefix + "params", dict)
    arch = r.json(prefix + "fitted_architecture", dict)
    for doc in (params, arch):  # JSON has no tuples: a stack's hidden_dim comes back as a list
        if isinstance(doc.get("hidden_dim"), list):
            doc["hidden_dim"] = tuple(doc["hidden_dim"])
    if version < _FOLD_VERSION:
        # written before ``fold`` existed: the model reads one timestep per step
        if "fold" in params or "fold" in arch or prefix + "fold" in r.meta:
            raise r.error(f"format version {version} has no 'fold' (it came with version {_FOLD_VERSION})")
        params["fold"] = arch["fold"] = fold = 1
    else:
        fold = r.int(prefix + "fold", 1)
    clf = r.make(cls, params, "params")
    if set(arch) != set(ARCHITECTURE_PARAMS):
        raise r.error(f"fitted_architecture must have the keys {sorted(ARCHITECTURE_PARAMS)}")
    r.make(cls, arch, "fitted_architecture")
    if arch["fold"] != "auto" and arch["fold"] != fold:
        raise r.error(f"fold ({fold}) disagrees with the fitted architecture's fold ({arch['fold']!r})")
    n_outputs = _TARGET_CODECS[kind][1](r, prefix, clf)
    n_features = r.int(prefix + "n_features_in", 1)
    n_timesteps = r.int(prefix + "n_timesteps", 1)
    n_step = r.int(prefix + "n_step_features", 1)
    if n_timesteps * n_step != n_features:
        raise r.error(f"n_timesteps ({n_timesteps}) x n_step_features ({n_step}) != n_features_in ({n_features})")
    n_iter = r.int(prefix + "n_iter", 0)
    best_epoch = r.int(prefix + "best_epoch", 0)
    feature_names = r.feature_names(prefix + "feature_names_in", n_features)

    layout = Layout(n_step * fold, arch["hidden_dim"], n_outputs, arch["cell"], arch["rank"], arch["u_rank"])
    quant_text = r.text(prefix + "quantization")
    quantized = quant_text != "none"
    if quantized:
        quant = r.json(prefix + "quantization", dict)
        if (
            quant.get("scheme") != QUANT_SCHEME
            or quant.get("tensors") != sorted(layout.matrix_names)
            or quant.get("compute_dtype") not in ("float32", "float64")
        ):
            raise r.error(f"unknown quantization {quant_text!r}; expected scheme {QUANT_SCHEME!r} of the matrices")
    # check every tensor against the configuration before allocating anything
    # (a corrupt configuration must not ask for terabytes)
    stored, int8, scales = {}, {}, {}
    if quantized:  # the dtype the model computes in
        float_dtype = np.dtype(quant["compute_dtype"])
    else:  # the dtype it was stored in: the parameters' common one
        float_dtype = r.common_float_dtype([prefix + name for name, _ in layout.shapes])
    for name, shape in layout.shapes:
        if not quantized:
            stored[name] = r.tensor(prefix + name, float_dtype, shape)  # float64 or float32, as the model
        elif name in layout.matrix_names:
            int8[name] = r.tensor(prefix + name, np.int8, shape).copy()
            scales[name] = float(r.tensor(f"{prefix}{name}.scale", np.float32, (1,))[0])
            if not scales[name] > 0:
                raise r.error(f"tensor {prefix}{name}.scale must be positive")
            stored[name] = _compress.dequantize_tensor(int8[name], scales[name], float_dtype)
        else:
            stored[name] = r.tensor(prefix + name, np.float32, shape)
    theta = np.empty(layout.size, dtype=float_dtype)
    for name, view in layout.views(theta).items():
        view[...] = stored[name]
    support = None
    if prefix + "support" in r.tensors:
        bits = r.tensor(prefix + "support", np.uint8, (math.ceil(layout.size / 8),))
        unpacked = np.unpackbits(bits)
        if unpacked[layout.size :].any():
            raise r.error("tensor 'support' has bits set past the last parameter")
        support = unpacked[: layout.size].astype(float_dtype)
        if np.any(theta[support == 0] != 0):
            raise r.error("pruned weights (support 0) are not zero")
    # the tensors agree with the fitted architecture: so must the parameters and the fitted reading
    r.check_fitted_with(prefix, clf.get_params(deep=False), {p: arch[p] for p in ARCHITECTURE_PARAMS})
    if arch["n_timesteps"] not in (1, n_timesteps):
        raise r.error(
            f"metadata entry {prefix + 'n_timesteps'!r} is {n_timesteps}, but the model was fitted with "
            f"n_timesteps={arch['n_timesteps']} ({prefix + 'fitted_architecture'!r}): the file is inconsistent"
        )

    clf.n_features_in_ = n_features
    if feature_names is not None:
        clf.feature_names_in_ = feature_names
    clf.n_timesteps_ = n_timesteps
    clf.n_step_features_ = n_step
    clf.fold_ = fold
    clf.n_iter_ = n_iter
    clf.best_epoch_ = best_epoch
    clf.history_ = History(best_epoch=best_epoch)
    # the Adam state is not stored: training after loading starts a fresh one
    clf.network_ = FastGRNNNetwork(
        layout,
        theta,
        gate=arch["gate_nonlinearity"],
        update=arch["update_nonlinearity"],
        n_timesteps=n_timesteps,
        n_step_features=n_step,
        fold=fold,
        architecture={p: arch[p] for p in ARCHITECTURE_PARAMS},
    )
    clf.network_.set_support(support)
    if quantized:
        clf.network_.set_quantization(int8, scales)
    return clf


def _parse(data, source):
    """Metadata and tensors of safetensors bytes, or ModelFileError."""
    n_header = header_length(data[:8], len(data), source)
    _, meta, data_size = parse_header(data[8 : 8 + n_header], source)
    check_size(n_header, data_size, len(data), source)
    try:
        tensors = safetensors.numpy.load(bytes(data))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # SafetensorError, and pyo3 panics, which are BaseExceptions
        raise ModelFileError(f"{source}: invalid safetensors data ({type(exc).__name__}: {exc})") from None
    return meta, tensors


def loads(data, source="<bytes>"):
    """Rebuild the classifier or Pipeline from the bytes of a model file.

    Parameters
    ----------
    data : bytes
    source : str
        Name used in error messages (the file path).

    Raises
    ------
    ModelFileError
    """
    meta, tensors = _parse(data, source)
    r = FileReader(source, meta, tensors)
    fmt = meta.get("format")
    if fmt != FORMAT:
        raise r.error(f"not a skfastgrnn model file (format {fmt!r}, expected {FORMAT!r})")
    version = meta.get("format_version", "")
    if not (version.isascii() and version.isdigit()) or version.startswith("0"):
        raise r.error(f"invalid format_version {version!r}")
    if int(version) > FORMAT_VERSION:
        raise r.error(
            f"written with format version {version} (by skfastgrnn {meta.get('package_version', '?')}); this "
            f"skfastgrnn reads format versions up to {FORMAT_VERSION}: upgrade skfastgrnn to load it"
        )
    if meta.get(_CHECKSUM_KEY) != _checksum(tensors, meta):
        raise r.error("checksum mismatch: the file is corrupted (its content changed after it was written)")
    kind = meta.get("kind")
    if kind in _ESTIMATORS:
        obj = _decode_estimator(r, "", int(version), kind)
    elif kind == "Pipeline":
        obj = _decode_pipeline(r, int(version))
    else:
        expected = ", ".join(repr(k) for k in [*sorted(_ESTIMATORS), "Pipeline"])
        raise r.error(f"unknown kind {kind!r}; expected one of {expected}")
    unused = sorted(set(tensors) - r.used)
    if unused:
        raise r.error(f"unexpected tensors {unused[:5]} (inconsistent with the stored configuration)")
    return obj


def _decode_pipeline(r, version):
    steps = r.json("steps", list)
    if not steps or not all(
        isinstance(s, list)
        and len(s) == 2
        and isinstance(s[0], str)
        and isinstance(s[1], str)
        and (s[1] in _ESTIMATORS if i == len(steps) - 1 else s[1] in SCALER_DECODERS)
        for i, s in enumerate(steps)
    ):
        raise r.error(
            "metadata entry 'steps' must list StandardScaler or SequenceScaler steps followed by one "
            "FastGRNNClassifier or FastGRNNRegressor"
        )
    for name, kind in steps[:-1]:
        if _SCALER_VERSIONS[kind] > version:
            raise r.error(
                f"step {name!r} is a {kind}, which format version {version} cannot hold (it needs format version "
                f"{_SCALER_VERSIONS[kind]}): the file is inconsistent"
            )
    built = [
        (
            name,
            _decode_estimator(r, f"step{i}.", version, kind)
            if kind in _ESTIMATORS
            else SCALER_DECODERS[kind](r, f"step{i}."),
        )
        for i, (name, kind) in enumerate(steps)
    ]

    def fail(problem):
        raise r.error(problem)

    _check_widths(built, fail)
    try:
        return Pipeline(built)
    except (TypeError, ValueError) as exc:
        raise r.error(f"invalid pipeline steps: {exc}") from None


def load(path):
    """Load a model saved by :func:`save`: a FastGRNNClassifier, a FastGRNNRegressor or a Pipeline.

    Loading parses JSON and copies numbers; it never executes code from the
    file (unlike pickle). Every tensor is checked against the stored
    configuration and the checksum before the model is built.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save` or ``FastGRNNClassifier.save``.

    Returns
    -------
    FastGRNNClassifier, FastGRNNRegressor or Pipeline
        Fitted; predictions equal those of the saved object.

    Raises
    ------
    ModelFileError
        The file is truncated, corrupted, not a skfastgrnn file, from a newer
        format version, or inconsistent; the message names the file.
    OSError
        The file cannot be read.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    See :func:`save`.
    """
    path = os.fspath(path)
    return loads(read_model_file(path), path)
