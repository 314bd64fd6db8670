"""ModelRegistry: versioned model files with checksums (the guide's ModelVersion).

Layout of a registry directory::

    manifest.json                       entries, oldest first (replaced atomically)
    .lock                               taken with fcntl.flock while registering
    models/fastgrnn_v1.safetensors      model (a Pipeline keeps its scaler inside)
    models/metrics_v1.json              training metrics

Registering takes an exclusive lock on ``.lock``, picks the next version
number (above every version in the manifest and every model or metrics file
in ``models/``), creates the model and metrics files exclusively (an existing
file is never overwritten: a number whose file exists is skipped), then
replaces the manifest atomically. Readers never lock: they see the previous or
the new manifest, and every file an entry names is complete before the entry
appears.
Locking uses ``fcntl.flock`` (POSIX; on network file systems it is only as good
as their flock support).
"""

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import time
from datetime import datetime, timezone
from numbers import Real

from sklearn.base import is_regressor

from . import _files, _persist
from ._persist import ModelFileError
from ._version import __version__

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

REGISTRY_FORMAT = "skfastgrnn-registry"
REGISTRY_FORMAT_VERSION = 1
_ENTRY_KEYS = ("version", "timestamp", "model_path", "metrics_path", "test_accuracy", "model_size_bytes", "sha256")
#: the files of a version in ``models/``: their numbers are never reused
_VERSIONED_FILE = re.compile(r"(?:fastgrnn|metrics)_v(\d+)\.(?:safetensors|json)")
#: versions tried past the first free-looking one before giving up (files created meanwhile by others)
_MAX_ATTEMPTS = 100


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


