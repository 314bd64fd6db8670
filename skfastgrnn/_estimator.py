"""The FastGRNN estimators' shared machinery: parameters, fit / partial_fit, prediction.

:class:`BaseFastGRNN` validates the input, builds or continues a
:class:`~skfastgrnn._network.FastGRNNNetwork`, runs the
:class:`~skfastgrnn._train.TrainingLoop` and commits the fitted attributes.
A subclass says what the targets are: ``_target_checks`` (passed to
scikit-learn's ``validate_data``), ``_encode_targets`` (labels to class
indices, or values to a float matrix), ``_n_outputs``, ``_make_loss`` and
``_validation_rows`` (stratified for classes, shuffled for values).
"""

import sys
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, check_X_y, validate_data

from ._batches import compact_rows, compact_targets, index_dtype
from ._cells import CELLS, NONLINEARITIES, Layout
from ._deploy import DeploymentMixin
from ._network import ARCHITECTURE_PARAMS, FastGRNNNetwork, has_padding
from ._optim import adam_state
from ._sequences import fold_steps
from ._train import History, TrainingConfig, TrainingData, TrainingLoop
from ._validation import (
    StrictInterval,
    as_rows,
    check_padding,
    resolve_batch_size,
    resolve_fold,
    restore_on_error,
    warn_about_convergence,
)

#: estimator parameters the training loop takes as they are (TrainingConfig fields of the same name)
_LOOP_PARAMS = (
    "learning_rate",
    "epochs",
    "lr_decay",
    "lr_decay_step",
    "grad_clip",
    "grad_clip_mode",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "l2_reg",
    "early_stopping_patience",
    "shuffle",
)

#: the Parameters section both estimators share (their docstrings include it)
PARAMETERS_DOC = """    Parameters
    ----------
    hidden_dim : int or tuple of int, default=32
        Number of hidden units. 32 rather than 16: on the eight data sets of
        the time-series benchmark hidden 32 was more accurate on six and by
        3.3 points on average (``benchmarks/bench_defaults.py``, table in the
        user guide), and the model is still a few KB. A tuple stacks layers,
        like MLP's ``hidden_layer_sizes``: ``(32, 16)`` is a layer of 32 units
        whose state sequence a layer of 16 units reads; the head reads the
        last layer's final state. ``rank`` and ``u_rank`` apply to every layer.
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
        Fraction of rows held out, seeded by ``random_state`` (stratified by
        class for the classifier), to compute ``val_loss`` / ``val_accuracy``
        and to drive early stopping. 0 (the default) trains on every row and early
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
        frequencies (the mean target, for the regressor) has not started to learn, and training goes on: a memory
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

"""

#: the fitted attributes both estimators share
ATTRIBUTES_DOC = """    n_features_in_ : int
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

"""


