"""Adam, gradient clipping and L2 on one flat parameter vector.

Pure numpy. The optimizer state is a plain dict of arrays and an int so that it
pickles, and loads with ``skops.io``, without custom classes.
"""

import numpy as np


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
