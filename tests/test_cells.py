"""The cells' analytic BPTT gradients against central finite differences."""

import numpy as np
import pytest

from skfastgrnn import _cells
from skfastgrnn._cells import NONLINEARITIES, Layout, cross_entropy, forward
from skfastgrnn._network import FastGRNNNetwork
from skfastgrnn._train import (
    Batch,
    CrossEntropyLoss,
    DistillationLoss,
    SquaredErrorLoss,
    Workspace,
    batch_loss_and_grad,
)


def _numeric_grad(f, theta, eps=1e-4):
    """Fourth-order central differences: truncation O(eps^4), roundoff O(1e-16 / eps)."""
    g = np.zeros_like(theta)
    for i in range(theta.size):
        old = theta[i]
        values = []
        for step in (2, 1, -1, -2):
            theta[i] = old + step * eps
            values.append(f(theta))
        theta[i] = old
        g[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
    return g


def _problem(cell, T, n_classes, rank, u_rank, gate="sigmoid", update="tanh", seed=0):
    rng = np.random.RandomState(seed)
    D, H, B = 3, 5, 7
    layout = Layout(D, H, n_classes, cell, rank=rank, u_rank=u_rank)
    theta = layout.init(rng)
    # move scalars and biases away from their symmetric initial values
    theta += 0.1 * rng.standard_normal(theta.shape)
    X = rng.standard_normal((T, B, D))
    y = rng.randint(n_classes, size=B)
    y[:n_classes] = np.arange(n_classes)
    w = rng.uniform(0.5, 2.0, size=B)
    return layout, theta, X, y, w, gate, update


def loss_and_grad(layout, theta, X, y, w, gate, update, l2, grad, distill=None, lengths=None):
    """The training loop's batch loss (data + L2) and its gradient, copied into ``grad``."""
    T, B, D = X.shape
    network = FastGRNNNetwork(layout, theta, gate=gate, update=update, n_timesteps=T, n_step_features=D)
    if y.ndim == 2:  # real targets: the regressor's loss
        loss = SquaredErrorLoss(y)
    else:
        loss = CrossEntropyLoss(y) if distill is None else DistillationLoss(y, *distill)
    workspace = Workspace(network, l2_reg=l2)
    value, penalty, _ = batch_loss_and_grad(workspace, Batch(X, np.arange(B), w, lengths), loss)
    grad[...] = workspace.grad
    return value + penalty, grad


def _assert_grad_matches(layout, theta, X, y, w, gate, update, l2=0.0, distill=None, lengths=None, floor=1e-12):
    grad = np.zeros_like(theta)
    _, grad = loss_and_grad(layout, theta, X, y, w, gate, update, l2, grad, distill, lengths)

    def f(t):
        return loss_and_grad(layout, t, X, y, w, gate, update, l2, np.zeros_like(t), distill, lengths)[0]

    num = _numeric_grad(f, theta.copy())
    views_a, views_n = layout.views(grad), layout.views(num)
    for name in views_a:
        a, n = views_a[name], views_n[name]
        if not np.any(a):  # a structural zero (h_0 = 0 at T = 1): no ratio to take
            assert np.abs(n).max() < 1e-10, f"{name}: zero analytic gradient, numeric {n}"
            continue
        # ``floor``: gradients below it are compared in absolute terms (finite differences
        # cannot resolve a relative 1e-6 of a 1e-8 gradient)
        err = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor)
        assert err < 1e-6, f"{name}: relative error {err:.2e}"
        # with h_0 = 0 a single step never reaches what multiplies h_{t-1}
        if X.shape[0] > 1:
            assert np.linalg.norm(a) > 0, f"{name} has no gradient"


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("low_rank", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_gradients_match_finite_differences(cell, T, low_rank, n_classes):
    rank, u_rank = (2, 3) if low_rank else (None, None)
    problem = _problem(cell, T, n_classes, rank, u_rank)
    layout = problem[0]
    assert layout.low_rank_w == low_rank and layout.low_rank_u == low_rank
    _assert_grad_matches(*problem, l2=1e-2)


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("gate", ["sigmoid", "quantSigm", "quantSigm4", "relu"])
@pytest.mark.parametrize("update", ["tanh", "quantTanh", "sigmoid"])
@pytest.mark.parametrize("T", [1, 4])
def test_gradients_for_every_nonlinearity(cell, gate, update, T):
    # piecewise-linear functions have kinks; the fixed seed keeps every
    # pre-activation at least 1e-6 away from them (checked by the test itself
    # through agreement with finite differences); T = 1 runs the one-step path
    problem = _problem(cell, T, 3, None, None, gate, update, seed=3)
    _assert_grad_matches(*problem)


@pytest.mark.parametrize("gate, update", [("sigmoid", "tanh"), ("quantSigm", "quantTanh"), ("relu", "sigmoid")])
@pytest.mark.parametrize("low_rank", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_step_path_equals_the_general_loop(monkeypatch, gate, update, low_rank, dtype):
    """FastGRNN's fused one-step path gives the loss and gradient of the general recurrence (the former path)."""
    rank, u_rank = (2, 3) if low_rank else (None, None)
    layout, theta, X, y, w, _, _ = _problem("fastgrnn", 1, 3, rank, u_rank, seed=5)
    theta, X, w = theta.astype(dtype), X.astype(dtype), w.astype(dtype)
    results = []
    for fused in (True, False):
        monkeypatch.setattr(_cells.fastgrnn, "ONE_STEP_PATH", fused)
        grad = np.zeros_like(theta)
        results.append(loss_and_grad(layout, theta, X, y, w, gate, update, 1e-2, grad))
    (loss_a, grad_a), (loss_b, grad_b) = results
    tol = 1e-13 if dtype == np.float64 else 2e-6
    assert loss_a == pytest.approx(loss_b, rel=tol)
    np.testing.assert_allclose(grad_a, grad_b, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("hidden", [5, (5, 4)])
def test_a_reused_workspace_gives_the_numbers_of_a_fresh_one(cell, hidden):
    """Batches of changing size and length through one workspace (views of its arrays): no stale state."""
    rng = np.random.RandomState(4)
    D, n_classes = 3, 3
    layout = Layout(D, hidden, n_classes, cell)
    theta = layout.init(rng) + 0.1 * rng.standard_normal(layout.size)
    network = FastGRNNNetwork(layout, theta, gate="sigmoid", update="tanh", n_timesteps=6, n_step_features=D)
    reused = Workspace(network, l2_reg=1e-3)
    for T, B, padded in [(6, 9, False), (6, 4, True), (1, 9, False), (3, 12, True), (6, 9, False), (1, 2, False)]:
        X = rng.standard_normal((T, B, D))
        lengths = _lengths(B, T, seed=T + B) if padded and T > 1 else None
        y, w = rng.randint(n_classes, size=B), rng.uniform(0.5, 2.0, size=B)
        batch = Batch(X, np.arange(B), w, lengths)
        loss = CrossEntropyLoss(y)
        got = batch_loss_and_grad(reused, batch, loss)
        fresh = Workspace(network, l2_reg=1e-3)
        expected = batch_loss_and_grad(fresh, batch, loss)
        assert got == expected
        np.testing.assert_array_equal(reused.grad, fresh.grad)


def _lengths(B, T, seed=0):
    """Lengths 1..T for B rows, with at least one full-length and one length-1 row."""
    lengths = np.random.RandomState(seed).randint(1, T + 1, size=B)
    lengths[:2] = (T, 1)
    return lengths


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("low_rank", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_gradients_with_sequence_lengths_match_finite_differences(cell, low_rank, n_classes):
    rank, u_rank = (2, 3) if low_rank else (None, None)
    layout, theta, X, y, w, gate, update = _problem(cell, 5, n_classes, rank, u_rank)
    lengths = _lengths(X.shape[1], X.shape[0])
    _assert_grad_matches(layout, theta, X, y, w, gate, update, l2=1e-2, lengths=lengths)


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
def test_lengths_give_each_rows_own_loss_and_gradient(cell):
    """A batch of padded rows = the sum of each row's run on its own steps; the padding is never read."""
    layout, theta, X, y, w, gate, update = _problem(cell, 6, 3, None, None)
    T, B, _ = X.shape
    lengths = _lengths(B, T, seed=1)
    X_noisy = X.copy()
    for i, n in enumerate(lengths):
        X_noisy[n:, i] = 1e3 * np.random.RandomState(i).standard_normal(X_noisy[n:, i].shape)
    grad = np.zeros_like(theta)
    loss, grad = loss_and_grad(layout, theta, X_noisy, y, w, gate, update, 0.0, grad, lengths=lengths)
    total_loss, total_grad = 0.0, np.zeros_like(theta)
    for i, n in enumerate(lengths):
        one = np.zeros_like(theta)
        li, gi = loss_and_grad(layout, theta, X[:n, i : i + 1], y[i : i + 1], w[i : i + 1], gate, update, 0.0, one)
        total_loss += li * w[i]
        total_grad += gi * w[i]
    np.testing.assert_allclose(loss, total_loss / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(grad, total_grad / w.sum(), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("name", sorted(NONLINEARITIES))
def test_nonlinearity_derivative_from_output(name):
    f, d = NONLINEARITIES[name]
    x = np.linspace(-3, 3, 601) + 1e-3  # avoid the kinks exactly
    eps = 1e-6
    numeric = (f(x + eps, out=None) - f(x - eps, out=None)) / (2 * eps)
    np.testing.assert_allclose(d(f(x, out=None)), numeric, atol=1e-6)


def test_fastgrnn_forward_matches_the_paper_equations():
    rng = np.random.RandomState(1)
    layout = Layout(3, 4, 2, "fastgrnn")
    theta = layout.init(rng) + 0.1 * rng.standard_normal(layout.size)
    v = layout.views(theta)
    X = rng.standard_normal((6, 2, 3))
    logits, _ = forward(layout, layout.views(theta), X, "sigmoid", "tanh")

    def sig(a):
        return 1 / (1 + np.exp(-a))

    zeta, nu = sig(v["zeta_logit"][0]), sig(v["nu_logit"][0])
    for b in range(2):
        h = np.zeros(4)
        for t in range(6):
            pre = X[t, b] @ v["W"] + h @ v["U"]
            z = sig(pre + v["b_z"])
            c = np.tanh(pre + v["b_h"])
            h = (zeta * (1 - z) + nu) * c + z * h
        np.testing.assert_allclose(logits[b], h @ v["W_out"] + v["b_out"], rtol=1e-12)


def test_guide_cell_matches_its_equations():
    rng = np.random.RandomState(2)
    H = 4
    layout = Layout(3, H, 2, "guide")
    theta = layout.init(rng) + 0.1 * rng.standard_normal(layout.size)
    v = layout.views(theta)
    X = rng.standard_normal((5, 1, 3))
    logits, _ = forward(layout, layout.views(theta), X, "sigmoid", "tanh")
    nu, zeta = _cells.GUIDE_NU, _cells.GUIDE_ZETA
    Wr, Wu, Wc = v["W"][:, :H], v["W"][:, H : 2 * H], v["W"][:, 2 * H :]

    def sig(a):
        return 1 / (1 + np.exp(-a))

    h = np.zeros(H)
    for t in range(5):
        x = X[t, 0]
        r = sig(nu * (x @ Wr + v["b_r"]))
        u = sig(nu * (x @ Wu + v["b_u"]))
        c = np.tanh(zeta * (x @ Wc + (r * h) @ v["U"] + v["b_c"]))
        h = u * h + (1 - u) * c
    np.testing.assert_allclose(logits[0], h @ v["W_out"] + v["b_out"], rtol=1e-12)


def test_cross_entropy_weights_and_accuracy():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    y = np.array([0, 1, 1])
    w = np.array([1.0, 1.0, 2.0])
    loss, dlogits, n_correct = cross_entropy(logits, y, w)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -(logp[0, 0] + logp[1, 1] + 2 * logp[2, 1]) / 4
    assert loss == pytest.approx(expected)
    assert n_correct == 2.0
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)
    # a zero weight removes the sample exactly
    loss0, _, _ = cross_entropy(logits, y, np.array([1.0, 1.0, 0.0]))
    loss2, _, _ = cross_entropy(logits[:2], y[:2], np.ones(2))
    assert loss0 == pytest.approx(loss2)


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
def test_each_cell_module_holds_its_maths_and_export_code(cell):
    """Adding a cell touches one module: its class has the maths and the C and ONNX code the exporters call."""
    cls = _cells.CELLS[cell]
    assert issubclass(cls, _cells.Cell) and cls.__module__ == f"skfastgrnn._cells.{cell}"
    maths = ("param_shapes", "init_params", "forward", "backward")
    export = ("export_scalars", "export_one_step", "c_constants", "c_buffers", "c_step", "onnx_steps")
    for name in maths + export:
        assert callable(getattr(cls, name, None)), f"{cls.__name__} has no {name}"
    layout = Layout(3, 4, 2, cell)
    scalars = cls.export_scalars(layout.views(layout.init(np.random.RandomState(0))))
    assert scalars and all(isinstance(v, float) and 0.0 <= v <= 2.0 for v in scalars.values())


def test_every_nonlinearity_has_its_c_form():
    assert set(_cells.C_NONLINEARITIES) == set(NONLINEARITIES)


def test_the_package_keeps_the_names_of_the_former_module():
    for name in ("CELLS", "NONLINEARITIES", "GUIDE_NU", "GUIDE_ZETA", "Layout", "FinalStateGradient", "forward"):
        assert hasattr(_cells, name), name
    for name in ("backward", "softmax", "log_softmax", "cross_entropy", "distillation_loss", "final_states"):
        assert callable(getattr(_cells, name)), name


def test_low_rank_falls_back_to_full_when_rank_is_not_smaller():
    layout = Layout(5, 16, 2, "fastgrnn", rank=8, u_rank=16)
    assert not layout.low_rank_w and not layout.low_rank_u
    assert "W" in layout.slices and "U" in layout.slices


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_distillation_gradients_match_finite_differences(cell, T, n_classes):
    layout, theta, X, y, w, gate, update = _problem(cell, T, n_classes, None, None)
    rng = np.random.RandomState(5)
    q = rng.dirichlet(np.ones(n_classes), size=len(y))
    _assert_grad_matches(layout, theta, X, y, w, gate, update, l2=1e-2, distill=(q, 3.0, 0.7))


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("n_outputs, rank, u_rank", [(1, None, None), (3, 2, 2)])
def test_squared_error_gradients_match_finite_differences(cell, T, n_outputs, rank, u_rank):
    layout, theta, X, _, w, gate, update = _problem(cell, T, n_outputs, rank, u_rank)
    Y = np.random.RandomState(6).normal(size=(X.shape[1], n_outputs))
    _assert_grad_matches(layout, theta, X, Y, w, gate, update, l2=1e-2)
    lengths = _lengths(X.shape[1], T, seed=2)
    _assert_grad_matches(layout, theta, X, Y, w, gate, update, l2=1e-2, lengths=lengths)


def test_squared_error_loss_formula():
    rng = np.random.RandomState(0)
    out, Y, w = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), rng.uniform(0.5, 2, size=5)
    loss, grad, n_correct = SquaredErrorLoss(Y)(out, np.arange(5), w)
    expected = 0.5 * np.sum(w[:, None] * (out - Y) ** 2) / (w.sum() * 2)
    assert loss == pytest.approx(expected) and n_correct is None
    np.testing.assert_allclose(grad, w[:, None] * (out - Y) / (w.sum() * 2))
    # the prior: predicting the weighted mean of each target
    mean = np.average(Y, axis=0, weights=w)
    assert SquaredErrorLoss(Y).prior_loss(np.arange(5), w) == pytest.approx(
        SquaredErrorLoss(Y)(np.tile(mean, (5, 1)), np.arange(5), w)[0]
    )


def test_distillation_loss_formula():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    y = np.array([0, 2])
    w = np.array([1.0, 3.0])
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
    T, alpha = 2.0, 0.25

    def log_softmax(z):
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    soft = -(q * log_softmax(logits / T)).sum(axis=1)
    hard = -log_softmax(logits)[[0, 1], y]
    expected = (alpha * T**2 * np.dot(w, soft) + (1 - alpha) * np.dot(w, hard)) / w.sum()
    loss, _, _ = _cells.distillation_loss(logits, y, w, q, T, alpha)
    assert loss == pytest.approx(expected)
    # alpha = 0 is the plain cross-entropy
    assert _cells.distillation_loss(logits, y, w, q, T, 0.0)[0] == pytest.approx(cross_entropy(logits, y, w)[0])


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # hypothesis is in the test extra; keep the module importable without it
    given = None

if given is not None:

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(
        cell=st.sampled_from(sorted(_cells.CELLS)),
        D=st.integers(1, 4),
        H=st.integers(1, 5),
        B=st.integers(1, 4),
        T=st.integers(1, 4),
        K=st.integers(2, 4),
        rank=st.sampled_from([None, 1, 2]),
        u_rank=st.sampled_from([None, 1, 2]),
        seed=st.integers(0, 2**16),
    )
    def test_gradients_for_any_shape(cell, D, H, B, T, K, rank, u_rank, seed):
        # shapes the parametrized tests do not reach: one feature, one hidden
        # unit, one row, ranks at and above the matrix sizes
        rng = np.random.RandomState(seed)
        layout = Layout(D, H, K, cell, rank=rank, u_rank=u_rank)
        theta = layout.init(rng) + 0.1 * rng.standard_normal(layout.size)
        X = rng.standard_normal((T, B, D))
        y = rng.randint(K, size=B)
        w = rng.uniform(0.5, 2.0, size=B)
        _assert_grad_matches(layout, theta, X, y, w, "sigmoid", "tanh", l2=1e-3)


# ------------------------------------------------------------------ stacked layers


def _stack_problem(cell, T, dims, n_outputs, rank, seed=0):
    rng = np.random.RandomState(seed)
    layout = Layout(3, dims, n_outputs, cell, rank=rank, u_rank=rank)
    theta = layout.init(rng)
    theta += 0.1 * rng.standard_normal(theta.shape)
    X = rng.standard_normal((T, 7, 3))
    w = rng.uniform(0.5, 2.0, size=7)
    return layout, theta, X, w


@pytest.mark.parametrize("cell", sorted(_cells.CELLS))
@pytest.mark.parametrize("T", [1, 4])
@pytest.mark.parametrize("rank", [None, 2])
def test_stacked_gradients_match_finite_differences(cell, T, rank):
    """BPTT through a stack: every layer's parameters, with and without sequence lengths, both losses."""
    layout, theta, X, w = _stack_problem(cell, T, (5, 4), 3, rank)
    y = np.array([0, 1, 2, 0, 1, 2, 1])
    # in a stack the first layers' scalars can have gradients near 1e-8 at T = 1: compare those absolutely
    _assert_grad_matches(layout, theta, X, y, w, "sigmoid", "tanh", l2=1e-2, floor=1e-5)
    _assert_grad_matches(layout, theta, X, y, w, "sigmoid", "tanh", lengths=_lengths(7, T, seed=3), floor=1e-5)
    layout3, theta3, X3, w3 = _stack_problem(cell, T, (5, 4, 3), 2, rank, seed=1)
    Y = np.random.RandomState(2).normal(size=(7, 2))
    _assert_grad_matches(
        layout3, theta3, X3, Y, w3, "sigmoid", "tanh", l2=1e-2, lengths=_lengths(7, T, seed=4), floor=1e-5
    )


def test_a_one_layer_stack_is_the_plain_layout():
    plain, one = Layout(3, 5, 2, "fastgrnn"), Layout(3, (5,), 2, "fastgrnn")
    assert plain.shapes == one.shapes and plain.n_layers == one.n_layers == 1
    stack = Layout(3, (5, 4), 2, "fastgrnn", rank=2)
    names = [n for n, _ in stack.shapes]
    assert names[:2] == ["W1", "W2"] and "layer2.W1" in names and dict(stack.shapes)["W_out"] == (4, 2)
    np.testing.assert_array_equal(
        Layout(3, 5, 2, "guide").init(np.random.RandomState(0)),
        Layout(3, (5,), 2, "guide").init(np.random.RandomState(0)),
    )


def test_a_lower_layer_never_sees_past_a_sequence_end():
    """Rows padded after their end give the output of the row alone, through every layer."""
    layout, theta, X, w = _stack_problem("fastgrnn", 5, (4, 3), 2, None)
    views = layout.views(theta)
    lengths = np.array([5, 2, 3, 1, 5, 4, 2])
    noisy = X.copy()
    for i, n in enumerate(lengths):
        noisy[n:, i] = 7.0  # anything after the end
    out = _cells.forward(layout, views, noisy, "sigmoid", "tanh", lengths)[0]
    for i, n in enumerate(lengths):
        alone = _cells.forward(layout, views, X[:n, i : i + 1], "sigmoid", "tanh")[0]
        np.testing.assert_allclose(out[i], alone[0], rtol=1e-12, atol=1e-12)
