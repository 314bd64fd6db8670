"""Data files of the command line: CSV and ``.npz`` in, checked arrays out; CSV out.

Reading a file and interpreting its columns are two steps. :func:`read_data`
reads a CSV (header and cell strings) or an ``.npz`` (arrays) into a
:class:`DataFile`, without deciding which column is the label; the second
step is in :mod:`skfastgrnn._datacolumns` (:func:`training_data`,
:func:`model_input`, :func:`true_labels`). :func:`check_writable`,
:func:`check_model_writable` and :func:`make_output_dir` check the outputs
before any long work starts; :func:`write_csv` writes one.

Every mistake in a file raises :class:`DataFileError` (a ``ValueError``) with
one line that names the file and, where it can, the line of the CSV or the
row of ``X`` and the column. The messages speak the command line's language:
they name its options (``--target``, ``--timesteps``, ``--step-features``,
``--channels-first``).

Sequences are rows ``[x_1, ..., x_T]`` of ``T * D`` values, or a 3-D ``X``
``(n_samples, n_timesteps, n_features)``; a shorter sequence is padded after
its end with steps whose every value is empty or ``nan`` (NaN in an npz).

Examples
--------
>>> from skfastgrnn._datacolumns import training_data
>>> from skfastgrnn._datafiles import read_data
>>> with open("logs.csv", "w") as f:
...     _ = f.write("a0,b0,a1,b1,label\\n1,2,3,4,yes\\n5,6,,,no\\n")
>>> data = read_data("logs.csv")
>>> X, y, names, (T, D) = training_data(data, "label", timesteps=2)
>>> X.tolist(), y.tolist(), (T, D)
([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, nan, nan]], ['yes', 'no'], (2, 2))
"""

import csv
import json
import os
import sys
import tempfile
import zipfile

import numpy as np

__all__ = [
    "DataFile",
    "DataFileError",
    "check_model_writable",
    "check_readable",
    "check_writable",
    "join_names",
    "make_output_dir",
    "metrics_path_for",
    "npz_feature_names",
    "one_line",
    "read_csv",
    "read_data",
    "read_npz",
    "write_csv",
    "write_json",
]


class DataFileError(ValueError):
    """A data file that cannot be read or used as asked; the message is one line naming the file."""


class DataFile:
    """Rows read from a file, before the columns are interpreted.

    Made by :func:`read_data`.

    Parameters
    ----------
    path : str
        The file, as named in messages.
    header : list of str, default=None
        A CSV's column names (None for an npz).
    rows : list of list of str, default=None
        A CSV's rows of cell strings, each as long as ``header``.
    lines : list of int, default=None
        The line number of each CSV row, for messages.
    X : ndarray of float64, default=None
        An npz's ``X``: 2-D ``(n_samples, width)`` or 3-D ``(n_samples,
        n_timesteps, n_features)`` (already transposed from channels first).
    arrays : dict of str to ndarray, default=None
        Every array of the npz, ``X`` as stored.
    channels_first : bool, default=False
        Whether a 3-D ``X`` was stored ``(n_samples, n_features,
        n_timesteps)`` and transposed.

    Examples
    --------
    >>> import numpy as np
    >>> from skfastgrnn._datafiles import DataFile
    >>> data = DataFile("seq.npz", X=np.zeros((2, 5, 3)), arrays={})
    >>> data.is_csv, data.is_3d, len(data)
    (False, True, 2)
    >>> data.where(1)
    'seq.npz: X[1]'
    >>> DataFile("a.csv", header=["x", "label"], rows=[["1", "0"]], lines=[2]).where(0)
    'a.csv line 2'
    """

    def __init__(self, path, *, header=None, rows=None, lines=None, X=None, arrays=None, channels_first=False):
        self.path = path
        self.header = header
        self.rows = rows
        self.lines = lines
        self.X = X
        self.arrays = arrays
        self.channels_first = channels_first

    @property
    def is_csv(self):
        """True for a CSV (a header and rows of cell strings), False for an npz."""
        return self.header is not None

    @property
    def is_3d(self):
        """True for an npz whose ``X`` is 3-D."""
        return not self.is_csv and self.X.ndim == 3

    def shape_text(self):
        """How a 3-D ``X`` was read, for messages.

        Examples
        --------
        >>> import numpy as np
        >>> DataFile("s.npz", X=np.zeros((2, 5, 3))).shape_text()
        'X has shape (2, 5, 3), read as (n_samples, n_timesteps, n_features)'
        """
        n, T, D = self.X.shape
        if self.channels_first:
            return f"X has shape {(n, D, T)}, read as (n_samples, n_features, n_timesteps) (--channels-first)"
        return f"X has shape {self.X.shape}, read as (n_samples, n_timesteps, n_features)"

    def where(self, i):
        """Where sample ``i`` is, for messages: ``path line N`` or ``path: X[i]``."""
        return f"{self.path} line {self.lines[i]}" if self.is_csv else f"{self.path}: X[{i}]"

    def __len__(self):
        return len(self.rows) if self.is_csv else len(self.X)


