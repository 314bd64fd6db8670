"""SequenceScaler: StandardScaler for sequences (one mean and scale per channel)."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_array, check_is_fitted, validate_data

from ._sequences import as_steps, channel_statistics, is_sequence_list
from ._validation import StrictInterval


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Standardize sequences per channel, with one mean and scale shared by all timesteps.

    ``StandardScaler`` on flattened ``T x D`` rows standardizes every (step,
    channel) column on its own: it erases the mean shape of the series and
    gives every step its own scale, which a recurrent cell (one set of
    weights for all steps) cannot undo. This scaler computes one mean and one
    standard deviation per channel over every observed step of every
    sequence, and applies them at every step. It is the recommended first step
    of a pipeline for sequences; for one-step rows (``n_timesteps=1``) it is
    exactly ``StandardScaler``.

    Parameters
    ----------
    n_timesteps : int, default=1
        How many steps a 2-D row holds, laid out ``[x_1, ..., x_T]``, so
        that the row width is ``n_timesteps * n_channels``. Ignored for 3-D
        arrays and lists, which carry their steps.
    channels_first : bool, default=False
        False: 3-D input is ``(n_samples, n_timesteps, n_channels)`` and a
        list holds ``(n_timesteps_i, n_channels)`` arrays (the layout of the
        classifier). True: 3-D input is ``(n_samples, n_channels,
        n_timesteps)`` and a list holds ``(n_channels, n_timesteps_i)``
        arrays, as aeon and sktime give them; the output is then in the
        classifier's layout, steps first. 2-D rows are always ``[x_1, ..., x_T]``.
    with_mean : bool, default=True
        Subtract each channel's mean.
    with_std : bool, default=True
        Divide by each channel's standard deviation (a constant channel is
        divided by 1).
    copy : bool, default=True
        False lets 2-D and 3-D float input be scaled in place where possible.

    Attributes
    ----------
    mean_, var_, scale_ : ndarray of shape (n_channels,)
        Per-channel mean, variance and scale (``None`` when ``with_mean`` /
        ``with_std`` is False, like StandardScaler).
    n_channels_ : int
        Features per timestep.
    n_samples_seen_ : int
        Observed timesteps (over all sequences) the statistics come from.
    n_features_in_ : int
        Width of the 2-D rows seen in fit (only when fitted on 2-D rows).
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : One mean and scale per column of 2-D rows.
    skfastgrnn.FastGRNNClassifier : The classifier that reads the scaled sequences.

    Notes
    -----
    Input forms: 2-D rows ``(n, T * D)``, a 3-D array, or a list of 2-D
    sequences of any lengths. NaN is ignored in ``fit`` and kept in
    ``transform``: NaN padding after a sequence's end stays padding, which
    is how the classifier reads variable-length sequences. ``transform``
    returns the form it was given (a list for a list, steps first), so
    ``inverse_transform`` can return the original layout.
    ``get_feature_names_out`` and ``set_output`` apply to 2-D rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn import SequenceScaler
    >>> X = np.array([[[0.0], [2.0]], [[4.0], [6.0]]])  # 2 sequences, 2 steps, 1 channel
    >>> SequenceScaler().fit(X).mean_
    array([3.])
    >>> SequenceScaler().fit_transform([np.array([[1.0], [3.0]]), np.array([[5.0]])])[1]
    array([[1.22474487]])
    """

    _parameter_constraints = {
        "n_timesteps": [StrictInterval(Integral, 1, None, closed="left")],
        "channels_first": ["boolean"],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, n_timesteps=1, channels_first=False, with_mean=True, with_std=True, copy=True):
        self.n_timesteps = n_timesteps
        self.channels_first = channels_first
        self.with_mean = with_mean
        self.with_std = with_std
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute each channel's mean and standard deviation over all observed steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), 3-D array or list of 2-D arrays
            See the class docstring for the layouts; NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            The fitted scaler.
        """
        for name in ("mean_", "var_", "scale_", "n_channels_", "n_features_in_", "feature_names_in_", "_statistics"):
            self.__dict__.pop(name, None)
        return self._update(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update each channel's mean and standard deviation with more sequences.

        For data that comes in chunks (as with ``StandardScaler.partial_fit``):
        the statistics after several calls are those of :meth:`fit` on all
        the chunks at once, up to rounding (Chan, Golub and LeVeque's pairwise
        update of the mean and the variance). The first call fits; later ones
        must give the same number of channels (and of columns, for 2-D rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), 3-D array or list of 2-D arrays
            See the class docstring for the layouts; NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            The updated scaler.

        Examples
        --------
        >>> import numpy as np
        >>> from skfastgrnn import SequenceScaler
        >>> scaler = SequenceScaler().partial_fit(np.array([[[0.0], [2.0]]]))
        >>> scaler.partial_fit(np.array([[[4.0], [6.0]]])).mean_, scaler.n_samples_seen_
        (array([3.]), 4)
        """
        return self._update(X)

    def _update(self, X):
        """Fold the per-channel count, mean and variance of ``X`` into the fitted ones (none: a fresh fit)."""
        first = not hasattr(self, "n_channels_")
        steps = as_steps(X, channels_first=self.channels_first)
        if getattr(steps, "ndim", None) == 3:
            X3 = check_array(steps, allow_nd=True, ensure_all_finite="allow-nan", dtype=[np.float64, np.float32])
        else:
            if not first and not hasattr(self, "n_features_in_"):
                raise ValueError(
                    "This SequenceScaler was fitted on 3-D arrays or lists of sequences; partial_fit takes the "
                    "same kind of input (2-D rows have no channel layout to check against)."
                )
            floats = [np.float64, np.float32]
            rows = validate_data(self, steps, reset=first, ensure_all_finite="allow-nan", dtype=floats)
            if rows.shape[1] % self.n_timesteps:
                raise ValueError(
                    f"X has {rows.shape[1]} columns, which cannot be split into n_timesteps={self.n_timesteps} "
                    "equal steps; the width must be a multiple of n_timesteps (rows are laid out [x_1, ..., x_T])."
                )
            X3 = rows.reshape(rows.shape[0], self.n_timesteps, -1)
        if not first and X3.shape[2] != self.n_channels_:
            raise ValueError(
                f"X has {X3.shape[2]} channels per step; SequenceScaler was fitted with {self.n_channels_}. "
                "Call fit to start over with other data."
            )
        statistics = channel_statistics(X3)
        if not first:
            statistics = _combine(self._fitted_statistics(), statistics)
        count, mean, var = statistics
        self._statistics = statistics
        self.n_channels_ = X3.shape[2]
        self.n_samples_seen_ = int(count.max()) if count.size else 0
        self.mean_ = mean if self.with_mean else None
        self.var_ = var if self.with_std else None
        # a constant channel keeps its values (divided by 1), like StandardScaler
        self.scale_ = np.where(var > 10 * np.finfo(np.float64).eps, np.sqrt(var), 1.0) if self.with_std else None
        return self

    def _fitted_statistics(self):
        """``(count, mean, var)`` per channel so far (a scaler read from a file has them from its attributes)."""
        if hasattr(self, "_statistics"):
            return self._statistics
        if self.mean_ is None or self.var_ is None:
            raise ValueError(
                "This SequenceScaler has no variance or no mean to update (it was read from a file with "
                "with_mean=False or with_std=False); call fit on all the data instead."
            )
        return np.full(self.n_channels_, self.n_samples_seen_), self.mean_, self.var_

    def transform(self, X, copy=None):
        """Standardize every step of every sequence with its channel's statistics.

        Parameters
        ----------
        X : 2-D rows, 3-D array or list of 2-D arrays
            The same kinds of input as :meth:`fit`, of any length.
        copy : bool or None, default=None
            Overrides ``self.copy``.

        Returns
        -------
        ndarray or list of ndarray
            The form given (a list for a list, steps first), NaN kept.
        """
        return self._apply(X, copy, inverse=False)

    def inverse_transform(self, X, copy=None):
        """Undo :meth:`transform`, returning the layout :meth:`fit` takes (channels first if set).

        Parameters
        ----------
        X : 2-D rows, 3-D array or list of 2-D arrays
            Standardized data as :meth:`transform` returns it (steps first).
        copy : bool or None, default=None
            Overrides ``self.copy``.

        Returns
        -------
        ndarray or list of ndarray
            The data in original units, in the form given; 3-D arrays and
            lists come back channels first when ``channels_first`` is True.
        """
        return self._apply(X, copy, inverse=True)

    def _apply(self, X, copy, inverse):
        check_is_fitted(self, "n_channels_")
        copy = self.copy if copy is None else copy
        # the inverse reads the transform's output, which is always steps first
        channels_first = self.channels_first and not inverse
        if is_sequence_list(X):
            self._refuse_container_output("a list of sequences")
            out = [self._apply_steps(self._check_steps(s, channels_first, 2), True, inverse) for s in X]
            return [a.T for a in out] if inverse and self.channels_first else out
        steps = as_steps(X, channels_first=channels_first)
        if getattr(steps, "ndim", None) == 3:
            self._refuse_container_output("3-D arrays")
            X3 = self._check_steps(steps, False, 3)
            out = self._apply_steps(X3, copy, inverse)
            return np.swapaxes(out, 1, 2) if inverse and self.channels_first else out
        rows = self._check_rows(steps, inverse)
        n = rows.shape[0]
        out = self._apply_steps(rows.reshape(n, -1, self.n_channels_), copy, inverse)
        return out.reshape(n, -1)

    def _check_steps(self, X, channels_first, ndim):
        a = check_array(
            np.swapaxes(np.asarray(X), -1, -2) if channels_first else X,
            allow_nd=ndim == 3,
            ensure_all_finite="allow-nan",
            dtype=[np.float64, np.float32],
        )
        if a.shape[-1] != self.n_channels_:
            layout = "(n_channels, n_timesteps)" if channels_first else "(n_timesteps, n_channels)"
            raise ValueError(
                f"X has {a.shape[-1]} channels per step (a sequence is read as {layout}); "
                f"SequenceScaler was fitted with {self.n_channels_}."
            )
        return a

    def _check_rows(self, X, inverse):
        if hasattr(self, "n_features_in_") and not inverse:
            rows = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=[np.float64, np.float32])
        else:
            rows = check_array(X, ensure_all_finite="allow-nan", dtype=[np.float64, np.float32])
        if rows.shape[1] % self.n_channels_:
            raise ValueError(
                f"X has {rows.shape[1]} columns, not a whole number of steps of {self.n_channels_} channels "
                "(rows are laid out [x_1, ..., x_T])."
            )
        return rows

    def _apply_steps(self, X3, copy, inverse):
        out = X3.copy() if copy else X3
        if inverse:
            if self.with_std:
                out *= self.scale_.astype(out.dtype)
            if self.with_mean:
                out += self.mean_.astype(out.dtype)
        else:
            if self.with_mean:
                out -= self.mean_.astype(out.dtype)
            if self.with_std:
                out /= self.scale_.astype(out.dtype)
        return out

    def _refuse_container_output(self, what):
        if _get_output_config("transform", self)["dense"] != "default":
            raise ValueError(
                f"set_output(transform=...) makes DataFrames, which hold 2-D rows; SequenceScaler got {what}. "
                "Pass flattened rows (n_samples, n_timesteps * n_channels) with n_timesteps, or leave set_output "
                "at its default."
            )

    def get_feature_names_out(self, input_features=None):
        """Output feature names (the input's: the scaler maps each column to itself).

        Only for a scaler fitted on 2-D rows, whose columns have names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            The input's column names; ``None`` means ``feature_names_in_``,
            or ``x0, x1, ...`` when the scaler was fitted without names.

        Returns
        -------
        ndarray of str
            The same names, one per column.
        """
        check_is_fitted(self, "n_channels_")
        if not hasattr(self, "n_features_in_"):
            raise ValueError(
                "get_feature_names_out needs a SequenceScaler fitted on 2-D rows; this one was fitted on 3-D "
                "arrays or lists of sequences, whose columns have no fixed names."
            )
        return _check_feature_names_in(self, input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # ignored in fit, kept in transform (padding)
        return tags


def _combine(first, second):
    """Per-channel ``(count, mean, var)`` of two parts joined (Chan, Golub and LeVeque, 1979), population variance."""
    n_a, mean_a, var_a = first
    n_b, mean_b, var_b = second
    n = n_a + n_b
    safe = np.maximum(n, 1)
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / safe)
    squares = var_a * n_a + var_b * n_b + delta * delta * (n_a * n_b / safe)
    return n, mean, squares / safe
