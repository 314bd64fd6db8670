"""The training loop: mini-batches, Adam, learning-rate decay, early stopping.

Pure numpy, no scikit-learn: the estimator validates the data and the
hyperparameters, then hands over arrays and a :class:`TrainingConfig`.

Memory: the data stay as given, ``(n_samples, T * D)`` rows; every batch is
gathered and turned time-major on its own, and evaluation runs in chunks, so
the working memory is ``O(batch * T * hidden)`` whatever ``n_samples`` is.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._cells import backward, cross_entropy, distillation_loss, forward, log_softmax
from ._compress import keep_mask
from ._optim import adam_step, add_l2, clip_gradient
from ._sequences import batch_lengths

#: rows x timesteps x hidden units of one evaluation chunk (2 MB per array in float64)
_CHUNK_ELEMENTS = 2**18

#: a model has "learned" once its monitored loss is below this fraction of the
#: loss of predicting the class frequencies; early stopping waits for that
LEARNED_FRACTION = 0.95

#: the budget "ran out too early" when the last window of epochs made more than
#: this fraction of the whole loss decrease (see :func:`convergence`)
STILL_IMPROVING_FRACTION = 0.2


class TrainingDivergedError(FloatingPointError, ValueError):
    """The loss or the weights stopped being finite during training."""


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
    gate: str = "sigmoid"
    update: str = "tanh"
    #: fraction KEPT of each W / U matrix by sparse training (1.0: dense)
    w_keep: float = 1.0
    u_keep: float = 1.0
    #: batches between two hard-thresholding projections (the paper's ~15)
    iht_every: int = 15
    #: knowledge distillation (used when soft targets are given to train)
    temperature: float = 3.0
    alpha: float = 0.7
    #: the rows may end in NaN padding (variable-length sequences, validated)
    padded: bool = False


def time_major(X, n_timesteps):
    """Rows ``(B, T * D)`` laid out ``[x_1 .. x_T]`` -> contiguous ``(T, B, D)``."""
    B = X.shape[0]
    if n_timesteps == 1:
        return X.reshape(1, B, -1)
    return np.ascontiguousarray(X.reshape(B, n_timesteps, -1).transpose(1, 0, 2))


def batch_sequences(X_rows, n_timesteps, padded):
    """A batch of rows as ``(X_tm, lengths)`` for :func:`~skfastgrnn._cells.forward`.

    With ``padded``, the NaN padding is replaced by zeros (in a copy: ``X_rows``
    is never written), the steps after the batch's longest sequence are
    dropped, and ``lengths`` gives each row's observed steps (None when all
    are full length).
    """
    X_tm = time_major(X_rows, n_timesteps)
    if not padded:
        return X_tm, None
    if np.may_share_memory(X_tm, X_rows):  # T = 1: a view of the caller's rows
        X_tm = X_tm.copy()
    lengths = batch_lengths(X_tm)
    if lengths is None:
        return X_tm, None
    longest = int(lengths.max())
    return X_tm[:longest], lengths


def batch_loss_and_grad(
    layout, theta, views, grad, grad_views, X_tm, y, weight, gate, update, l2_mask, distill=None, lengths=None
):
    """Loss of one batch and its gradient (written into ``grad``).

    ``views`` and ``grad_views`` are ``layout.views`` of ``theta`` and ``grad``,
    made once per epoch rather than per batch. ``distill``, when given, is
    ``(soft_targets, temperature, alpha)`` for the batch's rows: the loss is
    then :func:`~skfastgrnn._cells.distillation_loss`. ``lengths`` are the
    rows' observed steps (None: all).

    Returns ``(data_loss, l2_penalty, n_correct)``; ``grad`` is the gradient of
    their sum.
    """
    logits, cache = forward(layout, views, X_tm, gate, update, lengths)
    if distill is None:
        loss, dlogits, n_correct = cross_entropy(logits, y, weight)
    else:
        loss, dlogits, n_correct = distillation_loss(logits, y, weight, *distill)
    backward(layout, views, grad_views, cache, dlogits)
    penalty = 0.0 if l2_mask is None else add_l2(theta, grad, l2_mask)
    return loss, penalty, n_correct


def predict_logits(layout, theta, X, n_timesteps, gate, update, rows=None, reduce=None, padded=False):
    """Logits for the rows of X (all, or the indices ``rows``), in bounded chunks.

    ``reduce``, when given, maps each chunk's logits ``(rows, classes)`` to one
    value per row (e.g. the argmax) and only that is kept: predict then needs
    no n x classes array. ``padded``: the rows may end in (validated) NaN
    padding.
    """
    views = layout.views(theta)
    n = X.shape[0] if rows is None else len(rows)
    chunk = max(1, _CHUNK_ELEMENTS // (n_timesteps * layout.hidden_dim * layout.cell.n_blocks))

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


def evaluate(layout, theta, X, y, weight, n_timesteps, config, rows):
    """Weighted mean cross-entropy and weighted accuracy on the given rows."""
    logits = predict_logits(layout, theta, X, n_timesteps, config.gate, config.update, rows, padded=config.padded)
    y, weight = y[rows], weight[rows]
    logp = log_softmax(logits)
    total = weight.sum()
    loss = -np.dot(weight, logp[np.arange(len(y)), y]) / total
    accuracy = np.dot(weight, logp.argmax(axis=1) == y) / total
    return float(loss), float(accuracy)


def run_epoch(
    layout,
    theta,
    X,
    y,
    weight,
    n_timesteps,
    config,
    learning_rate,
    optimizer,
    rng,
    l2_mask,
    rows,
    support=None,
    project=False,
    soft_targets=None,
):
    """One pass over ``X[rows]``, in mini-batches.

    Updates ``theta`` and ``optimizer`` in place. ``support`` (0/1 vector),
    when given, keeps pruned weights at exactly zero. ``project`` applies the
    hard-thresholding projection (keep the ``config.w_keep`` / ``u_keep``
    largest-magnitude entries of each W / U matrix) every
    ``config.iht_every`` batches; entries zeroed by one projection may regrow
    before the next. ``soft_targets`` (n_samples, n_classes), when given,
    switches the loss to knowledge distillation with ``config.temperature``
    and ``config.alpha``.

    Returns ``(mean_loss, accuracy)``, weighted, averaged over the batches.
    """
    order = rng.permutation(rows) if config.shuffle else rows
    n = len(order)
    views = layout.views(theta)
    grad = np.zeros_like(theta)
    grad_views = layout.views(grad)
    bs = config.batch_size
    loss_sum = correct_sum = weight_sum = 0.0
    for batch_number, start in enumerate(range(0, n, bs), 1):
        idx = order[start : start + bs]
        wb = weight[idx]
        w_total = wb.sum()
        if w_total <= 0:  # nothing to learn from a batch of zero weights
            continue
        X_tm, lengths = batch_sequences(X.take(idx, axis=0), n_timesteps, config.padded)
        distill = None if soft_targets is None else (soft_targets[idx], config.temperature, config.alpha)
        loss, _, n_correct = batch_loss_and_grad(
            layout,
            theta,
            views,
            grad,
            grad_views,
            X_tm,
            y[idx],
            wb,
            config.gate,
            config.update,
            l2_mask,
            distill,
            lengths,
        )
        if not math.isfinite(loss):
            raise TrainingDivergedError("the training loss became non-finite")
        clip_gradient(grad, config.grad_clip, config.grad_clip_mode)
        adam_step(theta, grad, optimizer, learning_rate, config.adam_beta1, config.adam_beta2, config.adam_epsilon)
        if support is not None:
            theta *= support
        if project and batch_number % config.iht_every == 0:
            theta *= keep_mask(layout, theta, config.w_keep, config.u_keep)
        loss_sum += loss * w_total
        correct_sum += n_correct
        weight_sum += w_total
    if not np.all(np.isfinite(theta)):
        raise TrainingDivergedError("the weights became non-finite")
    return loss_sum / weight_sum, correct_sum / weight_sum


def train(
    layout,
    theta,
    X,
    y,
    weight,
    n_timesteps,
    config,
    optimizer,
    rng,
    train_idx,
    val_idx=None,
    first_epoch=1,
    log=None,
    support=None,
    fixed_learning_rate=False,
    soft_targets=None,
):
    """The epoch loop with learning-rate decay and early stopping.

    Parameters
    ----------
    theta : ndarray
        Flat parameters, updated in place; on return they hold the best
        weights seen (lowest monitored loss) when early stopping is on.
    train_idx, val_idx : ndarray of int
        Rows of X to train on and to validate on (None: no validation).
    first_epoch : int
        Number given to the first epoch of this call in the history.
    log : callable or None
        Receives one line of text per epoch.
    support : ndarray or None
        0/1 vector of weights that must stay zero (a pruned model).
    fixed_learning_rate : bool
        Do not decay (partial_fit).
    soft_targets : ndarray of shape (n_samples, n_classes) or None
        Teacher probabilities: train with the distillation loss. Validation
        and early stopping still use the plain cross-entropy on ``y``.

    Notes
    -----
    Sparse training (``config.w_keep`` or ``u_keep`` below 1) follows the
    paper's three phases over the epoch budget: the first third dense, the
    second third iterative hard thresholding, the last third retraining on
    the support of the last projection, which stays fixed. Early stopping
    and the choice of the best epoch only consider the last phase, whose
    models are the sparse ones.

    Returns
    -------
    dict with ``history`` (one dict per epoch), ``best_epoch``,
    ``stopped_early`` and ``support`` (the fixed support of sparse training,
    else the ``support`` given).

    Raises
    ------
    TrainingDivergedError
        When the loss or the weights stop being finite; the message names the
        epoch and what to change.
    """
    has_val = val_idx is not None and len(val_idx) > 0
    # the plateau rule: a loss still at the class-prior level is a model that has
    # not started to learn (e.g. a memory task before its breakthrough), not one
    # that stopped improving, so early stopping waits (not for distillation,
    # whose training loss has another scale)
    prior = prior_loss(y[train_idx], weight[train_idx], layout.n_outputs)
    comparable = soft_targets is None or has_val
    learned_below = LEARNED_FRACTION * prior if comparable else np.inf
    l2_mask = None
    if config.l2_reg > 0:
        l2_mask = config.l2_reg * layout.mask(layout.matrix_names, theta.dtype)
    patience = config.early_stopping_patience
    history = []
    best_loss, best_epoch, best_theta, since_best = np.inf, None, None, 0
    stopped_early = False
    sparse = config.w_keep < 1 or config.u_keep < 1
    iht_start, fixed_start = (config.epochs // 3, 2 * config.epochs // 3) if sparse else (0, 0)
    for i in range(config.epochs):
        epoch = first_epoch + i
        if sparse and i == fixed_start:  # phase 3: freeze the support of the last projection
            frozen = keep_mask(layout, theta, config.w_keep, config.u_keep)
            support = frozen if support is None else frozen * support
            theta *= support
        project = sparse and iht_start <= i < fixed_start
        decay = 1.0 if fixed_learning_rate else config.lr_decay ** (i // config.lr_decay_step)
        lr = config.learning_rate * decay
        start = time.perf_counter()
        try:
            train_loss, train_acc = run_epoch(
                layout,
                theta,
                X,
                y,
                weight,
                n_timesteps,
                config,
                lr,
                optimizer,
                rng,
                l2_mask,
                train_idx,
                support,
                project,
                soft_targets,
            )
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(
                f"Training diverged in epoch {epoch}: {exc} (learning_rate={lr:g}). "
                "Lower learning_rate, set grad_clip (e.g. 1.0) or check the inputs' scale "
                "(standardize them, e.g. with StandardScaler)."
            ) from None
        val_loss = val_acc = None
        if has_val:
            val_loss, val_acc = evaluate(layout, theta, X, y, weight, n_timesteps, config, val_idx)
        seconds = time.perf_counter() - start
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(train_loss),
                "val_loss": val_loss,
                "train_accuracy": float(train_acc),
                "val_accuracy": val_acc,
                "learning_rate": lr,
                "seconds": seconds,
            }
        )
        if log is not None:
            log(_format_epoch(history[-1], first_epoch + config.epochs - 1))
        if patience is None or i < fixed_start:
            continue
        monitored = val_loss if has_val else train_loss
        if monitored < best_loss:
            best_loss, best_epoch, since_best = monitored, epoch, 0
            best_theta = theta.copy()
        else:
            since_best += 1
            if since_best >= patience and best_loss < learned_below:
                stopped_early = True
                break
    if best_theta is not None:
        theta[...] = best_theta
    else:
        best_epoch = history[-1]["epoch"]
    monitor = "val_loss" if has_val else "train_loss"
    verdict = convergence([h[monitor] for h in history], prior, window=patience or config.lr_decay_step)
    if not comparable:  # a distillation loss: no class-prior yardstick
        verdict["learned"] = True
    return {
        "history": history,
        "best_epoch": best_epoch,
        "stopped_early": stopped_early,
        "support": support,
        "monitor": monitor,
        "prior_loss": prior,
        **verdict,
    }


def prior_loss(y, weight, n_classes):
    """Weighted cross-entropy of predicting the class frequencies of ``y``: the loss of a model that learned nothing."""
    freq = np.bincount(y, weights=weight, minlength=n_classes)
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
        parts += [f"val_loss {entry['val_loss']:.4f}", f"val_accuracy {entry['val_accuracy']:.4f}"]
    else:
        parts += [f"train_accuracy {entry['train_accuracy']:.4f}"]
    parts += [f"lr {entry['learning_rate']:.3g}", f"{entry['seconds']:.2f}s"]
    return "  ".join(parts)