# --------------------------------------------------------------------- text for messages


def join_names(values, limit=8):
    """``values`` as a comma-separated list for messages, cut after ``limit`` of them.

    Examples
    --------
    >>> join_names(["a", "b", "c"])
    'a, b, c'
    >>> join_names(range(12), limit=3)
    '0, 1, 2, ... (12 in all)'
    """
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def one_line(exc):
    """The text of ``exc`` on one line, runs of whitespace as one space.

    Examples
    --------
    >>> one_line(ValueError("two\\n  lines"))
    'two lines'
    """
    return " ".join(str(exc).split())


# --------------------------------------------------------------------- reading files


def check_readable(path):
    """Raise DataFileError unless ``path`` is an existing file (not a directory).

    Examples
    --------
    >>> check_readable("nope.csv")
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: nope.csv: no such file
    """
    if not os.path.exists(path):
        raise DataFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DataFileError(f"{path}: is a directory, expected a file")


def read_data(path, channels_first=False):
    """Read a CSV (header + rows) or an .npz file, without interpreting the columns yet.

    Parameters
    ----------
    path : str
        ``.npz`` (by its extension) or a CSV (``.tsv`` is read tab-separated).
    channels_first : bool, default=False
        Read a 3-D npz ``X`` as ``(n_samples, n_features, n_timesteps)``
        (aeon's and sktime's layout) and transpose it to ``(n_samples,
        n_timesteps, n_features)``; an error for other data.

    Returns
    -------
    DataFile

    Raises
    ------
    DataFileError
        A missing or unreadable file, or ``channels_first`` for a CSV or a 2-D ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> np.savez("aeon.npz", X=np.zeros((4, 3, 10)), y=[0, 1, 0, 1])
    >>> data = read_data("aeon.npz", channels_first=True)
    >>> data.X.shape, data.channels_first
    ((4, 10, 3), True)
    """
    check_readable(path)
    if path.lower().endswith(".npz"):
        data = read_npz(path)
        if channels_first:
            if not data.is_3d:
                raise DataFileError(
                    f"{path}: --channels-first applies to a 3-D X (n_samples, n_features, n_timesteps); this X has "
                    f"shape {data.X.shape}, whose rows are laid out [x_1, ..., x_T]"
                )
            data.X = np.ascontiguousarray(np.swapaxes(data.X, 1, 2))
            data.channels_first = True
        return data
    if channels_first:
        raise DataFileError(
            f"{path}: --channels-first applies to a 3-D X in an .npz file; CSV rows are laid out [x_1, ..., x_T] "
            "(--timesteps and --step-features say how to split them)"
        )
    return read_csv(path)


