"""The training loop in small parts: losses, Adam with its schedule, early stopping, history.

Pure numpy, no scikit-learn: the estimator validates the data and the
hyperparameters, then hands over a :class:`~skfastgrnn._network.FastGRNNNetwork`,
a :class:`TrainingData`, a loss from :data:`LOSSES` and a :class:`TrainingConfig`
to a :class:`TrainingLoop`.

- a loss (:class:`CrossEntropyLoss`, :class:`DistillationLoss`) holds its
  targets and maps a batch's logits and row indices to the loss, its gradient
  and the weighted number of correct predictions;
- :class:`Adam` owns its state and its learning-rate schedule;
- :class:`EarlyStopping` keeps the best parameters and decides when to stop;
- :class:`History` records one entry per epoch, with column access
  (``history[:, "val_loss"]``), and knows the best epoch;
- :class:`TrainingLoop` runs epochs of batches; each step is a method.

Memory: the data stay as given, ``(n_samples, T * D)`` rows; every batch is
gathered and turned time-major on its own, and evaluation runs in chunks, so
the working memory is ``O(batch * T * hidden)`` whatever ``n_samples`` is.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._batches import (
    Batch,
    Workspace,
    batch_loss_and_grad,
    batch_sequences,
    index_dtype,
)
from ._cells import cross_entropy, distillation_loss, forward, log_softmax
from ._compress import keep_mask
from ._kernel import LossTargets
from ._optim import Adam

#: rows x timesteps x hidden units of one evaluation chunk (2 MB per array in float64)
_CHUNK_ELEMENTS = 2**18

#: rows counted at once by the class-prior loss and by evaluation (bounded temporaries)
_PRIOR_CHUNK = 2**16

#: a model has "learned" once its monitored loss is below this fraction of the
#: loss of predicting the class frequencies; early stopping waits for that
LEARNED_FRACTION = 0.95

#: the budget "ran out too early" when the last window of epochs made more than
#: this fraction of the whole loss decrease (see :func:`convergence`)
STILL_IMPROVING_FRACTION = 0.2


class TrainingDivergedError(FloatingPointError, ValueError):
    """The loss or the weights stopped being finite during training.

    Raised by ``fit`` and ``partial_fit``; the message names the epoch and the
    learning rate and says what to change (a lower ``learning_rate``,
    ``grad_clip``, standardized inputs). The estimator is left as it was
    before the call.

    See Also
    --------
    FastGRNNClassifier : Its ``learning_rate`` and ``grad_clip`` parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn import FastGRNNClassifier, TrainingDivergedError
    >>> X, y = np.random.RandomState(0).normal(size=(40, 3)), np.arange(40) % 2
    >>> try:
    ...     FastGRNNClassifier(learning_rate=1e308, grad_clip=None, epochs=2).fit(X * 1e10, y)
    ... except TrainingDivergedError as exc:
    ...     print(str(exc).split(":")[0])
    Training diverged in epoch 1
    """


@dataclass
class TrainingConfig:
    """Hyperparameters of the loop (the guide's TrainingConfig)."""

    learning_rate: float = 0.01
    batch_size: int = 32
    epochs: int = 100
    lr_decay: float = 0.5
    lr_decay_step: int = 20
    grad_clip: float | None = 5.0
    grad_clip_mode: str = "value"
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    l2_reg: float = 1e-3
    early_stopping_patience: int | None = 20
    shuffle: bool = True
    #: fraction KEPT of each W / U matrix by sparse training (1.0: dense)
    w_keep: float = 1.0
    u_keep: float = 1.0
    #: batches between two hard-thresholding projections (the paper's ~15)
    iht_every: int = 15
    #: a constant learning rate, no decay (partial_fit)
    fixed_learning_rate: bool = False


@dataclass
class TrainingData:
    """Validated rows and what the loop needs to know about them.

    ``X`` holds ``(n_samples, n_steps * D)`` rows (already folded), possibly
    ending in NaN padding when ``padded``; ``weight`` the sample weights;
    ``train_rows`` / ``val_rows`` the rows to train and validate on (the
    estimator passes them in :func:`~skfastgrnn._batches.index_dtype`;
    ascending ``train_rows`` are shuffled in place during an epoch and sorted
    back after it). The targets belong to the loss.
    """

    X: np.ndarray
    weight: np.ndarray
    n_steps: int
    train_rows: np.ndarray
    val_rows: np.ndarray | None = None
    padded: bool = False

    @property
    def has_validation(self):
        return self.val_rows is not None and len(self.val_rows) > 0


# ---------------------------------------------------------------- losses
#
# A loss holds its targets (one row per sample) and answers for the rows of a
# batch: ``__call__(outputs, rows, weight) -> (loss, doutputs, n_correct)``
# (``n_correct`` is the weighted count of right predictions, None without
# classes); ``validation(outputs, rows, weight) -> (loss, accuracy)`` is what
# validation and early stopping monitor; ``prior_loss(rows, weight)`` is the
# monitored loss of a model that learned nothing (the plateau rule).


class CrossEntropyLoss:
    """Weighted mean cross-entropy against the class indices ``y`` (n_samples,).

    Examples
    --------
    >>> import numpy as np
    >>> loss = CrossEntropyLoss(np.array([0, 1]))
    >>> value, grad, n_correct = loss(np.array([[2.0, 0.0], [0.0, 2.0]]), np.arange(2), np.ones(2))
    >>> round(float(value), 4), n_correct
    (0.1269, 2.0)
    """

    #: the training loss is on the scale of the prior loss (the plateau rule applies)
    compares_to_prior = True

    def __init__(self, y):
        self.y = y

    def __call__(self, logits, rows, weight):
        """``(loss, dlogits, n_correct)`` of the batch of ``rows``."""
        return cross_entropy(logits, self.y.take(rows), weight)

    def compiled_targets(self):
        """What the compiled engine needs to compute this loss itself (:mod:`~skfastgrnn._kernel`)."""
        return LossTargets("cross_entropy", self.y)

    def validation(self, logits, rows, weight):
        """Weighted mean cross-entropy and weighted accuracy of the given rows."""
        y = self.y[rows]
        logp = log_softmax(logits)
        total = weight.sum()
        loss = -np.dot(weight, logp[np.arange(len(y)), y]) / total
        accuracy = np.dot(weight, logp.argmax(axis=1) == y) / total
        return float(loss), float(accuracy)

    def prior_loss(self, rows, weight):
        """Weighted cross-entropy of predicting the class frequencies of the rows.

        Counted in chunks: ``np.bincount`` would otherwise make int64 and
        float64 copies of all the rows' labels and weights.
        """
        n_classes = int(self.y.max()) + 1 if len(self.y) else 0
        freq = np.zeros(n_classes)
        for start in range(0, len(weight), _PRIOR_CHUNK):
            part = slice(start, start + _PRIOR_CHUNK)
            y = self.y[part] if isinstance(rows, slice) else self.y[rows[part]]
            freq += np.bincount(y, weights=weight[part], minlength=n_classes)
        return _entropy(freq)


class DistillationLoss(CrossEntropyLoss):
    """Knowledge distillation (Hinton et al., 2015) against soft targets and labels.

    ``soft_targets`` (n_samples, n_classes), rows summing to 1; see
    :func:`~skfastgrnn._cells.distillation_loss`. Validation and the prior
    loss are those of the plain cross-entropy on ``y``.
    """

    #: its scale depends on the temperature: no class-prior yardstick
    compares_to_prior = False

    def __init__(self, y, soft_targets, temperature=3.0, alpha=0.7):
        super().__init__(y)
        self.soft_targets = soft_targets
        self.temperature = temperature
        self.alpha = alpha

    def __call__(self, logits, rows, weight):
        """``(loss, dlogits, n_correct)`` of the batch of ``rows``."""
        return distillation_loss(logits, self.y[rows], weight, self.soft_targets[rows], self.temperature, self.alpha)

    def compiled_targets(self):
        """What the compiled engine needs to compute this loss itself (:mod:`~skfastgrnn._kernel`)."""
        return LossTargets("distillation", self.y, self.soft_targets, self.temperature, self.alpha)


class SquaredErrorLoss:
    """Half the weighted mean squared error, averaged over the outputs.

    ``Y`` has shape (n_samples, n_outputs). The loss of a batch is
    ``sum_i w_i * mean_k (out_ik - Y_ik)^2 / (2 * sum_i w_i)``, the
    ``squared_error`` loss of scikit-learn's MLPRegressor with sample weights.

    Examples
    --------
    >>> import numpy as np
    >>> loss = SquaredErrorLoss(np.array([[1.0], [3.0]]))
    >>> value, grad, _ = loss(np.array([[2.0], [2.0]]), np.arange(2), np.ones(2))
    >>> value, grad.ravel().tolist()
    (0.5, [0.5, -0.5])
    """

    compares_to_prior = True

    def __init__(self, Y):
        self.Y = Y

    def __call__(self, outputs, rows, weight):
        """``(loss, doutputs, None)`` of the batch of ``rows``."""
        diff = outputs - self.Y[rows]
        scale = weight / (weight.sum() * diff.shape[1])
        dout = diff * scale[:, None]
        loss = 0.5 * float(np.dot(scale, (diff * diff).sum(axis=1)))
        return loss, dout, None

    def compiled_targets(self):
        """What the compiled engine needs to compute this loss itself (:mod:`~skfastgrnn._kernel`)."""
        return LossTargets("squared_error", targets=self.Y)

    def validation(self, outputs, rows, weight):
        """The loss of the given rows, and no accuracy."""
        return self(outputs, rows, weight)[0], None

    def prior_loss(self, rows, weight):
        """The loss of predicting the weighted mean of the targets of the rows."""
        Y = self.Y[rows]
        mean = np.average(Y, axis=0, weights=weight)
        return self(np.broadcast_to(mean, Y.shape), rows, weight)[0]


#: the losses by name
LOSSES = {"cross_entropy": CrossEntropyLoss, "distillation": DistillationLoss, "squared_error": SquaredErrorLoss}


# ------------------------------------------------------------- optimizer


# -------------------------------------------------------- early stopping


class EarlyStopping:
    """Keep the best parameters; stop after ``patience`` epochs without a better monitored loss.

    The plateau rule: a loss still at the class-prior level is a model that has
    not started to learn (e.g. a memory task before its breakthrough), not one
    that stopped improving, so stopping waits until the best loss is below
    ``learned_below``. ``patience=None`` never stops (the best epoch is still
    kept).
    """

    def __init__(self, patience, learned_below=np.inf):
        self.patience = patience
        self.learned_below = learned_below
        self.best_loss = np.inf
        self.best_epoch = None
        self.best_parameters = None
        self.since_best = 0
        self.stopped = False

    def update(self, epoch, monitored, parameters):
        """Record an epoch's monitored loss; True when training should stop."""
        if monitored < self.best_loss:
            self.best_loss, self.best_epoch, self.since_best = monitored, epoch, 0
            self.best_parameters = parameters.copy()
            return False
        self.since_best += 1
        self.stopped = self.since_best >= self.patience and self.best_loss < self.learned_below
        return self.stopped

    def restore(self, parameters):
        """Write the best parameters back into ``parameters``; the best epoch (None if none was recorded)."""
        if self.best_parameters is not None:
            parameters[...] = self.best_parameters
        return self.best_epoch


# ---------------------------------------------------------------- history

#: the entries of one epoch's record, in order
HISTORY_KEYS = ("epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "learning_rate", "seconds")


class History(list):
    """One dict per epoch (:data:`HISTORY_KEYS`), with column access, and the best epoch.

    Examples
    --------
    >>> h = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}], best_epoch=2)
    >>> h[:, "train_loss"]
    [0.5, 0.25]
    >>> h[-1, "epoch"], h.best_epoch
    (2, 2)
    """

    def __init__(self, entries=(), best_epoch=None):
        super().__init__(entries)
        self.best_epoch = best_epoch

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, column = key
            picked = list.__getitem__(self, rows)
            return picked[column] if isinstance(picked, dict) else [entry[column] for entry in picked]
        return list.__getitem__(self, key)

    def record(self, **entry):
        """Append one epoch's record and return it."""
        self.append(entry)
        return entry


def predict_logits(network, X, n_timesteps, rows=None, reduce=None, padded=False):
    """Logits of ``network`` for the rows of X (all, or the indices ``rows``), in bounded chunks.

    ``X`` holds rows of ``n_timesteps`` steps of the cell's input (already
    folded). ``reduce``, when given, maps each chunk's logits ``(rows,
    classes)`` to one value per row (e.g. the argmax) and only that is kept:
    predict then needs no n x classes array. ``padded``: the rows may end in
    (validated) NaN padding.
    """
    layout, gate, update = network.layout, network.gate, network.update
    views = layout.views(network.parameters)
    n = X.shape[0] if rows is None else len(rows)
    chunk = max(1, _CHUNK_ELEMENTS // (n_timesteps * sum(layout.hidden_dims) * layout.cell.n_blocks))

    def run(X_part):
        X_tm, lengths = batch_sequences(X_part, n_timesteps, padded)
        logits = forward(layout, views, X_tm, gate, update, lengths)[0]
        return logits if reduce is None else reduce(logits)

    if n <= chunk:
        return run(X if rows is None else X[rows])
    out = None
    for start in range(0, n, chunk):
        part = slice(start, start + chunk)
        result = run(X[part] if rows is None else X[rows[part]])
        if out is None:
            out = np.empty((n, *result.shape[1:]), dtype=result.dtype)
        out[part] = result
    return out


def evaluate(network, data, loss, rows):
    """The monitored loss and the accuracy (None without classes) of the given rows.

    Up to ``_PRIOR_CHUNK`` rows at once; more are evaluated in chunks of that
    many, whose weighted means are combined, so that the outputs and the loss's
    temporaries never take memory in proportion to all the rows.
    """
    if len(rows) <= _PRIOR_CHUNK:
        outputs = predict_logits(network, data.X, data.n_steps, rows, padded=data.padded)
        return loss.validation(outputs, rows, data.weight[rows])
    loss_sum = accuracy_sum = weight_sum = 0.0
    for start in range(0, len(rows), _PRIOR_CHUNK):
        part = rows[start : start + _PRIOR_CHUNK]
        weight = data.weight[part]
        total = float(weight.sum())
        if total <= 0:  # rows of zero weight count nothing
            continue
        outputs = predict_logits(network, data.X, data.n_steps, part, padded=data.padded)
        value, accuracy = loss.validation(outputs, part, weight)
        loss_sum += value * total
        accuracy_sum = None if accuracy is None else accuracy_sum + accuracy * total
        weight_sum += total
    return loss_sum / weight_sum, None if accuracy_sum is None else accuracy_sum / weight_sum


# -------------------------------------------------------------------- loop


class TrainingLoop:
    """Epochs of mini-batches: the steps of one training run, each a method.

    Parameters
    ----------
    network : FastGRNNNetwork
        Trained in place; on return it holds the best parameters seen
        (lowest monitored loss) when early stopping is on.
    data : TrainingData
    loss : callable
        One of :data:`LOSSES`, holding the targets; validation and early
        stopping monitor its ``validation`` loss (the plain cross-entropy for
        distillation).
    config : TrainingConfig
    optimizer_state : dict
        Adam's state (:func:`~skfastgrnn._optim.adam_state`), updated in place.

    Notes
    -----
    Sparse training (``config.w_keep`` or ``u_keep`` below 1) follows the
    paper's three phases over the epoch budget: the first third dense, the
    second third iterative hard thresholding, the last third retraining on
    the support of the last projection, which stays fixed. Early stopping
    and the choice of the best epoch only consider the last phase, whose
    models are the sparse ones.
    """

    def __init__(self, network, data, loss, config, optimizer_state):
        self.network = network
        self.data = data
        self.loss = loss
        self.config = config
        self.optimizer = Adam(config, optimizer_state)
        self.workspace = Workspace(network, config.l2_reg, loss.compiled_targets())
        #: 0/1 vector of parameters that must stay zero (a pruned network), or None
        self.support = network.support
        self.sparse = config.w_keep < 1 or config.u_keep < 1
        self.iht_start, self.fixed_start = (config.epochs // 3, 2 * config.epochs // 3) if self.sparse else (0, 0)
        self._order = None  # the shuffled training rows when they are not ascending
        self._ascending = None

    def run(self, rng, first_epoch=1, log=None):
        """Train ``config.epochs`` epochs (fewer when stopped early).

        ``rng`` shuffles the rows; ``first_epoch`` numbers the first epoch of
        this run in the history; ``log`` receives one line per epoch.

        Returns
        -------
        dict with ``history`` (a :class:`History`), ``best_epoch``,
        ``stopped_early``, ``support``, ``monitor``, ``prior_loss`` and the
        :func:`convergence` verdict.

        Raises
        ------
        TrainingDivergedError
            When the loss or the weights stop being finite; the message names
            the epoch and what to change.
        """
        config, data = self.config, self.data
        # all rows (no validation split): views, not row-sized copies of the targets and weights
        every = slice(None) if len(data.train_rows) == data.X.shape[0] else data.train_rows
        prior = self.loss.prior_loss(every, data.weight[every])
        comparable = self.loss.compares_to_prior or data.has_validation
        stopping = EarlyStopping(config.early_stopping_patience, LEARNED_FRACTION * prior if comparable else np.inf)
        history = History()
        for i in range(config.epochs):
            entry = self.run_epoch(i, first_epoch + i, rng)
            history.append(entry)
            if log is not None:
                log(_format_epoch(entry, first_epoch + config.epochs - 1))
            if stopping.patience is None or i < self.fixed_start:
                continue
            monitored = entry["val_loss"] if data.has_validation else entry["train_loss"]
            if stopping.update(entry["epoch"], monitored, self.network.parameters):
                break
        best_epoch = stopping.restore(self.network.parameters)
        history.best_epoch = history[-1]["epoch"] if best_epoch is None else best_epoch
        monitor = "val_loss" if data.has_validation else "train_loss"
        window = stopping.patience or config.lr_decay_step
        verdict = convergence(history[:, monitor], prior, window=window)
        if not comparable:  # a distillation loss: no class-prior yardstick
            verdict["learned"] = True
        return {
            "history": history,
            "best_epoch": history.best_epoch,
            "stopped_early": stopping.stopped,
            "support": self.support,
            "monitor": monitor,
            "prior_loss": prior,
            **verdict,
        }

    def run_epoch(self, index, epoch, rng):
        """The ``index``-th epoch of this run (numbered ``epoch``): its history entry."""
        if self.sparse and index == self.fixed_start:  # phase 3: freeze the support of the last projection
            self.freeze_support()
        project = self.sparse and self.iht_start <= index < self.fixed_start
        lr = self.optimizer.learning_rate(index)
        start = time.perf_counter()
        try:
            train_loss, train_acc = self.train_epoch(lr, rng, project)
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(
                f"Training diverged in epoch {epoch}: {exc} (learning_rate={lr:g}). "
                "Lower learning_rate, set grad_clip (e.g. 1.0) or check the inputs' scale "
                "(standardize them, e.g. with StandardScaler)."
            ) from None
        val_loss = val_acc = None
        if self.data.has_validation:
            val_loss, val_acc = evaluate(self.network, self.data, self.loss, self.data.val_rows)
        return {
            "epoch": epoch,
            "train_loss": float(train_loss),
            "val_loss": val_loss,
            "train_accuracy": None if train_acc is None else float(train_acc),
            "val_accuracy": val_acc,
            "learning_rate": lr,
            "seconds": time.perf_counter() - start,
        }

    def freeze_support(self):
        """Keep the current largest weights (sparse training's last phase) and zero the rest for good."""
        theta = self.network.parameters
        frozen = keep_mask(self.network.layout, theta, self.config.w_keep, self.config.u_keep)
        self.support = frozen if self.support is None else frozen * self.support
        theta *= self.support

    def train_epoch(self, learning_rate, rng, project=False):
        """One pass over the training rows in mini-batches; ``(mean_loss, accuracy)``, weighted.

        ``project`` applies the hard-thresholding projection (keep the
        ``config.w_keep`` / ``u_keep`` largest-magnitude entries of each W / U
        matrix) every ``config.iht_every`` batches; entries zeroed by one
        projection may regrow before the next.
        """
        config, data = self.config, self.data
        order = self.shuffled_rows(rng) if config.shuffle else data.train_rows
        theta = self.network.parameters
        loss_sum = correct_sum = weight_sum = 0.0
        no_accuracy = False  # a loss without classes (regression) counts no correct predictions
        for batch_number, start in enumerate(range(0, len(order), config.batch_size), 1):
            batch = self.make_batch(order[start : start + config.batch_size])
            w_total = batch.weight.sum()
            if w_total <= 0:  # nothing to learn from a batch of zero weights
                continue
            loss, _, n_correct = batch_loss_and_grad(self.workspace, batch, self.loss)
            if not math.isfinite(loss):
                raise TrainingDivergedError("the training loss became non-finite")
            self.optimizer.step(theta, self.workspace.grad, learning_rate)
            if self.support is not None:
                theta *= self.support
            if project and batch_number % config.iht_every == 0:
                theta *= keep_mask(self.network.layout, theta, config.w_keep, config.u_keep)
            loss_sum += loss * w_total
            if n_correct is None:
                no_accuracy = True
            else:
                correct_sum += n_correct
            weight_sum += w_total
        if order is data.train_rows and config.shuffle:
            order.sort()  # back to ascending order: the next epoch's permutation starts from it
        if not np.all(np.isfinite(theta)):
            raise TrainingDivergedError("the weights became non-finite")
        return loss_sum / weight_sum, None if no_accuracy else correct_sum / weight_sum

    def shuffled_rows(self, rng):
        """The training rows in the order of ``rng.permutation(train_rows)``, without a row-sized copy.

        Ascending rows (what the validation splits give) are shuffled in
        place and sorted back after the epoch (4 ms per million rows): the
        same numbers as a permuted copy, 4 bytes a row less. Other rows are
        shuffled in a buffer of this loop.
        """
        rows = self.data.train_rows
        if self._ascending is None:
            self._ascending = isinstance(rows, np.ndarray) and rows.ndim == 1 and bool(np.all(rows[1:] > rows[:-1]))
        if not self._ascending:
            if self._order is None:
                self._order = np.empty(len(rows), index_dtype(self.data.X.shape[0]))
            self._order[...] = rows
            rows = self._order
        rng.shuffle(rows)
        return rows

    def make_batch(self, rows):
        """The :class:`Batch` of the given training rows."""
        data = self.data
        X_tm, lengths = self.workspace.gather(data.X, rows, data.n_steps, data.padded)
        weight = data.weight.take(
            rows, None, self.workspace.scratch.get("weight", rows.shape, data.weight.dtype), "clip"
        )
        return Batch(X_tm, rows, weight, lengths)


def prior_loss(y, weight, n_classes):
    """Weighted cross-entropy of predicting the class frequencies of ``y``: the loss of a model that learned nothing."""
    return _entropy(np.bincount(y, weights=weight, minlength=n_classes))


def _entropy(freq):
    freq = freq[freq > 0] / freq.sum()
    return float(-(freq * np.log(freq)).sum())


def convergence(losses, prior, window):
    """Did training learn, and would more epochs still help?

    ``learned``: the best loss went below ``LEARNED_FRACTION`` of ``prior``
    (the loss of predicting the class frequencies). ``still_improving``: the
    last ``window`` epochs made more than ``STILL_IMPROVING_FRACTION`` of the
    whole decrease of the best loss, from ``max(prior, first loss)``. Losses
    near zero keep shrinking by tiny amounts that change no prediction: those
    are not "still improving".

    Examples
    --------
    >>> convergence([0.7, 0.4, 0.2, 0.1], prior=0.69, window=2)
    {'learned': True, 'still_improving': True, 'best_loss': 0.1}
    >>> convergence([0.7, 0.15, 0.12, 0.1], prior=0.69, window=2)
    {'learned': True, 'still_improving': False, 'best_loss': 0.1}
    """
    best = np.minimum.accumulate(np.asarray(losses, dtype=float))
    final = float(best[-1])
    start = max(prior, float(losses[0]))
    if len(best) > window:
        recent = float(best[-window - 1]) - final
    else:
        recent = start - final
    return {
        "learned": final < LEARNED_FRACTION * prior,
        "still_improving": recent > STILL_IMPROVING_FRACTION * max(start - final, 1e-12),
        "best_loss": final,
    }


def _format_epoch(entry, last_epoch):
    parts = [f"epoch {entry['epoch']}/{last_epoch}", f"train_loss {entry['train_loss']:.4f}"]
    if entry["val_loss"] is not None:
        parts += [f"val_loss {entry['val_loss']:.4f}"]
    accuracy = "val_accuracy" if entry["val_loss"] is not None else "train_accuracy"
    if entry[accuracy] is not None:
        parts += [f"{accuracy} {entry[accuracy]:.4f}"]
    parts += [f"lr {entry['learning_rate']:.3g}", f"{entry['seconds']:.2f}s"]
    return "  ".join(parts)
