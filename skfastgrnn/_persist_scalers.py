"""How the scaler steps of a Pipeline are stored in a model file (StandardScaler, SequenceScaler).

Each kind has an encoder ``(scaler, prefix, tensors, meta)`` that adds its
tensors and metadata, and a decoder ``(reader, prefix) -> scaler`` that
rebuilds it from a :class:`~skfastgrnn._files.FileReader`; the file layout
is described in ``skfastgrnn._persist``.
"""

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._files import to_json
from ._scaler import SequenceScaler


def _encode_scaler(scaler, prefix, tensors, meta):
    check_is_fitted(scaler)
    meta[prefix + "params"] = to_json(scaler.get_params(deep=False), "StandardScaler parameters")
    meta[prefix + "n_features_in"] = to_json(scaler.n_features_in_, "n_features_in_")
    if hasattr(scaler, "feature_names_in_"):
        meta[prefix + "feature_names_in"] = to_json(list(scaler.feature_names_in_), "feature_names_in_")
    for name in ("mean_", "var_", "scale_"):
        value = getattr(scaler, name)
        if value is not None:
            tensors[prefix + name] = np.ascontiguousarray(value)
    seen = np.asarray(scaler.n_samples_seen_)
    tensors[prefix + "n_samples_seen_"] = np.ascontiguousarray(np.atleast_1d(seen))
    meta[prefix + "n_samples_seen_scalar"] = to_json(seen.ndim == 0, "n_samples_seen_")


def _encode_sequence_scaler(scaler, prefix, tensors, meta):
    check_is_fitted(scaler, "n_channels_")
    meta[prefix + "params"] = to_json(scaler.get_params(deep=False), "SequenceScaler parameters")
    meta[prefix + "n_channels"] = to_json(scaler.n_channels_, "n_channels_")
    if hasattr(scaler, "n_features_in_"):  # fitted on 2-D rows
        meta[prefix + "n_features_in"] = to_json(scaler.n_features_in_, "n_features_in_")
        if hasattr(scaler, "feature_names_in_"):
            meta[prefix + "feature_names_in"] = to_json(list(scaler.feature_names_in_), "feature_names_in_")
    for name in ("mean_", "var_", "scale_"):
        value = getattr(scaler, name)
        if value is not None:
            tensors[prefix + name] = np.ascontiguousarray(value)
    tensors[prefix + "n_samples_seen_"] = np.array([scaler.n_samples_seen_], dtype=np.int64)


SCALER_ENCODERS = {StandardScaler: _encode_scaler, SequenceScaler: _encode_sequence_scaler}


def _decode_statistics(r, prefix, scaler, needed, n):
    """Set a scaler's ``mean_`` / ``var_`` / ``scale_`` from the file: each is read when
    ``needed`` says the scaler uses it or the file holds it (float32 or float64, shape
    ``(n,)``), else None; ``scale_`` must be positive."""
    for name, is_needed in needed:
        key = prefix + name
        present = r.tensors.get(key)
        value = None
        if is_needed or present is not None:
            dtype = present.dtype if present is not None and present.dtype in (np.float32, np.float64) else np.float64
            value = r.tensor(key, dtype, (n,))
        setattr(scaler, name, value)
    if scaler.scale_ is not None and not np.all(scaler.scale_ > 0):
        raise r.error(f"tensor {prefix}scale_ must be positive")


def _decode_scaler(r, prefix):
    scaler = r.make(StandardScaler, r.json(prefix + "params", dict), "StandardScaler params")
    n = r.int(prefix + "n_features_in", 1)
    # StandardScaler sets mean_ and var_ whenever it needs them to compute
    # something, so presence follows the file; transform needs these two:
    needed = (("mean_", scaler.with_mean), ("var_", False), ("scale_", scaler.with_std))
    _decode_statistics(r, prefix, scaler, needed, n)
    scalar = r.json(prefix + "n_samples_seen_scalar", bool)
    seen = r.tensors.get(prefix + "n_samples_seen_")
    dtype = seen.dtype if seen is not None and seen.dtype in (np.int64, np.float64) else np.int64
    seen = r.tensor(prefix + "n_samples_seen_", dtype, (1,) if scalar else (n,))
    scaler.n_samples_seen_ = seen[0] if scalar else seen.copy()
    scaler.n_features_in_ = n
    names = r.feature_names(prefix + "feature_names_in", n)
    if names is not None:
        scaler.feature_names_in_ = names
    return scaler


def _decode_sequence_scaler(r, prefix):
    scaler = r.make(SequenceScaler, r.json(prefix + "params", dict), "SequenceScaler params")
    n_channels = r.int(prefix + "n_channels", 1)
    # SequenceScaler sets mean_ only with with_mean, var_ and scale_ only with
    # with_std; a file may hold more (parameters changed after fit), never less
    needed = (("mean_", scaler.with_mean), ("var_", scaler.with_std), ("scale_", scaler.with_std))
    _decode_statistics(r, prefix, scaler, needed, n_channels)
    if scaler.var_ is not None and not np.all(scaler.var_ >= 0):
        raise r.error(f"tensor {prefix}var_ must be non-negative")
    seen = int(r.tensor(prefix + "n_samples_seen_", np.int64, (1,))[0])
    if seen < 0:
        raise r.error(f"tensor {prefix}n_samples_seen_ must be non-negative")
    scaler.n_channels_ = n_channels
    scaler.n_samples_seen_ = seen
    if prefix + "n_features_in" in r.meta:  # fitted on 2-D rows
        n = r.int(prefix + "n_features_in", 1)
        if n % n_channels:
            raise r.error(
                f"metadata entry {prefix + 'n_features_in'!r} ({n}) is not a multiple of n_channels ({n_channels})"
            )
        scaler.n_features_in_ = n
        names = r.feature_names(prefix + "feature_names_in", n)
        if names is not None:
            scaler.feature_names_in_ = names
    elif prefix + "feature_names_in" in r.meta:
        raise r.error(f"metadata entry {prefix + 'feature_names_in'!r} needs {prefix + 'n_features_in'!r}")
    return scaler


SCALER_DECODERS = {"StandardScaler": _decode_scaler, "SequenceScaler": _decode_sequence_scaler}
