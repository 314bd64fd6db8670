"""The columns of a data file as a model's input: ``X`` and ``y`` to train on, a fitted model's input, true labels.

The second step after :func:`skfastgrnn._datafiles.read_data`:
:func:`training_data` gives ``X, y`` to train on, :func:`model_input` the
input of a fitted model (its feature columns by name, its width, its number of
features per timestep) and :func:`true_labels` the labels as values of the
model's classes. Mistakes raise :class:`~skfastgrnn._datafiles.DataFileError`
naming the file, the line or row and the column.

Examples
--------
>>> from skfastgrnn._datafiles import read_data
>>> with open("logs.csv", "w") as f:
...     _ = f.write("a0,b0,a1,b1,label\\n1,2,3,4,yes\\n5,6,,,no\\n")
>>> X, y, names, (T, D) = training_data(read_data("logs.csv"), "label", timesteps=2)
>>> X.tolist(), y.tolist(), (T, D)
([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, nan, nan]], ['yes', 'no'], (2, 2))
"""

import contextlib
import warnings

import numpy as np
from sklearn.base import is_regressor
from sklearn.pipeline import Pipeline

from ._datafiles import DataFile, DataFileError, join_names, npz_feature_names  # noqa: F401 (DataFile: the examples)
from ._scaler import SequenceScaler
from ._sequences import padding_problem

__all__ = [
    "MAX_AUTO_CLASSES",
    "accepts_any_length",
    "check_values",
    "choose_task",
    "final_estimator",
    "model_input",
    "numeric_columns",
    "parse_labels",
    "raw_labels",
    "split_steps",
    "target_column",
    "training_data",
    "true_labels",
    "true_targets",
    "true_values",
]


# --------------------------------------------------------------------- rows, steps and values


def split_steps(data, width, timesteps=None, step_features=None):
    """``(T, D)``: how rows of ``width`` values are cut into ``T`` steps of ``D`` values.

    Parameters
    ----------
    data : DataFile
        Only named in messages.
    width : int
        Feature values per row.
    timesteps, step_features : int or None, default=None
        ``--timesteps`` and ``--step-features``: either, both (then ``T * D``
        must be ``width``) or neither (one step of ``width`` values).

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> data = DataFile("a.csv", header=[], rows=[], lines=[])
    >>> split_steps(data, 12, timesteps=4), split_steps(data, 12, step_features=4), split_steps(data, 12)
    ((4, 3), (3, 4), (1, 12))
    >>> split_steps(data, 12, timesteps=5)
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: a.csv: 12 feature columns cannot be split into --timesteps 5 equal steps ...
    """
    what = f"{data.path}: {width} feature {'columns' if data.is_csv else 'values per row'}"
    if timesteps is not None and step_features is not None:
        if timesteps * step_features != width:
            raise DataFileError(
                f"{what}, but --timesteps {timesteps} x --step-features {step_features} = "
                f"{timesteps * step_features} (rows are laid out [x_1, ..., x_T], each x_t of D values)"
            )
        return timesteps, step_features
    if timesteps is not None:
        if width % timesteps:
            raise DataFileError(
                f"{what} cannot be split into --timesteps {timesteps} equal steps (rows are laid out [x_1, ..., x_T])"
            )
        return timesteps, width // timesteps
    if step_features is not None:
        if width % step_features:
            raise DataFileError(
                f"{what} cannot be split into steps of --step-features {step_features} values "
                "(rows are laid out [x_1, ..., x_T], each x_t of D values)"
            )
        return width // step_features, step_features
    return 1, width


