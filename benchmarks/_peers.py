"""Peers for ``bench_training.py``, ``bench_ucr.py`` and ``bench_regression.py``: edgeml-pytorch, torch GRU, MLP.

Every peer of ``bench_training.py`` has the small estimator surface of
``FastGRNNClassifier``: ``fit(X, y)``, ``predict_proba(X)`` and ``score(X, y)``, with
``X`` of shape ``(n, T * D)`` laid out timestep-major per row (row = ``[x_1, ..., x_T]``).
``PaddedSequencePeer`` (``bench_ucr.py``) takes zero-padded ``(n, T, D)`` series and
their valid lengths instead: ``torch.nn.GRU`` through ``pack_padded_sequence``, or the
edgeml cell with the state gathered at each series' last valid step.
``PaddedSequenceRegressorPeer`` (``bench_regression.py``) is the same model with one
output per target and a squared-error loss.

torch and edgeml-pytorch are imported lazily, inside functions, so that the
benchmark's ``--help`` works on a machine without them.

How the edgeml-pytorch peer is built, and why:

* ``edgeml_pytorch.graph.rnn`` calls ``utils.findCUDA()`` at import time and, if it
  finds a CUDA install, imports a compiled extension; ``load_edgeml`` disables that.
* The library's trainer (``FastTrainer``) never gives its final linear layer (``FC``,
  ``FCbias``) to the optimizer, so that head stays at its random init. We skip the
  trainer: the peer is the library's ``FastGRNNCell`` plus a ``torch.nn.Linear`` head,
  one ``torch.optim.Adam`` over both, cross-entropy loss, shuffled mini-batches.
* The cell is unrolled here, keeping only the last hidden state. The library's own
  ``FastGRNN``/``BaseRNN`` wrapper writes every step in place into a preallocated
  ``[B, T, H]`` tensor, which makes backward much slower on long sequences (about 3x
  at T=128 on this machine) for the same numbers: the plain loop is the fastest
  correct use of the library.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import time
import warnings

import numpy as np

__all__ = [
    "EdgeMLFastGRNNPeer",
    "PaddedSequencePeer",
    "PaddedSequenceRegressorPeer",
    "TorchGRUPeer",
    "configure_torch",
    "load_edgeml",
    "make_mlp_peer",
    "peer_versions",
    "torch_latency",
]


def configure_torch(seed: int = 0):
    """Import torch, pin it to one thread, seed it and return the module."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # may be set only once per process
        torch.set_num_interop_threads(1)
    torch.manual_seed(seed)
    return torch


def load_edgeml():
    """Import ``edgeml_pytorch.graph.rnn`` with the CUDA-extension probe disabled."""
    import edgeml_pytorch.utils as edgeml_utils

    edgeml_utils.findCUDA = lambda: None
    from edgeml_pytorch.graph import rnn

    return rnn


def _dist_version(name: str) -> str:
    """Installed version of a distribution, or ``'not installed'``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def peer_versions() -> dict[str, str]:
    """Versions of the peer libraries, without importing them."""
    return {
        "torch": _dist_version("torch"),
        "edgeml-pytorch": _dist_version("edgeml-pytorch"),
        "scikit-learn": _dist_version("scikit-learn"),
    }


def _make_edgeml_module(n_features: int, hidden: int, n_classes: int):
    """Build edgeml's ``FastGRNNCell``, unrolled over time, + an ``nn.Linear`` head."""
    import torch

    rnn = load_edgeml()

    class EdgeMLFastGRNNNet(torch.nn.Module):
        """Last hidden state of the edgeml cell, then a linear head (logits)."""

        def __init__(self):
            super().__init__()
            self.cell = rnn.FastGRNNCell(
                n_features,
                hidden,
                gate_nonlinearity="sigmoid",
                update_nonlinearity="tanh",
                zetaInit=1.0,
                nuInit=-4.0,
            )
            self.head = torch.nn.Linear(hidden, n_classes)

        def forward(self, x):  # x: (batch, T, D)
            h = x.new_zeros(x.shape[0], hidden)
            for t in range(x.shape[1]):
                h = self.cell(x[:, t, :], h)
            return self.head(h)

    return EdgeMLFastGRNNNet()


