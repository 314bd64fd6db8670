"""Softmax, cross-entropy and the distillation loss, with their gradients with respect to the logits."""

import numpy as np


def softmax(logits, out=None):
    """Row-wise softmax, stable for large logits; ``out=logits`` works in place."""
    z = np.subtract(logits, logits.max(axis=1, keepdims=True), out=out)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def log_softmax(logits, out=None):
    """Row-wise log-softmax, stable for large logits; ``out=logits`` works in place."""
    z = np.subtract(logits, logits.max(axis=1, keepdims=True), out=out)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


_ARANGES = {}


def _arange(n):
    """``np.arange(n)``, cached (never write to it)."""
    rows = _ARANGES.get(n)
    if rows is None:
        rows = _ARANGES[n] = np.arange(n)
    return rows


def cross_entropy(logits, y, weight):
    """Weighted mean cross-entropy and its gradient with respect to the logits.

    Parameters
    ----------
    logits : ndarray of shape (B, K)
    y : ndarray of int of shape (B,)
        Class indices.
    weight : ndarray of shape (B,)
        Non-negative sample weights with a positive sum.

    Returns
    -------
    loss : float
    dlogits : ndarray of shape (B, K)
    n_correct : float
        Weighted count of correct argmax predictions.
    """
    rows = _arange(logits.shape[0])
    # work class-major (see forward): z_t[k, i] is logit k of row i; the
    # ufuncs' reduce methods skip the wrappers of max and sum (a batch's
    # loss is a few dozen small calls, so their overhead counts)
    z_t = logits.T
    z_t = np.subtract(z_t, np.maximum.reduce(z_t, axis=0))
    d_t = np.exp(z_t)
    norm = np.add.reduce(d_t, axis=0)
    total = np.add.reduce(weight)
    # -log softmax(z)_y = log sum exp z - z_y
    loss = float(np.dot(weight, np.log(norm)) - np.dot(weight, z_t[y, rows])) / total
    n_correct = float(np.dot(weight, z_t.argmax(axis=0) == y))
    d_t /= norm
    d_t[y, rows] -= 1.0
    d_t *= weight / total
    return loss, d_t.T, n_correct


def distillation_loss(logits, y, weight, soft_targets, temperature, alpha):
    """Knowledge-distillation loss (Hinton et al., 2015) and its gradient.

    ``alpha * T^2 * CE(softmax(z / T), q) + (1 - alpha) * CE(softmax(z), y)``,
    each a weighted mean over the rows; ``q`` are the teacher's soft targets
    (rows summing to 1, columns in class order). The ``T^2`` keeps the soft
    term's gradient, ``T * (softmax(z / T) - q)``, on the scale of the hard one.

    Returns ``(loss, dlogits, n_correct)`` like :func:`cross_entropy`.
    """
    hard_loss, d_hard, n_correct = cross_entropy(logits, y, weight)
    z_t = logits.T / temperature
    z_t -= z_t.max(axis=0)
    logp_t = z_t - np.log(np.exp(z_t).sum(axis=0))
    q_t = soft_targets.T
    scale = weight / weight.sum()
    soft_loss = -float(np.dot((q_t * logp_t).sum(axis=0), scale))
    d_soft = np.exp(logp_t)
    d_soft -= q_t
    d_soft *= scale * (alpha * temperature)
    d_soft += (1.0 - alpha) * d_hard.T
    loss = alpha * temperature**2 * soft_loss + (1.0 - alpha) * hard_loss
    return loss, d_soft.T, n_correct
