"""The compiled training kernel: numba functions for one FastGRNN batch and one Adam step.

Imported only by :mod:`skfastgrnn._kernel`, and only when numba is installed
(``pip install skfastgrnn[fast]``): nothing else in the package imports
numba. The numbers are the numpy path's (:mod:`skfastgrnn._cells`,
:class:`skfastgrnn._train.Adam`) computed in loops: one call per batch
instead of about 70 numpy calls, which is where the time of a short
sequence goes (1.7 us per call against a few hundred multiply-adds each).
Every function compiles on its first call for the dtypes it sees and is
cached on disk (``cache=True``): about 10 s once, well under a second in later
processes.

Layout conventions are those of :class:`~skfastgrnn._cells.Layout`: row
vectors, ``W`` (D, H), ``U`` (H, H), ``W_out`` (H, K), parameters at the
offsets of one flat vector.
"""

import math

import numba
import numpy as np


def _jit(**options):
    """``numba.njit`` with the kernel's options.

    ``cache=True``: compiled once per dtype, then loaded from disk.
    ``error_model="numpy"``: a division by zero gives inf as in numpy rather
    than a Python exception, which keeps the check (and a branch) out of
    every loop so that the compiler can vectorize them.
    ``fastmath={"contract"}``: multiply-adds may fuse into FMA instructions
    (one rounding instead of two); no other reordering, so the rounding
    trick of :func:`_expm1_block` stays exact.
    """
    return numba.njit(cache=True, error_model="numpy", fastmath={"contract"}, **options)


# nonlinearity codes (skfastgrnn._kernel.NONLINEARITY_CODES gives the names)
SIGMOID, TANH, RELU, QUANT_SIGM, QUANT_SIGM4, QUANT_TANH = range(6)
# loss codes (skfastgrnn._kernel.LOSS_CODES)
CROSS_ENTROPY, DISTILLATION, SQUARED_ERROR = range(3)

# exp(u) = 2^k exp(r), k = round(u / ln 2), r = u - k ln 2 (ln 2 in two parts, Cody and Waite)
_LN2_HI = 0.693145751953125
_LN2_LO = 1.42860682030941723212e-6
_INV_LN2 = 1.4426950408889634
_ROUND = 6755399441055744.0  # 1.5 * 2^52: (v + _ROUND) - _ROUND rounds v to an integer, in vector registers
_LOWEST = -708.0  # 2^k stays a normal float64 (k >= -1022)


@_jit(inline="always")
def _expm1_reduced(r):
    """``(exp(r) - 1) / r`` for ``|r| <= ln(2) / 2``: Taylor to degree 12 (error below 2e-16), by Horner."""
    p = 1 / 6227020800
    p = p * r + 1 / 479001600
    p = p * r + 1 / 39916800
    p = p * r + 1 / 3628800
    p = p * r + 1 / 362880
    p = p * r + 1 / 40320
    p = p * r + 1 / 5040
    p = p * r + 1 / 720
    p = p * r + 1 / 120
    p = p * r + 1 / 24
    p = p * r + 1 / 6
    p = p * r + 1 / 2
    return p * r + 1.0


@_jit()
def _expm1_block(u, out, power):
    """``out = exp(u) - 1`` for ``u <= 0`` (computed in float64; ``out`` must not overlap ``u`` or ``power[:len(u)]``).

    Why not ``math.exp``: numba calls libm once per value (10-27 ns for exp
    and tanh), ten times numpy's vectorized ufuncs; these loops have no call,
    so the compiler vectorizes them (about 4 ns a value). 2^k is made from
    its exponent bits in an int64 view of ``power``. ``exp(r) - 1`` is kept
    without cancellation when ``k = 0``, so tanh near 0 keeps its relative
    precision. Accuracy: 4e-16 relative for ``exp``, 3e-16 absolute for tanh.
    """
    n = u.shape[0]
    bits = power[:n].view(np.int64)
    for i in range(n):  # the reduced argument (one loop for the floats, one for the bits: both vectorize)
        v = _LOWEST if u[i] < _LOWEST else u[i]  # NaN stays NaN, as in numpy (a diverged fit must show)
        k = (v * _INV_LN2 + _ROUND) - _ROUND
        r = (v - k * _LN2_HI) - k * _LN2_LO
        out[i] = r * _expm1_reduced(r)
    for i in range(n):
        v = u[i] if u[i] > _LOWEST else _LOWEST
        bits[i] = (np.int64((v * _INV_LN2 + _ROUND) - _ROUND) + 1023) << 52
    scale = power[:n]
    for i in range(n):
        e = out[i]
        out[i] = e if scale[i] == 1.0 else (1.0 + e) * scale[i] - 1.0