def _make_gru_module(n_features: int, hidden: int, n_classes: int):
    """Build ``torch.nn.GRU`` (fused kernel) + ``nn.Linear`` on the last state."""
    import torch

    class GRUNet(torch.nn.Module):
        """Single-layer GRU; logits from the final hidden state."""

        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(n_features, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, n_classes)

        def forward(self, x):  # x: (batch, T, D)
            _, h_n = self.gru(x)
            return self.head(h_n[-1])

    return GRUNet()


class _TorchSequencePeer:
    """Minimal sklearn-style wrapper training a torch sequence model with Adam + CE.

    Subclasses set ``_factory(n_features, hidden, n_classes) -> nn.Module`` returning
    logits for a ``(batch, T, D)`` float32 tensor.
    """

    _factory = None

    def __init__(
        self,
        hidden_dim=16,
        n_timesteps=1,
        batch_size=128,
        epochs=10,
        learning_rate=0.01,
        random_state=0,
    ):
        self.hidden_dim = hidden_dim
        self.n_timesteps = n_timesteps
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _to_tensor(self, X):
        """(n, T*D) numpy -> (n, T, D) float32 tensor (zero-copy when possible)."""
        import torch

        X = np.ascontiguousarray(X, dtype=np.float32)
        return torch.from_numpy(X).view(X.shape[0], self.n_timesteps, -1)

    def fit(self, X, y):
        """Train for exactly ``epochs`` shuffled passes; fills ``history_``."""
        torch = configure_torch(self.random_state)
        xt = self._to_tensor(X)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        yt = torch.from_numpy(y_idx.astype(np.int64))
        self.model_ = type(self)._factory(xt.shape[2], self.hidden_dim, len(self.classes_))
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        gen = torch.Generator().manual_seed(self.random_state)
        self.history_ = []
        for epoch in range(self.epochs):
            start = time.perf_counter()
            loss_sum = self._run_epoch(xt, yt, optimizer, gen)
            self.history_.append(
                {
                    "epoch": epoch + 1,
                    "train_loss": loss_sum / len(yt),
                    "seconds": time.perf_counter() - start,
                }
            )
        return self

    def _run_epoch(self, xt, yt, optimizer, gen):
        """One shuffled pass of mini-batch Adam steps; returns the summed loss."""
        import torch

        self.model_.train()
        order = torch.randperm(len(yt), generator=gen)
        loss_sum = 0.0
        for start in range(0, len(yt), self.batch_size):
            idx = order[start : start + self.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.model_(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
        return loss_sum

    def _proba(self, X):
        """Softmax probabilities; the caller sets eval mode and ``torch.no_grad``."""
        import torch

        return torch.softmax(self.model_(self._to_tensor(X)), dim=1).numpy()

    def predict_proba(self, X):
        """Softmax class probabilities, computed under ``torch.no_grad``."""
        import torch

        self.model_.eval()
        with torch.no_grad():
            return self._proba(X)

    def predict(self, X):
        """Most probable class label per row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y):
        """Mean accuracy."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class EdgeMLFastGRNNPeer(_TorchSequencePeer):
    """edgeml-pytorch 0.3.0 ``FastGRNNCell`` + linear head, both trained by Adam."""

    _factory = staticmethod(_make_edgeml_module)


class TorchGRUPeer(_TorchSequencePeer):
    """``torch.nn.GRU`` + linear head, trained by Adam."""

    _factory = staticmethod(_make_gru_module)


def make_mlp_peer(hidden_dim, batch_size, epochs, learning_rate, random_state=0):
    """Return an sklearn ``MLPClassifier`` on flat rows, run for ``epochs`` epochs."""
    from sklearn.neural_network import MLPClassifier

    return _FixedEpochMLP(
        MLPClassifier(
            hidden_layer_sizes=(hidden_dim,),
            solver="adam",
            batch_size=batch_size,
            learning_rate_init=learning_rate,
            max_iter=epochs,
            shuffle=True,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            early_stopping=False,
            random_state=random_state,
        )
    )


class _FixedEpochMLP:
    """Thin wrapper silencing the ConvergenceWarning of a deliberately short fit."""

    def __init__(self, mlp):
        self.mlp = mlp

    def fit(self, X, y):
        """Fit the wrapped ``MLPClassifier`` for its fixed number of epochs."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.mlp.fit(X, y)
        return self

    def predict_proba(self, X):
        """Class probabilities."""
        return self.mlp.predict_proba(X)

    def score(self, X, y):
        """Mean accuracy."""
        return float(self.mlp.score(X, y))


# ----------------------------------------------------------------------------- variable length
#
# Used by ``bench_ucr.py``: zero-padded ``(n, T, D)`` float32 batches plus the valid
# length of every series, the output taken at each series' LAST VALID step (never at
# the padding).


def _make_gru_varlen_module(n_features: int, hidden: int, n_classes: int):
    """``torch.nn.GRU`` + ``nn.Linear``; unequal lengths go through ``pack_padded_sequence``."""
    import torch

    class PackedGRUNet(torch.nn.Module):
        """Single-layer GRU; logits from the hidden state after each series' last valid step."""

        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(n_features, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, n_classes)

        def forward(self, x, lengths):  # x: (batch, T, D) zero-padded; lengths: int64 (batch,)
            if bool((lengths == x.shape[1]).all()):
                _, h_n = self.gru(x)  # equal lengths: the fused kernel on the plain tensor
            else:
                packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                _, h_n = self.gru(packed)  # h_n: the state at each series' own last step
            return self.head(h_n[-1])

    return PackedGRUNet()


def _make_edgeml_varlen_module(n_features: int, hidden: int, n_classes: int):
    """edgeml's ``FastGRNNCell`` unrolled in Python; the state at each last valid step (gather)."""
    import torch

    rnn = load_edgeml()

    class GatherFastGRNNNet(torch.nn.Module):
        """edgeml cell over the padded batch, then a linear head on the gathered states."""

        def __init__(self):
            super().__init__()
            self.cell = rnn.FastGRNNCell(
                n_features,
                hidden,
                gate_nonlinearity="sigmoid",
                update_nonlinearity="tanh",
                zetaInit=1.0,
                nuInit=-4.0,
            )
            self.head = torch.nn.Linear(hidden, n_classes)

        def forward(self, x, lengths):  # x: (batch, T, D) zero-padded; lengths: int64 (batch,)
            h = x.new_zeros(x.shape[0], hidden)
            if bool((lengths == x.shape[1]).all()):
                for t in range(x.shape[1]):
                    h = self.cell(x[:, t, :], h)
                return self.head(h)
            states = []
            for t in range(x.shape[1]):
                h = self.cell(x[:, t, :], h)
                states.append(h)
            states = torch.stack(states, dim=1)  # (batch, T, hidden)
            index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, hidden)
            return self.head(states.gather(1, index).squeeze(1))

    return GatherFastGRNNNet()


class PaddedSequencePeer:
    """A torch sequence model on zero-padded batches with valid lengths, Adam + cross-entropy.

    ``kind`` is ``"gru"`` (``torch.nn.GRU``, packed sequences) or ``"edgeml"``
    (edgeml-pytorch's ``FastGRNNCell`` unrolled, gather of the last valid state). Each
    mini-batch is cut to its own longest series, so padding costs nothing where the
    batch is shorter. ``fit(X, lengths, y)``: ``X`` float32 ``(n, T, D)``, zeros after
    each series' ``lengths[i]`` steps; exactly ``epochs`` shuffled passes.
    """

    _factories = {"gru": _make_gru_varlen_module, "edgeml": _make_edgeml_varlen_module}

    def __init__(self, kind, hidden_dim=16, batch_size=32, epochs=100, learning_rate=0.01, random_state=0):
        self.kind = kind
        self.hidden_dim = hidden_dim
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.random_state = random_state

    @staticmethod
    def _tensors(X, lengths):
        import torch

        X = np.ascontiguousarray(X, dtype=np.float32)
        return torch.from_numpy(X), torch.from_numpy(np.asarray(lengths, dtype=np.int64))

    def fit(self, X, lengths, y):
        """Train for exactly ``epochs`` shuffled passes of mini-batch Adam."""
        torch = configure_torch(self.random_state)
        xt, lt = self._tensors(X, lengths)
        if int(lt.min()) < 1:
            raise ValueError("every series needs at least one valid step")
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        yt = torch.from_numpy(y_idx.astype(np.int64))
        self.model_ = self._factories[self.kind](xt.shape[2], self.hidden_dim, len(self.classes_))
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        gen = torch.Generator().manual_seed(self.random_state)
        self.model_.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(yt), generator=gen)
            for start in range(0, len(yt), self.batch_size):
                idx = order[start : start + self.batch_size]
                lb = lt[idx]
                xb = xt[idx, : int(lb.max())]
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(self.model_(xb, lb), yt[idx])
                loss.backward()
                optimizer.step()
        return self

    def predict(self, X, lengths, chunk=512):
        """Most probable class per series (eval mode, no gradients, in chunks of rows)."""
        import torch

        xt, lt = self._tensors(X, lengths)
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(lt), chunk):
                lb = lt[start : start + chunk]
                out.append(self.model_(xt[start : start + chunk, : int(lb.max())], lb).argmax(1).numpy())
        return self.classes_[np.concatenate(out)]

    def n_parameters(self):
        """Number of trained parameters (cell or GRU, and the head)."""
        return int(sum(p.numel() for p in self.model_.parameters()))


