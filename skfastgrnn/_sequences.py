"""Sequence input: the three layouts, NaN padding and sequence lengths.

Pure numpy, no scikit-learn. The package reads a batch of sequences in one of
three forms and turns every one into the same internal form, NaN-padded rows:

* flattened rows, shape ``(n, T * D)``, laid out ``[x_1, ..., x_T]``;
* a 3-D array ``(n, T, D)`` (``(n, D, T)`` with ``channels_first``, the layout
  of aeon and sktime);
* a list of ``(T_i, D)`` arrays of any lengths (``(D, T_i)`` with
  ``channels_first``).

A sequence shorter than the others is padded with NaN after its end: a step
whose ``D`` values are all NaN is padding, and padding may only follow the
observed steps. A step with some but not all values NaN is a missing value,
which is not padding and is rejected (impute it first).

Examples
--------
>>> import numpy as np
>>> from skfastgrnn._sequences import pad_sequences, sequence_lengths
>>> X = pad_sequences([np.ones((2, 3)), np.ones((4, 3))])
>>> X.shape
(2, 4, 3)
>>> sequence_lengths(X).tolist()
[2, 4]
"""

import numpy as np

_LAYOUTS = (
    "2-D rows (n_samples, n_timesteps * n_features), a 3-D array (n_samples, n_timesteps, n_features) "
    "or a list of (n_timesteps_i, n_features) arrays"
)


def is_sequence_list(X):
    """True for a non-empty list or tuple whose first entry is 2-D (one sequence per entry)."""
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    first = X[0]
    return np.ndim(first) == 2


