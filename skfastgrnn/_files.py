"""Files other than the model format: atomic writes, JSON documents and the metrics file.

:func:`atomic_write` is how every file of the package is written (models,
metrics, registry manifests, exported C); :func:`read_json_document` reads the
package's versioned JSON documents (metrics, registry manifests).
"""

import contextlib
import json
import os
import tempfile

import numpy as np

from ._train import HISTORY_KEYS
from ._version import __version__

METRICS_FORMAT = "skfastgrnn-metrics"
METRICS_FORMAT_VERSION = 1
_WRITE_CHUNK = 1 << 16


class ModelFileError(ValueError):
    """A model, metrics or registry file is truncated, corrupted, of another format or inconsistent.

    The message starts with the file's name and says what is wrong. It is a
    ``ValueError``, so code that catches bad values catches it too.

    See Also
    --------
    skfastgrnn.load : Raises it for a bad model file.

    Examples
    --------
    >>> import os, tempfile
    >>> import skfastgrnn
    >>> path = os.path.join(tempfile.mkdtemp(), "broken.safetensors")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"not a model")
    >>> try:
    ...     skfastgrnn.load(path)
    ... except skfastgrnn.ModelFileError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    ModelFileError True
    """


# ----------------------------------------------------------- atomic writes


def _write_all(fileobj, data):
    """Write ``data`` in chunks (a seam for the failure-injection test)."""
    view = memoryview(data)
    for start in range(0, len(view), _WRITE_CHUNK):
        fileobj.write(view[start : start + _WRITE_CHUNK])


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that readers see the old or the new file, never a mix.

    The bytes go to a temporary file in the same directory, are fsynced, and
    the temporary file is renamed over ``path`` with ``os.replace`` (atomic on
    POSIX and Windows); the directory is then fsynced so the rename survives a
    crash. On any failure the temporary file is removed and an existing
    ``path`` is left untouched.

    Raises
    ------
    OSError
        Of the original kind, with a message naming ``path``.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            with contextlib.suppress(OSError):  # keep the old file's permissions, else rw-r--r--
                os.fchmod(f.fileno(), os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        message = f"{path}: could not write the file ({exc.strerror or exc}); an existing file is left unchanged"
        raise OSError(exc.errno, message) if exc.errno else OSError(message) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    with contextlib.suppress(OSError, AttributeError):  # directory fsync: POSIX only
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ------------------------------------------------------------------- JSON


def to_json(value, what):
    """Compact, sorted JSON of ``value`` (numpy scalars allowed); ValueError naming ``what`` otherwise."""

    def default(o):
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        raise TypeError(f"{type(o).__name__} is not JSON serializable")

    try:
        return json.dumps(value, default=default, allow_nan=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot store {what} as JSON: {exc}") from None


# ---------------------------------------------------------------- metrics


def metrics_document(clf):
    """The JSON document of ``save_metrics``: training history and summary."""
    return {
        "format": METRICS_FORMAT,
        "format_version": METRICS_FORMAT_VERSION,
        "package_version": __version__,
        "n_iter": clf.n_iter_,
        "best_epoch": clf.best_epoch_,
        "history": clf.history_,
    }


def metrics_bytes(clf):
    """The bytes ``save_metrics`` writes: :func:`metrics_document` as JSON and a newline."""
    return (to_json(metrics_document(clf), "history_") + "\n").encode()


def read_json_document(path, data, fmt, max_version, what):
    """Parse a JSON file of format ``fmt`` and check its ``format_version``.

    Returns the document (a dict); raises ModelFileError naming ``path``.
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: not a {what} (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ModelFileError(f"{path}: not a skfastgrnn {what} (format must be {fmt!r})")
    version = doc.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}")
    if version > max_version:
        raise ModelFileError(
            f"{path}: written with {what} format version {version}; this skfastgrnn reads up to "
            f"{max_version}: upgrade skfastgrnn"
        )
    return doc


def read_metrics(path):
    """Validated metrics document of a file written by ``save_metrics``.

    Raises
    ------
    ModelFileError
        Not a metrics file, from a newer version, or malformed.
    OSError
        The file cannot be read.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        doc = read_json_document(path, f.read(), METRICS_FORMAT, METRICS_FORMAT_VERSION, "metrics file")
    history = doc.get("history")
    ok = isinstance(history, list) and all(
        isinstance(e, dict)
        and type(e.get("epoch")) is int
        and all(k in e and (e[k] is None or type(e[k]) in (int, float)) for k in HISTORY_KEYS)
        for e in history
    )
    for key in ("n_iter", "best_epoch"):
        ok = ok and type(doc.get(key)) is int
    if not ok:
        raise ModelFileError(f"{path}: malformed metrics (history must be a list of epoch records {HISTORY_KEYS})")
    return doc


# ------------------------------------------------------- model file reader


class FileReader:
    """Typed access to a model file's metadata and tensors; every failure is a ModelFileError naming the file.

    ``used`` collects the names of the tensors read, so a reader can reject
    tensors nobody asked for.
    """

    def __init__(self, source, meta, tensors):
        self.source = source
        self.meta = meta
        self.tensors = tensors
        self.used = set()

    def error(self, problem):
        return ModelFileError(f"{self.source}: {problem}")

    def text(self, key):
        if key not in self.meta:
            raise self.error(f"metadata entry {key!r} is missing")
        return self.meta[key]

    def json(self, key, types, optional=False):
        if optional and key not in self.meta:
            return None
        try:
            value = json.loads(self.text(key))
        except (ValueError, RecursionError) as exc:
            raise self.error(f"metadata entry {key!r} is not valid JSON ({exc})") from None
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise self.error(f"metadata entry {key!r} has the wrong type ({type(value).__name__})")
        return value

    def int(self, key, minimum):
        value = self.json(key, int)
        if value < minimum:
            raise self.error(f"metadata entry {key!r} is {value}, must be >= {minimum}")
        return value

    def tensor(self, name, dtype, shape):
        if name not in self.tensors:
            raise self.error(f"tensor {name!r} is missing")
        a = self.tensors[name]
        self.used.add(name)
        if a.dtype != np.dtype(dtype) or a.shape != tuple(shape):
            raise self.error(
                f"tensor {name!r} is {a.dtype}{list(a.shape)}, expected {np.dtype(dtype)}{list(shape)} "
                "(inconsistent with the stored configuration)"
            )
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise self.error(f"tensor {name!r} holds non-finite values")
        return a

    def feature_names(self, key, n_features):
        names = self.json(key, list, optional=True)
        if names is None:
            return None
        if len(names) != n_features or not all(isinstance(n, str) for n in names):
            raise self.error(f"metadata entry {key!r} must be {n_features} strings")
        return np.asarray(names, dtype=object)

    def make(self, cls, params, what):
        """``cls(**params)`` with sklearn's parameter validation."""
        try:
            est = cls(**params)
            est._validate_params()
        except (TypeError, ValueError) as exc:
            raise self.error(f"invalid {what}: {exc}") from None
        return est


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)