@_jit()
def _tanh_block(x, power, half):
    """``x = tanh(x)`` in place; with ``half`` the first half becomes sigmoid(2 x) = 0.5 + 0.5 tanh(x).

    tanh(x) = -sign(x) em1 / (2 + em1), em1 = exp(-2|x|) - 1 (:func:`_expm1_block`);
    ``power`` is float64 scratch of ``3 len(x)`` entries.
    """
    n = x.shape[0]
    u = power[n : 2 * n]
    em1 = power[2 * n : 3 * n]
    for i in range(n):
        u[i] = -2.0 * abs(x[i])
    _expm1_block(u, em1, power)
    for i in range(n):
        t = -em1[i] / (2.0 + em1[i])
        x[i] = t if x[i] >= 0.0 else -t
    for i in range(half):
        x[i] = 0.5 + 0.5 * x[i]


@_jit(inline="always")
def _simple(code, x):
    """The nonlinearities without exp: relu, quantSigm, quantSigm4, quantTanh (``NONLINEARITIES``; NaN stays NaN)."""
    if code == RELU:
        return 0.0 if x < 0.0 else x
    if code == QUANT_TANH:
        return _clip(x, -1.0, 1.0)
    return _clip(x * (0.5 if code == QUANT_SIGM else 0.25) + 0.5, 0.0, 1.0)


@_jit(inline="always")
def _clip(x, low, high):
    """``np.clip`` of one value: NaN stays NaN."""
    return low if x < low else (high if x > high else x)


@_jit()
def _activate(code, x, power):
    """``x = NONLINEARITIES[code](x)`` in place on a flat block (sigmoid as 0.5 + 0.5 tanh(x / 2), as numpy)."""
    n = x.shape[0]
    if code == SIGMOID:
        for i in range(n):
            x[i] *= 0.5
        _tanh_block(x, power, n)
    elif code == TANH:
        _tanh_block(x, power, 0)
    else:
        for i in range(n):
            x[i] = _simple(code, x[i])


@_jit(inline="always")
def _derivative(code, y):
    """``NONLINEARITIES[name][1]``: the derivative at the output ``y``."""
    if code == SIGMOID:
        return y * (1.0 - y)
    if code == TANH:
        return 1.0 - y * y
    if code == RELU:
        return 1.0 if y > 0.0 else 0.0
    if code == QUANT_TANH:
        return 1.0 if abs(y) < 1.0 else 0.0
    inside = 1.0 if 0.0 < y < 1.0 else 0.0
    return inside * (0.5 if code == QUANT_SIGM else 0.25)


@_jit()
def _logistic(v):
    if v < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-v))


