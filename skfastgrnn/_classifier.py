"""FastGRNNClassifier: the scikit-learn estimator.

It validates, orchestrates and holds state; the maths is in ``_cells``, the
optimizer in ``_optim`` and the loop in ``_train``.
"""

import sys
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, check_X_y, validate_data

from ._cells import CELLS, NONLINEARITIES, Layout, log_softmax, softmax
from ._deploy import DeploymentMixin
from ._optim import adam_state
from ._sequences import as_steps, fold_steps, step_padding
from ._train import LEARNED_FRACTION, STILL_IMPROVING_FRACTION, TrainingConfig, predict_logits, train

#: parameters that fix the shape of the network: warm_start cannot change them
_ARCHITECTURE = (
    "hidden_dim",
    "cell",
    "rank",
    "u_rank",
    "gate_nonlinearity",
    "update_nonlinearity",
    "n_timesteps",
    "fold",
)


@contextmanager
def _restore_on_error(estimator):
    """Leave the estimator exactly as it was if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


class FastGRNNClassifier(DeploymentMixin, ClassifierMixin, BaseEstimator):
    """FastGRNN recurrent classifier trained with BPTT and Adam.

    A tiny gated RNN (Kusupati et al., NeurIPS 2018) reads each row as a
    sequence of ``n_timesteps`` steps; a softmax layer on the last hidden state
    gives the class probabilities. Training is mini-batch Adam with a stratified
    validation split, early stopping that restores the best weights, step
    learning-rate decay, gradient clipping and L2.

    Parameters
    ----------
    hidden_dim : int, default=32
        Number of hidden units. 32 rather than 16: on the eight data sets of
        the time-series benchmark hidden 32 was more accurate on six and by
        3.3 points on average (``benchmarks/bench_defaults.py``, table in the
        user guide), and the model is still a few KB.
    cell : {"fastgrnn", "fastrnn", "guide"}, default="fastgrnn"
        ``"fastgrnn"``: the paper's cell (shared W and U, trainable zeta and
        nu). ``"fastrnn"``: the paper's FastRNN (trainable alpha, beta).
        ``"guide"``: the Tiny Dancer guide's cell (separate reset, update and
        candidate input matrices, fixed nu=0.8 and zeta=1.2). Equations in
        ``skfastgrnn._cells`` and the user guide.
    rank : int or None, default=None
        Rank of the input matrix, ``W = W1 W2``; None (or a rank not below
        the matrix's smaller side) keeps W full.
    u_rank : int or None, default=None
        Rank of the recurrent matrix, ``U = U1 U2``.
    gate_nonlinearity : {"sigmoid", "quantSigm", "quantSigm4", "tanh", "quantTanh", "relu"}, default="sigmoid"
        Nonlinearity of the gate(s). ``quantSigm`` is ``clip((x + 1) / 2, 0, 1)``.
    update_nonlinearity : same choices, default="tanh"
        Nonlinearity of the candidate state. ``quantTanh`` is ``clip(x, -1, 1)``.
    n_timesteps : int, default=1
        Number of steps each row is split into: a row of width ``T * D`` is
        read as ``[x_1, ..., x_T]``, each of ``D`` features. 1 means one row is
        one step. Ignored for 3-D input ``(n_samples, n_timesteps, n_features)``
        and lists of ``(n_timesteps_i, n_features)`` arrays, which carry their
        steps. Sequences of different lengths: a list of arrays, or rows padded
        with NaN after each end (a step whose features are all NaN is padding;
        the cell keeps its state over padding).
    fold : int >= 1 or "auto", default="auto"
        Read ``fold`` consecutive timesteps as one step of ``fold * D``
        features, so the recurrence runs ``fold`` times fewer steps (long
        series are where recurrent cells are weakest). A sequence whose
        length is not a multiple of ``fold`` ends in a folded step completed
        with zeros. ``"auto"``: 1 for up to 64 timesteps, else
        ``ceil(T / 32)`` (about 32 folded steps; ``fold_`` is the value
        used). On the four long series of the time-series benchmark
        (251-1460 steps) "auto" beat ``fold=1`` by 7-31 points on three
        (OSULeaf, ACSF1, PickupGestureWiimoteZ), lost 6 on ArrowHead, and fit
        6-60 times faster (``benchmarks/bench_ucr.py``). Folding into about 16
        steps instead was less accurate on all four, into about 8 on three of
        the four (ArrowHead gained 19 points; ``benchmarks/bench_defaults.py``).
    learning_rate : float, default=0.01
        Initial Adam step size (the paper's value; the guide's 0.001 needs
        many more epochs on small data).
    batch_size : int or "auto", default="auto"
        Mini-batch size (capped at the number of training rows). ``"auto"``:
        ``min(32, max(8, n_rows // 4))``, i.e. 32 except on small data, which
        gets at least 4 Adam steps per epoch. On the time-series benchmark
        32 left the tiny sets (20-100 training rows) with 1-4 steps per epoch
        and underfitted: ``"auto"`` gained 14 points on ArrowHead and 7 on
        ACSF1 and lost nothing elsewhere (``benchmarks/bench_defaults.py``).
    epochs : int, default=100
        Maximum number of passes over the training rows.
    validation_split : float in [0, 1), default=0.0
        Fraction of rows held out, stratified by class and seeded by
        ``random_state``, to compute ``val_loss`` / ``val_accuracy`` and to
        drive early stopping. 0 (the default) trains on every row and early
        stopping watches the training loss, as scikit-learn's MLPClassifier
        does by default. On the time-series benchmark a 10% split lost 5.9
        points on average and up to 18 on one set (tiny sets, 20-100 rows,
        lose rows they need and stop on the noise of a 2-10 row validation
        loss; digits, 1,257 rows, lost 1.8). Use it on large data to stop
        before overfitting. With too few rows for a
        stratified split (fewer than 2 per class, or fewer validation rows
        than classes) training uses all rows and warns.
    early_stopping_patience : int or None, default=20
        Stop after this many epochs without a lower validation loss (training
        loss when there is no validation set) and restore the weights of the
        best epoch. None trains for ``epochs`` epochs and keeps the last weights.
        The default equals ``lr_decay_step`` so that a plateau gets one
        learning-rate decay before training stops (the guide's 10 stopped
        before the first decay and lost about 0.5 point on digits). A model
        whose loss is still above 95% of the loss of predicting the class
        frequencies has not started to learn, and training goes on: a memory
        task sits on that plateau for tens of epochs before its breakthrough.
        A ``ConvergenceWarning`` says when the model learned nothing, or when
        the budget ran out while the last ``early_stopping_patience`` epochs
        still made more than 20% of the loss decrease. On the time-series
        benchmark, runs stopped at 30 epochs that 70 more epochs improved by
        9-10 points (ACSF1, ArrowHead) had made 35-56% of their decrease in
        their last 20 epochs; runs that more epochs improved by at most 1
        point had made 0-20% (ItalyPowerDemand and JapaneseVowels at 30
        epochs, every set at 100): a training loss that keeps shrinking on a
        tiny training set is not a model that needs more epochs.
    lr_decay : float in (0, 1], default=0.5
        The learning rate is multiplied by ``lr_decay`` every ``lr_decay_step``
        epochs: ``lr = learning_rate * lr_decay ** (epoch // lr_decay_step)``.
    lr_decay_step : int >= 1, default=20
        Epochs between two learning-rate decays (see ``lr_decay``).
    grad_clip : float or None, default=5.0
        Gradient clipping threshold; None disables clipping.
    grad_clip_mode : {"value", "norm"}, default="value"
        ``"value"`` clips each gradient entry to ``[-grad_clip, grad_clip]``
        (the guide's meaning); ``"norm"`` rescales the whole gradient when its
        global L2 norm exceeds ``grad_clip``.
    adam_beta1 : float in [0, 1), default=0.9
        Adam's decay rate of the first-moment (mean) estimate.
    adam_beta2 : float in [0, 1), default=0.999
        Adam's decay rate of the second-moment (uncentred variance) estimate.
    adam_epsilon : float > 0, default=1e-8
        Added to the square root of the second moment, for numerical stability.
    l2_reg : float, default=1e-3
        L2 penalty ``0.5 * l2_reg * ||w||^2`` on the weight matrices (not on
        biases or the gate scalars), added to each batch's mean loss. The
        guide's 1e-5 is for large data; 1e-3 gained 1-2 points on digits and
        lost nothing on routing data.
    w_sparsity, u_sparsity : float in [0, 1), default=0.0
        Sparse training as in the paper: the fraction of the entries of each
        input matrix (W, or W1 and W2) and each recurrent matrix (U, or U1
        and U2) that end up ZERO (0.3 removes 30%, like ``prune(0.3)``). When
        either is positive, ``fit`` runs three phases over ``epochs``: the
        first third dense, the second third iterative hard thresholding
        (every 15 batches keep the largest-magnitude entries), the last third
        retraining with the support fixed; early stopping only acts in the
        last phase. The support then stays fixed in later warm-start fits,
        and ``size_report()`` counts the zeros.
    shuffle : bool, default=True
        Shuffle the training rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialization, the validation split and the shuffling: the
        same value gives bit-identical weights.
    warm_start : bool, default=False
        ``fit`` continues from the current weights (with a fresh Adam state)
        instead of starting over: fine-tuning on new data, e.g. with a lower
        learning_rate. Architecture parameters cannot change.
    verbose : int, default=0
        1 prints one line per epoch to stderr.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Width of the (flattened) rows, ``n_timesteps_ * n_step_features_``.
    feature_names_in_ : ndarray of str
        Only when X has string column names.
    n_timesteps_, n_step_features_ : int
        Timesteps and features per timestep of the fitted rows (3-D input and
        lists may have any number of steps at predict time).
    fold_ : int
        Timesteps read as one step of the cell (``fold``, resolved).
    n_iter_ : int
        Epochs run, over all calls to fit (with warm_start) and partial_fit.
    history_ : list of dict
        One entry per epoch: epoch, train_loss, val_loss, train_accuracy,
        val_accuracy, learning_rate, seconds (val_* are None without
        validation; losses are the data loss, without the L2 term).
    best_epoch_ : int
        Epoch whose weights are kept.
    weights_ : dict of str to ndarray
        The named parameters (views of one flat vector). ``zeta_logit`` and
        friends are the values before the sigmoid.

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

    _parameter_constraints = {
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "cell": [StrOptions(set(CELLS))],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "u_rank": [Interval(Integral, 1, None, closed="left"), None],
        "gate_nonlinearity": [StrOptions(set(NONLINEARITIES))],
        "update_nonlinearity": [StrOptions(set(NONLINEARITIES))],
        "n_timesteps": [Interval(Integral, 1, None, closed="left")],
        "fold": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "early_stopping_patience": [Interval(Integral, 1, None, closed="left"), None],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "lr_decay_step": [Interval(Integral, 1, None, closed="left")],
        "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
        "grad_clip_mode": [StrOptions({"value", "norm"})],
        "adam_beta1": [Interval(Real, 0, 1, closed="left")],
        "adam_beta2": [Interval(Real, 0, 1, closed="left")],
        "adam_epsilon": [Interval(Real, 0, None, closed="neither")],
        "l2_reg": [Interval(Real, 0, None, closed="left")],
        "w_sparsity": [Interval(Real, 0, 1, closed="left")],
        "u_sparsity": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_dim=32,
        *,
        cell="fastgrnn",
        rank=None,
        u_rank=None,
        gate_nonlinearity="sigmoid",
        update_nonlinearity="tanh",
        n_timesteps=1,
        fold="auto",
        learning_rate=0.01,
        batch_size="auto",
        epochs=100,
        validation_split=0.0,
        early_stopping_patience=20,
        lr_decay=0.5,
        lr_decay_step=20,
        grad_clip=5.0,
        grad_clip_mode="value",
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        l2_reg=1e-3,
        w_sparsity=0.0,
        u_sparsity=0.0,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.hidden_dim = hidden_dim
        self.cell = cell
        self.rank = rank
        self.u_rank = u_rank
        self.gate_nonlinearity = gate_nonlinearity
        self.update_nonlinearity = update_nonlinearity
        self.n_timesteps = n_timesteps
        self.fold = fold
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.early_stopping_patience = early_stopping_patience
        self.lr_decay = lr_decay
        self.lr_decay_step = lr_decay_step
        self.grad_clip = grad_clip
        self.grad_clip_mode = grad_clip_mode
        self.adam_beta1 = adam_beta1
        self.adam_beta2 = adam_beta2
        self.adam_epsilon = adam_epsilon
        self.l2_reg = l2_reg
        self.w_sparsity = w_sparsity
        self.u_sparsity = u_sparsity
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

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
        self
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight=None, classes=None, distillation=None):
        """fit, and the private knowledge-distillation path.

        ``distillation`` is None or ``(soft_targets, temperature, alpha)``,
        ``soft_targets`` of shape (n_samples, len(classes)) with columns in the
        order of ``np.unique(classes)`` (DistilledFastGRNN's contract).
        """
        warm = self.warm_start and self.__sklearn_is_fitted__()
        with _restore_on_error(self):
            X, y_idx, weight, n_steps = self._validate_training_data(
                X, y, sample_weight, first_call=not warm, classes=classes
            )
            if distillation is not None:
                soft_targets, temperature, alpha = distillation
                if soft_targets.shape != (X.shape[0], len(self.classes_)):
                    raise ValueError(
                        f"soft targets have shape {soft_targets.shape}; expected {(X.shape[0], len(self.classes_))}."
                    )
                distillation = (np.asarray(soft_targets, dtype=X.dtype), temperature, alpha)
            rng = check_random_state(self.random_state)
            layout, theta = self._start_params(X.shape[1], warm, rng, X.dtype)
            train_idx, val_idx = self._split(y_idx, rng)
            optimizer = adam_state(theta.size, theta.dtype)
            result = self._run(
                layout,
                theta,
                (X, n_steps),
                y_idx,
                weight,
                optimizer,
                rng,
                train_idx,
                val_idx,
                warm,
                distillation=distillation,
            )
            _warn_about_convergence(self, result)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), keeping the Adam state between calls.

        Parameters
        ----------
        X, y, sample_weight : as in :meth:`fit`
        classes : array-like of shape (n_classes,), default=None
            All the classes that will ever be seen; required on the first
            call, ignored (but checked) afterwards.

        Returns
        -------
        self

        Notes
        -----
        No validation split and no learning-rate decay: every call uses
        ``learning_rate`` for one pass over the given rows.
        """
        first = not self.__sklearn_is_fitted__()
        with _restore_on_error(self):
            if first and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            X, y_idx, weight, n_steps = self._validate_training_data(
                X, y, sample_weight, first_call=first, classes=classes
            )
            rng = check_random_state(self.random_state)
            if first:
                layout, theta = self._start_params(X.shape[1], False, rng, X.dtype)
                optimizer = adam_state(theta.size, theta.dtype)
            else:
                layout, theta = self._layout, self._theta.copy()
                optimizer = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._optimizer.items()}
                # a different shuffle every call, still reproducible
                rng = np.random.RandomState(rng.randint(2**31 - 1) ^ self.n_iter_)
            rows = np.arange(X.shape[0])
            self._run(layout, theta, (X, n_steps), y_idx, weight, optimizer, rng, rows, None, warm=not first, epochs=1)
        return self

    def _validate_training_data(self, X, y, sample_weight, first_call, classes=None):
        X, n_steps = self._as_rows(X, fitting=first_call)
        # float32 input trains in float32 (faster, like torch); anything else in
        # float64. A fitted model keeps its dtype.
        dtype = [np.float64, np.float32] if first_call else self._theta.dtype
        if first_call or n_steps == self.n_timesteps_:
            X, y = validate_data(self, X, y, reset=first_call, dtype=dtype, ensure_all_finite="allow-nan")
        else:  # sequences of another length than the first fit's: any length is fine for the cell
            X, y = check_X_y(X, y, dtype=dtype, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        if first_call:
            if X.shape[1] % self.n_timesteps_ != 0:
                raise ValueError(
                    f"X has {X.shape[1]} columns, which cannot be split into n_timesteps="
                    f"{self.n_timesteps_} equal steps; the width must be a multiple of n_timesteps "
                    "(rows are laid out [x_1, ..., x_T])."
                )
            self.n_step_features_ = X.shape[1] // self.n_timesteps_
            all_classes = np.unique(y) if classes is None else _check_classes(classes, y)
            if len(all_classes) < 2:
                raise ValueError(
                    f"FastGRNNClassifier needs samples of at least 2 classes; got 1 class: {all_classes[0]!r}."
                )
            self.classes_ = all_classes
        else:
            if classes is not None and not np.array_equal(_check_classes(classes, y), self.classes_):
                raise ValueError(f"classes={classes!r} differs from the classes of the first call, {self.classes_!r}.")
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if len(unseen):
                raise ValueError(
                    f"y has labels {unseen!r} the model was not trained with ({self.classes_!r}); "
                    "fit a new model (warm_start=False) to add classes."
                )
        _check_padding(X, n_steps)
        if first_call:
            self.fold_ = _resolve_fold(self.fold, self.n_timesteps_)
        X, n_steps = fold_steps(X, n_steps, self.fold_)
        y_idx = np.searchsorted(self.classes_, y)
        weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        if not weight.sum() > 0:
            raise ValueError("sample_weight must contain at least one positive weight; all weights are zero.")
        return X, y_idx, weight, n_steps

    def _as_rows(self, X, fitting):
        """Any accepted layout as 2-D rows ``[x_1, ..., x_T]``, and the T of this input.

        3-D arrays ``(n, T, D)`` are flattened; a list of ``(T_i, D)`` arrays is
        padded with NaN after each end first. At fit, T comes from 3-D input
        (``n_timesteps`` must then be 1 or agree); afterwards 3-D input and
        lists may have any number of steps (the cell reads any length), but
        the same D.
        """
        if fitting:
            self.n_timesteps_ = self.n_timesteps
        X = as_steps(X)
        if getattr(X, "ndim", None) != 3:
            return X, self.n_timesteps_
        n, T, D = X.shape
        if fitting:
            if self.n_timesteps not in (1, T):
                raise ValueError(
                    f"X is 3-D with {T} timesteps but n_timesteps={self.n_timesteps}; "
                    "leave n_timesteps=1 for 3-D input or make them agree."
                )
            if T < D:
                warnings.warn(
                    f"X has shape {X.shape}, read as (n_samples, n_timesteps, n_features): {T} timestep(s) of {D} "
                    "features. aeon and sktime give (n_samples, n_channels, n_timesteps): if that is your layout, "
                    "use skfastgrnn.SequenceScaler(channels_first=True) before the classifier, or "
                    "np.swapaxes(X, 1, 2).",
                    UserWarning,
                    stacklevel=4,
                )
            self.n_timesteps_ = T
        elif D != self.n_step_features_:
            raise ValueError(
                f"X has {D} features per timestep (shape {X.shape}, read as (n_samples, n_timesteps, n_features)); "
                f"the model was fitted with {self.n_step_features_}."
            )
        return np.reshape(X, (n, T * D)), T

    def _start_params(self, n_features, warm, rng, dtype=np.float64):
        if warm:
            changed = [p for p in _ARCHITECTURE if getattr(self, p) != self._fitted_architecture[p]]
            if changed:
                raise ValueError(
                    f"warm_start=True cannot change {', '.join(changed)}; set warm_start=False to train a new model."
                )
            return self._layout, self._theta.copy()
        layout = Layout(
            self.n_step_features_ * self.fold_,
            self.hidden_dim,
            len(self.classes_),
            self.cell,
            rank=self.rank,
            u_rank=self.u_rank,
        )
        return layout, layout.init(rng, dtype)

    def _split(self, y_idx, rng):
        """Stratified, seeded train/validation row indices."""
        n = len(y_idx)
        all_rows = np.arange(n)
        if self.validation_split == 0:
            return all_rows, None
        n_classes = len(self.classes_)
        n_val = int(np.ceil(self.validation_split * n))
        counts = np.bincount(y_idx, minlength=n_classes)
        if counts[counts > 0].min() < 2 or n_val < n_classes or n - n_val < n_classes:
            warnings.warn(
                f"validation_split={self.validation_split} leaves too few rows for a stratified "
                f"validation set ({n} rows, {n_classes} classes); training on all rows without validation.",
                UserWarning,
                stacklevel=4,
            )
            return all_rows, None
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=rng.randint(2**31 - 1))
        train_idx, val_idx = next(splitter.split(np.zeros(n), y_idx))
        return np.sort(train_idx), np.sort(val_idx)

    def _config(self):
        return TrainingConfig(
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            epochs=self.epochs,
            lr_decay=self.lr_decay,
            lr_decay_step=self.lr_decay_step,
            grad_clip=self.grad_clip,
            grad_clip_mode=self.grad_clip_mode,
            adam_beta1=self.adam_beta1,
            adam_beta2=self.adam_beta2,
            adam_epsilon=self.adam_epsilon,
            l2_reg=self.l2_reg,
            early_stopping_patience=self.early_stopping_patience,
            shuffle=self.shuffle,
            gate=self.gate_nonlinearity,
            update=self.update_nonlinearity,
            w_keep=1.0 - self.w_sparsity,
            u_keep=1.0 - self.u_sparsity,
        )

    def _run(
        self,
        layout,
        theta,
        data,
        y_idx,
        weight,
        optimizer,
        rng,
        train_idx,
        val_idx,
        warm,
        epochs=None,
        distillation=None,
    ):
        """Train, then commit every fitted attribute at once.

        ``data`` is ``(rows, n_timesteps)``: validated 2-D rows, possibly NaN
        padded, and the number of steps they hold. ``epochs`` (partial_fit)
        trains that many epochs at a constant rate with no early stopping;
        ``distillation`` is ``(soft_targets, temperature, alpha)``.
        """
        X, n_steps = data
        config = self._config()
        config.padded = _has_padding(X)
        config.batch_size = _resolve_batch_size(self.batch_size, len(train_idx))
        soft_targets = None
        if distillation is not None:
            soft_targets, config.temperature, config.alpha = distillation
        partial = epochs is not None
        if partial:
            config.epochs = epochs
            config.early_stopping_patience = None
            config.w_keep = config.u_keep = 1.0  # the three phases belong to fit
        history = list(self.history_) if warm else []
        # a loaded model has n_iter_ but no history_ (that travels in the metrics file)
        epochs_before = self.n_iter_ if warm else 0
        log = _stderr_line if self.verbose else None
        result = train(
            layout,
            theta,
            X,
            y_idx,
            weight,
            n_steps,
            config,
            optimizer,
            rng,
            train_idx,
            val_idx,
            first_epoch=epochs_before + 1,
            log=log,
            # pruned weights (a 0/1 vector over theta) stay zero in later training
            support=self._current_support() if warm else None,
            fixed_learning_rate=partial,
            soft_targets=soft_targets,
        )
        if not warm:
            self._reset_deployment_state()  # a new model is neither pruned nor quantized
        if result["support"] is not None:
            self._support = result["support"]
        self._layout = layout
        self._theta = theta
        self._optimizer = optimizer
        self._fitted_architecture = {p: getattr(self, p) for p in _ARCHITECTURE}
        self.history_ = history + result["history"]
        self.n_iter_ = epochs_before + len(result["history"])
        self.best_epoch_ = result["best_epoch"]
        return result

    # -------------------------------------------------------------- predict

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_theta")

    @property
    def weights_(self):
        check_is_fitted(self)
        return self._layout.views(self._theta)

    def _logits(self, X, reduce=None):
        check_is_fitted(self)
        X, n_steps = self._as_rows(X, fitting=False)
        clean = self._is_clean_array(X, n_steps)
        if not clean:
            if n_steps == self.n_timesteps_:
                X = validate_data(self, X, reset=False, dtype=self._theta.dtype, ensure_all_finite="allow-nan")
            else:  # 3-D input of another length: D was checked by _as_rows
                X = check_array(X, dtype=self._theta.dtype, ensure_all_finite="allow-nan")
            _check_padding(X, n_steps)
        X, n_steps = fold_steps(X, n_steps, self.fold_)
        # folding zero-fills partial steps: only whole padding steps stay NaN
        padded = not clean and _has_padding(X)
        return predict_logits(
            self._layout,
            self._theta,
            X,
            n_steps,
            self.gate_nonlinearity_,
            self.update_nonlinearity_,
            reduce=reduce,
            padded=padded,
        )

    def _is_clean_array(self, X, n_steps):
        """True for a finite ndarray that validate_data would pass through unchanged.

        Prediction on a few rows is dominated by scikit-learn's generic input
        checks (about 60 us); this cheap test lets clean input skip them, and
        anything else (lists, frames, other dtypes, NaN, wrong width) still goes
        through validate_data and its errors and warnings.
        """
        return (
            type(X) is np.ndarray
            and X.dtype == self._theta.dtype
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == n_steps * self.n_step_features_
            and not hasattr(self, "feature_names_in_")
            # NaN or inf anywhere makes the sum non-finite (so does an overflowing
            # sum of huge values, which then just takes the slow path); unlike
            # isfinite(X).all() it needs no X-sized mask
            and bool(np.isfinite(X.sum()))
        )

    @property
    def gate_nonlinearity_(self):
        return self._fitted_architecture["gate_nonlinearity"]

    @property
    def update_nonlinearity_(self):
        return self._fitted_architecture["update_nonlinearity"]

    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes (> 0 favours ``classes_[1]``), else (n_samples, n_classes)."""
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        logits = self._logits(X)
        return softmax(logits, out=logits)  # a fresh array: no second output-sized copy

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably."""
        logits = self._logits(X)
        return log_softmax(logits, out=logits)

    def predict(self, X):
        """Most probable class of each row."""
        # the argmax of each chunk: no n x classes array is kept
        best = self._logits(X, reduce=_argmax_rows)
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is accepted only as padding after a sequence's end (whole steps),
        # not as a missing value anywhere: for scikit-learn that is "no NaN"
        tags.input_tags.allow_nan = False
        return tags


def _check_classes(classes, y):
    classes = np.unique(np.asarray(classes))
    unseen = np.setdiff1d(np.unique(y), classes)
    if len(unseen):
        raise ValueError(f"y has labels {unseen!r} that are not in classes={classes!r}.")
    return classes


#: "auto" folds series longer than this many steps (see the ``fold`` parameter)
AUTO_FOLD_ABOVE = 64
#: ... into about this many folded steps
AUTO_FOLD_STEPS = 32


def _resolve_batch_size(batch_size, n_rows):
    """``batch_size``, or the "auto" rule: 32, but at least 4 batches per epoch on small data (8 at least)."""
    if batch_size != "auto":
        return int(batch_size)
    return int(min(32, max(8, n_rows // 4)))


def _resolve_fold(fold, n_timesteps):
    """The number of steps folded into one: ``fold``, or the "auto" rule for ``n_timesteps``."""
    if fold != "auto":
        return int(fold)
    if n_timesteps <= AUTO_FOLD_ABOVE:
        return 1
    return -(-n_timesteps // AUTO_FOLD_STEPS)


def _warn_about_convergence(model, result):
    """ConvergenceWarning when the model learned nothing, or when more epochs would really help."""
    monitor, best = result["monitor"], result["best_loss"]
    if not result["learned"]:
        warnings.warn(
            f"{type(model).__name__} did not learn: the best {monitor} ({best:.4g}) never went below "
            f"{100 * LEARNED_FRACTION:.0f}% of {result['prior_loss']:.4g}, the loss of predicting the class "
            "frequencies. Standardize the inputs (SequenceScaler for sequences, StandardScaler for one-step rows), "
            "lower learning_rate, or raise epochs.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif model.early_stopping_patience is not None and not result["stopped_early"] and result["still_improving"]:
        last = model.history_[-1]["epoch"]
        warnings.warn(
            f"{type(model).__name__}: the epoch budget (epochs={model.epochs}) ran out while the {monitor} was still "
            f"improving (best epoch {model.best_epoch_} of {last}, more than {100 * STILL_IMPROVING_FRACTION:g}% of "
            f"the decrease in the last {model.early_stopping_patience} epochs); increase epochs.",
            ConvergenceWarning,
            stacklevel=4,
        )


def _has_padding(X):
    """True when validated rows hold NaN padding (one pass, no X-sized mask)."""
    return not bool(np.isfinite(X.sum()))


def _check_padding(X, n_steps):
    """Validate the NaN padding of 2-D rows of ``n_steps`` steps (a clear ValueError, else nothing)."""
    if _has_padding(X):
        step_padding(X.reshape(X.shape[0], n_steps, -1))


def _argmax_rows(logits):
    return np.argmax(logits, axis=1)


def _stderr_line(line):
    print(line, file=sys.stderr, flush=True)
