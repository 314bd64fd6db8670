"""The public face of integer-only inference: :class:`IntegerModel` (the device's arithmetic in Python).

It validates and orchestrates only: the fixed-point design and its numpy
reference are in :mod:`skfastgrnn._integer`, the C writer in
:mod:`skfastgrnn._export_c_int`; both read :func:`describe_integer`.
"""

import copy

import numpy as np

from ._export_common import _unpack, describe_network
from ._integer import DEFAULT_INPUT_RANGE, IntegerNetwork, int_softmax
from ._sequences import as_steps
from ._validation import as_rows


def describe_integer(model, what, input_range=DEFAULT_INPUT_RANGE):
    """The :class:`~skfastgrnn._integer.IntegerNetwork` of a fitted model or Pipeline.

    A model that is not quantized is quantized on a copy, exactly as its
    ``quantize()`` would (the caller's model is not changed).
    """
    est, _ = _unpack(model, what)
    if est.network_.quantization is None:
        model = copy.deepcopy(model)
        est, _ = _unpack(model, what)
        est.quantize()
    if not isinstance(input_range, (int, float)) or isinstance(input_range, bool):
        raise TypeError(f"input_range must be a number; got {type(input_range).__name__}.")
    return IntegerNetwork(describe_network(model, what), float(input_range))


def input_channels_first(model):
    """Whether ``model`` reads 3-D arrays as ``(n, D, T)`` (and sequences as ``(D, T_i)``).

    True for a Pipeline whose first step is a ``SequenceScaler(channels_first=True)``: the layout the
    Pipeline's ``predict`` expects (its steps after the first read steps first, as the scaler returns).
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline):
        return False
    steps = [est for _, est in model.steps if est is not None and est != "passthrough"]
    return bool(steps and getattr(steps[0], "channels_first", False))


class IntegerModel:
    """A fitted model run in the integer-only arithmetic of ``export_c(..., integer_only=True)``.

    The exported C code, compiled for any target, gives the same integer
    scores, classes and outputs bit for bit: what a microcontroller without a
    floating-point unit will predict, before flashing it. The format: int8
    weights (a float model is quantized on a copy as ``quantize()`` would),
    each raw float input read from its bits as a fixed-point integer and
    scaled in integers to int16, Q12 states and activations, int32 sums
    requantized by an integer multiplier and shift, table-based tanh and
    sigmoid (``docs/export.md``, "Integer-only inference").

    Parameters
    ----------
    model : FastGRNNClassifier, FastGRNNRegressor or Pipeline
        Fitted, as :func:`~skfastgrnn.export_c` takes it (the statistics of
        a StandardScaler / SequenceScaler step before the estimator are
        applied in integer arithmetic). 3-D input and sequences are read in
        the layout the model's ``predict`` reads: ``(n, D, T)`` and
        ``(D, T_i)`` when the Pipeline's first step is a
        ``SequenceScaler(channels_first=True)``.
    input_range : float, default=16.0
        Standardized inputs are represented as int16 on ``[-input_range,
        input_range)`` (rounded to a power of two; larger values saturate).

    Attributes
    ----------
    classes_ : ndarray or None
        The classifier's classes (None for a regressor).
    input_frac_ : int
        Fractional bits of the quantized input (11 for ``input_range=16``).
    channels_first_ : bool
        Whether 3-D input is read as ``(n, D, T)``: the Pipeline's first step
        is a ``SequenceScaler(channels_first=True)``.

    See Also
    --------
    export_c : With ``integer_only=True``, the same arithmetic in C.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, IntegerModel
    >>> X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    >>> clf = FastGRNNClassifier(hidden_dim=8, n_timesteps=2, epochs=5, random_state=0).fit(X, y)
    >>> device = IntegerModel(clf)
    >>> bool((device.predict(X) == clf.predict(X)).mean() > 0.95)
    True
    """

    def __init__(self, model, *, input_range=DEFAULT_INPUT_RANGE):
        self.network = describe_integer(model, "IntegerModel", input_range)
        self.channels_first_ = input_channels_first(model)
        self.classes_ = self.network.classes
        self.input_frac_ = self.network.input_frac

    @property
    def is_regressor(self):
        """Whether the model is a regressor (no classes)."""
        return self.classes_ is None

    def _rows(self, X):
        """``X`` as the C code reads it: rows of ``T * D`` values, shorter sequences NaN-padded, longer ones cut."""
        net = self.network
        rows, steps = as_rows(as_steps(X, channels_first=self.channels_first_), net.T, net.D)
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != steps * net.D:
            raise ValueError(
                f"X has shape {rows.shape}; the model reads rows of {net.T * net.D} values "
                f"({net.T} timesteps x {net.D} features), "
                + (
                    f"3-D arrays (n, {net.D}, T) or lists of ({net.D}, T_i) (channels first)."
                    if self.channels_first_
                    else f"3-D arrays (n, T, {net.D}) or lists of (T_i, {net.D})."
                )
            )
        if steps != net.T:  # 3-D input or sequences of another length: C reads T steps at most
            rows = rows.reshape(len(rows), steps, net.D)[:, : net.T]
            pad = np.full((len(rows), net.T - rows.shape[1], net.D), np.nan)
            rows = np.concatenate([rows, pad], axis=1).reshape(len(rows), -1)
        return rows

    def scores(self, X):
        """Compute the integer scores: Q12 logits of a classifier, a regressor's outputs times ``2^out_frac``.

        Parameters
        ----------
        X : array-like of shape (n_samples, T * D), or sequences
            Raw rows (NaN-padded after a shorter sequence's end), as the model's ``predict`` takes them.

        Returns
        -------
        ndarray of int64 of shape (n_samples, n_outputs)
            What ``<name>_scores`` of the exported C code writes.
        """
        return self.network.scores(self._rows(X))

    def decision_function(self, X):
        """Return the classifier's logits, ``scores(X) / 4096``.

        Parameters
        ----------
        X : array-like of shape (n_samples, T * D), or sequences
            Raw rows.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The Q12 scores as floats.
        """
        self._need_classifier("decision_function")
        return self.scores(X) / 4096.0

    def predict_proba(self, X):
        """Estimate class probabilities: the integer softmax of the scores, as C's ``<name>_proba`` (float32).

        Parameters
        ----------
        X : array-like of shape (n_samples, T * D), or sequences
            Raw rows.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in ``classes_`` order.
        """
        self._need_classifier("predict_proba")
        return int_softmax(self.scores(X)).astype(np.float64)

    def predict(self, X):
        """Predict classes (argmax of the integer scores, first on ties) or a regressor's outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, T * D), or sequences
            Raw rows.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or the outputs in float32 precision (1-D for one target).
        """
        s = self.scores(X)
        if self.is_regressor:
            out = self.network.outputs(s).astype(np.float64)
            return out[:, 0] if out.shape[1] == 1 else out
        return self.classes_[np.argmax(s, axis=1)]

    def score(self, X, y):
        """Return the accuracy (classifier) or R^2 (regressor) of the integer predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, T * D), or sequences
            Raw rows.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or targets.

        Returns
        -------
        float
            The score.
        """
        pred = self.predict(X)
        y = np.asarray(y)
        if not self.is_regressor:
            return float(np.mean(pred == y))
        y = y.reshape(pred.shape)
        residual = ((y - pred) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        return float(np.mean(1.0 - residual / total))

    def _need_classifier(self, what):
        if self.is_regressor:
            raise AttributeError(f"IntegerModel.{what} is for classifiers; this model is a regressor (use predict).")