@_jit()
def _outputs_and_loss(final, W_out, b_out, batch, settings, outputs, doutputs, power):
    """The head's outputs of the final states and the batch's loss: ``(loss, n_correct)``.

    ``settings[1:]`` is ``(loss code, temperature, alpha)``; the numbers are
    those of :func:`skfastgrnn._cells.cross_entropy`, :func:`~skfastgrnn._cells.distillation_loss`
    and :class:`skfastgrnn._train.SquaredErrorLoss`. d(loss)/d(outputs) is
    written into ``doutputs``; ``n_correct`` is 0 for the squared error.
    """
    _, labels, targets, rows, weight, _ = batch
    kind, temperature, alpha = settings[1], settings[2], settings[3]
    B, K = outputs.shape
    np.dot(final, W_out, outputs)
    total = 0.0
    for i in range(B):
        total += weight[i]
        for k in range(K):
            outputs[i, k] += b_out[k]
    if kind == SQUARED_ERROR:  # half the weighted mean of the mean squared error over the outputs
        loss = 0.0
        for i in range(B):
            share = weight[i] / (total * K)
            target = targets[rows[i]]
            for k in range(K):
                diff = outputs[i, k] - target[k]
                doutputs[i, k] = diff * share
                loss += 0.5 * share * diff * diff
        return loss, 0.0
    best = np.empty(B, np.int64)
    for i in range(B):
        top = outputs[i, 0]
        best[i] = 0
        for k in range(1, K):
            if outputs[i, k] > top:
                top = outputs[i, k]
                best[i] = k
        for k in range(K):
            doutputs[i, k] = outputs[i, k] - top
    em1 = power[B * K : 2 * B * K].reshape((B, K))
    _expm1_block(doutputs.reshape(B * K), em1.reshape(B * K), power)
    loss = 0.0
    n_correct = 0.0
    for i in range(B):
        norm = 0.0
        for k in range(K):
            doutputs[i, k] = 1.0 + em1[i, k]
            norm += doutputs[i, k]
        label = labels[rows[i]]
        # -log softmax(z)_y = log sum exp (z - max) - (z_y - max)
        loss += weight[i] * (math.log(norm) - (outputs[i, label] - outputs[i, best[i]]))
        if best[i] == label:
            n_correct += weight[i]
        share = weight[i] / total
        for k in range(K):
            doutputs[i, k] = doutputs[i, k] / norm * share
        doutputs[i, label] -= share
    loss /= total
    if kind == DISTILLATION:
        # alpha T^2 CE(softmax(z / T), q) + (1 - alpha) CE(softmax(z), y); gradient
        # alpha T (softmax(z / T) - q) + (1 - alpha) (softmax(z) - onehot(y)), weighted means
        scaled = power[2 * B * K : 3 * B * K].reshape((B, K))
        em1 = power[3 * B * K : 4 * B * K].reshape((B, K))
        for i in range(B):
            top = outputs[i, best[i]] / temperature
            for k in range(K):
                scaled[i, k] = outputs[i, k] / temperature - top
        _expm1_block(scaled.reshape(B * K), em1.reshape(B * K), power)
        soft_loss = 0.0
        for i in range(B):
            norm = 0.0
            for k in range(K):
                norm += 1.0 + em1[i, k]
            log_norm = math.log(norm)
            share = weight[i] / total
            q = targets[rows[i]]
            for k in range(K):
                soft_loss -= share * q[k] * (scaled[i, k] - log_norm)
                d_soft = ((1.0 + em1[i, k]) / norm - q[k]) * share * (alpha * temperature)
                doutputs[i, k] = d_soft + (1.0 - alpha) * doutputs[i, k]
        loss = alpha * temperature * temperature * soft_loss + (1.0 - alpha) * loss
    return loss, n_correct


#: entries of one layer in ``shape`` (see :func:`fastgrnn_loss_and_grad`)
LAYER_ENTRIES = 12


