"""Adam, clipping and L2 on the flat parameter vector."""

import numpy as np
import pytest

from skfastgrnn._optim import adam_state, adam_step, add_l2, clip_gradient


def _reference_adam(theta, grads, lr, b1, b2, eps):
    """Kingma & Ba (2015), Algorithm 1, written out plainly."""
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def test_adam_matches_algorithm_1():
    rng = np.random.RandomState(0)
    theta0 = rng.standard_normal(7)
    grads = [rng.standard_normal(7) * 10 ** rng.uniform(-4, 1) for _ in range(25)]
    theta = theta0.copy()
    state = adam_state(7)
    for g in grads:
        adam_step(theta, g.copy(), state, 0.01, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(theta, _reference_adam(theta0, grads, 0.01, 0.9, 0.999, 1e-8), rtol=1e-12)
    assert state["t"] == 25


def test_adam_matches_torch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(1)
    theta0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(10)]
    p = torch.nn.Parameter(torch.tensor(theta0))
    opt = torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    theta, state = theta0.copy(), adam_state(5)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        adam_step(theta, g.copy(), state, 0.05, 0.8, 0.99, 1e-6)
    np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-10)


def test_clip_by_value_and_by_norm():
    g = np.array([3.0, -4.0, 0.5])
    np.testing.assert_array_equal(clip_gradient(g.copy(), 1.0, "value"), [1.0, -1.0, 0.5])
    clipped = clip_gradient(g.copy(), 2.5, "norm")
    assert np.linalg.norm(clipped) == pytest.approx(2.5)
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), g / np.linalg.norm(g))
    np.testing.assert_array_equal(clip_gradient(g.copy(), 100.0, "norm"), g)
    np.testing.assert_array_equal(clip_gradient(g.copy(), None, "value"), g)


def test_l2_acts_on_masked_entries_only():
    theta = np.array([1.0, 2.0, 3.0])
    grad = np.zeros(3)
    penalty = add_l2(theta, grad, np.array([0.1, 0.0, 0.1]))
    assert penalty == pytest.approx(0.5 * 0.1 * (1 + 9))
    np.testing.assert_allclose(grad, [0.1, 0.0, 0.3])
