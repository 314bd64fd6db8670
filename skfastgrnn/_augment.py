"""Augmentation of a distillation transfer set: more rows for the teacher to label.

Every method makes new rows from the training rows, seeded, from the rows as the
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
  resampling the partner to the row's length;
- ``"mixup"``: a random convex mix ``l * a + (1 - l) * b``, ``l ~ U(0, 1)``,
  of the row with a random row of *any* class. Its class is the teacher's to
  say: :func:`augment_rows` marks these rows, and the distillation gives them
  the teacher's most probable class as hard label (not the source row's).

A plan is a tuple of ``(method, rows)`` pairs: ``rows`` new rows per training
row and round (:func:`check_augment` makes it from the user's ``augment``).
"""

import numpy as np
from sklearn.utils import check_random_state

#: the augmentation methods, in the order they are applied
AUGMENTATIONS = ("jitter", "scale", "crop", "mix", "mixup")
#: methods whose rows take the teacher's class as hard label (they may cross classes)
TEACHER_LABELLED = ("mixup",)
#: ``augment="auto"`` for sequences: rows per training row and round of each method. Mixup
#: makes as many rows as the four others together: the rows mixed across classes are what
#: closed most of the gap to the teacher (measured in docs/distillation.md)
AUTO = {"jitter": 1, "scale": 1, "crop": 1, "mix": 1, "mixup": 4}


def check_augment(augment, sequences=True):
    """The plan of ``augment``: a tuple of ``(method, rows per training row and round)`` pairs.

    ``augment`` is None (no rows), ``"auto"`` (:data:`AUTO` for ``sequences``
    -- 3-D arrays, lists of sequences -- and nothing for 2-D rows), a method
    name or a sequence of distinct names (one row each), or a dict of method
    name -> rows (an int >= 1). The plan lists the methods in the order of
    :data:`AUGMENTATIONS`. Anything else is a ValueError that names the choices.
    """
    if augment is None:
        return ()
    if isinstance(augment, str) and augment == "auto":
        if not sequences:
            return ()
        augment = AUTO
    repeated = False
    if isinstance(augment, dict):
        counts = dict(augment)
        bad = [
            name
            for name, rows in counts.items()
            if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1
        ]
        if bad:
            raise ValueError(
                f"augment={augment!r}: the rows of {bad!r} must be ints >= 1 (new rows per training row and round)."
            )
    else:
        names = (augment,) if isinstance(augment, str) else tuple(augment)
        counts = dict.fromkeys(names, 1)
        repeated = len(counts) != len(names)
    unknown = [name for name in counts if name not in AUGMENTATIONS]
    if unknown or repeated or not counts:
        raise ValueError(
            f"augment={augment!r}: expected None, 'auto', one of {AUGMENTATIONS}, a sequence of distinct ones "
            "or a dict of them to the number of rows each makes per training row and round."
        )
    return tuple((name, int(counts[name])) for name in AUGMENTATIONS if name in counts)


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
    if name == "mix":  # a partner of the same class, the row itself weighing more
        partners = np.arange(n)
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            partners[members] = rng.choice(members, size=len(members))
        lam = rng.uniform(0.5, 1.0, size=n)
    else:  # "mixup": a partner of any class, any weight
        partners = rng.randint(n, size=n)
        lam = rng.uniform(0.0, 1.0, size=n)
    out = []
    for i, s in enumerate(seqs):
        b = seqs[partners[i]]
        if len(b) != len(s):
            b = _resample(b, 0.0, len(b) - 1.0, len(s))
        out.append(lam[i] * s + (1 - lam[i]) * b)
    return out


def augment_rows(X, y, plan, random_state, rounds=1):
    """New rows made from ``X`` by each method of ``plan`` (``rounds`` times), and where they come from.

    Parameters
    ----------
    X : 2-D array, 3-D NaN-padded array or list of (T_i, D) arrays
    y : ndarray of shape (n_samples,)
        The labels (``"mix"`` draws partners of the same class).
    plan : tuple of (str, int) pairs or of str
        ``(method, rows)`` pairs from :func:`check_augment`; a bare name
        means one row.
    random_state : int, RandomState or None
    rounds : int, default=1
        How many times the plan runs (each run draws new noise, windows,
        factors and partners).

    Returns
    -------
    X_new : same layout as ``X``, ``rounds * n_samples`` times the plan's total rows
        One block of ``n_samples`` rows per round, method and row of the method.
    source : ndarray of int
        The index in ``X`` of each new row's source row (its label and weight).
    teacher_labelled : ndarray of bool
        The rows whose class is the teacher's to say (:data:`TEACHER_LABELLED`
        methods, which mix across classes).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.zeros((4, 10, 1)), np.array([0, 0, 1, 1])
    >>> X_new, source, teacher_labelled = augment_rows(X, y, (("jitter", 1), ("mixup", 2)), 0)
    >>> X_new.shape, source[:4].tolist(), int(teacher_labelled.sum())
    ((12, 10, 1), [0, 1, 2, 3], 8)
    """
    rng = check_random_state(random_state)
    plan = tuple((step, 1) if isinstance(step, str) else step for step in plan)
    seqs, how = _as_list(X)
    stacked = np.concatenate(seqs)
    scale = np.nanstd(stacked, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    index = np.arange(len(seqs))
    new, sources, marks = [], [], []
    for _ in range(rounds):
        for name, rows in plan:
            for _ in range(rows):
                new.extend(_one(name, seqs, y, scale, rng))
                sources.append(index)
                marks.append(np.full(len(seqs), name in TEACHER_LABELLED))
    dtype = getattr(X, "dtype", np.float64)
    return _restore(new, how, dtype), np.concatenate(sources), np.concatenate(marks)
