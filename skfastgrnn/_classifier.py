"""FastGRNNClassifier: the scikit-learn classifier.

Classification on top of :class:`~skfastgrnn._estimator.BaseFastGRNN`:
labels to class indices, cross-entropy (or distillation) loss, a stratified
validation split, probabilities from the softmax of the network's outputs.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets

from ._cells import log_softmax, softmax
from ._estimator import ATTRIBUTES_DOC, PARAMETERS_DOC, BaseFastGRNN
from ._persist import storable
from ._train import LOSSES
from ._validation import check_classes, validation_split

#: rows encoded per call of np.searchsorted in ``_encode_targets``
_ENCODE_CHUNK = 65536


@storable
class FastGRNNClassifier(ClassifierMixin, BaseFastGRNN):
    __doc__ = (
        """FastGRNN recurrent classifier trained with BPTT and Adam.

    A tiny gated RNN (Kusupati et al., NeurIPS 2018) reads each row as a
    sequence of ``n_timesteps`` steps; a softmax layer on the last hidden state
    gives the class probabilities. Training is mini-batch Adam with a stratified
    validation split, early stopping that restores the best weights, step
    learning-rate decay, gradient clipping and L2.

"""
        + PARAMETERS_DOC
        + """    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
"""
        + ATTRIBUTES_DOC
        + """    See Also
    --------
    DistilledFastGRNN : Trains a FastGRNNClassifier student from a teacher's soft targets.
    SequenceScaler : Per-channel standardization of sequences, the usual step before it.
    sklearn.neural_network.MLPClassifier : The feed-forward network with the same API.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfastgrnn import FastGRNNClassifier
    >>> X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    >>> model = make_pipeline(StandardScaler(), FastGRNNClassifier(epochs=20, random_state=0))
    >>> model.fit(X, y).score(X, y) > 0.8
    True
"""
    )

    #: scikit-learn's target checks for validate_data: one label per row
    _target_checks = {}
    #: what a model that learned nothing predicts (the convergence warning's words)
    _prior_description = "the loss of predicting the class frequencies"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_step_features) or (n_samples, T, D)
            Rows laid out timestep-major: ``[x_1, ..., x_T]``.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each batch's loss is the weighted mean.

        Returns
        -------
        self : FastGRNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_distilled(self, X, y, soft_targets, *, temperature=3.0, alpha=0.7, sample_weight=None, classes=None):
        """Train on (X, y) with the knowledge-distillation loss against a teacher's soft targets.

        The loss is ``alpha * T^2 * CE(softmax(z / T), q) + (1 - alpha) *
        CE(softmax(z), y)`` (Hinton et al., 2015): ``q`` are the teacher's
        probabilities at temperature ``T``. This is the hook
        :class:`~skfastgrnn.DistilledFastGRNN` trains its student with; use it
        directly to distil from probabilities you computed yourself.
        Everything else is as :meth:`fit` (warm start, validation split and
        early stopping on the plain cross-entropy).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Class labels.
        soft_targets : array-like of shape (n_samples, n_classes)
            Teacher probabilities, rows summing to 1, columns in the order of
            the sorted classes.
        temperature : float, default=3.0
            Temperature ``T`` of the soft term.
        alpha : float in [0, 1], default=0.7
            Weight of the soft term.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.
        classes : array-like or None, default=None
            All classes (when ``y`` may lack some the teacher knows).

        Returns
        -------
        self : FastGRNNClassifier
            The fitted estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
        >>> q = np.where(y[:, None] == [0, 1], 0.9, 0.1)  # a teacher's probabilities
        >>> clf = FastGRNNClassifier(epochs=5, random_state=0).fit_distilled(X, y, q, temperature=2.0)
        >>> clf.predict_proba(X).shape
        (200, 2)
        """
        if not (isinstance(temperature, Real) and temperature > 0):
            raise ValueError(f"temperature must be a positive number; got {temperature!r}.")
        if not (isinstance(alpha, Real) and 0 <= alpha <= 1):
            raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}.")
        return self._fit(
            X, y, sample_weight, incremental=False, classes=classes, distill=(soft_targets, temperature, alpha)
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), keeping the Adam state between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; later calls may bring sequences of other lengths.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes that will ever be seen; required on the first
            call, ignored (but checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.

        Returns
        -------
        self : FastGRNNClassifier
            The updated estimator.

        Notes
        -----
        No validation split and no learning-rate decay: every call uses
        ``learning_rate`` for one pass over the given rows.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------------ targets

    def _check_first_partial_fit(self, first_partial_fit, classes):
        if first_partial_fit and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")

    def _encode_targets(self, y, first_call, classes):
        """Class indices of ``y``; sets ``classes_`` at the first call."""
        check_classification_targets(y)
        if first_call:
            all_classes = np.unique(y) if classes is None else check_classes(classes, y)
            if len(all_classes) < 2:
                raise ValueError(
                    f"FastGRNNClassifier needs samples of at least 2 classes; got 1 class: {all_classes[0]!r}."
                )
            self.classes_ = all_classes
        else:
            if classes is not None and not np.array_equal(check_classes(classes, y), self.classes_):
                raise ValueError(f"classes={classes!r} differs from the classes of the first call, {self.classes_!r}.")
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if len(unseen):
                raise ValueError(
                    f"y has labels {unseen!r} the model was not trained with ({self.classes_!r}); "
                    "fit a new model (warm_start=False) to add classes."
                )
        # chunk by chunk into the smallest dtype: searchsorted's int64 result
        # for all rows at once would be 8 bytes a row at the fit's peak
        indices = np.empty(len(y), dtype=np.min_scalar_type(max(len(self.classes_) - 1, 0)))
        for start in range(0, len(y), _ENCODE_CHUNK):
            stop = start + _ENCODE_CHUNK
            indices[start:stop] = np.searchsorted(self.classes_, y[start:stop])
        return indices

    def _n_outputs(self):
        return len(self.classes_)

    def _make_loss(self, X, y_idx, distill):
        """Cross-entropy on the class indices, or distillation against ``distill = (soft_targets, T, alpha)``."""
        if distill is None:
            return LOSSES["cross_entropy"](y_idx)
        soft_targets, temperature, alpha = distill
        soft_targets = np.asarray(soft_targets, dtype=X.dtype)
        if soft_targets.shape != (X.shape[0], len(self.classes_)):
            raise ValueError(
                f"soft targets have shape {soft_targets.shape}; expected {(X.shape[0], len(self.classes_))}."
            )
        return LOSSES["distillation"](y_idx, soft_targets, float(temperature), float(alpha))

    def _validation_rows(self, y_idx, rng):
        return validation_split(y_idx, len(self.classes_), self.validation_split, rng)

    # -------------------------------------------------------------- predict

    def decision_function(self, X):
        """Decision scores (logits) of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; 3-D input and lists may have any number of steps.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the difference of the logits (> 0 favours
            ``classes_[1]``), else the logits.
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; 3-D input and lists may have any number of steps.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in ``classes_`` order.
        """
        logits = self._logits(X)
        return softmax(logits, out=logits)  # a fresh array: no second output-sized copy

    def predict_log_proba(self, X):
        """Log of the class probabilities, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; 3-D input and lists may have any number of steps.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log of :meth:`predict_proba`, columns in ``classes_`` order.
        """
        logits = self._logits(X)
        return log_softmax(logits, out=logits)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; 3-D input and lists may have any number of steps.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        # the argmax of each chunk: no n x classes array is kept
        best = self._logits(X, reduce=_argmax_rows)
        return self.classes_[best]


def _argmax_rows(logits):
    return np.argmax(logits, axis=1)