def pad_sequences(sequences, channels_first=False, dtype=None):
    """Stack ``(T_i, D)`` sequences into one ``(n, max T_i, D)`` array, NaN after each end.

    Parameters
    ----------
    sequences : list of array-like of shape (T_i, D)
        ``(D, T_i)`` when ``channels_first``.
    channels_first : bool, default=False
    dtype : numpy dtype or None
        Output dtype; None keeps float32 when every sequence is float32, else float64.

    Returns
    -------
    ndarray of shape (n, max T_i, D)

    Raises
    ------
    ValueError
        An entry that is not 2-D, sequences with different numbers of
        features, or an empty sequence.
    """
    arrays = []
    for i, seq in enumerate(sequences):
        try:
            a = np.asarray(seq)
        except ValueError as exc:  # a ragged nested list inside one entry
            raise ValueError(f"sequence {i} of X is not a rectangular array: {exc}") from None
        if a.ndim != 2:
            raise ValueError(
                f"X is a list of sequences but entry {i} has shape {a.shape}: every entry must be a 2-D "
                f"({'n_features, n_timesteps_i' if channels_first else 'n_timesteps_i, n_features'}) array "
                "(for a univariate series x use x[:, None])."
            )
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"sequence {i} of X has dtype {a.dtype}; expected numbers.")
        arrays.append(a.T if channels_first else a)
    widths = {a.shape[1] for a in arrays}
    if len(widths) > 1:
        raise ValueError(
            f"the sequences of X have different numbers of features per step: {sorted(widths)}; every "
            "sequence must have the same number of features (channels)."
        )
    empty = [i for i, a in enumerate(arrays) if a.shape[0] == 0]
    if empty:
        raise ValueError(f"sequence {empty[0]} of X has no timesteps; every sequence needs at least one.")
    if dtype is None:
        dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    n, T, D = len(arrays), max(a.shape[0] for a in arrays), widths.pop()
    out = np.full((n, T, D), np.nan, dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out


def as_steps(X, channels_first=False):
    """``(n, T, D)`` array of any of the layouts, or a clear error.

    2-D input is returned unchanged (the caller knows ``n_timesteps``); 3-D
    arrays are transposed when ``channels_first``; lists are padded.
    """
    if is_sequence_list(X):
        return pad_sequences(X, channels_first=channels_first)
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        ndim = _ragged_list_ndim(X)
    if ndim is not None and ndim > 3:
        raise ValueError(f"X has {ndim} dimensions (shape {np.shape(X)}); expected {_LAYOUTS}.")
    if ndim == 3:
        X = np.asarray(X)
        return np.swapaxes(X, 1, 2) if channels_first else X
    return X


def _ragged_list_ndim(X):
    """ndim of a nested list, or a clear error for a ragged one."""
    try:
        return np.asarray(X).ndim
    except ValueError:
        lengths = sorted({np.size(x) for x in X})
        raise ValueError(
            f"X is a list of rows of different lengths ({lengths[:5]}...): for sequences of different lengths "
            "pass a list of 2-D (n_timesteps_i, n_features) arrays (for univariate series x use x[:, None]), "
            "or pad rows with NaN after their end."
        ) from None


def padding_problem(X3):
    """The first problem of the NaN padding of ``(n, T, D)``: ``(kind, sample, step)``, or None.

    ``kind`` is ``"infinity"``, ``"partial"`` (a step with some but not all
    features NaN), ``"empty"`` (no observed step; ``step`` is 0) or ``"late"``
    (an observed step after a padded one; ``step`` is that observed step).
    One place for the rule, which :func:`step_padding` and the command line
    word for their readers.
    """
    inf = np.isinf(X3)
    if inf.any():
        i, t, _ = np.argwhere(inf)[0]
        return "infinity", int(i), int(t)
    nan = np.isnan(X3)
    pad = nan.all(axis=2)
    partial = nan.any(axis=2) & ~pad
    if partial.any():
        i, t = np.argwhere(partial)[0]
        return "partial", int(i), int(t)
    lengths = (~pad).sum(axis=1)
    if (lengths == 0).any():
        return "empty", int(np.flatnonzero(lengths == 0)[0]), 0
    # trailing padding: the observed steps are exactly the first `lengths` ones
    late = (np.arange(X3.shape[1]) < lengths[:, None]) != ~pad
    if late.any():
        i = int(np.flatnonzero(late.any(axis=1))[0])
        return "late", i, int(np.flatnonzero(~pad[i])[-1])
    return None


def step_padding(X3):
    """Boolean ``(n, T)``: which steps are padding; validates the NaN pattern.

    Raises
    ------
    ValueError
        A step with some but not all features NaN, an observed step after a
        padded one, a sequence with no observed step, or an infinite value.
    """
    problem = padding_problem(X3)
    if problem is not None:
        kind, i, t = problem
        raise ValueError(
            {
                "infinity": "X contains infinity; only NaN (as padding after a sequence's end) is allowed.",
                "partial": f"X contains NaN inside a step (sample {i}, step {t}): NaN marks padding only when all "
                "the features of a step are NaN. Impute missing values first (e.g. sklearn.impute.SimpleImputer).",
                "empty": f"sample {i} of X has no observed step (every step is NaN padding).",
                "late": f"sample {i} of X has observed steps after a NaN (padding) step: pad sequences with NaN "
                "only after their end.",
            }[kind]
        )
    return np.isnan(X3).all(axis=2)


def sequence_lengths(X3):
    """Number of observed steps of each sequence of a NaN-padded ``(n, T, D)`` array (validated)."""
    return (~step_padding(X3)).sum(axis=1)


def batch_lengths(X_tm):
    """Lengths of a time-major ``(T, B, D)`` batch whose padding was validated; zeroes the padding in place.

    Returns None when no sequence of the batch is padded (every length is T),
    else an int array of shape (B,). Only the first feature is looked at: a
    validated step is either all NaN or has no NaN.
    """
    pad = np.isnan(X_tm[:, :, 0])
    if not pad.any():
        return None
    X_tm[pad] = 0.0  # never read through the masked update, but keeps products finite
    return X_tm.shape[0] - pad.sum(axis=0)


def channel_statistics(X3):
    """Per-channel count, mean and variance over every observed value of ``(n, T, D)``.

    NaN values are ignored (padding); a channel with no observed value gets
    mean 0 and variance 0.

    Returns
    -------
    count : ndarray of int of shape (D,)
    mean, var : ndarray of float64 of shape (D,)
    """
    flat = X3.reshape(-1, X3.shape[-1])
    observed = ~np.isnan(flat)
    count = observed.sum(axis=0)
    values = np.where(observed, flat, 0.0).astype(np.float64, copy=False)
    safe = np.maximum(count, 1)
    mean = values.sum(axis=0) / safe
    # two passes: (x - mean)^2 is stable where E[x^2] - mean^2 is not
    centred = np.where(observed, values - mean, 0.0)
    var = (centred * centred).sum(axis=0) / safe
    return count, mean, var


def fold_steps(X, n_timesteps, fold):
    """Read ``fold`` consecutive steps as one step of ``fold * D`` features.

    Long series are where recurrent cells are weakest (a gradient through
    hundreds of steps); folding ``k`` steps into one shortens the recurrence
    ``k`` times and lets the input matrix see ``k`` steps at once.

    Parameters
    ----------
    X : ndarray of shape (n, n_timesteps * D)
        Validated rows ``[x_1, ..., x_T]``, possibly NaN padded after each end.
    n_timesteps : int
    fold : int >= 1

    Returns
    -------
    rows : ndarray of shape (n, ceil(T / fold) * fold * D)
        The same memory when nothing needs padding (``T`` a multiple of
        ``fold`` and no NaN), else a copy: the last folded step of a sequence
        whose length is not a multiple of ``fold`` holds its last steps
        followed by zeros; folded steps that start after the end stay NaN
        (padding).
    n_folded : int
        ``ceil(T / fold)``.

    Examples
    --------
    >>> import numpy as np
    >>> rows, n = fold_steps(np.arange(5.0)[None], 5, 2)  # 5 steps of 1 feature
    >>> n, rows.tolist()
    (3, [[0.0, 1.0, 2.0, 3.0, 4.0, 0.0]])
    """
    if fold == 1:
        return X, n_timesteps
    n, width = X.shape
    D = width // n_timesteps
    n_folded = -(-n_timesteps // fold)
    extra = (n_folded * fold - n_timesteps) * D
    if extra:
        X = np.concatenate([X, np.full((n, extra), np.nan, dtype=X.dtype)], axis=1)
    elif bool(np.isfinite(X.sum())):
        return X, n_folded
    else:
        X = X.copy()
    steps = X.reshape(n, n_folded, fold * D)
    nan = np.isnan(steps)
    # a folded step whose first value is observed is part of the sequence: its
    # NaN are the steps after the end inside it, read as zeros
    nan &= ~nan[:, :, :1]
    steps[nan] = 0.0
    return X, n_folded


def concatenate_sequences(A, B):
    """Stack two ``(n, T, D)`` arrays of sequences, NaN-padding the shorter ``T``."""
    T = max(A.shape[1], B.shape[1])

    def widen(X):
        if X.shape[1] == T:
            return X
        pad = np.full((X.shape[0], T - X.shape[1], X.shape[2]), np.nan, dtype=X.dtype)
        return np.concatenate([X, pad], axis=1)

    return np.concatenate([widen(A), widen(B)])
