"""The optional compiled training engine: when numba is installed, FastGRNN batches and Adam run compiled.

Pure numpy here, no scikit-learn and no numba at import: numba is imported on
the first fit that can use it (``pip install skfastgrnn[fast]`` installs it).
Why it exists: at one or a few steps a batch is about 70 small numpy calls of
~1.7 us each, and that call overhead, not arithmetic, is the training time
(``benchmarks/bench_engine.py`` measures the share of the FLOP limit). The
compiled kernel (:mod:`skfastgrnn._kernel_numba`) computes the same numbers in
one call per batch and one per Adam step.

What it covers: the FastGRNN cell, one layer or a stack, full or low-rank
``W`` and ``U``, every nonlinearity, the three losses (cross-entropy,
distillation, squared error), NaN-padded sequences, L2, float32 and float64.
The other cells run on the numpy path, which stays the reference: the
tests compare the two to float tolerance and check the kernel's gradients
against finite differences.

The environment variable ``SKFASTGRNN_ENGINE`` chooses: ``auto`` (the default:
compiled when numba imports), ``numpy`` (never compiled), ``numba`` (compiled,
and an ImportError when numba is missing).

Examples
--------
>>> import numpy as np
>>> from skfastgrnn._kernel import engine
>>> engine() in ("numpy", "numba")
True
"""

import math
import os
from typing import NamedTuple

import numpy as np

from ._cells import FastGRNNCell

#: nonlinearity name -> the kernel's code for it
NONLINEARITY_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "quantSigm": 3, "quantSigm4": 4, "quantTanh": 5}
#: loss name (``LossTargets.kind``) -> the kernel's code for it
LOSS_CODES = {"cross_entropy": 0, "distillation": 1, "squared_error": 2}

_modules = {}


class LossTargets(NamedTuple):
    """What a loss hands the compiled kernel (``loss.compiled_targets()``).

    ``kind`` is a key of :data:`LOSS_CODES`; ``labels`` the class index of
    every row (the classification losses); ``targets`` the soft targets
    (distillation) or the real targets (squared error), one row per sample;
    ``temperature`` and ``alpha`` the distillation's.
    """

    kind: str
    labels: np.ndarray | None = None
    targets: np.ndarray | None = None
    temperature: float = 1.0
    alpha: float = 0.0


class KernelBatch(NamedTuple):
    """A batch as the compiled kernel reads it (numba passes named tuples of arrays)."""

    X: np.ndarray
    labels: np.ndarray
    targets: np.ndarray
    rows: np.ndarray
    weight: np.ndarray
    lengths: np.ndarray


class AdamStep(NamedTuple):
    """The scalars of one compiled Adam step (all floats: numba compiles one signature)."""

    clip_mode: float
    clip: float
    beta1: float
    beta2: float
    epsilon: float
    v_scale: float
    step_size: float


def engine():
    """``"numba"`` when fits run the compiled kernel where it applies, else ``"numpy"``.

    Reads ``SKFASTGRNN_ENGINE`` on every call (tests and users may change it
    between fits); the numba import happens once.
    """
    setting = os.environ.get("SKFASTGRNN_ENGINE", "auto").strip().lower()
    if setting not in ("auto", "numpy", "numba"):
        raise ValueError(f"SKFASTGRNN_ENGINE must be 'auto', 'numpy' or 'numba', got {setting!r}.")
    if setting == "numpy":
        return "numpy"
    if _compiled() is None:
        if setting == "numba":
            raise ImportError(
                "SKFASTGRNN_ENGINE=numba needs numba: pip install 'skfastgrnn[fast]' (or unset the variable)."
            )
        return "numpy"
    return "numba"


def _compiled():
    """The module of compiled functions, or None without a working numba (imported once)."""
    if "numba" not in _modules:
        try:
            from . import _kernel_numba
        except Exception:  # noqa: BLE001  missing, or broken (e.g. built for another numpy): the numpy path
            _kernel_numba = None
        _modules["numba"] = _kernel_numba
    return _modules["numba"]