class ModelRegistry:
    """Versioned models in one directory, safe for concurrent registration.

    The guide's ``ModelVersion``: each :meth:`register` writes the model (a
    Pipeline keeps its normalization inside the same file), its metrics and a
    manifest entry with the version, timestamp, file paths, held-out score
    (accuracy for a classifier, R² for a regressor), model size and the sha256
    of each file. :meth:`load` verifies the sha256 before loading. A model
    file is never overwritten, even when the manifest was lost.

    Parameters
    ----------
    directory : str or os.PathLike
        Created on the first :meth:`register`. It must not be empty (``"."``
        is the current directory) nor name an existing file that is not a
        directory.

    See Also
    --------
    skfastgrnn.save : Write one model file (what :meth:`register` stores).
    skfastgrnn.load : Read a model file.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import make_classification
    >>> from skfastgrnn import FastGRNNClassifier, ModelRegistry
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> clf = FastGRNNClassifier(epochs=3, random_state=0).fit(X, y)
    >>> registry = ModelRegistry(tempfile.mkdtemp())
    >>> registry.register(clf, test_accuracy=0.91)["version"]
    'v1'
    >>> registry.register(clf, test_accuracy=0.88)["version"]
    'v2'
    >>> [e["version"] for e in registry.list()], registry.entry("best")["version"]
    (['v1', 'v2'], 'v1')
    >>> (registry.load("latest").predict(X) == clf.predict(X)).all()
    np.True_
    """

    def __init__(self, directory):
        directory = os.fspath(directory)
        if not directory:
            raise ValueError("ModelRegistry needs a directory; got an empty path (use '.' for the current directory).")
        self.directory = os.fsdecode(directory)
        self._check_directory()

    def _check_directory(self):
        """NotADirectoryError when the registry's path is an existing file that is not a directory."""
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise NotADirectoryError(
                errno.ENOTDIR, f"{self.directory}: exists and is not a directory; a ModelRegistry is a directory"
            )

    def __repr__(self):
        return f"ModelRegistry({self.directory!r})"

    @property
    def manifest_path(self):
        """Path of ``manifest.json``, the list of entries, in the registry's directory."""
        return os.path.join(self.directory, "manifest.json")

    # ---------------------------------------------------------- writing

    def register(self, model, metrics=None, test_accuracy=None, *, test_score=None):
        """Store a new version of a fitted model.

        Parameters
        ----------
        model : FastGRNNClassifier, FastGRNNRegressor or Pipeline(scalers, one of them)
            Anything :func:`skfastgrnn.save` stores: the scalers are
            StandardScaler and SequenceScaler steps, in any mix.
        metrics : JSON-serializable object or None, default=None
            Written to the version's metrics file: any named metrics, e.g.
            ``{"rmse": 1.3, "mae": 0.9}``. None writes the model's training
            history (what ``save_metrics`` writes).
        test_accuracy : float in [0, 1] or None, default=None
            A classifier's held-out accuracy (the same as ``test_score``);
            ``load("best")`` picks the highest.
        test_score : float or None, default=None
            The model's ``score`` on held-out data: accuracy for a
            classifier, R² (at most 1) for a regressor; ``load("best")``
            picks the highest. A finite number, not a bool.

        Returns
        -------
        dict
            The manifest entry: ``version`` ("v1", "v2", ...), ``timestamp``
            (Unix seconds), ``created`` (ISO 8601, UTC), ``model_path`` and
            ``metrics_path`` (relative to the directory), ``test_accuracy``
            (None for a regressor), ``test_score`` and ``score`` (its name,
            ``"accuracy"`` or ``"r2"``), ``model_size_bytes``, ``sha256``
            (``{"model": ..., "metrics": ...}``), ``kind`` and
            ``package_version``.

        Raises
        ------
        TypeError, ValueError, NotFittedError
            The model, the score or the metrics cannot be stored.
        OSError
            A file cannot be written; the registry is left as it was (at
            worst with unreferenced files of the failed version, whose
            number is then skipped).
        """
        score_name, test_score = _check_scores(model, test_accuracy, test_score)
        test_accuracy = test_score if score_name == "accuracy" else None
        # serialize outside the lock: the critical section only writes bytes
        try:
            model_bytes = _persist.dumps(model)
            clf = model.steps[-1][1] if hasattr(model, "steps") else model
            if metrics is None:
                metrics_bytes = _files.metrics_bytes(clf)
            else:
                metrics_bytes = (_files.to_json(metrics, "metrics") + "\n").encode()
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{self.directory}: cannot register: {exc}") from None
        with self._locked():
            entries = self._read_manifest()
            version, model_rel, metrics_rel = self._create_version_files(entries, model_bytes, metrics_bytes)
            now = time.time()
            entry = {
                "version": version,
                "timestamp": now,
                "created": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                "model_path": model_rel,
                "metrics_path": metrics_rel,
                "test_accuracy": test_accuracy,
                "test_score": test_score,
                "score": score_name,
                "model_size_bytes": len(model_bytes),
                "sha256": {"model": _sha256(model_bytes), "metrics": _sha256(metrics_bytes)},
                "kind": type(model).__name__,
                "package_version": __version__,
            }
            doc = {"format": REGISTRY_FORMAT, "format_version": REGISTRY_FORMAT_VERSION, "entries": entries + [entry]}
            _files.atomic_write(self.manifest_path, (json.dumps(doc, indent=1) + "\n").encode())
        return dict(entry)

    def _create_version_files(self, entries, model_bytes, metrics_bytes):
        """Create the model and metrics files of the next free version, never overwriting a file.

        The number is above every version of the manifest and every versioned
        file in ``models/`` (a lost manifest does not bring "v1" back); a
        number whose file appears meanwhile is skipped.
        """
        models = os.path.join(self.directory, "models")
        os.makedirs(models, exist_ok=True)
        on_disk = [int(m.group(1)) for m in map(_VERSIONED_FILE.fullmatch, os.listdir(models)) if m]
        first = 1 + max([_version_number(e["version"]) for e in entries] + on_disk, default=0)
        for number in range(first, first + _MAX_ATTEMPTS):
            version = f"v{number}"
            model_rel, metrics_rel = f"models/fastgrnn_{version}.safetensors", f"models/metrics_{version}.json"
            created = []
            try:
                for rel, data in ((model_rel, model_bytes), (metrics_rel, metrics_bytes)):
                    path = os.path.join(self.directory, rel)
                    _create_exclusively(path, data)
                    created.append(path)
            except FileExistsError:
                for path in created:
                    os.unlink(path)
                continue
            except BaseException:
                for path in created:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                raise
            return version, model_rel, metrics_rel
        raise FileExistsError(errno.EEXIST, f"{models}: the files of versions v{first} to v{number} all exist")

    @contextlib.contextmanager
    def _locked(self):
        if fcntl is None:  # pragma: no cover
            raise NotImplementedError("ModelRegistry.register needs fcntl.flock (POSIX)")
        self._check_directory()
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(os.path.join(self.directory, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    # ---------------------------------------------------------- reading

    def _read_manifest(self):
        self._check_directory()
        path = self.manifest_path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        doc = _files.read_json_document(path, data, REGISTRY_FORMAT, REGISTRY_FORMAT_VERSION, "registry manifest")
        entries = doc.get("entries")
        if not isinstance(entries, list) or not all(_valid_entry(e) for e in entries):
            raise ModelFileError(f"{path}: malformed manifest entries (each needs {', '.join(_ENTRY_KEYS)})")
        return entries

    def list(self):
        """All entries, oldest first.

        Returns
        -------
        list of dict
            Copies of the manifest entries; an empty list for a new registry.
        """
        return [dict(e) for e in self._read_manifest()]

    def entry(self, version="latest"):
        """The manifest entry of ``version``: ``"latest"``, ``"best"`` or a version such as ``"v3"``.

        ``"best"`` is the entry with the highest ``test_score`` (``test_accuracy``
        in manifests written before ``test_score`` existed; the latest of
        equals); entries without one are skipped, and entries scored by
        different measures (accuracy and R²) cannot be compared.

        Parameters
        ----------
        version : str, default="latest"
            ``"latest"``, ``"best"`` or a version such as ``"v3"``.

        Returns
        -------
        dict
            A copy of the entry: ``version``, ``timestamp``, ``created``,
            ``model_path``, ``metrics_path``, ``test_accuracy``,
            ``model_size_bytes``, ``sha256``, ``kind``, ``package_version``.

        Raises
        ------
        LookupError
            No such version, an empty registry, or no accuracy for ``"best"``.
        """
        entries = self._read_manifest()
        if not entries:
            raise LookupError(f"{self.directory}: the registry holds no model yet")
        if version == "latest":
            return dict(entries[-1])
        if version == "best":
            scored = [e for e in entries if _score(e)[1] is not None]
            if not scored:
                raise LookupError(
                    f"{self.directory}: no entry has a test_accuracy or test_score, so there is no 'best'"
                )
            names = sorted({_score(e)[0] for e in scored})
            if len(names) > 1:
                raise LookupError(
                    f"{self.directory}: the entries are scored by different measures ({', '.join(names)}), so there "
                    "is no 'best'; ask for a version"
                )
            return dict(max(reversed(scored), key=lambda e: _score(e)[1]))
        for e in entries:
            if e["version"] == version:
                return dict(e)
        known = ", ".join(e["version"] for e in entries)
        raise LookupError(f"{self.directory}: no version {version!r}; the registry holds {known}")

    def _verified_bytes(self, entry, which):
        rel = entry[f"{which}_path"]
        path = os.path.join(self.directory, rel)
        if which == "model":  # a regular file, read no further than its header says
            data = _files.read_model_file(path)
        else:
            with open(path, "rb") as f:
                data = f.read()
        actual, expected = _sha256(data), entry["sha256"][which]
        if actual != expected:
            raise ModelFileError(
                f"{path}: sha256 {actual} does not match the manifest's {expected} for {entry['version']}; "
                "refusing to load a file that changed after it was registered"
            )
        return path, data

    def load(self, version="latest"):
        """Load a registered model after checking its sha256.

        Parameters
        ----------
        version : str, default="latest"
            ``"latest"``, ``"best"`` (highest test accuracy) or a version
            such as ``"v3"``.

        Returns
        -------
        FastGRNNClassifier, FastGRNNRegressor or Pipeline
            The registered model, as :func:`skfastgrnn.load` reads it.

        Raises
        ------
        LookupError
            Unknown version (see :meth:`entry`).
        skfastgrnn.ModelFileError
            The file does not match its sha256, or is invalid.
        OSError
            The file cannot be read.
        """
        path, data = self._verified_bytes(self.entry(version), "model")
        return _persist.loads(data, path)

    def metrics(self, version="latest"):
        """The parsed metrics file of ``version``, after checking its sha256.

        Parameters
        ----------
        version : str, default="latest"
            ``"latest"``, ``"best"`` or a version such as ``"v3"`` (see :meth:`entry`).

        Returns
        -------
        object
            The JSON document registered with the model (by default the
            training history, as ``save_metrics`` writes it).

        Raises
        ------
        LookupError
            Unknown version (see :meth:`entry`).
        skfastgrnn.ModelFileError
            The file does not match its sha256, or is not JSON.
        """
        path, data = self._verified_bytes(self.entry(version), "metrics")
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ModelFileError(f"{path}: not JSON ({exc})") from None


def _version_number(version):
    return int(version[1:])


def _is_number(value):
    """A finite real number that is not a bool (``True`` is no score)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_scores(model, test_accuracy, test_score):
    """``(score name, test score or None)`` for ``model``; ValueError for a value that is not a valid score."""
    regressor = is_regressor(model)
    name = "r2" if regressor else "accuracy"
    for what, value in (("test_accuracy", test_accuracy), ("test_score", test_score)):
        if value is not None and not _is_number(value):
            raise ValueError(f"{what} must be a finite number or None; got {value!r}.")
    if test_accuracy is not None:
        if regressor:
            raise ValueError(
                f"test_accuracy={test_accuracy!r}: a {type(model).__name__} has no accuracy; pass test_score "
                "(its R², what score() returns) and any other metrics as metrics={...}."
            )
        if test_score is not None and float(test_score) != float(test_accuracy):
            raise ValueError(f"test_accuracy={test_accuracy!r} and test_score={test_score!r} differ; pass one.")
        test_score = test_accuracy
    if test_score is None:
        return name, None
    test_score = float(test_score)
    if not regressor and not 0.0 <= test_score <= 1.0:
        raise ValueError(f"test_accuracy (a classifier's test_score) must be a number in [0, 1]; got {test_score!r}.")
    if regressor and test_score > 1.0:
        raise ValueError(f"test_score is an R², at most 1; got {test_score!r}.")
    return name, test_score


def _score(entry):
    """``(name, value)`` of an entry's held-out score; manifests before ``test_score`` had ``test_accuracy``."""
    if "test_score" in entry:
        return entry.get("score", "accuracy"), entry["test_score"]
    return "accuracy", entry["test_accuracy"]


def _create_exclusively(path, data):
    """Write ``data`` to the new file ``path`` (FileExistsError if it exists), fsynced; no partial file on error."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _valid_path(rel):
    return (
        isinstance(rel, str)
        and not os.path.isabs(rel)
        and not os.path.normpath(rel).startswith("..")
        and rel.startswith("models/")
    )


def _valid_entry(e):
    return (
        isinstance(e, dict)
        and all(k in e for k in _ENTRY_KEYS)
        and isinstance(e["version"], str)
        and e["version"][:1] == "v"
        and e["version"][1:].isascii()
        and e["version"][1:].isdigit()
        and _valid_path(e["model_path"])
        and _valid_path(e["metrics_path"])
        and all(
            e.get(key) is None or (type(e[key]) in (int, float) and math.isfinite(e[key]))
            for key in ("test_accuracy", "test_score")
        )
        and isinstance(e.get("score", ""), str)
        and isinstance(e["sha256"], dict)
        and all(isinstance(e["sha256"].get(k), str) for k in ("model", "metrics"))
    )
