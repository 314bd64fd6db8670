"""Soft targets: the teacher's logits, aligned by class label, calibrated, softened by a temperature."""

import numpy as np

from ._cells import softmax


def has_teacher_scores(teacher):
    return hasattr(teacher, "predict_proba") or hasattr(teacher, "decision_function")


#: floor of predict_proba before the log: a probability of exactly 0 becomes a
#: logit of about -708, whose soft target is 0 for any sensible temperature,
#: which is what the teacher said; any other probability is used exactly
_PROBA_FLOOR = np.finfo(np.float64).tiny


def teacher_logits(teacher, X):
    """The teacher's logits, one column per ``teacher.classes_``, in that order.

    ``log(predict_proba)`` when the teacher has ``predict_proba`` (clipped at
    the smallest positive float so that a zero probability gives a finite
    logit), else ``decision_function``. A binary 1-D decision function ``d``
    (> 0 favours ``classes_[1]``) becomes the two columns ``[-d / 2, d / 2]``;
    ``[0, d]`` would give the same soft targets, as a softmax ignores a shift
    common to a row, and the symmetric form keeps both logits of the same size.

    Parameters
    ----------
    teacher : fitted classifier
    X : array-like
        Rows in whatever form the teacher accepts.

    Returns
    -------
    ndarray of shape (n_samples, len(teacher.classes_)), float64

    Raises
    ------
    ValueError
        The teacher has neither method, or returns scores of the wrong shape.
    """
    if hasattr(teacher, "predict_proba"):
        scores, source = teacher.predict_proba(X), "predict_proba"
    elif hasattr(teacher, "decision_function"):
        scores, source = teacher.decision_function(X), "decision_function"
    else:
        raise ValueError(
            f"the teacher {type(teacher).__name__} has neither predict_proba nor decision_function; "
            "DistilledFastGRNN needs one of them to build soft targets."
        )
    return scores_to_logits(scores, source, np.asarray(teacher.classes_))


def scores_to_logits(scores, source, classes):
    """Logits from the output of ``predict_proba`` or ``decision_function``, one column per class.

    Shared by the in-sample path (a fitted teacher) and the out-of-fold path
    (``cross_val_predict``), so both turn scores into logits the same way.
    """
    if source == "predict_proba":
        proba = np.asarray(scores, dtype=np.float64)
        logits = np.log(np.clip(proba, _PROBA_FLOOR, None))
    else:
        logits = np.asarray(scores, dtype=np.float64)
        if len(classes) == 2 and (logits.ndim == 1 or logits.shape[1] == 1):
            d = logits.reshape(-1, 1)
            logits = np.hstack([-0.5 * d, 0.5 * d])
    if logits.ndim != 2 or logits.shape[1] != len(classes):
        raise ValueError(
            f"the teacher's {source} returned shape {logits.shape}; expected (n_samples, {len(classes)}), "
            f"one column per teacher class {classes!r}."
        )
    if not np.all(np.isfinite(logits)):
        raise ValueError(f"the teacher's {source} returned non-finite values.")
    return logits


def confidence_scale(logits, confidence):
    """The factor ``s`` that gives ``softmax(s * logits)`` a mean top probability of ``confidence``.

    The mean over rows of the top class's probability grows with ``s`` (from
    ``1 / n_classes`` at 0 to 1), so a bisection on ``log s`` finds it. One
    factor for all rows keeps the teacher's ranking of rows and classes; it
    only sharpens (underconfident scores such as a ridge classifier's
    decision function, ``s > 1``) or flattens (near one-hot probabilities of
    a teacher scoring its own training rows, ``s < 1``) all of them together.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
    confidence : float in (0, 1)
        The wanted mean top probability; at most ``1 / n_classes`` gives
        ``s`` near 0, beyond what the logits can reach gives a large ``s``.

    Returns
    -------
    float > 0
    """
    centred = logits - logits.max(axis=1, keepdims=True)

    def mean_top(log_s):
        return float(np.mean(1.0 / np.exp(np.exp(log_s) * centred).sum(axis=1)))

    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mean_top(mid) < confidence:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))


def aligned_logits(teacher, X):
    """``(np.unique(teacher.classes_), teacher logits in that column order)``."""
    if not hasattr(teacher, "classes_"):
        raise ValueError(f"the teacher {type(teacher).__name__} has no classes_: it must be a fitted classifier.")
    teacher_classes = np.asarray(teacher.classes_)
    # align by label, not position: the teacher's classes_ need not be sorted
    order = np.argsort(teacher_classes, kind="stable")
    classes = teacher_classes[order]
    if len(classes) > 1 and np.any(classes[1:] == classes[:-1]):
        raise ValueError(f"the teacher's classes_ {teacher_classes!r} contain duplicates.")
    return classes, teacher_logits(teacher, X)[:, order]


def soft_targets(teacher, X, temperature):
    """Soft targets ``softmax(teacher logits / T)`` with columns in sorted class order.

    Parameters
    ----------
    teacher : fitted classifier
        With ``classes_`` and ``predict_proba`` or ``decision_function``.
    X : array-like
    temperature : float > 0

    Returns
    -------
    classes : ndarray
        ``np.unique(teacher.classes_)``: the order of the columns (the
        student's ``classes_``), whatever the teacher's own order is.
    targets : ndarray of shape (n_samples, len(classes)), float64
        Rows sum to 1. With a ``predict_proba`` teacher this is
        ``p ** (1 / T)`` renormalized: T = 1 gives the teacher's
        probabilities back, a larger T flattens them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfastgrnn._distill import soft_targets
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> teacher = LogisticRegression().fit(X, ["b", "b", "a", "a"])
    >>> classes, q = soft_targets(teacher, X, temperature=3.0)
    >>> classes.tolist(), bool(np.allclose(q.sum(axis=1), 1))
    (['a', 'b'], True)
    """
    classes, logits = aligned_logits(teacher, X)
    return classes, softmax(logits / temperature)
