"""Deployment methods of FastGRNNClassifier (save/load, quantize, prune, size).

Kept apart from ``_classifier`` so the estimator file stays about training and
prediction; FastGRNNClassifier inherits this mixin. The maths is in
``_compress`` and the file format in ``_persist``.

The compression state (the int8 weights after :meth:`quantize`, the pruning
support after :meth:`prune`) belongs to the fitted network, ``network_`` (a
:class:`~skfastgrnn._network.FastGRNNNetwork`); these methods call its public
methods. Pickle and skops see the network as a plain dict
(:meth:`~skfastgrnn._network.FastGRNNNetwork.to_state`), so they need no
custom classes.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _files, _persist
from ._network import FastGRNNNetwork, layout_from_spec
from ._train import History


class DeploymentMixin:
    """Save, load, quantize, prune and measure a fitted FastGRNNClassifier."""

    # ------------------------------------------------------------ files

    def save(self, path):
        """Save the fitted model to a safetensors file (atomic write).

        Parameters
        ----------
        path : str or os.PathLike
            Destination, conventionally ``*.safetensors``; an existing file
            is replaced only once the new one is complete.

        Raises
        ------
        sklearn.exceptions.NotFittedError, ValueError, OSError
            The message names ``path``; ValueError when ``classes_`` cannot
            be stored as JSON.

        See Also
        --------
        skfastgrnn.save : Also saves a Pipeline of StandardScaler / SequenceScaler steps and the classifier.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
        >>> clf = FastGRNNClassifier(epochs=5, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "clf.safetensors")
        >>> clf.save(path)
        >>> (FastGRNNClassifier.load(path).predict_proba(X) == clf.predict_proba(X)).all()
        np.True_
        """
        _persist.save(self, path)

    @classmethod
    def load(cls, path):
        """Load a model saved by :meth:`save` (never executes code from the file).

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save` or :func:`skfastgrnn.save` (holding a classifier).

        Returns
        -------
        FastGRNNClassifier
            Fitted, with an empty ``history_`` (see :meth:`load_metrics`) and
            a fresh Adam state.

        Raises
        ------
        skfastgrnn.ModelFileError
            Truncated, corrupted, wrong-format, newer-version or inconsistent
            file, or a file holding a Pipeline (use ``skfastgrnn.load``).
        OSError
            The file cannot be read.
        """
        obj = _persist.load(path)
        if not isinstance(obj, cls):
            raise _files.ModelFileError(
                f"{path}: holds a {type(obj).__name__}, not a {cls.__name__}; load it with skfastgrnn.load(path)"
            )
        return obj

    def save_metrics(self, path):
        """Write the training history (``history_``, ``n_iter_``, ``best_epoch_``) as JSON, atomically.

        The guide's ``trainer.save_metrics("models/metrics_v1.json")``.

        Parameters
        ----------
        path : str or os.PathLike
            Destination of the JSON document.

        Examples
        --------
        >>> import json, os, tempfile
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
        >>> clf = FastGRNNClassifier(epochs=3, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "metrics.json")
        >>> clf.save_metrics(path)
        >>> len(json.load(open(path))["history"])
        3
        """
        check_is_fitted(self)
        _files.atomic_write(path, _files.metrics_bytes(self))

    def load_metrics(self, path):
        """Restore ``history_`` from a file written by :meth:`save_metrics`.

        A model loaded from a safetensors file has an empty ``history_``;
        this puts its training history back. The file must describe as many
        epochs as the model's ``n_iter_``.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save_metrics`.

        Returns
        -------
        self : FastGRNNClassifier
            The model, with ``history_`` restored.

        Raises
        ------
        skfastgrnn.ModelFileError
            Not a metrics file, malformed, or of a different number of epochs.
        """
        check_is_fitted(self)
        doc = _files.read_metrics(path)
        if doc["n_iter"] != self.n_iter_ or len(doc["history"]) != self.n_iter_:
            raise _files.ModelFileError(
                f"{path}: metrics of {len(doc['history'])} epochs (n_iter {doc['n_iter']}) do not belong to this "
                f"model, which ran {self.n_iter_} epochs"
            )
        self.history_ = History(doc["history"], best_epoch=self.best_epoch_)
        return self

    # ----------------------------------------------------- compression

    def quantize(self):
        """Quantize the weight matrices to int8 (symmetric, one float32 scale per matrix).

        The guide's ``model.quantize()``. Afterwards the model predicts with
        the int8 weights (``q * scale``, dequantized once), and :meth:`save`
        stores them as int8. The weight matrices (W or W1/W2, U or U1/U2,
        W_out) become int8; biases and the cell's scalars (zeta, nu / alpha,
        beta) are rounded to float32 and stored so. Quantizing a quantized
        model does nothing.

        The model keeps its float dtype (float64, or float32 when trained on
        float32 input). Training afterwards (``warm_start`` fit,
        ``partial_fit``) continues in that dtype from the quantized weights
        and gives a float model again: the int8 tensors no longer describe it
        and are ignored; call ``quantize()`` again.

        Returns
        -------
        self : FastGRNNClassifier
            The model, changed in place.

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=300, n_features=5, random_state=0)
        >>> clf = FastGRNNClassifier(epochs=10, random_state=0).fit(X, y)
        >>> before = clf.score(X, y)
        >>> abs(clf.quantize().score(X, y) - before) < 0.02
        True
        >>> clf.size_report()["quantized"]
        True
        """
        check_is_fitted(self)
        self.network_.quantize()
        return self

    def prune(self, sparsity, u_sparsity=None):
        """Zero the smallest-magnitude entries of each W and U matrix.

        The guide's ``model.prune(0.3)``: ``sparsity`` is the fraction REMOVED
        (0.3 keeps 70 %) of each input matrix (W, or each factor W1, W2) and,
        by default, of each recurrent matrix (U or U1, U2). The head W_out,
        biases and scalars are kept. A later ``warm_start`` fit or
        ``partial_fit`` keeps the pruned weights at zero; pruning again
        removes more (zeros stay zeros). Works on quantized models (the int8
        entries are zeroed too).

        Parameters
        ----------
        sparsity : float in [0, 1]
            Fraction of the entries of each W matrix set to zero.
        u_sparsity : float in [0, 1] or None, default=None
            Same for the U matrices; None uses ``sparsity``.

        Returns
        -------
        self : FastGRNNClassifier
            The model, changed in place.

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=300, n_features=5, random_state=0)
        >>> clf = FastGRNNClassifier(hidden_dim=8, epochs=5, random_state=0).fit(X, y)
        >>> int((clf.prune(0.5).weights_["U"] == 0).sum())
        32
        """
        check_is_fitted(self)
        u_sparsity = sparsity if u_sparsity is None else u_sparsity
        for label, value in (("sparsity", sparsity), ("u_sparsity", u_sparsity)):
            if not (isinstance(value, (int, float, np.number)) and 0.0 <= value <= 1.0):
                raise ValueError(f"{label} must be the fraction of weights removed, in [0, 1]; got {value!r}.")
        self.network_.prune(1.0 - sparsity, 1.0 - u_sparsity)
        return self

    def size_bytes(self):
        """Size in bytes of the file :meth:`save` writes now (header and metadata included).

        A float model stores its weights in its own dtype (float64, or float32
        when trained on float32 input: an exact round trip); a quantized one
        stores int8 matrices, float32 scales and float32 biases. See
        :meth:`size_report` for the tensor payload alone and the fp32 / int8 /
        sparse sizes.

        Returns
        -------
        n_bytes : int
            Length of the file's bytes.
        """
        check_is_fitted(self)
        return len(_persist.dumps(self))

    def size_report(self):
        """Parameter counts and sizes in bytes, stored and hypothetical.

        Returns
        -------
        dict
            ``n_parameters``, ``n_nonzero``; ``fp32_bytes`` (all parameters
            in float32), ``int8_bytes`` (weight matrices int8 plus a 4-byte
            scale each, the rest float32), ``sparse_fp32_bytes`` and
            ``sparse_int8_bytes`` (each W/U matrix in its smallest sparse
            format: dense, bitmap + values or index + value pairs, index
            overhead counted); ``stored_bytes`` (:meth:`size_bytes`) and
            ``payload_bytes`` (the tensors of that file without the header);
            ``quantized``, ``pruned`` and per-tensor ``tensors`` rows.

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from skfastgrnn import FastGRNNClassifier
        >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
        >>> report = FastGRNNClassifier(hidden_dim=8, epochs=3, random_state=0).fit(X, y).size_report()
        >>> report["n_parameters"], report["fp32_bytes"], report["int8_bytes"]
        (140, 560, 212)
        """
        check_is_fitted(self)
        report = self.network_.size_table()
        tensors, meta = _persist.encode(self)
        report["payload_bytes"] = int(sum(a.nbytes for a in tensors.values()))
        report["stored_bytes"] = len(_persist.pack(tensors, meta))
        report["quantized"] = self.network_.quantization is not None
        report["pruned"] = self.network_.support is not None
        return report

    # ---------------------------------------------------------- pickle

    def __getstate__(self):
        # the network and the history travel as plain dicts and lists so that
        # skops.io needs no trusted types besides the estimator's class
        state = super().__getstate__()
        if "network_" in state or "history_" in state:
            state = dict(state)
        if "network_" in state:
            state["network_"] = state["network_"].to_state()
        if "history_" in state:
            state["history_"] = list(state["history_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        # pickled before ``fold`` existed: those models read one step at a time
        state.setdefault("fold", 1)
        if "_theta" in state:  # pickled before the network object: rebuild it
            state["network_"] = _network_from_old_state(state)
        if isinstance(state.get("network_"), dict):
            state["network_"] = FastGRNNNetwork.from_state(state["network_"])
        if "history_" in state:
            best = state.get("best_epoch_")
            state["history_"] = History(state["history_"], best_epoch=best)
        super().__setstate__(state)


def _network_from_old_state(state):
    """A network from a state pickled by versions that kept ``_layout``, ``_theta``, ... on the estimator."""
    layout = state.pop("_layout")
    layout = layout_from_spec(layout) if isinstance(layout, dict) else layout
    state.setdefault("fold_", 1)
    architecture = {"fold": 1, **state.pop("_fitted_architecture")}
    network = FastGRNNNetwork(
        layout,
        state.pop("_theta"),
        gate=architecture["gate_nonlinearity"],
        update=architecture["update_nonlinearity"],
        n_timesteps=state["n_timesteps_"],
        n_step_features=state["n_step_features_"],
        fold=state["fold_"],
        architecture=architecture,
    )
    network.set_support(state.pop("_support", None))
    int8, scales = state.pop("_int8", None), state.pop("_scales", None)
    if int8 is not None:
        network.set_quantization(int8, scales)
    return network
