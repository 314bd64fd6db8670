"""The estimators' side of validation: inputs, labels, resolved "auto" parameters, warnings.

Uses scikit-learn where it helps; the numeric modules never import this one.
"""

import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils._param_validation import Interval

from ._batches import index_dtype
from ._network import has_padding
from ._sequences import as_steps, step_padding
from ._train import LEARNED_FRACTION, STILL_IMPROVING_FRACTION

#: "auto" folds series longer than this many steps (see the ``fold`` parameter)
AUTO_FOLD_ABOVE = 64
#: ... into about this many folded steps
AUTO_FOLD_STEPS = 32


class StrictInterval(Interval):
    """scikit-learn's ``Interval`` parameter constraint, without the booleans.

    Python counts ``True`` as the integer 1 (and as the real 1.0), so
    ``Interval(Integral, 1, None, closed="left")`` lets ``hidden_dim=True`` or
    ``epochs=True`` through; a number of units, epochs, rows or a rate is never
    a boolean. The error is scikit-learn's ``InvalidParameterError``, worded as
    for any other bad value.

    Examples
    --------
    >>> from numbers import Integral
    >>> StrictInterval(Integral, 1, None, closed="left").is_satisfied_by(True)
    False
    >>> StrictInterval(Integral, 1, None, closed="left").is_satisfied_by(2)
    True
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


@contextmanager
def restore_on_error(estimator):
    """Leave the estimator exactly as it was if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def check_classes(classes, y):
    """The sorted unique ``classes``; ValueError when ``y`` has a label outside them."""
    classes = np.unique(np.asarray(classes))
    unseen = np.setdiff1d(np.unique(y), classes)
    if len(unseen):
        raise ValueError(f"y has labels {unseen!r} that are not in classes={classes!r}.")
    return classes