@_jit()
def fastgrnn_loss_and_grad(batch, theta, grad, shape, settings, work, power):
    """Loss, L2 penalty and weighted correct count of one batch; the gradient of their sum written into ``grad``.

    Parameters
    ----------
    batch : tuple ``(X, labels, targets, rows, weight, lengths)`` (a :class:`skfastgrnn._kernel.KernelBatch`):
        ``X`` (T, B, D) time-major, C-contiguous, the dtype of ``theta``; batch
        row ``i`` is row ``rows[i]`` of the fit, whose class index is
        ``labels[rows[i]]`` and whose real targets (soft targets, regression
        targets) are ``targets[rows[i]]``; ``weight`` (B,) with a positive sum;
        ``lengths`` (B,) of int, or empty (every row has ``T`` steps).
    theta, grad : the flat parameter vector and its gradient (every entry written).
    shape : int array: ``[L, K, gate code, update code, start of W_out, start
        of b_out]``, then for each of the ``L`` stacked layers
        :data:`LAYER_ENTRIES` entries ``[D, H, start of W, start of W2, rank
        of W, start of U, start of U2, rank of U, start of b_z, of b_h, of
        zeta_logit, of nu_logit]``: a rank of 0 is a matrix stored whole;
        otherwise ``W = W1 W2`` (the first start is ``W1``'s) is formed here.
    settings : tuple of floats ``(l2, loss, temperature, alpha)``: the L2
        strength on the stored matrices, then the loss (:func:`_outputs_and_loss`).
    work : scratch of ``theta``'s dtype, :func:`work_size` entries.
    power : float64 scratch, :func:`work_size` entries.
    """
    X, _, _, _, _, lengths = batch
    T, B, D = X.shape
    L, K, gate, update, oWo, obo = shape[0], shape[1], shape[2], shape[3], shape[4], shape[5]
    H = shape[6 + LAYER_ENTRIES * (L - 1) + 1]  # the last layer's, which the head reads
    widest = _widest(shape)
    # the rows shared by the layers (dh, dfinal, a product, the final states, dc), the
    # gradient handed down to the layer below, the head's outputs and their gradient
    rows = work[: 5 * B * widest]
    down = work[5 * B * widest : (5 + T) * B * widest]
    at = (5 + T) * B * widest
    outputs = work[at : at + B * K].reshape((B, K))
    doutputs = work[at + B * K : at + 2 * B * K].reshape((B, K))

    # forward, layer by layer: each reads the states of the one below
    for layer in range(L):
        views = _layer_views(theta, grad, work, shape, layer, T, B)
        inputs = X.reshape((T * B, D)) if layer == 0 else _states(work, shape, layer - 1, T, B)
        width = views[0].shape[2]
        product = rows[2 * B * width : 3 * B * width].reshape((B, width))
        _forward_layer(inputs, views, _layer_parameters(theta, shape, layer), (gate, update), product, power)

    # the head and the loss
    Hs = _layer_views(theta, grad, work, shape, L - 1, T, B)[2]
    final = rows[3 * B * H : 4 * B * H].reshape((B, H))
    padded = lengths.shape[0] > 0
    if padded:  # each row's state after its last observed step
        for i in range(B):
            final[i] = Hs[lengths[i], i]
    else:
        final[:] = Hs[T]
    W_out = theta[oWo : oWo + H * K].reshape((H, K))
    loss, n_correct = _outputs_and_loss(final, W_out, theta[obo : obo + K], batch, settings, outputs, doutputs, power)
    np.dot(final.T, doutputs, grad[oWo : oWo + H * K].reshape((H, K)))
    g_b_out = grad[obo : obo + K]
    g_b_out[:] = 0.0
    for i in range(B):
        for k in range(K):
            g_b_out[k] += doutputs[i, k]
    dfinal = rows[B * H : 2 * B * H].reshape((B, H))
    np.dot(doutputs, W_out.T, dfinal)

    # backward through time, from the top layer down
    for layer in range(L - 1, -1, -1):
        views = _layer_views(theta, grad, work, shape, layer, T, B)
        inputs = X.reshape((T * B, D)) if layer == 0 else _states(work, shape, layer - 1, T, B)
        upstream = (down, dfinal, lengths, layer == L - 1)
        _backward_layer(inputs, views, (theta, grad, shape, layer), (gate, update), upstream, rows)

    penalty = 0.0
    l2 = settings[0]
    if l2 > 0.0:  # skfastgrnn._optim.add_l2 on the stored matrices
        for layer in range(L):
            base = 6 + LAYER_ENTRIES * layer
            D_l, H_l = shape[base], shape[base + 1]
            penalty += _matrix_l2(theta, grad, shape[base + 2], shape[base + 3], (D_l, shape[base + 4], H_l), l2)
            penalty += _matrix_l2(theta, grad, shape[base + 5], shape[base + 6], (H_l, shape[base + 7], H_l), l2)
        penalty += _add_l2(theta, grad, oWo, oWo + H * K, l2)
    return loss, 0.5 * penalty, n_correct


@_jit()
def _widest(shape):
    """The largest hidden size of the stack."""
    widest = 0
    for layer in range(shape[0]):
        widest = max(widest, shape[6 + LAYER_ENTRIES * layer + 1])
    return widest


def _layer_size(T, B, D, H):
    """Work entries of one layer: P, A (z and c), the states, W, U and their gradients, the per-unit sums."""
    return 4 * T * B * H + B * H + 2 * (D * H + H * H) + 2 * H


_layer_size_compiled = _jit(inline="always")(_layer_size)


@_jit()
def _layer_start(shape, layer, T, B):
    """Where the work of ``layer`` starts (after the shared rows and the layers below)."""
    at = (5 + T) * B * _widest(shape) + 2 * B * shape[1]
    for below in range(layer):
        base = 6 + LAYER_ENTRIES * below
        at += _layer_size_compiled(T, B, shape[base], shape[base + 1])
    return at


