"""Augmentation of a distillation transfer set: more rows for the teacher to label.

Every method makes one new row per training row and round, seeded, from the rows as the
student reads them (2-D rows, a NaN-padded 3-D array ``(n, T, D)`` or a list of
``(T_i, D)`` sequences); the result has the input's layout, so the teacher
labels it as it labels ``X``:

- ``"jitter"``: add Gaussian noise of 0.1 x the channel's standard deviation;
- ``"scale"``: multiply each row (sequence) by one factor drawn from N(1, 0.1);
- ``"crop"``: a random window of 80-100 % of the steps, linearly resampled
  back to the sequence's length (a 2-D row is one step: copied unchanged);
- ``"mix"``: a random convex mix ``l * a + (1 - l) * b``, ``l ~ U(0.5, 1)``,
  of the row with another row of the same class (the row itself when it is
  its class's only one). Sequences of different lengths are mixed after
  resampling the partner to the row's length.
"""

import numpy as np
from sklearn.utils import check_random_state

#: the augmentation methods, in the order they are applied
AUGMENTATIONS = ("jitter", "scale", "crop", "mix")


def check_augment(augment, sequences=True):
    """The tuple of method names of ``augment`` (None, "auto", a name or a sequence of names); ValueError otherwise.

    ``"auto"`` is every method for ``sequences`` (3-D arrays, lists of
    sequences) and none for 2-D rows.
    """
    if augment is None:
        return ()
    if isinstance(augment, str) and augment == "auto":
        return AUGMENTATIONS if sequences else ()
    names = (augment,) if isinstance(augment, str) else tuple(augment)
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(
            f"augment={augment!r}: expected None, 'auto', one of {AUGMENTATIONS} or a sequence of distinct ones."
        )
    return tuple(name for name in AUGMENTATIONS if name in names)


def _resample(seq, start, stop, length):
    """Rows ``start..stop`` (fractional) of ``seq`` (T, D), linearly interpolated onto ``length`` steps."""
    positions = np.linspace(start, stop, length)
    grid = np.arange(seq.shape[0])
    return np.stack([np.interp(positions, grid, seq[:, d]) for d in range(seq.shape[1])], axis=1)


def _as_list(X):
    """(sequences as a list of (T_i, D) arrays without padding, the way to put them back)."""
    if isinstance(X, list):
        return [np.asarray(s, dtype=np.float64) for s in X], "list"
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        return [row[None, :] for row in X], "rows"
    seqs = []
    for s in X:  # drop the NaN padding at the end: each sequence at its own length
        finite = ~np.isnan(s).any(axis=1)
        seqs.append(s[: int(np.flatnonzero(finite)[-1]) + 1] if finite.any() else s)
    return seqs, ("array", X.shape[1])


def _restore(seqs, how, dtype):
    if how == "list":
        return seqs
    if how == "rows":
        return np.stack([s[0] for s in seqs]).astype(dtype, copy=False)
    out = np.full((len(seqs), how[1], seqs[0].shape[1]), np.nan)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out.astype(dtype, copy=False)


def _one(name, seqs, y, scale, rng):
    n = len(seqs)
    if name == "jitter":
        return [s + rng.normal(size=s.shape) * (0.1 * scale) for s in seqs]
    if name == "scale":
        factors = rng.normal(1.0, 0.1, size=n)
        return [s * f for s, f in zip(seqs, factors, strict=True)]
    if name == "crop":
        out = []
        for s in seqs:
            T = len(s)
            width = rng.uniform(0.8, 1.0) * (T - 1)
            start = rng.uniform(0.0, (T - 1) - width)
            out.append(_resample(s, start, start + width, T) if T > 1 else s.copy())
        return out
    # "mix": a partner of the same class
    partners = np.arange(n)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        partners[members] = rng.choice(members, size=len(members))
    lam = rng.uniform(0.5, 1.0, size=n)
    out = []
    for i, s in enumerate(seqs):
        b = seqs[partners[i]]
        if len(b) != len(s):
            b = _resample(b, 0.0, len(b) - 1.0, len(s))
        out.append(lam[i] * s + (1 - lam[i]) * b)
    return out


def augment_rows(X, y, methods, random_state, rounds=1):
    """New rows made from ``X`` by each of ``methods`` (``rounds`` times), and their labels.

    Parameters
    ----------
    X : 2-D array, 3-D NaN-padded array or list of (T_i, D) arrays
    y : ndarray of shape (n_samples,)
    methods : tuple of str
        Names from :data:`AUGMENTATIONS` (see :func:`check_augment`).
    random_state : int, RandomState or None
    rounds : int, default=1
        How many new rows each method makes from each row (each round draws
        new noise, windows, factors and partners).

    Returns
    -------
    X_new : same layout as ``X``, ``rounds * len(methods) * n_samples`` rows (one block per round and method)
    y_new : ndarray, the label of each new row's source row
    """
    rng = check_random_state(random_state)
    seqs, how = _as_list(X)
    stacked = np.concatenate(seqs)
    scale = np.nanstd(stacked, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    new, labels = [], []
    for _ in range(rounds):
        for name in methods:
            new.extend(_one(name, seqs, y, scale, rng))
            labels.append(y)
    dtype = getattr(X, "dtype", np.float64)
    return _restore(new, how, dtype), np.concatenate(labels)
