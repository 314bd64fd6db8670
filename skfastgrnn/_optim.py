"""Adam, gradient clipping and L2 on one flat parameter vector.

Pure numpy. The optimizer state is a plain dict of arrays and an int so that it
pickles, and loads with ``skops.io``, without custom classes. :class:`Adam`
is the training loop's optimizer: the schedule, clipping and the update,
compiled in one call when numba is installed (:mod:`skfastgrnn._kernel`).
"""

import math

import numpy as np

from ._kernel import adam_kernel, adam_settings


def adam_state(size, dtype=np.float64):
    """A fresh Adam state: first and second moments and the step count."""
    return {"m": np.zeros(size, dtype=dtype), "v": np.zeros(size, dtype=dtype), "t": 0}


def add_l2(theta, grad, l2_mask):
    """Add the gradient of ``0.5 * sum(l2_mask * theta**2)`` to ``grad``.

    ``l2_mask`` holds the L2 strength on the regularized entries (the weight
    matrices) and 0 elsewhere, so biases and gate scalars are not shrunk.
    Returns the penalty.
    """
    decay = l2_mask * theta
    grad += decay
    return 0.5 * float(np.dot(decay, theta))


def clip_gradient(grad, threshold, mode):
    """Clip ``grad`` in place.

    ``mode="value"`` clips every entry to ``[-threshold, threshold]`` (the
    guide's meaning); ``mode="norm"`` rescales the whole vector when its
    Euclidean norm exceeds ``threshold`` (keeps the direction).
    """
    if threshold is None:
        return grad
    if mode == "value":
        np.clip(grad, -threshold, threshold, out=grad)
    else:
        norm = np.sqrt(np.dot(grad, grad))
        if norm > threshold:
            grad *= threshold / norm
    return grad


def adam_step(theta, grad, state, learning_rate, beta1, beta2, epsilon):
    """One Adam update of ``theta`` in place (Kingma & Ba, 2015, Algorithm 1).

    ``grad`` is used as scratch space and is overwritten.
    """
    m, v = state["m"], state["v"]
    state["t"] = t = state["t"] + 1
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    grad *= grad
    grad *= 1.0 - beta2
    v += grad
    # Algorithm 1 exactly (as torch.optim.Adam): theta -= lr * m_hat / (sqrt(v_hat) + eps)
    denom = np.sqrt(v)
    denom *= 1.0 / np.sqrt(1.0 - beta2**t)
    denom += epsilon
    np.divide(m, denom, out=denom)
    denom *= learning_rate / (1.0 - beta1**t)
    theta -= denom
    return theta


class Adam:
    """Adam with clipping and a step-decay schedule, on one flat parameter vector.

    ``state`` is the plain dict of :func:`~skfastgrnn._optim.adam_state`
    (moments and step count), updated in place, so an estimator can keep it
    between ``partial_fit`` calls and pickle it without custom classes.
    """

    def __init__(self, config, state):
        self.config = config
        self.state = state
        self._work = None
        #: the compiled step (numba installed, :mod:`~skfastgrnn._kernel`) or None
        self.kernel = adam_kernel()

    def learning_rate(self, epoch_index):
        """The rate of the ``epoch_index``-th epoch (0-based) of this run: step decay, or constant."""
        config = self.config
        decay = 1.0 if config.fixed_learning_rate else config.lr_decay ** (epoch_index // config.lr_decay_step)
        return config.learning_rate * decay

    def step(self, parameters, grad, learning_rate):
        """Clip ``grad`` (overwritten) and update ``parameters`` in place.

        The numbers of :func:`~skfastgrnn._optim.clip_gradient` and
        :func:`~skfastgrnn._optim.adam_step`, with a reused work vector and
        scalars computed in Python: a dozen numpy calls per batch.
        """
        c = self.config
        if self.kernel is not None and grad.dtype == parameters.dtype == self.state["m"].dtype:
            self._compiled_step(parameters, grad, learning_rate)
            return
        if c.grad_clip is not None and c.grad_clip_mode == "value":
            # np.clip's numbers (NaN propagates) at a third of its call cost
            np.minimum(grad, c.grad_clip, out=grad)
            np.maximum(grad, -c.grad_clip, out=grad)
        else:
            clip_gradient(grad, c.grad_clip, c.grad_clip_mode)
        state = self.state
        m, v = state["m"], state["v"]
        state["t"] = t = state["t"] + 1
        beta1, beta2 = c.adam_beta1, c.adam_beta2
        work = self._work
        if work is None or work.shape != grad.shape or work.dtype != grad.dtype:
            work = self._work = np.empty_like(grad)
        m *= beta1
        m += np.multiply(grad, 1.0 - beta1, out=work)
        v *= beta2
        grad *= grad
        grad *= 1.0 - beta2
        v += grad
        # Algorithm 1 exactly (as torch.optim.Adam): theta -= lr * m_hat / (sqrt(v_hat) + eps);
        # the second moment's correction stays a float64 scalar, as in adam_step
        denom = np.sqrt(v, out=work)
        denom *= np.float64(1.0 / math.sqrt(1.0 - beta2**t))
        denom += c.adam_epsilon
        np.divide(m, denom, out=denom)
        denom *= learning_rate / (1.0 - beta1**t)
        parameters -= denom

    def _compiled_step(self, parameters, grad, learning_rate):
        """The same update in one compiled call."""
        state = self.state
        state["t"] = state["t"] + 1
        self.kernel(parameters, grad, state["m"], state["v"], adam_settings(self.config, learning_rate, state["t"]))