@_jit()
def _states(work, shape, layer, T, B):
    """The states ``h_1 .. h_T`` of ``layer`` as ``(T B, H)`` rows: the input of the layer above."""
    H = shape[6 + LAYER_ENTRIES * layer + 1]
    at = _layer_start(shape, layer, T, B) + 3 * T * B * H + B * H  # past P, A and h_0
    return work[at : at + T * B * H].reshape((T * B, H))


@_jit()
def _layer_views(theta, grad, work, shape, layer, T, B):
    """``(P, A, Hs, W, U, g_W, g_U, sums)`` of one layer (its matrices formed from their factors if low-rank)."""
    base = 6 + LAYER_ENTRIES * layer
    D, H = shape[base], shape[base + 1]
    w_at = (shape[base + 2], shape[base + 3], (D, shape[base + 4], H))
    u_at = (shape[base + 5], shape[base + 6], (H, shape[base + 7], H))
    at = _layer_start(shape, layer, T, B)
    n = T * B * H
    P = work[at : at + n].reshape((T, B, H))
    A = work[at + n : at + 3 * n].reshape((T, 2, B, H))
    Hs = work[at + 3 * n : at + 4 * n + B * H].reshape((T + 1, B, H))
    at += 4 * n + B * H
    W = _matrix(theta, w_at[0], w_at[1], w_at[2], work[at : at + D * H])
    U = _matrix(theta, u_at[0], u_at[1], u_at[2], work[at + D * H : at + D * H + H * H])
    at += D * H + H * H
    g_W = _matrix(grad, w_at[0], w_at[1], w_at[2], work[at : at + D * H], False)
    g_U = _matrix(grad, u_at[0], u_at[1], u_at[2], work[at + D * H : at + D * H + H * H], False)
    at += D * H + H * H
    return P, A, Hs, W, U, g_W, g_U, work[at : at + 2 * H].reshape((2, H))


@_jit()
def _layer_parameters(theta, shape, layer):
    """``(b_z, b_h, zeta, nu)`` of one layer."""
    base = 6 + LAYER_ENTRIES * layer
    H = shape[base + 1]
    obz, obh, oze, onu = shape[base + 8], shape[base + 9], shape[base + 10], shape[base + 11]
    return theta[obz : obz + H], theta[obh : obh + H], _logistic(theta[oze]), _logistic(theta[onu])


@_jit()
def _forward_layer(inputs, views, parameters, nonlinearities, product, power):
    """One layer's recurrence over all steps; ``inputs`` are its ``(T B, D)`` input rows."""
    P, A, Hs, W, U = views[0], views[1], views[2], views[3], views[4]
    b_z, b_h, zeta, nu = parameters
    gate, update = nonlinearities
    T, B, H = P.shape
    scale = zeta + nu
    joint = gate == SIGMOID and update == TANH  # sigmoid(x) = 0.5 + 0.5 tanh(x / 2): one tanh block
    # all steps' input products in one BLAS call, then the recurrence (small BLAS
    # products, elementwise loops over contiguous rows that vectorize)
    np.dot(inputs, W, P.reshape((T * B, H)))
    Hs[0] = 0.0
    for t in range(T):
        Z, C, a = A[t, 0], A[t, 1], P[t]
        if t:  # h_0 = 0: the first step has no recurrent product
            np.dot(Hs[t], U, product)
            for i in range(B):
                for j in range(H):
                    a[i, j] += product[i, j]
        if joint:  # z's pre-activation halved: tanh of the whole block, then 0.5 + 0.5 tanh on z's half
            for i in range(B):
                for j in range(H):
                    Z[i, j] = 0.5 * (a[i, j] + b_z[j])
                    C[i, j] = a[i, j] + b_h[j]
            _tanh_block(A[t].reshape(2 * B * H), power, B * H)
        else:
            for i in range(B):
                for j in range(H):
                    Z[i, j] = a[i, j] + b_z[j]
                    C[i, j] = a[i, j] + b_h[j]
            _activate(gate, Z.reshape(B * H), power)
            _activate(update, C.reshape(B * H), power)
        h_prev, h = Hs[t], Hs[t + 1]
        for i in range(B):
            for j in range(H):
                # h = (zeta (1 - z) + nu) c + z h_prev  ==  (h_prev - zeta c) z + (zeta + nu) c
                h[i, j] = (h_prev[i, j] - zeta * C[i, j]) * Z[i, j] + scale * C[i, j]


