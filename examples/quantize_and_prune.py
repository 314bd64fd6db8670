"""Quantize and prune a trained model: accuracy against size.

The guide's optimization step (``model.quantize()``, ``model.prune(0.3)``) on a
digits model (8 timesteps of 8 pixels, hidden 32), each variant saved to a
safetensors file and loaded back before it is scored:

- the float model, and the same model with int8 weight matrices;
- 30 % and 70 % of each W and U matrix pruned, then int8;
- 70 % pruned, then fine-tuned for a few epochs with the zeros held
  (``warm_start``), then int8;
- sparse training from the start (``w_sparsity`` / ``u_sparsity``: the paper's
  dense, hard-thresholding and fixed-support phases), then int8.

"weights" is ``size_report()["sparse_int8_bytes"]`` (or ``fp32_bytes`` for
the float model): the parameters in the smallest dense or sparse format, index
overhead counted. The file also holds the scaler and about 2 KB of metadata.

Run: python examples/quantize_and_prune.py [--quick]
"""

import argparse
import copy
import os
import tempfile
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier
from skfastgrnn.datasets import load_digits_sequences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 rows, 3 epochs: a smoke run")
    args = parser.parse_args(argv)
    X, y = load_digits_sequences()
    if args.quick:
        X, y = X[:300], y[:300]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    epochs = 3 if args.quick else 100

    def fresh(**params):
        clf = FastGRNNClassifier(32, n_timesteps=8, l2_reg=3e-3, epochs=epochs, random_state=0, **params)
        return make_pipeline(StandardScaler(), clf)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = fresh().fit(X_train, y_train)
        variants = {"float (float64 weights)": dense}
        variants["int8"] = copy.deepcopy(dense)
        variants["int8"][-1].quantize()
        for sparsity in (0.3, 0.7):
            model = copy.deepcopy(dense)
            model[-1].prune(sparsity).quantize()
            variants[f"prune({sparsity}) + int8"] = model
        tuned = copy.deepcopy(dense)
        tuned[-1].prune(0.7)
        # fine-tune the network only, on the scaler's output: pruned weights stay zero
        tuned[-1].set_params(warm_start=True, learning_rate=0.003, epochs=min(epochs, 10))
        tuned[-1].fit(tuned[0].transform(X_train), y_train)
        variants["prune(0.7), 10 epochs, int8"] = tuned
        tuned[-1].quantize()
        sparse = fresh(w_sparsity=0.7, u_sparsity=0.7).fit(X_train, y_train)
        sparse[-1].quantize()
        variants["sparse training 70% + int8"] = sparse

    print(f"digits, 8 timesteps x 8 pixels, hidden 32: {len(y_train)} training rows, {len(y_test)} test rows\n")
    print(f"{'model':<30} {'test accuracy':>13} {'non-zero':>9} {'weights':>9} {'file':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in variants.items():
            path = os.path.join(tmp, "model.safetensors")
            skfastgrnn.save(model, path)
            loaded = skfastgrnn.load(path)  # score what would be deployed
            report = loaded[-1].size_report()
            weights = report["sparse_int8_bytes"] if report["quantized"] else report["fp32_bytes"]
            print(
                f"{name:<30} {loaded.score(X_test, y_test):13.2%} {report['n_nonzero']:>9,} "
                f"{weights:>8,}B {os.path.getsize(path):>7,}B"
            )
    print(f"\n{report['n_parameters']:,} parameters in all; the float model's weights shown as fp32")
    return variants


if __name__ == "__main__":
    main()