def check_values(data, X, timesteps, columns=None):
    """Check the NaN of ``X``: padding after a sequence's end (whole steps) for sequences, an error otherwise.

    Parameters
    ----------
    data : DataFile
        Where ``X`` comes from, for messages.
    X : ndarray
        2-D rows of ``timesteps`` steps, or 3-D ``(n_samples, n_timesteps, n_features)``.
    timesteps : int
        Steps per row of a 2-D ``X``.
    columns : list of str, default=None
        The CSV columns of a row, to name a step's columns in messages.

    Raises
    ------
    DataFileError
        NaN in one-step rows; a step missing only some of its values, padding
        before an observed step, a sequence with no observed step.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile("s.npz", X=None)
    >>> check_values(data, np.array([[1.0, 2.0, np.nan, np.nan]]), timesteps=2)  # padding: fine
    >>> check_values(data, np.array([[np.nan, np.nan, 1.0, 2.0]]), timesteps=2)
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: s.npz: X[0]: step 2 follows an empty (padding) step: ...
    """
    if not np.isnan(X).any():
        return
    n = len(X)
    if X.ndim == 2 and timesteps == 1:
        i = int(np.flatnonzero(np.isnan(X).any(axis=1))[0])
        raise DataFileError(
            f"{data.where(i)} contains NaN (missing values are not supported: fill or drop them first; NaN marks "
            "padding only in sequences of more than one timestep)"
        )
    X3 = X.reshape(n, timesteps, -1) if X.ndim == 2 else X
    D = X3.shape[2]

    def step(t):
        if columns is None:
            return f"step {t + 1}"
        cols = columns[t * D : (t + 1) * D]
        return f"step {t + 1} ({join_names(cols, limit=4)})"

    problem = padding_problem(X3)
    if problem is None:
        return
    kind, i, t = problem
    if kind == "partial":
        raise DataFileError(
            f"{data.where(i)}: {step(t)} is missing only some of its {D} values: a step that is empty (or nan) in "
            "every value is padding after the sequence's end; other missing values are not supported (fill them)"
        )
    if kind == "empty":
        raise DataFileError(
            f"{data.where(i)}: every step is empty (or nan); a sequence needs at least one observed step"
        )
    if kind == "late":
        raise DataFileError(
            f"{data.where(i)}: {step(t)} follows an empty (padding) step: pad a shorter sequence with empty or nan "
            "values only after its end"
        )
    raise DataFileError(f"{data.where(i)} contains an infinite value")