class BaseFastGRNN(DeploymentMixin, BaseEstimator):
    """Base class of FastGRNNClassifier and FastGRNNRegressor; not for direct use."""

    _parameter_constraints = {
        "hidden_dim": [StrictInterval(Integral, 1, None, closed="left"), tuple, list],
        "cell": [StrOptions(set(CELLS))],
        "rank": [StrictInterval(Integral, 1, None, closed="left"), None],
        "u_rank": [StrictInterval(Integral, 1, None, closed="left"), None],
        "gate_nonlinearity": [StrOptions(set(NONLINEARITIES))],
        "update_nonlinearity": [StrOptions(set(NONLINEARITIES))],
        "n_timesteps": [StrictInterval(Integral, 1, None, closed="left")],
        "fold": [StrictInterval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [StrictInterval(Real, 0, None, closed="neither")],
        "batch_size": [StrictInterval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "epochs": [StrictInterval(Integral, 1, None, closed="left")],
        "validation_split": [StrictInterval(Real, 0, 1, closed="left")],
        "early_stopping_patience": [StrictInterval(Integral, 1, None, closed="left"), None],
        "lr_decay": [StrictInterval(Real, 0, 1, closed="right")],
        "lr_decay_step": [StrictInterval(Integral, 1, None, closed="left")],
        "grad_clip": [StrictInterval(Real, 0, None, closed="neither"), None],
        "grad_clip_mode": [StrOptions({"value", "norm"})],
        "adam_beta1": [StrictInterval(Real, 0, 1, closed="left")],
        "adam_beta2": [StrictInterval(Real, 0, 1, closed="left")],
        "adam_epsilon": [StrictInterval(Real, 0, None, closed="neither")],
        "l2_reg": [StrictInterval(Real, 0, None, closed="left")],
        "w_sparsity": [StrictInterval(Real, 0, 1, closed="left")],
        "u_sparsity": [StrictInterval(Real, 0, 1, closed="left")],
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

    def _fit(self, X, y, sample_weight, incremental, classes=None, distill=None):
        """fit (``incremental=False``) and partial_fit (True): validate, train, commit.

        A fit starts from scratch unless ``warm_start`` holds a fitted
        network; partial_fit continues the fitted network and its Adam state
        for one epoch at a constant rate. ``distill`` is the teacher's part of
        a distillation loss (see :meth:`_make_loss`). On any error the
        estimator is left exactly as it was.
        """
        fitted = self.__sklearn_is_fitted__()
        # fit continues a network only with warm_start; partial_fit always does
        resume = fitted and (incremental or self.warm_start)
        with restore_on_error(self):
            self._check_first_partial_fit(incremental and not fitted, classes)
            X, targets, weight, n_steps = self._validate_training_data(
                X, y, sample_weight, first_call=not resume, classes=classes
            )
            targets = compact_targets(targets)  # class indices: 1 byte a row, not 8
            loss = self._make_loss(X, targets, distill)
            if resume and not incremental:
                self._check_architecture()
            rng = check_random_state(self.random_state)
            network = self._to_training_scale(self.network_.copy()) if resume else self._new_network(rng, X.dtype)
            if incremental:
                train_rows, val_rows = np.arange(X.shape[0], dtype=index_dtype(X.shape[0])), None
                optimizer = self._optimizer_state(network, resume)
                if resume:  # a different shuffle every call, still reproducible
                    rng = np.random.RandomState(rng.randint(2**31 - 1) ^ self.n_iter_)
            else:
                train_rows, val_rows = self._validation_rows(targets, rng)
                optimizer = adam_state(network.parameters.size, network.dtype)
            train_rows, val_rows = compact_rows(train_rows, X.shape[0]), compact_rows(val_rows, X.shape[0])
            data = TrainingData(X, weight, n_steps, train_rows, val_rows, padded=has_padding(X))
            loop = TrainingLoop(network, data, loss, self._config(len(train_rows), incremental), optimizer)
            result = loop.run(rng, first_epoch=(self.n_iter_ if resume else 0) + 1, log=self._epoch_log())
            self._to_output_scale(network)
            self._commit(network, optimizer, result, resume)
            if not incremental:
                warn_about_convergence(self, result, self._prior_description)
        return self

    def _check_first_partial_fit(self, first_partial_fit, classes):
        """Hook: what the first partial_fit call must be given (the classifier needs ``classes``)."""

    def _to_training_scale(self, network):
        """Hook: the network in the units training works in (the regressor's standardized targets)."""
        return network

    def _to_output_scale(self, network):
        """Hook: back to the units of the predictions, in place, after training."""

    def _optimizer_state(self, network, resume):
        """Adam's state to continue (a copy), or a fresh one (a new or loaded network)."""
        state = getattr(self, "_optimizer", None) if resume else None
        if state is None or state["m"].shape != network.parameters.shape:
            return adam_state(network.parameters.size, network.dtype)
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}

    def _epoch_log(self):
        return _stderr_line if self.verbose else None

    def _commit(self, network, optimizer, result, resume):
        """Set every fitted attribute at once, after training succeeded."""
        if result["support"] is not None:
            network.set_support(result["support"])
        history = History(self.history_ if resume else ())
        # a loaded model has n_iter_ but no history_ (that travels in the metrics file)
        epochs_before = self.n_iter_ if resume else 0
        history.extend(result["history"])
        history.best_epoch = result["best_epoch"]
        self.network_ = network
        self._optimizer = optimizer
        self.history_ = history
        self.n_iter_ = epochs_before + len(result["history"])
        self.best_epoch_ = result["best_epoch"]

    def _validate_training_data(self, X, y, sample_weight, first_call, classes=None):
        """Validated, folded rows, the encoded targets, the sample weights and the number of steps.

        At the first call it sets the fitted input attributes (``n_timesteps_``,
        ``n_step_features_``, ``fold_``, ``n_features_in_``); the targets are
        the subclass's business (:meth:`_encode_targets`).
        """
        X, n_steps = self._as_rows(X, fitting=first_call)
        # float32 input trains in float32 (faster, like torch); anything else in
        # float64. A fitted model keeps its dtype.
        dtype = [np.float64, np.float32] if first_call else self.network_.dtype
        if first_call or n_steps == self.n_timesteps_:
            X, y = validate_data(
                self, X, y, reset=first_call, dtype=dtype, ensure_all_finite="allow-nan", **self._target_checks
            )
        else:  # sequences of another length than the first fit's: any length is fine for the cell
            X, y = check_X_y(X, y, dtype=dtype, ensure_all_finite="allow-nan", **self._target_checks)
        targets = self._encode_targets(y, first_call, classes)
        if first_call:
            if X.shape[1] % self.n_timesteps_ != 0:
                raise ValueError(
                    f"X has {X.shape[1]} columns, which cannot be split into n_timesteps="
                    f"{self.n_timesteps_} equal steps; the width must be a multiple of n_timesteps "
                    "(rows are laid out [x_1, ..., x_T])."
                )
            self.n_step_features_ = X.shape[1] // self.n_timesteps_
        check_padding(X, n_steps)
        if first_call:
            self.fold_ = resolve_fold(self.fold, self.n_timesteps_)
        X, n_steps = fold_steps(X, n_steps, self.fold_)
        weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        if not weight.sum() > 0:
            raise ValueError("sample_weight must contain at least one positive weight; all weights are zero.")
        return X, targets, weight, n_steps

    def _as_rows(self, X, fitting):
        """Any accepted layout as 2-D rows ``[x_1, ..., x_T]`` and the T of this input; sets ``n_timesteps_`` at fit."""
        if fitting:
            X, self.n_timesteps_ = as_rows(X, self.n_timesteps)
            return X, self.n_timesteps_
        return as_rows(X, self.n_timesteps_, self.n_step_features_)

    def _check_architecture(self):
        """A warm-start fit must keep the parameters that shape the network."""
        fitted = self.network_.architecture
        changed = [p for p in ARCHITECTURE_PARAMS if getattr(self, p) != fitted[p]]
        if changed:
            raise ValueError(
                f"warm_start=True cannot change {', '.join(changed)}; set warm_start=False to train a new model."
            )

    def _new_network(self, rng, dtype):
        """A network of the estimator's architecture for the validated data, initialized from ``rng``."""
        layout = Layout(
            self.n_step_features_ * self.fold_,
            _hidden_dims(self.hidden_dim),
            self._n_outputs(),
            self.cell,
            rank=self.rank,
            u_rank=self.u_rank,
        )
        return FastGRNNNetwork.initialize(
            layout,
            rng,
            dtype,
            gate=self.gate_nonlinearity,
            update=self.update_nonlinearity,
            n_timesteps=self.n_timesteps_,
            n_step_features=self.n_step_features_,
            fold=self.fold_,
            architecture={p: getattr(self, p) for p in ARCHITECTURE_PARAMS},
        )

    def _config(self, n_train_rows, incremental):
        """The loop's hyperparameters; partial_fit runs one epoch at a constant rate, no early stopping."""
        config = TrainingConfig(
            batch_size=resolve_batch_size(self.batch_size, n_train_rows),
            w_keep=1.0 - self.w_sparsity,
            u_keep=1.0 - self.u_sparsity,
            **{name: getattr(self, name) for name in _LOOP_PARAMS},
        )
        if incremental:
            config.epochs = 1
            config.early_stopping_patience = None
            config.fixed_learning_rate = True
            config.w_keep = config.u_keep = 1.0  # the three phases belong to fit
        return config

    # -------------------------------------------------------------- predict

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    @property
    def weights_(self):
        check_is_fitted(self)
        return self.network_.weights

    def _logits(self, X, reduce=None):
        check_is_fitted(self)
        X, n_steps = self._as_rows(X, fitting=False)
        clean = self._is_clean_array(X, n_steps)
        if not clean:
            if n_steps == self.n_timesteps_:
                X = validate_data(self, X, reset=False, dtype=self.network_.dtype, ensure_all_finite="allow-nan")
            else:  # 3-D input of another length: D was checked by _as_rows
                X = check_array(X, dtype=self.network_.dtype, ensure_all_finite="allow-nan")
            check_padding(X, n_steps)
        return self.network_.logits(X, n_steps, reduce=reduce, may_be_padded=not clean)

    def _is_clean_array(self, X, n_steps):
        """True for a finite ndarray that validate_data would pass through unchanged.

        Prediction on a few rows is dominated by scikit-learn's generic input
        checks (about 60 us); this cheap test lets clean input skip them, and
        anything else (lists, frames, other dtypes, NaN, wrong width) still goes
        through validate_data and its errors and warnings.
        """
        return (
            type(X) is np.ndarray
            and X.dtype == self.network_.dtype
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
        return self.network_.gate

    @property
    def update_nonlinearity_(self):
        return self.network_.update

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is accepted only as padding after a sequence's end (whole steps),
        # not as a missing value anywhere: for scikit-learn that is "no NaN"
        tags.input_tags.allow_nan = False
        return tags


def _hidden_dims(hidden_dim):
    """``hidden_dim`` as the Layout takes it: an int, or a tuple of ints >= 1 (one per stacked layer)."""
    if isinstance(hidden_dim, Integral):
        return hidden_dim
    dims = tuple(hidden_dim)
    if not dims or not all(isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in dims):
        raise ValueError(
            f"hidden_dim must be an int >= 1 or a non-empty tuple of ints >= 1 (one per stacked layer); "
            f"got {hidden_dim!r}."
        )
    return dims[0] if len(dims) == 1 else dims


def _stderr_line(line):
    print(line, file=sys.stderr, flush=True)
