"""The maths of the network: nonlinearities, recurrent cells, head and loss.

Pure numpy, no scikit-learn. Everything works on a batch at once and is
time-major: a batch of sequences is an array of shape ``(T, B, D)``.

The network is::

    P     = X W                        input projection, all timesteps in one product
    h_t   = cell(P_t, h_{t-1} U, ...)  recurrence, h_0 = 0
    z     = h_T W_out + b_out          logits
    loss  = sum_i w_i CE(softmax(z_i), y_i) / sum_i w_i + l2 / 2 * ||matrices||^2

with row-vector convention (``x W`` rather than ``W x``). Every parameter lives
in one flat buffer; :class:`Layout` names views into it, so the optimizer,
clipping, L2, saving and quantization all see one vector.

Cells
-----
``"fastgrnn"`` (Kusupati et al., 2018, eq. 3-4), W and U shared by gate and update::

    z_t = gate(x_t W + h_{t-1} U + b_z)
    c_t = update(x_t W + h_{t-1} U + b_h)
    h_t = (zeta (1 - z_t) + nu) c_t + z_t h_{t-1}
    zeta = sigmoid(zeta_logit), nu = sigmoid(nu_logit)   (trainable, kept in [0, 1])

``"fastrnn"`` (same paper, eq. 1)::

    c_t = update(x_t W + h_{t-1} U + b)
    h_t = alpha c_t + beta h_{t-1},  alpha = sigmoid(alpha_logit), beta = sigmoid(beta_logit)

``"guide"``: the cell of the Tiny Dancer FastGRNN training guide, a GRU-like cell
with separate input matrices per gate and a reset gate. It differs from the
paper's cell in that W is not shared (three input matrices, so ~3x the input
weights), the gates do not see h_{t-1}, a reset gate multiplies h_{t-1} before
the recurrent matrix, and nu, zeta are fixed scalings (``GUIDE_NU``,
``GUIDE_ZETA``), not trainable::

    r_t = gate(nu (x_t W_r + b_r))
    u_t = gate(nu (x_t W_u + b_u))
    c_t = update(zeta (x_t W_c + (r_t * h_{t-1}) U + b_c))
    h_t = u_t h_{t-1} + (1 - u_t) c_t

Its input matrix is stored as one ``W`` of shape ``(D, 3H)`` = ``[W_r | W_u | W_c]``
so the input projection stays one product. The guide writes the recurrent
matrix as ``W``; here it is ``U`` like in the other cells.

Low rank: ``W = W1 W2`` (``rank``) and ``U = U1 U2`` (``u_rank``). The full matrix
is formed once per batch, gradients flow back with ``dW1 = dW W2^T`` and
``dW2 = W1^T dW``.

Modules
-------
Each cell lives in one module with everything about it: its maths (forward,
backward), its C code and its ONNX nodes (:class:`~skfastgrnn._cells.common.Cell`
lists what a cell provides); a new cell is a new module and one line in
:data:`CELLS`.

- ``common``: the nonlinearities (numpy, C, ONNX), the cell interface,
  :class:`FinalStateGradient`;
- ``fastgrnn``, ``fastrnn``, ``guide``: one cell each;
- ``layout``: :data:`CELLS`, :class:`Layout` (the flat parameter buffer),
  :func:`forward` and :func:`backward`;
- ``losses``: softmax, cross-entropy and the distillation loss.

Everything is importable from ``skfastgrnn._cells``.
"""

from .common import (
    C_NONLINEARITIES,
    NONLINEARITIES,
    Cell,
    FinalStateGradient,
    SequenceGradient,
    final_states,
    onnx_nonlinearity,
)
from .common import _logistic as _logistic
from .fastgrnn import FastGRNNCell
from .fastrnn import FastRNNCell
from .guide import GUIDE_NU, GUIDE_ZETA, GuideCell
from .layout import CELLS, Layout, backward, forward
from .losses import cross_entropy, distillation_loss, log_softmax, softmax

__all__ = [
    "CELLS",
    "C_NONLINEARITIES",
    "GUIDE_NU",
    "GUIDE_ZETA",
    "NONLINEARITIES",
    "Cell",
    "FastGRNNCell",
    "FastRNNCell",
    "FinalStateGradient",
    "SequenceGradient",
    "GuideCell",
    "Layout",
    "backward",
    "cross_entropy",
    "distillation_loss",
    "final_states",
    "forward",
    "log_softmax",
    "onnx_nonlinearity",
    "softmax",
]
