"""The optional compiled engine (numba): the numpy path's numbers, finite-difference gradients, clean fallback."""

import warnings

import numpy as np
import pytest
from test_cells import _lengths, _numeric_grad, _problem

from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, _kernel
from skfastgrnn._batches import Batch, Workspace, batch_loss_and_grad
from skfastgrnn._cells import Layout
from skfastgrnn._kernel import LossTargets
from skfastgrnn._network import FastGRNNNetwork
from skfastgrnn._train import Adam, CrossEntropyLoss, DistillationLoss, SquaredErrorLoss, TrainingConfig

numba = pytest.importorskip("numba", reason="the compiled engine needs numba: pip install 'skfastgrnn[fast]'")
from skfastgrnn import _kernel_numba  # noqa: E402


def _network(layout, theta, T, gate="sigmoid", update="tanh"):
    D = layout.n_step_features
    return FastGRNNNetwork(layout, theta, gate=gate, update=update, n_timesteps=T, n_step_features=D)


def _loss(kind, y, K, dtype, seed=0):
    """The loss ``kind`` on labels ``y`` (uint8, as a fit has them) with soft or real targets in ``dtype``."""
    rng = np.random.RandomState(seed)
    labels = y.astype(np.uint8)
    if kind == "cross_entropy":
        return CrossEntropyLoss(labels)
    if kind == "distillation":
        soft = rng.dirichlet(np.ones(K), size=len(y)).astype(dtype)
        return DistillationLoss(labels, soft, 2.5, 0.6)
    return SquaredErrorLoss(rng.standard_normal((len(y), K)).astype(dtype))


def _run(layout, theta, X, w, gate, update, l2, loss, lengths=None, compiled=True):
    """``(loss, penalty, n_correct, grad)`` of one batch on the compiled path (or the numpy path)."""
    network = _network(layout, theta, X.shape[0], gate, update)
    workspace = Workspace(network, l2_reg=l2, targets=loss.compiled_targets() if compiled else None)
    assert (workspace.kernel is not None) == compiled
    rows = np.arange(X.shape[1], dtype=np.int32)  # a fit's row indices
    result = batch_loss_and_grad(workspace, Batch(X, rows, w, lengths), loss)
    return (*result, workspace.grad.copy())


LOSS_KINDS = ["cross_entropy", "distillation", "squared_error"]


def _stacked_problem(T, hidden, rank, seed):
    """``_problem``'s batch for a stack of FastGRNN layers (``hidden`` a tuple)."""
    layout, _, X, y, w, _, _ = _problem("fastgrnn", T, 3, None, None, seed=seed)
    rng = np.random.RandomState(seed)
    layout = Layout(3, hidden, 3, "fastgrnn", rank=rank, u_rank=rank)
    theta = layout.init(rng) + 0.1 * rng.standard_normal(layout.size)
    return layout, theta, X, y, w


@pytest.fixture(autouse=True)
def _compiled_engine(monkeypatch):
    monkeypatch.setenv("SKFASTGRNN_ENGINE", "auto")


@pytest.mark.parametrize("T", [1, 4])
@pytest.mark.parametrize("gate, update", [("sigmoid", "tanh"), ("quantSigm", "quantTanh"), ("relu", "sigmoid"),
                                          ("quantSigm4", "tanh"), ("sigmoid", "relu")])  # fmt: skip
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("kind", LOSS_KINDS)
@pytest.mark.parametrize("rank, u_rank", [(None, None), (2, 3)])
def test_compiled_gradients_match_finite_differences(T, gate, update, padded, kind, rank, u_rank):
    # piecewise-linear nonlinearities have kinks: this seed keeps every pre-activation away from
    # them, for both ranks (the agreement with finite differences checks it)
    layout, theta, X, y, w, _, _ = _problem("fastgrnn", T, 3, rank, u_rank, gate, update, seed=6)
    assert layout.low_rank_w == (rank is not None) and layout.low_rank_u == (u_rank is not None)
    loss = _loss(kind, y, 3, np.float64)
    lengths = _lengths(X.shape[1], T) if padded and T > 1 else None
    _, _, _, grad = _run(layout, theta, X, w, gate, update, 1e-2, loss, lengths)

    def f(t):
        value, penalty, _, _ = _run(layout, t, X, w, gate, update, 1e-2, loss, lengths)
        return value + penalty

    numeric = _numeric_grad(f, theta.copy())
    for name, a in layout.views(grad).items():
        n = layout.views(numeric)[name]
        err = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("T", [1, 6])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("gate, update", [("sigmoid", "tanh"), ("quantSigm", "quantTanh"), ("relu", "sigmoid")])
