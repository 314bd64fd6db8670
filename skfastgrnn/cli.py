"""The ``skfastgrnn`` command line: demo, train, predict, evaluate, compress, info.

Only input and output live here: reading CSV and ``.npz`` files, printing
reports, writing files, and turning user mistakes into one-line messages
(``skfastgrnn: error: ...``, exit status 1; 2 for a wrong command line).
Training, saving, compression and size accounting are the library's.

Data files
----------
- CSV (``.csv``; ``.tsv`` is read tab-separated): a header line with the
  column names, then one row per sample. Every column except the target
  (``--target``) is a numeric feature. Rows of sequences are laid out
  ``[x_1, ..., x_T]``, each ``x_t`` of ``D`` values, as for
  :class:`~skfastgrnn.FastGRNNClassifier` (``--timesteps T`` and/or
  ``--step-features D`` say how to split them); empty or ``nan`` cells after
  a sequence's end pad a shorter sequence.
- ``.npz`` (``numpy.savez``): array ``X`` of shape ``(n_samples, width)`` or
  ``(n_samples, n_timesteps, n_features)`` (``(n_samples, n_features,
  n_timesteps)`` with ``--channels-first``), NaN after a sequence's end as
  padding, labels in ``y`` (or the array named by ``--target``), and
  optionally ``feature_names`` (1-D strings, one per column of a 2-D ``X``).

``train`` puts a :class:`~skfastgrnn.SequenceScaler` (one mean and scale per
feature, shared by every timestep) in front of the classifier for sequences
(more than one timestep, or a 3-D ``X``) and a ``StandardScaler`` for one-step
rows.

A model trained from a CSV remembers its feature columns (as a model fitted
on a pandas DataFrame does): ``predict`` and ``evaluate`` pick those columns by
name, in any order, and ignore the others.

Examples
--------
>>> from skfastgrnn.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
skfastgrnn ...
0
"""

import argparse
import contextlib
import copy
import csv
import json
import os
import re
import sys
import time
import warnings
import zipfile

import numpy as np
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from . import __version__, load, save
from ._cells import CELLS, NONLINEARITIES
from ._classifier import FastGRNNClassifier
from ._persist import ModelFileError
from ._scaler import SequenceScaler
from ._sequences import padding_problem

PROG = "skfastgrnn"

#: the Tiny Dancer guide's "Recommended Settings" (its TrainingConfig) in this
#: package's parameter names, chosen by the number of training rows
GUIDE_SETTINGS = (
    (
        "small datasets (< 1,000 samples)",
        1_000,
        dict(
            learning_rate=0.01,
            batch_size=16,
            epochs=100,
            validation_split=0.2,
            early_stopping_patience=10,
            lr_decay=0.8,
            lr_decay_step=20,
            l2_reg=1e-4,
        ),
    ),
    (
        "medium datasets (1,000 - 10,000 samples)",
        10_000,
        dict(
            learning_rate=0.005,
            batch_size=32,
            epochs=50,
            validation_split=0.15,
            early_stopping_patience=5,
            lr_decay=0.7,
            lr_decay_step=10,
            l2_reg=1e-5,
        ),
    ),
    (
        "large datasets (> 10,000 samples)",
        None,
        dict(
            learning_rate=0.001,
            batch_size=64,
            epochs=30,
            validation_split=0.1,
            early_stopping_patience=3,
            lr_decay=0.5,
            lr_decay_step=5,
            l2_reg=1e-6,
        ),
    ),
)


def guide_settings(n_train):
    """The guide's recommended training settings for ``n_train`` training rows.

    Returns
    -------
    name : str
    params : dict
        FastGRNNClassifier parameters.

    Examples
    --------
    >>> name, params = guide_settings(8000)
    >>> name, params["learning_rate"], params["early_stopping_patience"]
    ('medium datasets (1,000 - 10,000 samples)', 0.005, 5)
    """
    for name, below, params in GUIDE_SETTINGS:
        if below is None or n_train < below:
            return name, dict(params)
    raise AssertionError("unreachable: the last row has no upper bound")


class CLIError(Exception):
    """A user mistake: printed as one ``skfastgrnn: error: ...`` line, exit status 1."""


