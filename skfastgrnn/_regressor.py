"""FastGRNNRegressor: the scikit-learn regressor.

Regression on top of :class:`~skfastgrnn._estimator.BaseFastGRNN`: one or
several real targets, half the mean squared error as the loss, a shuffled
validation split, the network's outputs as predictions.

Targets are standardized inside (each output's mean and standard deviation at
the first fit, ``target_mean_`` and ``target_scale_``) and the scaling is
folded into the output layer after training, so the fitted network, a saved
file, the C code and the ONNX graph all predict in the original units with no
extra step, and no ``TransformedTargetRegressor`` is needed.
"""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context

from ._estimator import ATTRIBUTES_DOC, PARAMETERS_DOC, BaseFastGRNN
from ._persist import storable
from ._train import LOSSES
from ._validation import shuffled_validation_split


@storable
class FastGRNNRegressor(RegressorMixin, BaseFastGRNN):
    __doc__ = (
        """FastGRNN recurrent regressor trained with BPTT and Adam.

    The same tiny gated RNN as :class:`FastGRNNClassifier` reads each row as
    a sequence of ``n_timesteps`` steps; a linear layer on the last hidden
    state gives one value per target. The loss is half the mean squared
    error (weighted by ``sample_weight``), averaged over the targets.
    Targets are standardized inside and the scaling folded back into the
    output layer after training (see ``target_mean_``), so predictions, saved
    files and exported C / ONNX models are in the original units.

"""
        + PARAMETERS_DOC
        + """    Attributes
    ----------
    n_outputs_ : int
        Number of targets (columns of a 2-D ``y``; 1 for a 1-D ``y``, and
        ``predict`` then returns a 1-D array).
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        The targets' mean and standard deviation at the first fit (or the
        first ``partial_fit``), used to standardize them during training;
        later warm-start fits and ``partial_fit`` calls keep them. A constant
        target gets a scale of 1.
"""
        + ATTRIBUTES_DOC.replace(
            "train_accuracy,\n        val_accuracy", "train_accuracy,\n        val_accuracy (None for the regressor)"
        )
        + """    See Also
    --------
    FastGRNNClassifier : The classifier with the same network and training.
    sklearn.neural_network.MLPRegressor : The feed-forward network with the same API.

    Notes
    -----
    The losses in ``history_`` are on the standardized targets: 0.5 is the
    loss of predicting each target's mean.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn import FastGRNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 10))  # 10 steps of one feature
    >>> y = 100 + 10 * X[:, :3].sum(axis=1)  # the sum of the first three steps
    >>> model = FastGRNNRegressor(n_timesteps=10, epochs=60, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.9
    True
    """
    )

    #: scikit-learn's target checks for validate_data: numbers, one or several per row
    _target_checks = {"multi_output": True, "y_numeric": True}
    #: what a model that learned nothing predicts (the convergence warning's words)
    _prior_description = "the loss of predicting the mean target"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_step_features) or (n_samples, T, D)
            Rows laid out timestep-major: ``[x_1, ..., x_T]``; or a list of
            ``(T_i, D)`` arrays.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each batch's loss is the weighted mean.

        Returns
        -------
        self : FastGRNNRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), keeping the Adam state between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; later calls may bring sequences of other lengths.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values; the first call fixes the number of targets and
            their standardization.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`fit`.

        Returns
        -------
        self : FastGRNNRegressor
            The updated estimator.

        Notes
        -----
        No validation split and no learning-rate decay: every call uses
        ``learning_rate`` for one pass over the given rows.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    # ------------------------------------------------------------ targets

    def _encode_targets(self, y, first_call, classes):
        """Standardized targets, shape (n_samples, n_outputs); sets the target statistics at the first call."""
        Y = np.asarray(y, dtype=np.float64)
        Y = Y.reshape(len(Y), -1)
        if first_call:
            self.n_outputs_ = Y.shape[1]
            self.target_mean_ = Y.mean(axis=0)
            scale = Y.std(axis=0)
            self.target_scale_ = np.where(scale > 0, scale, 1.0)
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} target(s); the model was fitted with {self.n_outputs_}. "
                "Fit a new model (warm_start=False) to change the targets."
            )
        return (Y - self.target_mean_) / self.target_scale_

    def _n_outputs(self):
        return self.n_outputs_

    def _make_loss(self, X, Y, distill):
        """Squared error on the standardized targets (in the rows' dtype)."""
        if distill is not None:
            raise ValueError("FastGRNNRegressor has no distillation loss.")
        return LOSSES["squared_error"](Y.astype(X.dtype, copy=False))

    def _validation_rows(self, Y, rng):
        return shuffled_validation_split(len(Y), self.validation_split, rng)

    def _to_training_scale(self, network):
        """Unfold the target scaling from the output layer: outputs in standardized units again."""
        w = network.weights
        w["b_out"][...] = (w["b_out"] - self.target_mean_) / self.target_scale_
        w["W_out"][...] = w["W_out"] / self.target_scale_
        return network

    def _to_output_scale(self, network):
        """Fold the target scaling into the output layer: ``y = scale * out + mean``."""
        w = network.weights
        w["W_out"][...] = w["W_out"] * self.target_scale_
        w["b_out"][...] = w["b_out"] * self.target_scale_ + self.target_mean_

    # -------------------------------------------------------------- predict

    def predict(self, X):
        """Predicted target values of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, T, D), or list of (T_i, D) arrays
            Rows as in :meth:`fit`; 3-D input and lists may have any number of steps.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when the model has one target.
        """
        outputs = self._logits(X)
        return outputs.ravel() if self.n_outputs_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