@_jit()
def _backward_layer(inputs, views, where, nonlinearities, upstream, rows):
    """One layer's backward through time; its gradients go into ``grad`` and, below the top, ``down``.

    ``where`` is ``(theta, grad, shape, layer)``; ``upstream`` is ``(down,
    dfinal, lengths, top)``: the top layer's gradient enters at each row's
    last observed step (``dfinal``), a lower layer's at every step (``down``,
    the layer above's ``dP W^T``); on return ``down`` holds this layer's
    ``dP W^T`` for the layer below. P becomes d(loss)/d(pre-activation).
    """
    P, A, Hs, W, U, g_W, g_U, sums = views
    theta, grad, shape, layer = where
    gate, update = nonlinearities
    down, dfinal, lengths, top = upstream
    _, _, zeta, nu = _layer_parameters(theta, shape, layer)
    base = 6 + LAYER_ENTRIES * layer
    D, obz, obh = shape[base], shape[base + 8], shape[base + 9]
    T, B, H = P.shape
    scale = zeta + nu
    dh = rows[: B * H].reshape((B, H))
    product = rows[2 * B * H : 3 * B * H].reshape((B, H))
    d_c = rows[4 * B * H : 5 * B * H].reshape((B, H))
    above = down[: T * B * H].reshape((T, B, H))
    g_b_z, g_b_h = grad[obz : obz + H], grad[obh : obh + H]
    g_b_z[:] = 0.0
    g_b_h[:] = 0.0
    sums[:] = 0.0
    d_nu, d_zeta = sums[0], sums[1]
    padded = lengths.shape[0] > 0
    if top and not padded:
        dh[:] = dfinal
    else:
        dh[:] = 0.0
    dP = P
    for t in range(T - 1, -1, -1):
        Z, C, h_prev, dP_t = A[t, 0], A[t, 1], Hs[t], dP[t]
        if not top:  # the layer above reads h_{t+1} at its step t
            for i in range(B):
                for j in range(H):
                    dh[i, j] += above[t, i, j]
        elif padded:  # a row's gradient enters at its last observed step
            for i in range(B):
                if lengths[i] - 1 == t:
                    for j in range(H):
                        dh[i, j] += dfinal[i, j]
        # separate loops over few arrays each: the compiler vectorizes a loop only when it
        # can rule out overlaps between its arrays at run time, and gives up past a few
        for i in range(B):
            for j in range(H):
                g = dh[i, j]
                z = Z[i, j]
                c = C[i, j]
                dc = g * (scale - zeta * z) * _derivative(update, c)
                dP_t[i, j] = g * (h_prev[i, j] - zeta * c) * _derivative(gate, z) + dc
                d_c[i, j] = dc
        for i in range(B):
            for j in range(H):
                g_b_h[j] += d_c[i, j]
                g_b_z[j] += dP_t[i, j] - d_c[i, j]
        for i in range(B):
            for j in range(H):
                gc = dh[i, j] * C[i, j]
                d_nu[j] += gc
                d_zeta[j] += gc - gc * Z[i, j]
        for i in range(B):
            for j in range(H):
                dh[i, j] *= Z[i, j]
        if t:
            np.dot(dP_t, U.T, product)
            for i in range(B):
                for j in range(H):
                    dh[i, j] += product[i, j]
    # sum_t h_{t-1}^T dP_t and sum_t x_t^T dP_t: one product each
    dP_rows = dP.reshape((T * B, H))
    np.dot(Hs[:T].reshape((T * B, H)).T, dP_rows, g_U)
    np.dot(inputs.T, dP_rows, g_W)
    _factor_grads(theta, grad, shape[base + 2], shape[base + 3], (D, shape[base + 4], H), g_W)
    _factor_grads(theta, grad, shape[base + 5], shape[base + 6], (H, shape[base + 7], H), g_U)
    grad[shape[base + 10]] = d_zeta.sum() * zeta * (1.0 - zeta)
    grad[shape[base + 11]] = d_nu.sum() * nu * (1.0 - nu)
    if layer:  # the gradient of every state of the layer below
        np.dot(dP_rows, W.T, down[: T * B * D].reshape((T * B, D)))