class _UsageError(Exception):
    """A wrong command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits from deep inside parse_args; raising
    # lets main() print one line, and lets tests call main() without SystemExit
    def error(self, message):
        raise _UsageError(message)


# ---------------------------------------------------------------- argument types


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _or_none(parse):
    """``parse``, or None for the word ``none`` (to switch a feature off)."""

    def parse_or_none(text):
        return None if text.strip().lower() == "none" else parse(text)

    parse_or_none.__name__ = parse.__name__
    return parse_or_none


def _fraction(text):
    value = _float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_or_auto(text):
    """An integer, or the word ``auto``."""
    return "auto" if text.strip().lower() == "auto" else _int(text)


#: (flag, FastGRNNClassifier parameter, type, help): ranges are checked by the
#: estimator's own parameter constraints, reported under the flag's name
_MODEL_OPTIONS = (
    ("--hidden-dim", "hidden_dim", _int, "hidden units"),
    ("--cell", "cell", sorted(CELLS), "recurrent cell"),
    ("--rank", "rank", _or_none(_int), "rank of the input matrix, W = W1 W2 ('none': full)"),
    ("--u-rank", "u_rank", _or_none(_int), "rank of the recurrent matrix, U = U1 U2 ('none': full)"),
    ("--fold", "fold", _int_or_auto, "timesteps read as one step of the cell ('auto': fold long series only)"),
    ("--gate-nonlinearity", "gate_nonlinearity", sorted(NONLINEARITIES), "nonlinearity of the gate"),
    ("--update-nonlinearity", "update_nonlinearity", sorted(NONLINEARITIES), "nonlinearity of the update"),
    ("--epochs", "epochs", _int, "maximum number of epochs"),
    ("--learning-rate", "learning_rate", _float, "initial Adam step size"),
    ("--batch-size", "batch_size", _int, "mini-batch size"),
    ("--validation-split", "validation_split", _float, "fraction held out for validation and early stopping"),
    ("--patience", "early_stopping_patience", _or_none(_int), "early-stopping patience in epochs ('none': off)"),
    ("--lr-decay", "lr_decay", _float, "learning-rate decay factor"),
    ("--lr-decay-step", "lr_decay_step", _int, "epochs between two decays"),
    ("--grad-clip", "grad_clip", _or_none(_float), "gradient clipping threshold ('none': off)"),
    ("--grad-clip-mode", "grad_clip_mode", ["norm", "value"], "clip each entry ('value') or the global norm"),
    ("--l2-reg", "l2_reg", _float, "L2 penalty on the weight matrices"),
    ("--w-sparsity", "w_sparsity", _float, "fraction of each input matrix removed by sparse training"),
    ("--u-sparsity", "u_sparsity", _float, "fraction of each recurrent matrix removed by sparse training"),
)
_FLAG_OF = {param: flag for flag, param, _, _ in _MODEL_OPTIONS}


# ------------------------------------------------------------------ reading data


class _Data:
    """Rows read from a file, before the columns are interpreted.

    A CSV gives ``header`` (column names), ``rows`` (lists of cell strings)
    and ``lines`` (the line number of each row, for messages); an .npz gives
    ``X`` as float64, 2-D ``(n, width)`` or 3-D ``(n_samples, n_timesteps,
    n_features)`` (already transposed from channels first when asked), and
    all its ``arrays``.
    """

    def __init__(self, path, *, header=None, rows=None, lines=None, X=None, arrays=None):
        self.path = path
        self.header = header
        self.rows = rows
        self.lines = lines
        self.X = X
        self.arrays = arrays
        self.channels_first = False

    @property
    def is_csv(self):
        return self.header is not None

    @property
    def is_3d(self):
        return not self.is_csv and self.X.ndim == 3

    def shape_text(self):
        """How a 3-D ``X`` was read, for messages."""
        n, T, D = self.X.shape
        if self.channels_first:
            return f"X has shape {(n, D, T)}, read as (n_samples, n_features, n_timesteps) (--channels-first)"
        return f"X has shape {self.X.shape}, read as (n_samples, n_timesteps, n_features)"

    def where(self, i):
        """Where sample ``i`` is, for messages."""
        return f"{self.path} line {self.lines[i]}" if self.is_csv else f"{self.path}: X[{i}]"

    def __len__(self):
        return len(self.rows) if self.is_csv else len(self.X)


def _check_readable(path):
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a file")


def read_data(path, channels_first=False):
    """Read a CSV (header + rows) or an .npz file, without interpreting the columns yet.

    ``channels_first`` reads a 3-D npz ``X`` as ``(n_samples, n_features,
    n_timesteps)`` (aeon's and sktime's layout) and transposes it to
    ``(n_samples, n_timesteps, n_features)``; it is an error for other data.
    """
    _check_readable(path)
    if path.lower().endswith(".npz"):
        data = _read_npz(path)
        if channels_first:
            if not data.is_3d:
                raise CLIError(
                    f"{path}: --channels-first applies to a 3-D X (n_samples, n_features, n_timesteps); this X has "
                    f"shape {data.X.shape}, whose rows are laid out [x_1, ..., x_T]"
                )
            data.X = np.ascontiguousarray(np.swapaxes(data.X, 1, 2))
            data.channels_first = True
        return data
    if channels_first:
        raise CLIError(
            f"{path}: --channels-first applies to a 3-D X in an .npz file; CSV rows are laid out [x_1, ..., x_T] "
            "(--timesteps and --step-features say how to split them)"
        )
    return _read_csv(path)


def _read_csv(path):
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header, rows, lines = None, [], []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank lines, e.g. a trailing one
                if header is None:
                    header = [cell.strip() for cell in row]
                    continue
                if len(row) != len(header):
                    raise CLIError(
                        f"{path} line {reader.line_num}: {len(row)} fields, but the header has {len(header)}"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a UTF-8 text file (expected a CSV with a header line, or an .npz)") from None
    except csv.Error as exc:
        raise CLIError(f"{path}: not a valid CSV file ({exc})") from None
    if header is None:
        raise CLIError(f"{path}: empty file (expected a header line and data rows)")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise CLIError(f"{path}: duplicate column names in the header: {', '.join(map(repr, duplicates))}")
    if not rows:
        raise CLIError(f"{path}: no data rows after the header")
    return _Data(path, header=header, rows=rows, lines=lines)


def _read_npz(path):
    if not zipfile.is_zipfile(path):  # else numpy would try to read it as a pickle and talk about allow_pickle
        raise CLIError(f"{path}: not a valid .npz file (expected a zip archive written by numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:  # pickled object arrays, or not an npz at all
        raise CLIError(f"{path}: cannot read the .npz file ({_one_line(exc)})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends: not an npz
        raise CLIError(f"{path}: not a valid .npz file ({type(exc).__name__}: {_one_line(exc)})") from None
    if "X" not in arrays:
        raise CLIError(f"{path}: no array 'X' (arrays in the file: {', '.join(sorted(arrays)) or 'none'})")
    X = arrays["X"]
    if X.dtype.kind not in "biuf":
        raise CLIError(f"{path}: array 'X' must be numeric, got dtype {X.dtype}")
    if X.ndim not in (2, 3) or 0 in X.shape:
        raise CLIError(
            f"{path}: array 'X' must have shape (n_samples, width) or (n_samples, n_timesteps, n_features), "
            f"none of them 0; got {X.shape}"
        )
    X = np.asarray(X, dtype=np.float64)
    bad = np.argwhere(np.isinf(X))
    if len(bad):
        raise CLIError(f"{path}: X[{bad[0][0]}] contains infinity (values must be finite; NaN only as padding)")
    return _Data(path, X=X, arrays=arrays)


def _feature_names_npz(data):
    names = data.arrays.get("feature_names")
    if names is None:
        return None
    names = [str(n) for n in np.ravel(names)]
    if data.is_3d or len(names) != data.X.shape[1]:
        raise CLIError(
            f"{data.path}: 'feature_names' has {len(names)} names for {data.X.shape[1]} columns of a 2-D X"
            + (" (3-D X takes no feature_names)" if data.is_3d else "")
        )
    return names


def _steps(data, width, timesteps, step_features):
    """``(T, D)`` of rows of ``width`` values from ``--timesteps`` and ``--step-features``, or CLIError."""
    what = f"{data.path}: {width} feature {'columns' if data.is_csv else 'values per row'}"
    if timesteps is not None and step_features is not None:
        if timesteps * step_features != width:
            raise CLIError(
                f"{what}, but --timesteps {timesteps} x --step-features {step_features} = "
                f"{timesteps * step_features} (rows are laid out [x_1, ..., x_T], each x_t of D values)"
            )
        return timesteps, step_features
    if timesteps is not None:
        if width % timesteps:
            raise CLIError(
                f"{what} cannot be split into --timesteps {timesteps} equal steps (rows are laid out [x_1, ..., x_T])"
            )
        return timesteps, width // timesteps
    if step_features is not None:
        if width % step_features:
            raise CLIError(
                f"{what} cannot be split into steps of --step-features {step_features} values "
                "(rows are laid out [x_1, ..., x_T], each x_t of D values)"
            )
        return width // step_features, step_features
    return 1, width


def _check_values(data, X, timesteps, columns=None):
    """NaN is padding after a sequence's end (whole steps) for sequences, an error otherwise.

    ``X`` is 2-D rows of ``timesteps`` steps, or 3-D; ``columns`` names the
    CSV columns of a row, for messages.
    """
    if not np.isnan(X).any():
        return
    n = len(X)
    if X.ndim == 2 and timesteps == 1:
        i = int(np.flatnonzero(np.isnan(X).any(axis=1))[0])
        raise CLIError(
            f"{data.where(i)} contains NaN (missing values are not supported: fill or drop them first; NaN marks "
            "padding only in sequences of more than one timestep)"
        )
    X3 = X.reshape(n, timesteps, -1) if X.ndim == 2 else X
    D = X3.shape[2]

    def step(t):
        if columns is None:
            return f"step {t + 1}"
        cols = columns[t * D : (t + 1) * D]
        return f"step {t + 1} ({_names(cols, limit=4)})"

    problem = padding_problem(X3)
    if problem is None:
        return
    kind, i, t = problem
    if kind == "partial":
        raise CLIError(
            f"{data.where(i)}: {step(t)} is missing only some of its {D} values: a step that is empty (or nan) in "
            "every value is padding after the sequence's end; other missing values are not supported (fill them)"
        )
    if kind == "empty":
        raise CLIError(f"{data.where(i)}: every step is empty (or nan); a sequence needs at least one observed step")
    if kind == "late":
        raise CLIError(
            f"{data.where(i)}: {step(t)} follows an empty (padding) step: pad a shorter sequence with empty or nan "
            "values only after its end"
        )
    raise CLIError(f"{data.where(i)} contains an infinite value")


def _numeric(data, columns, timesteps=1):
    """The CSV columns ``columns`` as a float64 matrix; CLIError at the first bad cell.

    With ``timesteps > 1`` the rows are sequences: empty and ``nan`` cells
    are NaN padding (whole steps, after a sequence's end, checked here).
    """
    index = [data.header.index(c) for c in columns]
    cells = [[row[i] for i in index] for row in data.rows]
    padding = timesteps > 1
    if padding:
        cells = [[cell if cell.strip() else "nan" for cell in row] for row in cells]
    try:
        X = np.array(cells, dtype=np.float64).reshape(len(cells), len(index))
    except ValueError:
        X = None  # find and name the first bad cell below
    if X is None or not np.isfinite(X).all():
        for row, line in zip(cells, data.lines, strict=True):
            for name, cell in zip(columns, row, strict=True):
                if not cell.strip():
                    raise CLIError(
                        f"{data.path} line {line}: column {name!r} is empty (missing values are not supported: "
                        "fill or drop them first; empty cells mark padding only in sequences of more than one "
                        "timestep, see --timesteps)"
                    )
                try:
                    value = float(cell)
                except ValueError:
                    raise CLIError(
                        f"{data.path} line {line}: column {name!r} is not numeric ({cell.strip()!r}); "
                        "every column except --target must be a number"
                        + (" (or empty / nan as padding after a sequence's end)" if padding else "")
                    ) from None
                if np.isinf(value) or (np.isnan(value) and not padding):
                    raise CLIError(f"{data.path} line {line}: column {name!r} is {cell.strip()!r} (must be finite)")
    _check_values(data, X, timesteps, columns)
    return X


def _labels_from_strings(cells, data, column):
    """CSV labels: ints if they all are, else floats, else strings."""
    for cell, line in zip(cells, data.lines, strict=True):
        if not cell.strip():
            raise CLIError(f"{data.path} line {line}: the label column {column!r} is empty")
    cells = [c.strip() for c in cells]
    for kind in (int, float):
        try:
            return np.array([kind(c) for c in cells])
        except ValueError:
            pass
    return np.array(cells)


def _target_column(data, target, required):
    """Name of the label column in a CSV, or of the label array in an npz (None if absent and optional)."""
    if data.is_csv:
        if target is None:
            if required:
                raise CLIError(f"{data.path}: --target COLUMN is required (columns: {_names(data.header)})")
            return None
        if target not in data.header:
            raise CLIError(f"{data.path}: no column {target!r} (columns: {_names(data.header)})")
        return target
    key = target or "y"
    if key not in data.arrays:
        if required or target is not None:
            arrays = ", ".join(sorted(data.arrays))
            raise CLIError(f"{data.path}: no label array {key!r} (arrays in the file: {arrays})")
        return None
    return key


def _raw_labels(data, column):
    if data.is_csv:
        i = data.header.index(column)
        return [row[i] for row in data.rows]
    y = np.asarray(data.arrays[column])
    if y.ndim != 1 or len(y) != len(data.X):
        raise CLIError(f"{data.path}: labels {column!r} must be 1-D with one label per row of X, got shape {y.shape}")
    return y


def training_data(data, target, timesteps=None, step_features=None, channels_first=False):
    """``X, y, feature_names, (T, D)`` for ``train``.

    ``X`` is 2-D rows ``[x_1, ..., x_T]`` (a 3-D npz ``X`` is flattened),
    NaN-padded after a sequence's end when ``T > 1``.
    """
    column = _target_column(data, target, required=True)
    if data.is_csv:
        features = [c for c in data.header if c != column]
        if not features:
            raise CLIError(f"{data.path}: no feature columns besides the target {column!r}")
        T, D = _steps(data, len(features), timesteps, step_features)
        X = _numeric(data, features, T)
        y = _labels_from_strings(_raw_labels(data, column), data, column)
        return X, y, features, (T, D)
    y = _raw_labels(data, column)
    if y.dtype.kind not in "biufU":
        raise CLIError(f"{data.path}: labels {column!r} must be numbers or strings, got dtype {y.dtype}")
    X = data.X
    if data.is_3d:
        n, T, D = X.shape
        for flag, given, actual, what in (
            ("--timesteps", timesteps, T, "timesteps"),
            ("--step-features", step_features, D, "features per timestep"),
        ):
            if given not in (None, actual):
                raise CLIError(f"{data.path}: {data.shape_text()}: {actual} {what}, but {flag} is {given}")
        if T < D and not channels_first:
            warnings.warn(
                f"{data.path}: {data.shape_text()}: {T} timestep(s) of {D} features; if the file is (n_samples, "
                "n_channels, n_timesteps) (aeon, sktime), pass --channels-first",
                UserWarning,
                stacklevel=2,
            )
        _check_values(data, X, T)
        return X.reshape(n, T * D), y, _feature_names_npz(data), (T, D)
    T, D = _steps(data, X.shape[1], timesteps, step_features)
    _check_values(data, X, T)
    return X, y, _feature_names_npz(data), (T, D)


def accepts_any_length(model):
    """True when ``model`` reads 3-D input of any number of timesteps (no StandardScaler inside)."""
    return not isinstance(model, Pipeline) or all(isinstance(step, SequenceScaler) for _, step in model.steps[:-1])


def model_input(data, model, target=None, channels_first=False):
    """The input of ``data`` for ``model``, checked against what it was trained on.

    2-D rows ``[x_1, ..., x_T]`` of the model's width; a 3-D npz ``X`` of
    another number of timesteps stays 3-D (in the layout of the model's
    SequenceScaler) when the model reads any length.
    """
    clf = _classifier(model)
    names = getattr(model, "feature_names_in_", None)
    width, T, D = clf.n_features_in_, clf.n_timesteps_, clf.n_step_features_
    if data.is_csv:
        if names is not None:
            missing = [n for n in names if n not in data.header]
            if missing:
                raise CLIError(
                    f"{data.path}: no column {missing[0]!r}, a feature the model was trained on "
                    f"(its features: {_names(names)}; columns here: {_names(data.header)})"
                )
            return _numeric(data, list(names), T)
        features = [c for c in data.header if c != target]
        if len(features) != width:
            raise CLIError(
                f"{data.path}: {len(features)} feature columns ({_names(features)}), but the model expects {width}"
                + (f" ({T} timesteps x {D} features)" if T > 1 else "")
                + ("" if target else "; pass --target COLUMN to leave out the label column")
            )
        return _numeric(data, features, T)
    X = data.X
    if data.is_3d:
        n, T_file, D_file = X.shape
        if D_file != D:
            hint = ""
            if T_file == D and not channels_first:
                hint = "; if the file is (n_samples, n_features, n_timesteps), pass --channels-first"
            raise CLIError(
                f"{data.path}: {data.shape_text()}: {D_file} features per timestep, but the model was trained on "
                f"{D}{hint}"
            )
        _check_values(data, X, T_file)
        if T_file == T:
            return X.reshape(n, T * D)
        if not accepts_any_length(model):
            raise CLIError(
                f"{data.path}: X has {T_file} timesteps, the model was trained on {T}; its StandardScaler needs "
                f"exactly {width} values per row (pad shorter sequences with NaN after their end)"
            )
        first = model[0] if isinstance(model, Pipeline) else None
        if isinstance(first, SequenceScaler) and first.channels_first:
            X = np.swapaxes(X, 1, 2)  # the layout that model reads
        return X
    if X.shape[1] != width:
        raise CLIError(
            f"{data.path}: X has {X.shape[1]} values per row, but the model expects {width}"
            + (f" ({T} timesteps x {D} features)" if T > 1 else "")
        )
    _check_values(data, X, T)
    return X


def true_labels(data, target, classes):
    """Labels of ``data`` as values of the model's ``classes`` (CLIError for any other label)."""
    column = _target_column(data, target, required=True)
    raw = _raw_labels(data, column)
    lookup = {str(c): c for c in classes.tolist()}
    numeric = classes.dtype.kind in "biuf"
    out = []
    for i, value in enumerate(raw.tolist() if isinstance(raw, np.ndarray) else raw):
        text = str(value).strip()
        label = lookup.get(text, _MISSING)
        if label is _MISSING and numeric:
            with contextlib.suppress(ValueError):
                number = float(text)
                label = next((c for c in classes.tolist() if c == number), _MISSING)
        if label is _MISSING:
            where = f"{data.path} line {data.lines[i]}" if data.is_csv else f"{data.path}: {column}[{i}]"
            raise CLIError(f"{where}: label {text!r} is not one of the model's classes ({_names(classes.tolist())})")
        out.append(label)
    return np.array(out, dtype=classes.dtype)


_MISSING = object()


# ------------------------------------------------------------------ models and output


def _classifier(model):
    return model[-1] if isinstance(model, Pipeline) else model


def load_model(path):
    _check_readable(path)
    return load(path)  # ModelFileError and OSError are reported by main


def metrics_path_for(model_path):
    """Where the training metrics of ``model_path`` sit: ``router.safetensors`` -> ``router.metrics.json``."""
    root, ext = os.path.splitext(model_path)
    return (root if ext.lower() == ".safetensors" else model_path) + ".metrics.json"


def _check_writable(path, what="output"):
    """Fail before any long work if ``path`` cannot be written."""
    if path == "-":
        return
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory; give the {what} file's name")
    if not os.path.isdir(directory):
        raise CLIError(f"{path}: cannot write the {what}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise CLIError(f"{path}: cannot write the {what}: directory {directory} is not writable")


def _check_writable_dir(directory):
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise CLIError(f"{directory}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"{directory}: cannot create the output directory ({exc.strerror or exc})") from None
    if not os.access(directory, os.W_OK):
        raise CLIError(f"{directory}: the output directory is not writable")


def _names(values, limit=8):
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _one_line(exc):
    return " ".join(str(exc).split())


def _progress(args):
    return 0 if args.quiet else 1


def _out(text=""):
    print(text, flush=True)


def _note(text):
    print(text, file=sys.stderr, flush=True)


def _table(rows, align=None):
    """Rows of cells as aligned text lines; numbers right-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    align = align or ["<"] + [">"] * (len(widths) - 1)
    return ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)).rstrip() for row in rows]


def _bytes(n):
    return f"{n:,} B"


@contextlib.contextmanager
def _named_columns_checked():
    # the CLI matched the columns by name itself and passes plain arrays: the
    # warning that the array has no column names would only be noise
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def _latency_us(model, X, repeats):
    """Median seconds of ``predict_proba(X)`` in microseconds."""
    model.predict_proba(X)  # warm up caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def _save_learning_curve(clf, path):
    """Write the learning-curve PNG; False (and no file) when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure  # no pyplot: no GUI backend needed
    except ImportError:
        return False
    from ._plot import plot_history

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = plot_history(clf, ax=fig.subplots())
    ax.set_title("skfastgrnn learning curve")
    fig.savefig(path, dpi=100)
    return True


def _write_csv(path, header, rows):
    if path == "-":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _format_label(value):
    return str(value.item() if isinstance(value, np.generic) else value)


# ------------------------------------------------------------------ subcommands


def cmd_demo(args):
    """Train on built-in routing data with the guide's settings and report."""
    from .datasets import ROUTING_FEATURES, make_routing

    if args.n_samples < 20:
        raise CLIError(f"--n-samples must be at least 20, got {args.n_samples}")
    _check_writable_dir(args.out)
    X, y = make_routing(args.n_samples, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)

    setting, params = guide_settings(len(y_train))
    if args.epochs is not None:
        params["epochs"] = args.epochs
    _out(
        f"skfastgrnn demo: {len(y):,} routing logs from skfastgrnn.datasets.make_routing "
        f"({len(y_train):,} to train, {len(y_test):,} to test); label 1 = the lightweight model sufficed"
    )
    _out(f"settings: the guide's recommended settings for {setting}, hidden_dim=16:")
    _out("  " + ", ".join(f"{k}={v}" for k, v in params.items()))
    model = make_pipeline(
        StandardScaler(), FastGRNNClassifier(hidden_dim=16, random_state=args.seed, verbose=_progress(args), **params)
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    clf = model[-1]

    accuracy = float(np.mean(model.predict(X_test) == y_test))
    int8 = copy.deepcopy(model)
    int8[-1].quantize()
    int8_accuracy = float(np.mean(int8.predict(X_test) == y_test))
    sizes = clf.size_report()
    one_us = _latency_us(model, X_test[:1], 300)
    batch = min(32, len(X_test))
    batch_us = _latency_us(model, X_test[:batch], 100) / batch
    # the network alone on normalized rows: the scaler's input checks cost more than the network
    network_us = _latency_us(clf, model[0].transform(X_test[:1]), 300)

    paths = {name: os.path.join(args.out, name) for name in ("model.safetensors", "report.json")}
    model[0].feature_names_in_ = np.asarray(ROUTING_FEATURES, dtype=object)  # see cmd_train
    save(model, paths["model.safetensors"])
    metrics_path = metrics_path_for(paths["model.safetensors"])
    clf.save_metrics(metrics_path)
    written = ["model.safetensors", os.path.basename(metrics_path)]
    for name, rows, labels in (("train.csv", X_train, y_train), ("test.csv", X_test, y_test)):
        _write_csv(
            os.path.join(args.out, name),
            [*ROUTING_FEATURES, "label"],
            [[f"{v:.6f}" for v in row] + [int(label)] for row, label in zip(rows, labels, strict=True)],
        )
        written.append(name)
    if _save_learning_curve(clf, os.path.join(args.out, "learning_curve.png")):
        written.append("learning_curve.png")
    else:
        _note(f"{PROG}: note: matplotlib is not installed, so no learning_curve.png (pip install 'skfastgrnn[plot]')")
    report = {
        "data": {"n_train": len(y_train), "n_test": len(y_test), "generator": "make_routing", "seed": args.seed},
        "settings": {"name": setting, "hidden_dim": 16, **params},
        "epochs_run": clf.n_iter_,
        "best_epoch": clf.best_epoch_,
        "training_seconds": seconds,
        "test_accuracy": accuracy,
        "test_accuracy_int8": int8_accuracy,
        "n_parameters": sizes["n_parameters"],
        "fp32_bytes": sizes["fp32_bytes"],
        "int8_bytes": sizes["int8_bytes"],
        "file_bytes": os.path.getsize(paths["model.safetensors"]),
        "latency_us_1_row": one_us,
        "latency_us_per_row_batch_32": batch_us,
        "latency_us_1_row_network_only": network_us,
        "package_version": __version__,
    }
    with open(paths["report.json"], "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    written.insert(2, "report.json")

    _out(f"trained {clf.n_iter_} epochs in {seconds:.1f} s; kept the weights of epoch {clf.best_epoch_}")
    _out()
    for line in _table(
        [
            ("", "test accuracy", "weights (bytes)"),
            ("float", f"{accuracy:.2%}", f"{sizes['fp32_bytes']:,} (as fp32)"),
            ("int8 (quantize())", f"{int8_accuracy:.2%}", f"{sizes['int8_bytes']:,}"),
        ]
    ):
        _out(line)
    _out()
    _out(f"parameters: {sizes['n_parameters']:,}; model file with its normalization: {report['file_bytes']:,} bytes")
    _out(
        f"prediction latency (predict_proba, median): {one_us:.0f} us for 1 row with the scaler, "
        f"{network_us:.0f} us for the network alone; {batch_us:.1f} us per row in a batch of {batch}"
    )
    _out(f"wrote {args.out}{os.sep}: {', '.join(written)}")
    model_path = paths["model.safetensors"]
    test_path = os.path.join(args.out, "test.csv")
    _out("next:")
    _out(f"  {PROG} info {model_path}")
    _out(f"  {PROG} evaluate {model_path} {test_path} --target label")
    _out(f"  {PROG} train {os.path.join(args.out, 'train.csv')} --target label --out router.safetensors")
    return 0


def _scaler_for(timesteps, sequences):
    """SequenceScaler for sequences (one mean and scale per feature over all steps), else StandardScaler."""
    return SequenceScaler(n_timesteps=timesteps) if sequences else StandardScaler()


def describe_scaler(step):
    """One line about a scaler step of a saved pipeline (for ``info`` and ``train``)."""
    if isinstance(step, SequenceScaler):
        layout = (
            "(n_samples, n_features, n_timesteps)" if step.channels_first else "(n_samples, n_timesteps, n_features)"
        )
        return (
            f"SequenceScaler (z-score per feature, one mean and scale shared by every timestep: "
            f"{step.n_channels_} features; 3-D input read as {layout})"
        )
    if isinstance(step, StandardScaler):
        return "StandardScaler (z-score per input column)"
    return type(step).__name__


def cmd_train(args):
    """Train Pipeline(StandardScaler or SequenceScaler, FastGRNNClassifier) on a file and save it."""
    params = {param: getattr(args, param) for _, param, _, _ in _MODEL_OPTIONS if getattr(args, param) is not _UNSET}
    if args.timesteps is not None:
        params["n_timesteps"] = args.timesteps
    clf = FastGRNNClassifier(random_state=args.seed, verbose=_progress(args), **params)
    clf._validate_params()  # fail on a bad option value before reading the data
    _check_writable(args.out, "model")
    metrics_path = metrics_path_for(args.out)

    data = read_data(args.data, channels_first=args.channels_first)
    X, y, feature_names, (T, D) = training_data(
        data, args.target, args.timesteps, args.step_features, channels_first=args.channels_first
    )
    clf.set_params(n_timesteps=T)
    if len(np.unique(y)) < 2:
        raise CLIError(f"{data.path}: the labels have a single class ({_format_label(y[0])}); need at least two")
    # sequences (several timesteps, or a 3-D X) get one mean and scale per
    # feature shared by all timesteps; one-step rows a plain StandardScaler
    model = make_pipeline(_scaler_for(T, T > 1 or data.is_3d), clf)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    if feature_names is not None:
        # what fitting on a pandas DataFrame would have set, without requiring
        # pandas: the file then remembers the columns, and predict/evaluate
        # pick them by name
        model[0].feature_names_in_ = np.asarray(feature_names, dtype=object)
    save(model, args.out)
    clf.save_metrics(metrics_path)

    lengths = ""
    if T > 1:
        observed = (~np.isnan(X.reshape(len(X), T, D)).all(axis=2)).sum(axis=1)
        if observed.min() < T:
            lengths = f"; sequences of {observed.min()} to {observed.max()} timesteps, NaN padded"
    _out(
        f"trained on {data.path}: {len(y):,} rows, {clf.n_features_in_} features "
        f"({T} timestep{'s' if T > 1 else ''} x {D}{lengths}), "
        f"classes {_names([_format_label(c) for c in clf.classes_])}"
    )
    _out(f"normalization: {describe_scaler(model[0])}")
    best = clf.history_[clf.best_epoch_ - clf.history_[0]["epoch"]]
    if best["val_accuracy"] is not None:
        score = f"validation accuracy {best['val_accuracy']:.2%}, loss {best['val_loss']:.4f}"
    else:
        score = f"training accuracy {best['train_accuracy']:.2%}, loss {best['train_loss']:.4f}"
    _out(f"{clf.n_iter_} epochs in {seconds:.1f} s; kept epoch {clf.best_epoch_}: {score}")
    _out(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes) and {metrics_path}")
    return 0


def cmd_predict(args):
    """Write predicted labels and class probabilities as CSV."""
    _check_writable(args.out, "predictions")
    model = load_model(args.model)
    data = read_data(args.data, channels_first=args.channels_first)
    X = model_input(data, model, args.target, args.channels_first)
    with _named_columns_checked():
        proba = model.predict_proba(X)
    classes = _classifier(model).classes_
    labels = classes[np.argmax(proba, axis=1)]
    header = ["prediction"] + [f"proba_{_format_label(c)}" for c in classes]
    rows = ([_format_label(label)] + [f"{p:.6g}" for p in row] for label, row in zip(labels, proba, strict=True))
    _write_csv(args.out, header, rows)
    if args.out != "-":
        _out(f"wrote {len(labels):,} predictions to {args.out} (columns: {', '.join(header)})")
    return 0


def cmd_evaluate(args):
    """Accuracy, log loss and confusion matrix on labelled data."""
    model = load_model(args.model)
    data = read_data(args.data, channels_first=args.channels_first)
    clf = _classifier(model)
    X = model_input(data, model, args.target, args.channels_first)
    y = true_labels(data, args.target, clf.classes_)
    with _named_columns_checked():
        proba = model.predict_proba(X)
    predicted = clf.classes_[np.argmax(proba, axis=1)]
    labels = [_format_label(c) for c in clf.classes_]
    matrix = confusion_matrix(y, predicted, labels=clf.classes_)
    _out(f"{args.model} on {data.path}: {len(y):,} rows")
    _out(f"accuracy: {np.mean(predicted == y):.4f}")
    _out(f"log loss: {log_loss(y, proba, labels=clf.classes_):.4f}")
    _out("confusion matrix (rows: true label, columns: predicted label):")
    for line in _table([["", *labels], *([label, *row] for label, row in zip(labels, matrix.tolist(), strict=True))]):
        _out("  " + line)
    return 0


def _size_summary(clf, path):
    r = clf.size_report()
    return {
        "file bytes": f"{os.path.getsize(path):,}",
        "non-zero parameters": f"{r['n_nonzero']:,} of {r['n_parameters']:,}",
        "fp32 weights": _bytes(r["fp32_bytes"]),
        "int8 weights": _bytes(r["int8_bytes"]),
        "sparse int8 weights": _bytes(r["sparse_int8_bytes"]),
        "stored as": "int8" if r["quantized"] else str(clf.weights_["W_out"].dtype),
    }


def cmd_compress(args):
    """Prune and/or quantize a saved model into a new file."""
    if not args.quantize and args.prune is None:
        raise CLIError("compress needs --quantize, --prune FRACTION or both")
    _check_writable(args.out, "model")
    model = load_model(args.model)
    clf = _classifier(model)
    evaluation = None
    if args.data is not None:
        data = read_data(args.data, channels_first=args.channels_first)
        evaluation = (
            model_input(data, model, args.target, args.channels_first),
            true_labels(data, args.target, clf.classes_),
        )
    elif args.target is not None or args.channels_first:
        raise CLIError(f"{'--target' if args.target is not None else '--channels-first'} is only used with --data")

    def accuracy():
        with _named_columns_checked():
            return float(np.mean(model.predict(evaluation[0]) == evaluation[1]))

    before = _size_summary(clf, args.model)
    before_accuracy = accuracy() if evaluation else None
    if args.prune is not None:
        clf.prune(args.prune)
    if args.quantize:
        clf.quantize()
    save(model, args.out)
    after = _size_summary(clf, args.out)
    steps = ([f"prune({args.prune:g})"] if args.prune is not None else []) + (["quantize()"] if args.quantize else [])
    _out(f"{args.model} -> {args.out}: {' then '.join(steps)}")
    rows = [("", "before", "after")] + [(k, before[k], after[k]) for k in before]
    if evaluation:
        rows.append((f"accuracy on {os.path.basename(args.data)}", f"{before_accuracy:.4f}", f"{accuracy():.4f}"))
    for line in _table(rows):
        _out("  " + line)
    sidecar = metrics_path_for(args.model)
    if os.path.isfile(sidecar):  # the training history is unchanged: keep it next to the new file
        with contextlib.suppress(ModelFileError, OSError):
            clf.load_metrics(sidecar)
            clf.save_metrics(metrics_path_for(args.out))
            _out(f"copied the training metrics to {metrics_path_for(args.out)}")
    return 0


def cmd_info(args):
    """Configuration, classes, sizes and training metrics of a saved model."""
    model = load_model(args.model)
    clf = _classifier(model)
    metrics = args.metrics or metrics_path_for(args.model)
    if args.metrics is not None:
        _check_readable(metrics)
        clf.load_metrics(metrics)  # a wrong file is an error before anything is printed
    elif os.path.isfile(metrics):
        try:
            clf.load_metrics(metrics)
        except (ModelFileError, OSError) as exc:
            _note(f"{PROG}: warning: ignoring {metrics}: {_one_line(exc)}")
            metrics = None
    else:
        metrics = None
    meta = {}
    with contextlib.suppress(Exception):  # the header was already checked by load; this only adds versions
        import safetensors

        with safetensors.safe_open(args.model, framework="numpy") as f:
            meta = f.metadata() or {}
    if isinstance(model, Pipeline):
        kind = "Pipeline(" + ", ".join(type(step).__name__ for _, step in model.steps) + ")"
    else:
        kind = type(clf).__name__
    _out(f"{args.model}: {os.path.getsize(args.model):,} bytes")
    _out(f"  kind: {kind}")
    if meta:
        _out(f"  written by skfastgrnn {meta.get('package_version', '?')}, format version {meta.get('format_version')}")
    arch = clf._fitted_architecture
    _out(
        f"  network: cell {arch['cell']}, hidden_dim {arch['hidden_dim']}, rank {arch['rank']}, "
        f"u_rank {arch['u_rank']}, gate {arch['gate_nonlinearity']}, update {arch['update_nonlinearity']}, "
        f"fold {clf.fold_} (fold={arch['fold']!r})"
    )
    step = clf.n_step_features_
    names = getattr(model, "feature_names_in_", None)
    _out(
        f"  input: {clf.n_features_in_} values per row = {clf.n_timesteps_} timestep(s) x {step} features"
        + (f" ({_names(names)})" if names is not None else "")
    )
    if accepts_any_length(model) and (clf.n_timesteps_ > 1 or isinstance(model, Pipeline)):
        _out(f"  3-D input (n_samples, n_timesteps, {step}) may have any number of timesteps; NaN pads after an end")
    if isinstance(model, Pipeline):
        for _, scaler in model.steps[:-1]:
            _out(f"  normalization: {describe_scaler(scaler)}, stored in the same file")
    else:
        _out("  normalization: none in the file (the classifier takes the values as they are)")
    _out(f"  classes ({len(clf.classes_)}): {_names([_format_label(c) for c in clf.classes_], limit=20)}")
    params = clf.get_params()
    training = ("learning_rate", "batch_size", "epochs", "validation_split", "early_stopping_patience", "l2_reg")
    _out("  training: " + ", ".join(f"{k}={params[k]}" for k in training))
    _out(f"  epochs run: {clf.n_iter_}, weights of epoch {clf.best_epoch_}")

    r = clf.size_report()
    state = ("quantized (int8)" if r["quantized"] else f"float ({clf.weights_['W_out'].dtype})") + (
        ", pruned" if r["pruned"] else ""
    )
    _out(f"size: {state}")
    rows = [("tensor", "shape", "non-zero", "fp32 B", "int8 B")]
    for t in r["tensors"]:
        fp32 = 4 * t["n"]
        int8 = (t["n"] + 4) if t["int8"] else fp32
        rows.append((t["name"], "x".join(map(str, t["shape"])), f"{t['nnz']:,}/{t['n']:,}", f"{fp32:,}", f"{int8:,}"))
    rows.append(
        ("total", "", f"{r['n_nonzero']:,}/{r['n_parameters']:,}", f"{r['fp32_bytes']:,}", f"{r['int8_bytes']:,}")
    )
    for line in _table(rows, ["<", "<", ">", ">", ">"]):
        _out("  " + line)
    _out(
        f"  sparse storage: fp32 {r['sparse_fp32_bytes']:,} B, int8 {r['sparse_int8_bytes']:,} B "
        "(smallest of dense, bitmap and index formats per W/U matrix)"
    )

    if metrics is None:
        _out(
            f"metrics: none (no readable {os.path.basename(metrics_path_for(args.model))} next to the model; "
            "give one with --metrics FILE)"
        )
        return 0
    history = clf.history_
    best = next(e for e in history if e["epoch"] == clf.best_epoch_) if history else None
    _out(f"metrics ({metrics}): {len(history)} epochs, {sum(e['seconds'] for e in history):.1f} s of training")
    if best is not None:
        parts = [f"train_loss {best['train_loss']:.4f}", f"train_accuracy {best['train_accuracy']:.4f}"]
        if best["val_loss"] is not None:
            parts += [f"val_loss {best['val_loss']:.4f}", f"val_accuracy {best['val_accuracy']:.4f}"]
        _out(f"  epoch {best['epoch']} (kept): " + ", ".join(parts))
        last = history[-1]
        _out(f"  last epoch {last['epoch']}: learning_rate {last['learning_rate']:.3g}")
    return 0


# ------------------------------------------------------------------ parser and main

_UNSET = object()
_CHANNELS_FIRST_HELP = (
    "the .npz X is 3-D channels first, (n_samples, n_features, n_timesteps) as aeon and sktime give it, "
    "instead of (n_samples, n_timesteps, n_features)"
)


def build_parser():
    """The argparse parser of the ``skfastgrnn`` command."""
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate, compress and inspect FastGRNN classifiers (skfastgrnn).",
        epilog=f"'{PROG} COMMAND --help' describes a command. Exit status: 0 success, 1 error, 2 wrong command line.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, func, help_text, description):
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.set_defaults(func=func)
        return sub

    demo = command(
        "demo",
        cmd_demo,
        "train on built-in routing data and report",
        "Train a FastGRNN router on built-in routing logs (skfastgrnn.datasets.make_routing) with the Tiny Dancer "
        "guide's recommended settings; report test accuracy, sizes (fp32, int8) and prediction latency; write the "
        "model (normalization included), its metrics, a report, the data and a learning-curve PNG into a directory.",
    )
    demo.add_argument("--out", default="skfastgrnn-demo", metavar="DIR", help="output directory (default: %(default)s)")
    demo.add_argument("--n-samples", type=_int, default=10_000, help="routing logs to generate (default: %(default)s)")
    demo.add_argument("--epochs", type=_positive_int, help="override the settings' maximum number of epochs")
    demo.add_argument("--seed", type=_int, default=0, help="seed of the data, split and model (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")

    defaults = FastGRNNClassifier().get_params()
    train = command(
        "train",
        cmd_train,
        "train a model on a CSV or .npz file",
        "Train Pipeline(scaler, FastGRNNClassifier) on DATA and save it (one safetensors file, normalization "
        "included) with its training metrics next to it (MODEL's name with .metrics.json). The scaler is "
        "SequenceScaler (one mean and scale per feature, shared by every timestep) for sequences (--timesteps T > 1, "
        "or a 3-D X), StandardScaler for one-step rows. Sequences: a 3-D X is (n_samples, n_timesteps, n_features); "
        "a row of T*D values is laid out [x_1, ..., x_T], each x_t of D features; empty or nan values after a "
        "sequence's end pad shorter sequences.",
    )
    train.add_argument(
        "data",
        metavar="DATA",
        help="CSV with a header line, or .npz with arrays X (n_samples, width) or (n_samples, n_timesteps, "
        "n_features) and y",
    )
    train.add_argument("--target", metavar="COLUMN", help="label column of the CSV; label array of an .npz (default y)")
    train.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.safetensors)")
    train.add_argument(
        "--timesteps", metavar="T", type=_positive_int, help="split each row into T steps (n_timesteps; default 1)"
    )
    train.add_argument(
        "--step-features",
        metavar="D",
        type=_positive_int,
        help="values per timestep: a row of T*D values is T steps of D features (with --timesteps, T*D must be the "
        "number of feature columns)",
    )
    train.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)
    group = train.add_argument_group("model and training options (defaults: FastGRNNClassifier's)")
    for flag, param, kind, help_text in _MODEL_OPTIONS:
        choices = kind if isinstance(kind, list) else None
        group.add_argument(
            flag,
            dest=param,
            type=None if choices else kind,
            choices=choices,
            default=_UNSET,
            metavar=None if choices else flag[2:].upper().replace("-", "_"),
            help=f"{help_text} (default: {defaults[param]})",
        )
    group.add_argument("--seed", type=_int, default=0, help="random_state: same seed, same model (default: 0)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")

    predict = command(
        "predict",
        cmd_predict,
        "write predictions and probabilities as CSV",
        "Predict the label of every row of DATA; write a CSV with the columns prediction and proba_<class>, "
        "in the order of the rows.",
    )
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument(
        "data",
        metavar="DATA",
        help="CSV with a header line, or .npz with array X (n_samples, width) or (n_samples, n_timesteps, n_features)",
    )
    predict.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)
    predict.add_argument("--out", required=True, metavar="FILE", help="CSV to write ('-': standard output)")
    predict.add_argument(
        "--target", metavar="COLUMN", help="a label column to leave out (models that do not know their columns)"
    )

    evaluate = command(
        "evaluate", cmd_evaluate, "accuracy, log loss and confusion matrix", "Score MODEL on labelled DATA."
    )
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument(
        "data",
        metavar="DATA",
        help="CSV with a header line, or .npz with arrays X (n_samples, width) or (n_samples, n_timesteps, "
        "n_features) and y",
    )
    evaluate.add_argument("--target", metavar="COLUMN", help="label column of the CSV (required); .npz: default y")
    evaluate.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)

    compress = command(
        "compress",
        cmd_compress,
        "prune and/or quantize a model",
        "Prune (zero the smallest weights of each W and U matrix) and/or quantize (int8) MODEL into a new file; "
        "with --data, report the accuracy before and after.",
    )
    compress.add_argument("model", metavar="MODEL")
    compress.add_argument("--quantize", action="store_true", help="int8 weight matrices")
    compress.add_argument(
        "--prune", type=_fraction, metavar="FRACTION", help="fraction of each W and U matrix removed, e.g. 0.3"
    )
    compress.add_argument("--out", required=True, metavar="MODEL2", help="model file to write")
    compress.add_argument("--data", metavar="DATA", help="labelled data to measure the accuracy before and after")
    compress.add_argument("--target", metavar="COLUMN", help="label column of --data")
    compress.add_argument("--channels-first", action="store_true", help="--data's 3-D X is channels first (as train)")

    info = command(
        "info",
        cmd_info,
        "describe a saved model",
        "Print the configuration, classes, sizes and, when the metrics file sits next to MODEL or is given, "
        "a summary of the training metrics.",
    )
    info.add_argument("model", metavar="MODEL")
    info.add_argument("--metrics", metavar="FILE", help="metrics JSON (default: MODEL's name with .metrics.json)")
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr, flush=True)