def read_csv(path):
    """Read a CSV with a header line (tab-separated for ``.tsv``) into a :class:`DataFile`.

    Blank lines are skipped. Every row must have as many fields as the
    header, the column names must be unique, and there must be a data row.

    Examples
    --------
    >>> with open("a.csv", "w") as f:
    ...     _ = f.write("x,label\\n\\n0.5,yes\\n")
    >>> data = read_csv("a.csv")
    >>> data.header, data.rows, data.lines
    (['x', 'label'], [['0.5', 'yes']], [3])
    """
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
                    raise DataFileError(
                        f"{path} line {reader.line_num}: {len(row)} fields, but the header has {len(header)}"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not a UTF-8 text file (expected a CSV with a header line, or an .npz)") from None
    except csv.Error as exc:
        raise DataFileError(f"{path}: not a valid CSV file ({exc})") from None
    if header is None:
        raise DataFileError(f"{path}: empty file (expected a header line and data rows)")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataFileError(f"{path}: duplicate column names in the header: {', '.join(map(repr, duplicates))}")
    if not rows:
        raise DataFileError(f"{path}: no data rows after the header")
    return DataFile(path, header=header, rows=rows, lines=lines)


def read_npz(path):
    """Read an ``.npz`` written by ``numpy.savez`` into a :class:`DataFile` (no pickle).

    ``X`` must be numeric, 2-D or 3-D with no empty dimension, and without
    infinity; it is converted to float64.

    Examples
    --------
    >>> import numpy as np
    >>> np.savez("rows.npz", X=np.arange(6).reshape(3, 2), y=[0, 1, 1])
    >>> data = read_npz("rows.npz")
    >>> data.X.dtype, data.X.shape, sorted(data.arrays)
    (dtype('float64'), (3, 2), ['X', 'y'])
    """
    if not zipfile.is_zipfile(path):  # else numpy would try to read it as a pickle and talk about allow_pickle
        raise DataFileError(f"{path}: not a valid .npz file (expected a zip archive written by numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:  # pickled object arrays, or not an npz at all
        raise DataFileError(f"{path}: cannot read the .npz file ({one_line(exc)})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends: not an npz
        raise DataFileError(f"{path}: not a valid .npz file ({type(exc).__name__}: {one_line(exc)})") from None
    if "X" not in arrays:
        raise DataFileError(f"{path}: no array 'X' (arrays in the file: {', '.join(sorted(arrays)) or 'none'})")
    X = arrays["X"]
    if X.dtype.kind not in "biuf":
        raise DataFileError(f"{path}: array 'X' must be numeric, got dtype {X.dtype}")
    if X.ndim not in (2, 3) or 0 in X.shape:
        raise DataFileError(
            f"{path}: array 'X' must have shape (n_samples, width) or (n_samples, n_timesteps, n_features), "
            f"none of them 0; got {X.shape}"
        )
    X = np.asarray(X, dtype=np.float64)
    bad = np.argwhere(np.isinf(X))
    if len(bad):
        raise DataFileError(f"{path}: X[{bad[0][0]}] contains infinity (values must be finite; NaN only as padding)")
    return DataFile(path, X=X, arrays=arrays)


def npz_feature_names(data):
    """The ``feature_names`` array of an npz as a list of str, or None when there is none.

    Examples
    --------
    >>> import numpy as np
    >>> data = DataFile("f.npz", X=np.zeros((3, 2)), arrays={"feature_names": np.array(["a", "b"])})
    >>> npz_feature_names(data)
    ['a', 'b']
    """
    names = data.arrays.get("feature_names")
    if names is None:
        return None
    names = [str(n) for n in np.ravel(names)]
    if data.is_3d or len(names) != data.X.shape[1]:
        raise DataFileError(
            f"{data.path}: 'feature_names' has {len(names)} names for {data.X.shape[1]} columns of a 2-D X"
            + (" (3-D X takes no feature_names)" if data.is_3d else "")
        )
    return names


# --------------------------------------------------------------------- writing files


def check_writable(path, what="output", replaced=False):
    """Raise DataFileError unless ``path`` can be written; ``"-"`` (standard output) always can.

    Meant to run before any long work, so that a wrong output path fails at
    once rather than after training. The directory must exist and a file
    must be creatable in it: a temporary file is created there and removed
    at once (``os.access`` alone says yes to root for ``/proc`` and the
    like). An existing ``path`` that is written in place only needs to be
    writable (``/dev/null`` is fine for predictions).

    Parameters
    ----------
    path : str
    what : str, default="output"
        What the file holds, for messages ("model", "predictions").
    replaced : bool, default=False
        The file is written elsewhere and renamed over ``path`` (models and
        metrics, see ``atomic_write``): an existing ``path`` must then be a
        regular file, not a device such as ``/dev/null`` or a pipe, which
        the rename would replace.

    Examples
    --------
    >>> check_writable("model.safetensors", "model")
    >>> check_writable("no/dir/m.safetensors", "model")
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: no/dir/m.safetensors: cannot write the model: directory ... does not exist
    """
    if path == "-":
        return
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise DataFileError(f"{path}: is a directory; give the {what} file's name")
    if not os.path.isdir(directory):
        raise DataFileError(f"{path}: cannot write the {what}: directory {directory} does not exist")
    if os.path.exists(path):
        if not replaced:  # written in place (a file, /dev/null, a pipe): no new file in the directory
            if not os.access(path, os.W_OK):
                raise DataFileError(f"{path}: cannot write the {what}: the file is not writable")
            return
        if not os.path.isfile(path):
            raise DataFileError(
                f"{path}: cannot write the {what}: not a regular file (the {what} is written to a new file that "
                "replaces it)"
            )
    if not os.access(directory, os.W_OK):
        raise DataFileError(f"{path}: cannot write the {what}: directory {directory} is not writable")
    problem = _cannot_create_in(directory)
    if problem:
        raise DataFileError(f"{path}: cannot write the {what}: cannot create a file in {directory} ({problem})")


def _cannot_create_in(directory):
    """Why no file can be created in ``directory`` (tried with a temporary file, removed at once), or None."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".skfastgrnn-check-", suffix=".tmp", dir=directory)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(probe)
    return None


def metrics_path_for(model_path):
    """Where the training metrics of ``model_path`` go: its name with ``.metrics.json``.

    Examples
    --------
    >>> metrics_path_for("runs/router.safetensors"), metrics_path_for("router.bin")
    ('runs/router.metrics.json', 'router.bin.metrics.json')
    """
    root, ext = os.path.splitext(model_path)
    return (root if ext.lower() == ".safetensors" else model_path) + ".metrics.json"


def check_model_writable(path):
    """Check, before any long work, that a model and its metrics file can be written to ``path``.

    Examples
    --------
    >>> import os
    >>> os.makedirs("m.metrics.json", exist_ok=True)
    >>> check_model_writable("m.safetensors")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skfastgrnn._datafiles.DataFileError: m.metrics.json: is a directory; give the metrics file's name
    """
    check_writable(path, "model", replaced=True)
    check_writable(metrics_path_for(path), "metrics", replaced=True)


def make_output_dir(directory):
    """Create ``directory`` (and its parents) unless it exists; DataFileError when it cannot be written.

    Examples
    --------
    >>> make_output_dir("runs/demo")
    >>> import os; os.path.isdir("runs/demo")
    True
    """
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise DataFileError(f"{directory}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise DataFileError(f"{directory}: cannot create the output directory ({exc.strerror or exc})") from None
    if not os.access(directory, os.W_OK):
        raise DataFileError(f"{directory}: the output directory is not writable")
    problem = _cannot_create_in(directory)
    if problem:
        raise DataFileError(f"{directory}: cannot create files in the output directory ({problem})")


def write_csv(path, header, rows):
    """Write a header line and ``rows`` as CSV (``\\n`` line ends) to ``path``, or to standard output for ``"-"``.

    Examples
    --------
    >>> write_csv("-", ["prediction", "proba_0"], [["0", "0.75"]])
    prediction,proba_0
    0,0.75
    """
    if path == "-":
        _write_rows(sys.stdout, header, rows)
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        _write_rows(f, header, rows)


def _write_rows(f, header, rows):
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def write_json(path, document):
    """Write ``document`` as indented JSON, with a final line end.

    Examples
    --------
    >>> write_json("report.json", {"accuracy": 0.5})
    >>> print(open("report.json").read(), end="")
    {
      "accuracy": 0.5
    }
    """
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