@pytest.mark.parametrize("kind", LOSS_KINDS)
@pytest.mark.parametrize("rank, u_rank", [(None, None), (2, None), (None, 3), (2, 3)])
def test_compiled_batch_equals_the_numpy_path(T, padded, dtype, tol, gate, update, kind, rank, u_rank):
    layout, theta, X, y, w, _, _ = _problem("fastgrnn", T, 3, rank, u_rank, seed=7)
    theta, X, w = theta.astype(dtype), X.astype(dtype), w.astype(dtype)
    loss = _loss(kind, y, 3, dtype)
    lengths = _lengths(X.shape[1], T, seed=2) if padded and T > 1 else None
    compiled = _run(layout, theta, X, w, gate, update, 1e-2, loss, lengths)
    reference = _run(layout, theta, X, w, gate, update, 1e-2, loss, lengths, compiled=False)
    for got, expected in zip(compiled[:3], reference[:3], strict=True):
        assert got is expected is None or got == pytest.approx(expected, rel=tol, abs=tol)
    np.testing.assert_allclose(compiled[3], reference[3], rtol=10 * tol, atol=tol)


def test_a_batch_of_another_dtype_takes_the_numpy_path():
    layout, theta, X, y, w, gate, update = _problem("fastgrnn", 3, 2, None, None)
    network = _network(layout, theta, 3)
    workspace = Workspace(network, targets=LossTargets("cross_entropy", y.astype(np.uint8)))
    assert workspace.kernel.accepts(Batch(X, None, w), theta)
    assert not workspace.kernel.accepts(Batch(X.astype(np.float32), None, w), theta)
    assert not workspace.kernel.accepts(Batch(np.asfortranarray(X), None, w), theta)


@pytest.mark.parametrize(
    "cell, hidden, rank, targets",
    [("guide", 4, None, "labels"), ("fastrnn", 4, None, "labels"), ("guide", (4, 3), None, "labels"),
     ("fastgrnn", 4, None, None), ("fastgrnn", 4, None, "float32 targets")],
)  # fmt: skip
def test_what_the_kernel_does_not_cover_runs_on_numpy(cell, hidden, rank, targets):
    """Other cells, no compiled loss, targets of another dtype than the network's."""
    layout = Layout(3, hidden, 2, cell, rank=rank)
    network = _network(layout, layout.init(np.random.RandomState(0)), 2)
    given = {
        "labels": LossTargets("cross_entropy", np.zeros(4, np.uint8)),
        "float32 targets": LossTargets("squared_error", targets=np.zeros((4, 2), np.float32)),
        None: None,
    }[targets]
    assert _kernel.batch_kernel(network, given, 0.0) is None
    if targets == "labels" and cell == "fastgrnn":
        plain = _network(Layout(3, 4, 2, "fastgrnn"), Layout(3, 4, 2, "fastgrnn").init(np.random.RandomState(0)), 2)
        assert _kernel.batch_kernel(plain, given, 0.0) is not None


def test_the_engine_follows_the_environment_variable(monkeypatch):
    assert _kernel.engine() == "numba"
    monkeypatch.setenv("SKFASTGRNN_ENGINE", "numpy")
    assert _kernel.engine() == "numpy"
    assert _kernel.adam_kernel() is None
    monkeypatch.setenv("SKFASTGRNN_ENGINE", "fast")
    with pytest.raises(ValueError, match="'auto', 'numpy' or 'numba'"):
        _kernel.engine()