_PARAM_MESSAGE = re.compile(r"The '(\w+)' parameter of \w+ must be (.*)\. Got (.*) instead\.", re.S)


def _error_message(exc):
    """One line for an exception caused by the user's input."""
    if isinstance(exc, InvalidParameterError):
        match = _PARAM_MESSAGE.match(str(exc))
        if match and match.group(1) in _FLAG_OF:
            return f"argument {_FLAG_OF[match.group(1)]} must be {match.group(2)}; got {match.group(3)}"
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return _one_line(exc)


def main(argv=None):
    """Run the ``skfastgrnn`` command; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 for an error in the data, the files or the values,
        2 for a wrong command line. Errors are one ``skfastgrnn: error: ...``
        line on stderr; set ``SKFASTGRNN_TRACEBACK=1`` to see the traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _note(f"{PROG}: error: {_one_line(exc)} (see '{PROG} --help')")
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except KeyboardInterrupt:
            _note(f"{PROG}: interrupted")
            return 130
        except InvalidParameterError as exc:  # a bad option value, caught by the estimator's constraints
            _note(f"{PROG}: error: {_error_message(exc)} (see '{PROG} {args.command} --help')")
            return 2
        except (CLIError, ModelFileError, ValueError, OSError) as exc:
            # ValueError covers the estimator's checks (parameter values, labels,
            # divergence); anything else is a bug and keeps its traceback
            if os.environ.get("SKFASTGRNN_TRACEBACK"):
                raise
            _note(f"{PROG}: error: {_error_message(exc)}")
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
