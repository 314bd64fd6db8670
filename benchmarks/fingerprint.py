"""Fingerprints of trained models, for refactorings that must not change any number.

Trains the README and benchmark-style configurations (every cell, low rank,
sparse training, pruning + int8, float32, partial_fit, warm start, padded
sequences, fold, distillation) with fixed seeds and prints one SHA-256 per
configuration over the weights, the predicted probabilities, the saved file
(without the package version) and the exported C source and ONNX bytes.

Run it before and after a change and compare::

    python benchmarks/fingerprint.py > before.txt
    # ... change the code ...
    python benchmarks/fingerprint.py | diff before.txt -
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
import warnings

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier, SequenceScaler
from skfastgrnn.datasets import make_routing


def _sequences(n=120, T=12, D=3, seed=0):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(4, T + 1, size=n)
    y = rng.randint(0, 3, size=n)
    seqs = [rng.normal(size=(L, D)) + 0.3 * c for L, c in zip(lengths, y, strict=True)]
    return seqs, y


def _digest(model, X):
    """Four short digests: weights + probabilities + history, saved file + reloaded probabilities, C, ONNX."""
    parts = []
    h = hashlib.sha256()
    clf = model[-1] if hasattr(model, "steps") else model
    for name, w in sorted(clf.weights_.items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(w).tobytes())
    h.update(np.ascontiguousarray(model.predict_proba(X)).tobytes())
    h.update(json.dumps([{k: v for k, v in e.items() if k != "seconds"} for e in clf.history_]).encode())
    h.update(json.dumps([clf.n_iter_, clf.best_epoch_]).encode())
    parts.append(h)
    h = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.safetensors")
        skfastgrnn.save(model, path)
        with open(path, "rb") as f:
            data = f.read()
        # every byte of the file except the version string and the checksum that covers it
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
        header["__metadata__"].pop("package_version")
        header["__metadata__"].pop("checksum_sha256")
        h.update(json.dumps(header, sort_keys=True).encode())
        h.update(data[8 + header_len :])
        loaded = skfastgrnn.load(path)
        h.update(np.ascontiguousarray(loaded.predict_proba(X)).tobytes())
        parts.append(h)
        h = hashlib.sha256()
        try:
            skfastgrnn.export_c(model, tmp, name="m")
            for fname in sorted(os.listdir(tmp)):
                if fname.endswith((".c", ".h")):
                    with open(os.path.join(tmp, fname), "rb") as f:
                        h.update(f.read().replace(skfastgrnn.__version__.encode(), b"VERSION"))
        except Exception as exc:  # noqa: BLE001 - the fingerprint records failures too
            h.update(repr(exc).encode())
        parts.append(h)
        h = hashlib.sha256()
        try:
            h.update(skfastgrnn.to_onnx(model).SerializeToString())
        except Exception as exc:  # noqa: BLE001
            h.update(type(exc).__name__.encode())
        parts.append(h)
    return " ".join(part.hexdigest()[:10] for part in parts)


def configurations():
    X, y = make_routing(600, random_state=0)
    yield (
        "readme-pipeline",
        lambda: make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=16, random_state=0)).fit(X, y),
        X,
    )
    for cell in ("fastgrnn", "fastrnn", "guide"):
        yield f"cell-{cell}", lambda cell=cell: FastGRNNClassifier(cell=cell, epochs=8, random_state=1).fit(X, y), X
    yield (
        "lowrank-val",
        lambda: FastGRNNClassifier(rank=2, u_rank=3, validation_split=0.2, epochs=30, random_state=2).fit(X, y),
        X,
    )
    yield "sparse", lambda: FastGRNNClassifier(w_sparsity=0.5, u_sparsity=0.5, epochs=12, random_state=3).fit(X, y), X
    yield "prune-int8", lambda: FastGRNNClassifier(epochs=6, random_state=4).fit(X, y).prune(0.5).quantize(), X
    X32 = X.astype(np.float32)
    yield "float32", lambda: FastGRNNClassifier(epochs=6, random_state=5).fit(X32, y), X32

    def partial():
        clf = FastGRNNClassifier(random_state=6)
        for i in range(3):
            clf.partial_fit(X[i * 200 : (i + 1) * 200], y[i * 200 : (i + 1) * 200], classes=np.unique(y))
        return clf

    yield "partial_fit", partial, X

    def warm():
        clf = FastGRNNClassifier(epochs=4, warm_start=True, random_state=7).fit(X, y)
        return clf.set_params(learning_rate=0.003).fit(X, y)

    yield "warm_start", warm, X
    seqs, ys = _sequences()
    from skfastgrnn._sequences import pad_sequences

    Xs = pad_sequences(seqs)
    yield (
        "padded-seq",
        lambda: make_pipeline(SequenceScaler(), FastGRNNClassifier(epochs=10, random_state=8)).fit(Xs, ys),
        Xs,
    )
    rng = np.random.RandomState(9)
    Xl = rng.normal(size=(80, 100, 2))
    yl = (Xl[:, :10, 0].sum(axis=1) > 0).astype(int)
    yield (
        "fold-auto",
        lambda: make_pipeline(SequenceScaler(), FastGRNNClassifier(epochs=5, random_state=9)).fit(Xl, yl),
        Xl,
    )
    from sklearn.linear_model import LogisticRegression

    yield (
        "distilled",
        lambda: (
            DistilledFastGRNN(LogisticRegression(), FastGRNNClassifier(epochs=6, random_state=10)).fit(X, y).student_
        ),
        X,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated configuration names")
    args = parser.parse_args(argv)
    only = None if args.only is None else set(args.only.split(","))
    warnings.simplefilter("ignore")
    for name, build, X in configurations():
        if only is not None and name not in only:
            continue
        print(f"{name:16s} {_digest(build(), X)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