def resolve_batch_size(batch_size, n_rows):
    """``batch_size``, or the "auto" rule: 32, but at least 4 batches per epoch on small data (8 at least)."""
    if batch_size != "auto":
        return int(batch_size)
    return int(min(32, max(8, n_rows // 4)))


def resolve_fold(fold, n_timesteps):
    """The number of steps folded into one: ``fold``, or the "auto" rule for ``n_timesteps``."""
    if fold != "auto":
        return int(fold)
    if n_timesteps <= AUTO_FOLD_ABOVE:
        return 1
    return -(-n_timesteps // AUTO_FOLD_STEPS)


#: the advice of a ConvergenceWarning about a model that learned nothing or lost what it learned
_SCALE_ADVICE = (
    "Standardize the inputs (SequenceScaler for sequences, StandardScaler for one-step rows), lower learning_rate"
)


def warn_about_convergence(model, result, prior_description):
    """ConvergenceWarning when the model learned nothing, lost what it learned, or more epochs would really help.

    ``prior_description`` names the loss of a model that learned nothing
    (e.g. "the loss of predicting the class frequencies"). "Lost what it
    learned": the training loss went below ``LEARNED_FRACTION`` of that loss
    and ended above it again, as when huge unscaled inputs saturate every
    gate or the learning rate is far too high (a sound fit's training loss
    does not climb back to the level of a model that learned nothing).
    """
    monitor, best, prior = result["monitor"], result["best_loss"], result["prior_loss"]
    name = type(model).__name__
    if not result["learned"]:
        warnings.warn(
            f"{name} did not learn: the best {monitor} ({best:.4g}) never went below "
            f"{100 * LEARNED_FRACTION:.0f}% of {prior:.4g}, {prior_description}. {_SCALE_ADVICE}, or raise epochs.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif (lost := _lost_what_it_learned(result["history"], prior)) is not None:
        (low_epoch, low), (last_epoch, last) = lost
        kept = (
            "the final weights are kept"
            if model.best_epoch_ == last_epoch
            else f"the weights of epoch {model.best_epoch_} are kept"
        )
        sparse = ", or lower w_sparsity / u_sparsity" if model.w_sparsity or model.u_sparsity else ""
        warnings.warn(
            f"{name}'s training was unstable: the train_loss fell to {low:.4g} (epoch {low_epoch}), then rose back "
            f"to {last:.4g} (epoch {last_epoch}), above {100 * LEARNED_FRACTION:.0f}% of {prior:.4g}, "
            f"{prior_description}; {kept}. {_SCALE_ADVICE}{sparse}.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif model.early_stopping_patience is not None and not result["stopped_early"] and result["still_improving"]:
        last = model.history_[-1]["epoch"]
        warnings.warn(
            f"{type(model).__name__}: the epoch budget (epochs={model.epochs}) ran out while the {monitor} was still "
            f"improving (best epoch {model.best_epoch_} of {last}, more than {100 * STILL_IMPROVING_FRACTION:g}% of "
            f"the decrease in the last {model.early_stopping_patience} epochs); increase epochs.",
            ConvergenceWarning,
            stacklevel=4,
        )


def _lost_what_it_learned(history, prior):
    """``((epoch, lowest train_loss), (epoch, last train_loss))`` when the training loss went below
    ``LEARNED_FRACTION * prior`` and ended above it again; else None.

    Examples
    --------
    >>> _lost_what_it_learned([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.69}], prior=0.69)
    ((1, 0.5), (2, 0.69))
    >>> _lost_what_it_learned([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.6}], prior=0.69) is None
    True
    """
    losses = [(entry["epoch"], entry["train_loss"]) for entry in history]
    if not losses:
        return None
    low = min(losses, key=lambda e: e[1])
    last = losses[-1]
    if low[1] < LEARNED_FRACTION * prior <= last[1]:
        return low, last
    return None


def check_padding(X, n_steps):
    """Validate the NaN padding of 2-D rows of ``n_steps`` steps (a clear ValueError, else nothing)."""
    if has_padding(X):
        step_padding(X.reshape(X.shape[0], n_steps, -1))


def validation_split(y_idx, n_classes, fraction, rng):
    """Stratified, seeded ``(train_rows, val_rows)`` holding out ``fraction`` of the rows (None: no validation).

    Warns and validates on nothing when a stratified split is impossible
    (a class with one row, or fewer rows than classes on either side).
    """
    n = len(y_idx)
    all_rows = np.arange(n, dtype=index_dtype(n))  # 4 bytes a row
    if fraction == 0:
        return all_rows, None
    n_val = int(np.ceil(fraction * n))
    counts = np.bincount(y_idx, minlength=n_classes)
    if counts[counts > 0].min() < 2 or n_val < n_classes or n - n_val < n_classes:
        warnings.warn(
            f"validation_split={fraction} leaves too few rows for a stratified "
            f"validation set ({n} rows, {n_classes} classes); training on all rows without validation.",
            UserWarning,
            stacklevel=4,
        )
        return all_rows, None
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=rng.randint(2**31 - 1))
    train_idx, val_idx = next(splitter.split(np.zeros(n), y_idx))
    return np.sort(train_idx), np.sort(val_idx)


def as_rows(X, n_timesteps, n_step_features=None):
    """Any accepted layout as 2-D rows ``[x_1, ..., x_T]``, and the T of this input.

    3-D arrays ``(n, T, D)`` are flattened; a list of ``(T_i, D)`` arrays is
    padded with NaN after each end first; 2-D rows pass through with T =
    ``n_timesteps``. At fit (``n_step_features`` None), T comes from 3-D input
    (``n_timesteps`` must then be 1 or agree); afterwards 3-D input and lists
    may have any number of steps (the cell reads any length), but
    ``n_step_features`` values per step.
    """
    fitting = n_step_features is None
    X = as_steps(X)
    if getattr(X, "ndim", None) != 3:
        return X, n_timesteps
    n, T, D = X.shape
    if fitting:
        if n_timesteps not in (1, T):
            raise ValueError(
                f"X is 3-D with {T} timesteps but n_timesteps={n_timesteps}; "
                "leave n_timesteps=1 for 3-D input or make them agree."
            )
        if T < D:
            warnings.warn(
                f"X has shape {X.shape}, read as (n_samples, n_timesteps, n_features): {T} timestep(s) of {D} "
                "features. aeon and sktime give (n_samples, n_channels, n_timesteps): if that is your layout, "
                "use skfastgrnn.SequenceScaler(channels_first=True) before the classifier, or "
                "np.swapaxes(X, 1, 2).",
                UserWarning,
                stacklevel=5,
            )
    elif D != n_step_features:
        raise ValueError(
            f"X has {D} features per timestep (shape {X.shape}, read as (n_samples, n_timesteps, n_features)); "
            f"the model was fitted with {n_step_features}."
        )
    return np.reshape(X, (n, T * D)), T


def shuffled_validation_split(n_rows, fraction, rng):
    """Seeded ``(train_rows, val_rows)`` holding out ``fraction`` of the rows at random (None: no validation).

    The split of targets without classes (regression). Warns and validates
    on nothing when either side would be empty.
    """
    all_rows = np.arange(n_rows, dtype=index_dtype(n_rows))
    if fraction == 0:
        return all_rows, None
    n_val = int(np.ceil(fraction * n_rows))
    if n_rows - n_val < 1:
        warnings.warn(
            f"validation_split={fraction} leaves no training rows ({n_rows} rows); "
            "training on all rows without validation.",
            UserWarning,
            stacklevel=4,
        )
        return all_rows, None
    splitter = ShuffleSplit(n_splits=1, test_size=n_val, random_state=rng.randint(2**31 - 1))
    train_idx, val_idx = next(splitter.split(np.zeros(n_rows)))
    return np.sort(train_idx), np.sort(val_idx)
