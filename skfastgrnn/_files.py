"""Files other than the model format: atomic writes, JSON documents and the metrics file.

:func:`atomic_write` is how every file of the package is written (models,
metrics, registry manifests, exported C); :func:`read_json_document` reads the
package's versioned JSON documents (metrics, registry manifests);
:func:`read_model_file` reads a safetensors model file no further than its header says;
:func:`prepare_export_directory` checks where ``export_c`` writes.
"""

import contextlib
import errno
import json
import os
import stat
import struct
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


def prepare_export_directory(directory):
    """``directory`` as a str, created if missing; OSError naming it when it is a file or not writable."""
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(errno.ENOTDIR, f"{directory}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise type(exc)(exc.errno, f"{directory}: cannot create the export directory ({exc.strerror})") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"{directory}: the export directory is not writable")
    return directory


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


# --------------------------------------------------- safetensors model files


#: safetensors' own limit on the size of the JSON header
MAX_HEADER_BYTES = 100_000_000
#: what a file that is not a regular one is, for the error message
_FILE_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


def header_length(first8, size, source):
    """The JSON header's length from a file's first 8 bytes (little-endian u64), checked against its ``size``."""
    if size < 8:
        raise ModelFileError(f"{source}: not a safetensors file (only {size} bytes; truncated or empty)")
    (n_header,) = struct.unpack("<Q", first8)
    if n_header > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{source}: not a safetensors file (header of {n_header} bytes, more than the format's limit of "
            f"{MAX_HEADER_BYTES:,})"
        )
    if 8 + n_header > size:
        raise ModelFileError(
            f"{source}: truncated or not a safetensors file (header of {n_header} bytes, file of {size} bytes)"
        )
    return n_header


def parse_header(header_bytes, source):
    """The header (a dict), its string metadata, and the size of the tensor data its offsets imply."""
    try:
        header = json.loads(bytes(header_bytes).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{source}: not a safetensors file (header is not JSON: {exc})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{source}: not a safetensors file (header is not a JSON object)")
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError(f"{source}: not a skfastgrnn model file (no string metadata)")
    ends = [
        spec["data_offsets"][1]
        for name, spec in header.items()
        if name != "__metadata__"
        and isinstance(spec, dict)
        and isinstance(spec.get("data_offsets"), list)
        and len(spec["data_offsets"]) == 2
        and isinstance(spec["data_offsets"][1], int)
    ]
    return header, meta, max(ends, default=0)


def check_size(n_header, data_size, size, source):
    """The file is exactly the 8 + header + tensor bytes its header describes: not shorter, not longer."""
    end = 8 + n_header + data_size
    if end > size:
        raise ModelFileError(f"{source}: truncated (tensor data ends at byte {end}, file has {size})")
    if end < size:
        raise ModelFileError(
            f"{source}: larger than its header says (the tensor data ends at byte {end}, the file has {size} "
            "bytes): not a file written by skfastgrnn.save"
        )


def read_model_file(path):
    """The bytes of the model file ``path``, read only as far as its header says, after checking it is one.

    A file that is not a regular file (``/dev/zero``, a named pipe: opened
    without blocking), or whose size is not the one its safetensors header
    implies, is refused before its data is read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        mode, size = info.st_mode, info.st_size
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise ModelFileError(f"{path}: {kind}, not a model file (skfastgrnn.save writes regular files)")
        with os.fdopen(os.dup(fd), "rb") as f:
            first8 = f.read(8)
            n_header = header_length(first8, size if len(first8) == 8 else len(first8), path)
            header_bytes = f.read(n_header)
            _, _, data_size = parse_header(header_bytes, path)
            check_size(n_header, data_size, size, path)
            rest = f.read(data_size)
    finally:
        os.close(fd)
    data = first8 + header_bytes + rest
    if len(data) != size:  # shrank while being read
        raise ModelFileError(f"{path}: truncated (read {len(data)} of {size} bytes; did the file change?)")
    return data


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

    def common_float_dtype(self, names):
        """The float dtype (float64 or float32) the tensors ``names`` share; a tensor of the other one is an error.

        Decided by the majority, so that the error names the odd tensor, not a
        correct one next to it.
        """
        dtypes = {name: self.tensors[name].dtype for name in names if name in self.tensors}
        floats = [d for d in dtypes.values() if d in (np.float32, np.float64)]
        common = (
            np.dtype(np.float32) if 2 * sum(d == np.float32 for d in floats) > len(floats) else np.dtype(np.float64)
        )
        for name, dtype in dtypes.items():
            if dtype in (np.float32, np.float64) and dtype != common:
                raise self.error(
                    f"tensor {name!r} is {dtype}, but the model's other parameters are {common}: the parameters "
                    "of a model share one float dtype (inconsistent with the stored configuration)"
                )
        return common

    def check_fitted_with(self, prefix, params, fitted):
        """The parameters ``params`` agree with ``fitted``, the values the stored network was fitted with."""
        for name, value in fitted.items():
            # JSON has no tuples: a stack's hidden_dim may be a list on one side and a tuple on the other
            given = list(params[name]) if isinstance(params[name], tuple) else params[name]
            value = list(value) if isinstance(value, tuple) else value
            if given != value or type(given) is not type(value):
                raise self.error(
                    f"metadata entry {prefix + 'params'!r} has {name}={given!r}, but the tensors hold a network "
                    f"fitted with {name}={value!r} ({prefix + 'fitted_architecture'!r}): the file is inconsistent"
                )

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