def test_without_numba_fits_take_the_numpy_path(monkeypatch):
    monkeypatch.setitem(_kernel._modules, "numba", None)  # what a missing numba leaves
    assert _kernel.engine() == "numpy"
    layout = Layout(3, 4, 2, "fastgrnn")
    network = _network(layout, layout.init(np.random.RandomState(0)), 2)
    assert _kernel.batch_kernel(network, LossTargets("cross_entropy", np.zeros(4, np.uint8)), 0.0) is None
    monkeypatch.setenv("SKFASTGRNN_ENGINE", "numba")
    with pytest.raises(ImportError, match=r"pip install 'skfastgrnn\[fast\]'"):
        _kernel.engine()


@pytest.mark.parametrize("clip, mode", [(None, "value"), (0.01, "value"), (0.05, "norm"), (10.0, "norm")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_adam_equals_the_numpy_step(monkeypatch, clip, mode, dtype):
    config = TrainingConfig(grad_clip=clip, grad_clip_mode=mode)
    runs = []
    for engine in ("auto", "numpy"):
        monkeypatch.setenv("SKFASTGRNN_ENGINE", engine)
        adam = Adam(config, {"m": np.zeros(50, dtype), "v": np.zeros(50, dtype), "t": 0})
        assert (adam.kernel is not None) == (engine == "auto")
        theta = np.ones(50, dtype)
        for step in range(5):
            adam.step(theta, np.random.RandomState(step).standard_normal(50).astype(dtype) * 0.1, 0.01)
        runs.append((theta, adam.state))
    (theta_a, state_a), (theta_b, state_b) = runs
    tol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(theta_a, theta_b, rtol=tol, atol=tol)
    np.testing.assert_allclose(state_a["m"], state_b["m"], rtol=tol, atol=tol)
    np.testing.assert_allclose(state_a["v"], state_b["v"], rtol=10 * tol, atol=tol)
    assert state_a["t"] == state_b["t"] == 5


def _fit_both_engines(monkeypatch, make, X, y, **fit_params):
    models = []
    for engine in ("auto", "numpy"):
        monkeypatch.setenv("SKFASTGRNN_ENGINE", engine)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(make().fit(X, y, **fit_params))
    return models


@pytest.mark.parametrize("n_timesteps, rank", [(1, None), (4, None), (2, 2)])
def test_a_fit_on_either_engine_gives_the_same_model(monkeypatch, blobs, n_timesteps, rank):
    X, y = blobs
    X = X[:, :4] if n_timesteps == 4 else X

    def make():
        params = {"hidden_dim": 6, "epochs": 6, "l2_reg": 1e-3, "random_state": 0, "rank": rank, "u_rank": rank}
        return FastGRNNClassifier(n_timesteps=n_timesteps, **params)

    compiled, reference = _fit_both_engines(monkeypatch, make, X, y)
    np.testing.assert_allclose(compiled.network_.parameters, reference.network_.parameters, rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(compiled.predict(X), reference.predict(X))
    assert compiled.history_[:, "train_loss"] == pytest.approx(reference.history_[:, "train_loss"], rel=1e-10)


def test_regressors_and_distilled_students_train_alike_on_either_engine(monkeypatch, blobs):
    X, y = blobs
    Y = np.c_[X[:, 0] + X[:, 1], X[:, 2]]

    for hidden in (6, (6, 4)):

        def regressor(hidden=hidden):
            return FastGRNNRegressor(hidden_dim=hidden, n_timesteps=2, epochs=5, random_state=0)

        compiled, reference = _fit_both_engines(monkeypatch, regressor, X, Y)
        np.testing.assert_allclose(compiled.predict(X), reference.predict(X), rtol=1e-8, atol=1e-10)
    soft = np.random.RandomState(0).dirichlet(np.ones(3), size=len(y))

    def student():
        return FastGRNNClassifier(hidden_dim=6, n_timesteps=2, epochs=5, random_state=0)

    models = []
    for engine in ("auto", "numpy"):
        monkeypatch.setenv("SKFASTGRNN_ENGINE", engine)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(student().fit_distilled(X, y, soft, temperature=2.0, alpha=0.7))
    compiled, reference = models
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X), rtol=1e-8, atol=1e-10)


def test_exp_and_tanh_blocks_match_numpy():
    x = np.linspace(-30, 30, 20001)
    t = x.copy()
    _kernel_numba._tanh_block(t, np.zeros(3 * x.size), 0)
    np.testing.assert_allclose(t, np.tanh(x), rtol=1e-15, atol=4e-16)
    s = 0.5 * x
    _kernel_numba._tanh_block(s, np.zeros(3 * x.size), x.size)  # the sigmoid form
    # 0.5 + 0.5 tanh(x / 2), numpy's form too: absolute precision near 0
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-15, atol=3e-16)
    u = np.linspace(-800, 0, 20001)
    out = np.empty_like(u)
    _kernel_numba._expm1_block(u, out, np.zeros(u.size))
    np.testing.assert_allclose(out, np.expm1(u), rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("gate, update", [("sigmoid", "tanh"), ("quantSigm", "quantTanh"), ("relu", "sigmoid")])
def test_a_nan_input_gives_a_nan_loss_as_on_numpy(gate, update):
    """A diverged fit must show: NaN goes through every nonlinearity as in numpy (never clamped to a number)."""
    layout, theta, X, y, w, _, _ = _problem("fastgrnn", 3, 3, None, None, seed=1)
    X = X.copy()
    X[1, 2, 0] = np.nan
    for compiled in (True, False):
        value, _, _, grad = _run(layout, theta, X, w, gate, update, 0.0, _loss("cross_entropy", y, 3, X.dtype),
                                 compiled=compiled)  # fmt: skip
        assert np.isnan(value) and np.isnan(grad).any()


@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("hidden, rank", [((5, 4), None), ((4, 6, 3), None), ((5, 4), 2)])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_compiled_stacks_match_finite_differences_and_numpy(T, hidden, rank, padded, kind):
    """A stack through the compiled engine: gradients of every layer against finite differences and the numpy path."""
    layout, theta, X, y, w = _stacked_problem(T, hidden, rank, seed=6)
    loss = _loss(kind, y, 3, np.float64)
    lengths = _lengths(X.shape[1], T) if padded and T > 1 else None
    compiled = _run(layout, theta, X, w, "sigmoid", "tanh", 1e-2, loss, lengths)
    reference = _run(layout, theta, X, w, "sigmoid", "tanh", 1e-2, loss, lengths, compiled=False)
    for got, expected in zip(compiled[:3], reference[:3], strict=True):
        assert got is expected is None or got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(compiled[3], reference[3], rtol=1e-10, atol=1e-12)

    def f(t):
        value, penalty, _, _ = _run(layout, t, X, w, "sigmoid", "tanh", 1e-2, loss, lengths)
        return value + penalty

    numeric = _numeric_grad(f, theta.copy())
    for name, a in layout.views(compiled[3]).items():
        n = layout.views(numeric)[name]
        # the lower layers' gradients can be near 1e-6 at T = 1, where finite differences of this
        # loss resolve about 1e-11: compared absolutely below 1e-4 (the numpy path matched above)
        err = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-4)
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_the_kernel_numbers_nonlinearities_and_losses_as_the_dispatcher_does():
    """The codes live twice (the compiled module cannot import the dispatcher without an import cycle): they agree."""
    k = _kernel_numba
    names = {"sigmoid": k.SIGMOID, "tanh": k.TANH, "relu": k.RELU, "quantSigm": k.QUANT_SIGM,
             "quantSigm4": k.QUANT_SIGM4, "quantTanh": k.QUANT_TANH}  # fmt: skip
    assert _kernel.NONLINEARITY_CODES == names
    losses = {"cross_entropy": k.CROSS_ENTROPY, "distillation": k.DISTILLATION, "squared_error": k.SQUARED_ERROR}
    assert _kernel.LOSS_CODES == losses
    from skfastgrnn._cells import NONLINEARITIES

    assert set(_kernel.NONLINEARITY_CODES) == set(NONLINEARITIES)