class PaddedSequenceRegressorPeer(PaddedSequencePeer):
    """``torch.nn.GRU`` (or the edgeml cell) + ``nn.Linear`` regressing one or several targets.

    The same model, batches and padding as :class:`PaddedSequencePeer`, with half the
    mean squared error as the loss (averaged over the targets) and one output per
    target. The targets are standardized inside (training mean and standard deviation
    per target, as ``FastGRNNRegressor`` does) and ``predict`` maps the outputs back, so
    the peer gets the same help with targets far from unit scale as ours.
    """

    def fit(self, X, lengths, y):
        """Train for exactly ``epochs`` shuffled passes of mini-batch Adam on the standardized targets."""
        torch = configure_torch(self.random_state)
        xt, lt = self._tensors(X, lengths)
        if int(lt.min()) < 1:
            raise ValueError("every series needs at least one valid step")
        Y = np.asarray(y, dtype=np.float64)
        self.n_outputs_ = 1 if Y.ndim == 1 else Y.shape[1]
        Y = Y.reshape(len(Y), -1)
        self.target_mean_ = Y.mean(axis=0)
        std = Y.std(axis=0)
        self.target_scale_ = np.where(std > 0, std, 1.0)
        yt = torch.from_numpy(((Y - self.target_mean_) / self.target_scale_).astype(np.float32))
        self.model_ = self._factories[self.kind](xt.shape[2], self.hidden_dim, Y.shape[1])
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        gen = torch.Generator().manual_seed(self.random_state)
        self.model_.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(yt), generator=gen)
            for start in range(0, len(yt), self.batch_size):
                idx = order[start : start + self.batch_size]
                lb = lt[idx]
                xb = xt[idx, : int(lb.max())]
                optimizer.zero_grad(set_to_none=True)
                loss = 0.5 * torch.nn.functional.mse_loss(self.model_(xb, lb), yt[idx])
                loss.backward()
                optimizer.step()
        return self

    def predict(self, X, lengths, chunk=512):
        """Predicted targets in their original units (1-D for one target), eval mode, no gradients."""
        import torch

        xt, lt = self._tensors(X, lengths)
        self.model_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(lt), chunk):
                lb = lt[start : start + chunk]
                out.append(self.model_(xt[start : start + chunk, : int(lb.max())], lb).numpy().astype(np.float64))
        Y = np.concatenate(out) * self.target_scale_ + self.target_mean_
        return Y.ravel() if self.n_outputs_ == 1 else Y


def torch_latency(peer, X, n_calls):
    """Per-call seconds of a torch peer's forward pass, numpy in and numpy out.

    Eval mode and ``torch.no_grad`` are entered once, outside the timed calls, so only
    the conversion, the forward pass and the softmax are timed.
    """
    import torch

    peer.model_.eval()
    timings = np.empty(n_calls)
    with torch.no_grad():
        for _ in range(min(50, n_calls)):  # warm-up
            peer._proba(X)
        for i in range(n_calls):
            start = time.perf_counter()
            peer._proba(X)
            timings[i] = time.perf_counter() - start
    return timings