def numeric_columns(data, columns, timesteps=1):
    """The CSV columns ``columns`` as a float64 matrix; DataFileError at the first bad cell.

    With ``timesteps > 1`` the rows are sequences: empty and ``nan`` cells
    are NaN padding (whole steps, after a sequence's end, checked here).

    Examples
    --------
    >>> data = DataFile("a.csv", header=["x", "y", "label"], rows=[["1", "2", "0"], ["3", "", "1"]], lines=[2, 3])
    >>> numeric_columns(data, ["x"]).tolist()
    [[1.0], [3.0]]
    >>> numeric_columns(data, ["x", "y"])
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: a.csv line 3: column 'y' is empty (missing values are not supported: ...
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
                _check_cell(data.path, line, name, cell, padding)
    check_values(data, X, timesteps, columns)
    return X


def _check_cell(path, line, name, cell, padding):
    """Raise DataFileError for a CSV cell that is not a finite number (or NaN padding when ``padding``)."""
    if not cell.strip():
        raise DataFileError(
            f"{path} line {line}: column {name!r} is empty (missing values are not supported: "
            "fill or drop them first; empty cells mark padding only in sequences of more than one "
            "timestep, see --timesteps)"
        )
    try:
        value = float(cell)
    except ValueError:
        raise DataFileError(
            f"{path} line {line}: column {name!r} is not numeric ({cell.strip()!r}); "
            "every column except --target must be a number"
            + (" (or empty / nan as padding after a sequence's end)" if padding else "")
        ) from None
    if np.isinf(value) or (np.isnan(value) and not padding):
        raise DataFileError(f"{path} line {line}: column {name!r} is {cell.strip()!r} (must be finite)")


# --------------------------------------------------------------------- labels


def parse_labels(cells, data, column):
    """CSV label cells as an array: ints if they all are, else floats, else strings (stripped).

    Examples
    --------
    >>> data = DataFile("a.csv", header=["label"], rows=[], lines=[2, 3])
    >>> parse_labels(["1", " 0"], data, "label").tolist(), parse_labels(["yes", "no"], data, "label").tolist()
    ([1, 0], ['yes', 'no'])
    """
    for cell, line in zip(cells, data.lines, strict=True):
        if not cell.strip():
            raise DataFileError(f"{data.path} line {line}: the label column {column!r} is empty")
    cells = [c.strip() for c in cells]
    for kind in (int, float):
        try:
            return np.array([kind(c) for c in cells])
        except ValueError:
            pass
    return np.array(cells)


def target_column(data, target, required):
    """Name of the label column of a CSV, or of the label array of an npz (``y`` unless ``target``).

    Returns None when the labels are absent and not ``required`` (and
    ``target`` not given); raises DataFileError otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile("s.npz", X=np.zeros((2, 3)), arrays={"X": np.zeros((2, 3))})
    >>> print(target_column(data, None, required=False))
    None
    >>> target_column(data, None, required=True)
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: s.npz: no label array 'y' (arrays in the file: X)
    """
    if data.is_csv:
        if target is None:
            if required:
                raise DataFileError(f"{data.path}: --target COLUMN is required (columns: {join_names(data.header)})")
            return None
        if target not in data.header:
            raise DataFileError(f"{data.path}: no column {target!r} (columns: {join_names(data.header)})")
        return target
    key = target or "y"
    if key not in data.arrays:
        if required or target is not None:
            arrays = ", ".join(sorted(data.arrays))
            raise DataFileError(f"{data.path}: no label array {key!r} (arrays in the file: {arrays})")
        return None
    return key


def raw_labels(data, column):
    """The labels as stored: a CSV column's cell strings, or an npz array (1-D, one per row of ``X``).

    Examples
    --------
    >>> raw_labels(DataFile("a.csv", header=["x", "label"], rows=[["1", "yes"]], lines=[2]), "label")
    ['yes']
    """
    if data.is_csv:
        i = data.header.index(column)
        return [row[i] for row in data.rows]
    y = np.asarray(data.arrays[column])
    if y.ndim != 1 or len(y) != len(data.X):
        raise DataFileError(
            f"{data.path}: labels {column!r} must be 1-D with one label per row of X, got shape {y.shape}"
            + (" (the command line trains one target; FastGRNNRegressor in Python takes several)" if y.ndim > 1 else "")
        )
    return y


# --------------------------------------------------------------------- training and model input


def training_data(data, target, timesteps=None, step_features=None):
    """``X, y, feature_names, (T, D)``: what to train on.

    Parameters
    ----------
    data : DataFile
    target : str or None
        The label column of a CSV (required), the label array of an npz (None: ``y``).
    timesteps, step_features : int or None, default=None
        How to cut a row into steps (:func:`split_steps`); for a 3-D ``X``
        they must agree with its shape when given.

    Returns
    -------
    X : ndarray of shape (n_samples, T * D)
        Rows ``[x_1, ..., x_T]`` (a 3-D npz ``X`` is flattened), NaN-padded
        after a sequence's end when ``T > 1``.
    y : ndarray of shape (n_samples,)
    feature_names : list of str or None
        The CSV's feature columns, an npz's ``feature_names``, or None.
    (T, D) : (int, int)

    Warns
    -----
    UserWarning
        A 3-D ``X`` with fewer timesteps than features that was not read
        channels first: it may be ``(n_samples, n_channels, n_timesteps)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(24.0).reshape(2, 4, 3)
    >>> data = DataFile("s.npz", X=X, arrays={"X": X, "y": np.array([0, 1])})
    >>> X2, y, names, steps = training_data(data, None)
    >>> X2.shape, y.tolist(), names, steps
    ((2, 12), [0, 1], None, (4, 3))
    """
    column = target_column(data, target, required=True)
    if data.is_csv:
        features = [c for c in data.header if c != column]
        if not features:
            raise DataFileError(f"{data.path}: no feature columns besides the target {column!r}")
        T, D = split_steps(data, len(features), timesteps, step_features)
        X = numeric_columns(data, features, T)
        y = parse_labels(raw_labels(data, column), data, column)
        return X, y, features, (T, D)
    y = raw_labels(data, column)
    if y.dtype.kind not in "biufU":
        raise DataFileError(f"{data.path}: labels {column!r} must be numbers or strings, got dtype {y.dtype}")
    X = data.X
    if data.is_3d:
        n, T, D = X.shape
        for flag, given, actual, what in (
            ("--timesteps", timesteps, T, "timesteps"),
            ("--step-features", step_features, D, "features per timestep"),
        ):
            if given not in (None, actual):
                raise DataFileError(f"{data.path}: {data.shape_text()}: {actual} {what}, but {flag} is {given}")
        if T < D and not data.channels_first:
            warnings.warn(
                f"{data.path}: {data.shape_text()}: {T} timestep(s) of {D} features; if the file is (n_samples, "
                "n_channels, n_timesteps) (aeon, sktime), pass --channels-first",
                UserWarning,
                stacklevel=2,
            )
        check_values(data, X, T)
        return X.reshape(n, T * D), y, npz_feature_names(data), (T, D)
    T, D = split_steps(data, X.shape[1], timesteps, step_features)
    check_values(data, X, T)
    return X, y, npz_feature_names(data), (T, D)


# --------------------------------------------------------------------- the task: classification or regression

#: ``--task auto``: whole-number targets with more distinct values than this are read as regression
MAX_AUTO_CLASSES = 20


def choose_task(data, target, y, task="auto"):
    """``(y, task, reason)``: what ``train`` learns from the labels ``y`` of ``data``, and why, in a few words.

    ``task="auto"`` decides by the values of the target:

    - text or booleans: classification;
    - numbers of which one at least has a fractional part (``2.5``): regression;
    - whole numbers (``3`` or ``3.0``): classification when there are at
      most :data:`MAX_AUTO_CLASSES` (20) distinct values, regression when
      there are more (counts, ages, prices in whole units).

    ``"classification"`` or ``"regression"`` forces the task: regression
    then needs every target to be a number.

    Parameters
    ----------
    data : DataFile
    target : str or None
        The label column (npz: array, None for ``y``), named in messages.
    y : ndarray of shape (n_samples,)
        The labels, as :func:`training_data` returns them.
    task : {"auto", "classification", "regression"}, default="auto"

    Returns
    -------
    y : ndarray
        ``y`` itself for classification, float64 for regression.
    task : {"classification", "regression"}
    reason : str
        For the output line: the rule that chose an automatic task.

    Raises
    ------
    DataFileError
        Non-finite numbers; text for regression; a single class, or a
        constant target.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile("a.csv", header=["x", "price"], rows=[], lines=[2, 3, 4])
    >>> y, task, reason = choose_task(data, "price", np.array([1.5, 2.0, 7.25]))
    >>> task, reason
    ('regression', "auto: 'price' has non-integer values such as 1.5; --task classification to override")
    >>> choose_task(data, "price", np.array([0, 1, 1]))[1:]
    ('classification', "auto: 'price' has 2 distinct whole-number values, at most 20; --task regression to override")
    >>> choose_task(data, "price", np.array(["a", "b", "c"]), task="regression")
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: a.csv line 2: target 'price' is 'a', not a number (--task regression ...
    """
    column = target_column(data, target, required=True)
    if y.dtype.kind in "iuf":
        _check_finite(data, column, y)
    if task == "auto":
        task, why = _auto_task(column, y)
        other = "classification" if task == "regression" else "regression"
        reason = f"auto: {why}; --task {other} to override"
    else:
        reason = f"--task {task}"
    if task == "regression":
        y = _numbers(data, column, y, "--task regression needs numeric targets")
        if np.ptp(y) == 0:
            raise DataFileError(f"{data.path}: the target {column!r} is constant ({y[0]:g}); nothing to learn")
        return y, task, reason
    if y.dtype.kind == "f" and (y != np.round(y)).any():  # scikit-learn's "continuous" target: no classes
        raise DataFileError(
            f"{data.path}: --task classification: target {column!r} has non-integer values such as "
            f"{y[y != np.round(y)][0]:g}; class labels are text or whole numbers (--task regression for values)"
        )
    if len(np.unique(y)) < 2:
        raise DataFileError(f"{data.path}: the labels have a single class ({y.tolist()[0]}); need at least two")
    return y, task, reason


def _auto_task(column, y):
    """``(task, why)`` of ``--task auto`` (see :func:`choose_task`)."""
    if y.dtype.kind not in "iuf":
        return "classification", f"{column!r} holds {'true/false' if y.dtype.kind == 'b' else 'text'} labels"
    fractional = y[y != np.round(y)]
    if len(fractional):
        return "regression", f"{column!r} has non-integer values such as {fractional[0]:g}"
    n = len(np.unique(y))
    if n > MAX_AUTO_CLASSES:
        return "regression", f"{column!r} has {n} distinct whole-number values, more than {MAX_AUTO_CLASSES}"
    return "classification", f"{column!r} has {n} distinct whole-number values, at most {MAX_AUTO_CLASSES}"


def _where(data, column, i):
    """Where label ``i`` is, for messages: ``path line N`` or ``path: y[i]``."""
    return f"{data.path} line {data.lines[i]}" if data.is_csv else f"{data.path}: {column}[{i}]"


def _numbers(data, column, values, hint):
    """``values`` (cell strings, or an array) as float64; DataFileError naming the first that is not a number."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    for i, value in enumerate(values.tolist() if isinstance(values, np.ndarray) else values):
        try:
            float(value)
        except (TypeError, ValueError):
            text = str(value).strip()
            shown = "empty" if not text else f"{text!r}, not a number"
            raise DataFileError(f"{_where(data, column, i)}: target {column!r} is {shown} ({hint})") from None
    raise AssertionError("unreachable: every value converted one by one")


def _check_finite(data, column, y):
    """DataFileError at the first NaN or infinite number of ``y``."""
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        i = int(bad[0])
        raise DataFileError(f"{_where(data, column, i)}: target {column!r} is {y[i]} (must be finite)")


def true_values(data, target):
    """The targets of ``data`` as float64, to score a regression model.

    Raises
    ------
    DataFileError
        A target that is not a finite number; missing targets.

    Examples
    --------
    >>> data = DataFile("a.csv", header=["x", "price"], rows=[["0", "2.5"], ["0", " 3"]], lines=[2, 3])
    >>> true_values(data, "price").tolist()
    [2.5, 3.0]
    """
    column = target_column(data, target, required=True)
    y = _numbers(data, column, raw_labels(data, column), "a regression model is scored on numbers")
    _check_finite(data, column, y)
    return y


def true_targets(data, target, model):
    """The true labels (classifier: :func:`true_labels`) or values (regressor) of ``data``, to score ``model`` on."""
    estimator = final_estimator(model)
    if not is_regressor(estimator):
        return true_labels(data, target, estimator.classes_)
    if estimator.n_outputs_ != 1:
        raise DataFileError(f"the model predicts {estimator.n_outputs_} targets; the command line scores one column")
    return true_values(data, target)


# --------------------------------------------------------------------- fitted models


def final_estimator(model):
    """The estimator of ``model`` (classifier or regressor): its last step for a Pipeline, else ``model``."""
    return model[-1] if isinstance(model, Pipeline) else model


def accepts_any_length(model):
    """True when ``model`` reads 3-D input of any number of timesteps (no StandardScaler inside).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfastgrnn import FastGRNNClassifier, SequenceScaler
    >>> accepts_any_length(make_pipeline(SequenceScaler(), FastGRNNClassifier()))
    True
    >>> accepts_any_length(make_pipeline(StandardScaler(), FastGRNNClassifier()))
    False
    """
    return not isinstance(model, Pipeline) or all(isinstance(step, SequenceScaler) for _, step in model.steps[:-1])


def model_input(data, model, target=None):
    """The input of ``data`` for a fitted ``model``, checked against what it was trained on.

    Parameters
    ----------
    data : DataFile
    model : FastGRNNClassifier or Pipeline ending in one
    target : str, default=None
        A CSV label column to leave out, for a model that does not know its
        feature names (one that does picks its columns by name).

    Returns
    -------
    ndarray
        2-D rows ``[x_1, ..., x_T]`` of the model's width; a 3-D npz ``X``
        of another number of timesteps stays 3-D (in the layout of the
        model's SequenceScaler) when the model reads any length.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn import FastGRNNClassifier
    >>> model = FastGRNNClassifier(hidden_dim=2, epochs=1, random_state=0).fit(np.eye(3), [0, 1, 0])
    >>> data = DataFile("a.csv", header=["id", "a", "b", "c"], rows=[["7", "1", "2", "3"]], lines=[2])
    >>> model_input(data, model, target="id").tolist()
    [[1.0, 2.0, 3.0]]
    """
    clf = final_estimator(model)
    width, T, D = clf.n_features_in_, clf.n_timesteps_, clf.n_step_features_
    if data.is_csv:
        return _csv_input(data, getattr(model, "feature_names_in_", None), target, (width, T, D))
    X = data.X
    if data.is_3d:
        n, T_file, D_file = X.shape
        if D_file != D:
            hint = ""
            if T_file == D and not data.channels_first:
                hint = "; if the file is (n_samples, n_features, n_timesteps), pass --channels-first"
            raise DataFileError(
                f"{data.path}: {data.shape_text()}: {D_file} features per timestep, but the model was trained on "
                f"{D}{hint}"
            )
        check_values(data, X, T_file)
        if T_file == T:
            return X.reshape(n, T * D)
        if not accepts_any_length(model):
            raise DataFileError(
                f"{data.path}: X has {T_file} timesteps, the model was trained on {T}; its StandardScaler needs "
                f"exactly {width} values per row (pad shorter sequences with NaN after their end)"
            )
        first = model[0] if isinstance(model, Pipeline) else None
        if isinstance(first, SequenceScaler) and first.channels_first:
            X = np.swapaxes(X, 1, 2)  # the layout that model reads
        return X
    if X.shape[1] != width:
        raise DataFileError(
            f"{data.path}: X has {X.shape[1]} values per row, but the model expects {width}"
            + (f" ({T} timesteps x {D} features)" if T > 1 else "")
        )
    check_values(data, X, T)
    return X


def _csv_input(data, names, target, shape):
    """A CSV's rows for a model of ``shape`` ``(width, T, D)``: the ``names`` columns, else all but ``target``."""
    width, T, D = shape
    if names is not None:
        missing = [n for n in names if n not in data.header]
        if missing:
            raise DataFileError(
                f"{data.path}: no column {missing[0]!r}, a feature the model was trained on "
                f"(its features: {join_names(names)}; columns here: {join_names(data.header)})"
            )
        return numeric_columns(data, list(names), T)
    features = [c for c in data.header if c != target]
    if len(features) != width:
        raise DataFileError(
            f"{data.path}: {len(features)} feature columns ({join_names(features)}), but the model expects {width}"
            + (f" ({T} timesteps x {D} features)" if T > 1 else "")
            + ("" if target else "; pass --target COLUMN to leave out the label column")
        )
    return numeric_columns(data, features, T)


_MISSING = object()


def true_labels(data, target, classes):
    """The labels of ``data`` as values of a model's ``classes``.

    A label matches a class by its text (``"1"`` is the class ``1``, ``" yes"``
    the class ``"yes"``) or, for numeric classes, by its value (``"1.0"`` is
    the class ``1``).

    Raises
    ------
    DataFileError
        A label that is not one of ``classes``; missing labels.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile("a.csv", header=["x", "label"], rows=[["0", "1.0"], ["0", "2"]], lines=[2, 3])
    >>> true_labels(data, "label", np.array([1, 2])).tolist()
    [1, 2]
    >>> true_labels(data, "label", np.array([0, 1]))
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: a.csv line 3: label '2' is not one of the model's classes (0, 1)
    """
    column = target_column(data, target, required=True)
    raw = raw_labels(data, column)
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
            known = join_names(classes.tolist())
            raise DataFileError(
                f"{_where(data, column, i)}: label {text!r} is not one of the model's classes ({known})"
            )
        out.append(label)
    return np.array(out, dtype=classes.dtype)