class BatchKernel:
    """One fit's compiled loss-and-gradient for FastGRNN batches (see :func:`batch_kernel`).

    ``__call__(workspace, batch)`` returns ``(data_loss, l2_penalty,
    n_correct)`` and writes the gradient of their sum into
    ``workspace.grad``, as :func:`~skfastgrnn._batches.batch_loss_and_grad`
    does on the numpy path.
    """

    def __init__(self, module, network, targets, l2_reg):
        layout, dtype = network.layout, network.dtype
        self.function = module.fastgrnn_loss_and_grad
        self.work_size = module.work_size
        codes = NONLINEARITY_CODES[network.gate], NONLINEARITY_CODES[network.update]
        start = {name: offset for name, (offset, _, _) in layout.slices.items()}
        entries = [layout.n_layers, layout.n_outputs, *codes, start["W_out"], start["b_out"]]
        for layer in layout.layers:  # skfastgrnn._kernel_numba.LAYER_ENTRIES each
            entries += [layer.n_inputs, layer.hidden_dim]
            for matrix, low_rank in (("W", layer.low_rank_w), ("U", layer.low_rank_u)):
                name = layer.prefix + matrix
                if low_rank:  # the first factor, the second, the rank
                    entries += [start[name + "1"], start[name + "2"], layout.slices[name + "2"][2][0]]
                else:
                    entries += [start[name], 0, 0]
            entries += [start[layer.prefix + name] for name in ("b_z", "b_h", "zeta_logit", "nu_logit")]
        self.shape = np.array(entries, np.int64)
        loss = float(LOSS_CODES[targets.kind])
        self.settings = (float(l2_reg), loss, float(targets.temperature), float(targets.alpha))
        # absent parts as empty arrays: one compiled signature for every loss
        self.labels = np.zeros(0, np.uint8) if targets.labels is None else targets.labels
        self.targets = np.zeros((0, layout.n_outputs), dtype) if targets.targets is None else targets.targets
        self.counts_correct = targets.kind != "squared_error"
        self.no_lengths = np.zeros(0, np.int64)
        self._arrays = {}  # (T, B) -> the work arrays of that batch shape

    def accepts(self, batch, theta):
        """Whether the kernel computes this batch (a C-contiguous batch in the parameters' dtype)."""
        return batch.X.dtype == theta.dtype and batch.X.flags.c_contiguous

    def __call__(self, workspace, batch):
        theta = workspace.network.parameters
        T, B, _ = batch.X.shape
        arrays = self._arrays.get((T, B))
        if arrays is None:  # a new batch shape (the first, the last batch of an epoch): views of the workspace's
            n_work, n_power = self.work_size(T, B, self.shape)
            work = workspace.scratch.get("kernel", (n_work,), theta.dtype)
            arrays = self._arrays[T, B] = work, workspace.scratch.get("kernel-power", (n_power,), np.float64)
        work, power = arrays
        lengths = self.no_lengths if batch.lengths is None else batch.lengths.astype(np.int64, copy=False)
        kernel_batch = KernelBatch(batch.X, self.labels, self.targets, batch.rows, batch.weight, lengths)
        grad = workspace.grad
        loss, penalty, n_correct = self.function(kernel_batch, theta, grad, self.shape, self.settings, work, power)
        return loss, penalty, n_correct if self.counts_correct else None


def batch_kernel(network, targets, l2_reg):
    """The compiled :class:`BatchKernel` for this network and loss, or None when the numpy path must run.

    Parameters
    ----------
    network : FastGRNNNetwork
    targets : LossTargets or None
        ``loss.compiled_targets()``; None for a loss the kernel does not compute.
    l2_reg : float
    """
    layout = network.layout
    if targets is None or layout.cell is not FastGRNNCell:
        return None
    if targets.labels is not None and targets.labels.dtype.kind not in "iu":
        return None
    real = targets.targets
    if real is not None and (real.dtype != network.dtype or real.ndim != 2):
        return None
    if network.gate not in NONLINEARITY_CODES or network.update not in NONLINEARITY_CODES:
        return None
    if engine() != "numba":
        return None
    if real is not None and not real.flags.c_contiguous:  # e.g. a teacher's probabilities in Fortran order
        targets = targets._replace(targets=np.ascontiguousarray(real))
    return BatchKernel(_compiled(), network, targets, l2_reg)


def adam_kernel():
    """The compiled Adam step (:func:`skfastgrnn._kernel_numba.adam`), or None on the numpy path."""
    return _compiled().adam if engine() == "numba" else None


def adam_settings(config, learning_rate, t):
    """The :class:`AdamStep` of step ``t`` (a ``TrainingConfig``'s clipping and Adam settings)."""
    clip = config.grad_clip
    clip_mode = 0.0 if clip is None else (1.0 if config.grad_clip_mode == "value" else 2.0)
    return AdamStep(
        clip_mode,
        0.0 if clip is None else float(clip),
        float(config.adam_beta1),
        float(config.adam_beta2),
        float(config.adam_epsilon),
        1.0 / math.sqrt(1.0 - config.adam_beta2**t),
        learning_rate / (1.0 - config.adam_beta1**t),
    )