def work_size(T, B, shape):
    """Sizes of the ``work`` and ``power`` of :func:`fastgrnn_loss_and_grad` (T steps, B rows)."""
    L, K = int(shape[0]), int(shape[1])
    dims = [(int(shape[6 + LAYER_ENTRIES * k]), int(shape[7 + LAYER_ENTRIES * k])) for k in range(L)]
    widest = max(H for _, H in dims)
    layers = sum(_layer_size(T, B, D, H) for D, H in dims)
    return (5 + T) * B * widest + 2 * B * K + layers, 6 * B * max(widest, K)


@_jit()
def _matrix(vector, start, second, sizes, buffer, form=True):
    """The ``(n_in, n_out)`` matrix at ``start`` of ``vector`` (``sizes = (n_in, rank, n_out)``, rank 0: stored whole).

    For factors (rank > 0) ``buffer`` holds it: with ``form``, the product of
    the factors at ``start`` and ``second``; without, nothing yet (a gradient
    that :func:`_factor_grads` takes to the factors).
    """
    n_in, rank, n_out = sizes
    if rank == 0:
        return vector[start : start + n_in * n_out].reshape((n_in, n_out))
    full = buffer.reshape((n_in, n_out))
    if form:
        first = vector[start : start + n_in * rank].reshape((n_in, rank))
        np.dot(first, vector[second : second + rank * n_out].reshape((rank, n_out)), full)
    return full


@_jit()
def _factor_grads(theta, grad, start, second, sizes, g_full):
    """``M = M1 M2``: ``dM1 = dM M2^T``, ``dM2 = M1^T dM`` into ``grad`` (nothing to do for a full matrix)."""
    n_in, rank, n_out = sizes
    if rank == 0:
        return
    first = theta[start : start + n_in * rank].reshape((n_in, rank))
    factor = theta[second : second + rank * n_out].reshape((rank, n_out))
    np.dot(g_full, factor.T, grad[start : start + n_in * rank].reshape((n_in, rank)))
    np.dot(first.T, g_full, grad[second : second + rank * n_out].reshape((rank, n_out)))


@_jit()
def _matrix_l2(theta, grad, start, second, sizes, strength):
    """:func:`_add_l2` on the stored matrix, or on both its factors (the numpy path's L2 is on what is stored)."""
    n_in, rank, n_out = sizes
    if rank == 0:
        return _add_l2(theta, grad, start, start + n_in * n_out, strength)
    total = _add_l2(theta, grad, start, start + n_in * rank, strength)
    return total + _add_l2(theta, grad, second, second + rank * n_out, strength)


@_jit(inline="always")
def _add_l2(theta, grad, start, stop, strength):
    """Add ``strength * theta`` to ``grad`` on ``[start, stop)``; returns ``sum(strength * theta**2)``."""
    total = 0.0
    for p in range(start, stop):
        decay = strength * theta[p]
        grad[p] += decay
        total += decay * theta[p]
    return total


@_jit()
def adam(theta, grad, m, v, step):
    """Clip ``grad`` and apply one Adam update to ``theta`` in place (:class:`skfastgrnn._optim.Adam`'s numbers).

    ``step`` is a :class:`skfastgrnn._kernel.AdamStep` of floats: ``clip_mode``
    (0: no clipping, 1: by value, 2: by norm), ``clip``, ``beta1``, ``beta2``,
    ``epsilon``, ``v_scale = 1 / sqrt(1 - beta2**t)`` and ``step_size =
    learning_rate / (1 - beta1**t)``: theta -= step_size * m / (sqrt(v) v_scale + epsilon).
    """
    clip_mode, clip, beta1, beta2, epsilon, v_scale, step_size = step
    factor = 1.0
    if clip_mode == 2.0:
        total = 0.0
        for p in range(grad.shape[0]):
            total += grad[p] * grad[p]
        norm = math.sqrt(total)
        if norm > clip:
            factor = clip / norm
    for p in range(grad.shape[0]):
        g = grad[p] * factor
        if clip_mode == 1.0:
            if g > clip:
                g = clip
            elif g < -clip:
                g = -clip
        m[p] = beta1 * m[p] + (1.0 - beta1) * g
        v[p] = beta2 * v[p] + (1.0 - beta2) * g * g
        theta[p] -= step_size * m[p] / (math.sqrt(v[p]) * v_scale + epsilon)
