"""Regenerate the guide's model-size table from the code (hidden 8 / 16 / 32, 5 features).

The Tiny Dancer guide's table ("Tiny (8 hidden) ~250 parameters, 1 KB FP32, 256 B
INT8", ...) was never measured and does not follow from its own cell. This script
builds each configuration, trains it for one epoch on the built-in routing data
(5 features, 2 classes; sizes do not depend on training except through pruning)
and prints what ``FastGRNNClassifier.size_report()`` measures, as markdown:

- parameters: every trained number (matrices, biases, gate scalars, the 2-logit
  softmax head);
- fp32 bytes: all of them in float32;
- int8 bytes: weight matrices in int8 plus one float32 scale per matrix, biases
  and scalars kept in float32 (what ``quantize()`` stores);
- int8 + 50 % pruned: after ``prune(0.5)`` (half of each W and U matrix removed),
  each W/U matrix in its smallest format (dense, bitmap + values, or index +
  value pairs), index overhead counted;
- file bytes: the size of the ``.safetensors`` file ``save()`` writes for the
  int8 model, JSON header and metadata included.

Usage (from the repository root)::

    python benchmarks/model_size_table.py
"""

import sys
import warnings
from pathlib import Path

# measure the working tree's skfastgrnn
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import make_routing  # noqa: E402

HIDDEN = {"Tiny": 8, "Small": 16, "Medium": 32}
CELLS = ("fastgrnn", "fastrnn", "guide")


def measure(cell, hidden, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastGRNNClassifier(hidden_dim=hidden, cell=cell, epochs=1, random_state=0).fit(X, y)
    fp = clf.size_report()
    q = clf.quantize().size_report()
    pruned = clf.prune(0.5).size_report()
    return {
        "params": fp["n_parameters"],
        "fp32": fp["fp32_bytes"],
        "int8": q["int8_bytes"],
        "ratio": fp["fp32_bytes"] / q["int8_bytes"],
        "pruned": pruned["sparse_int8_bytes"],
        "file": q["stored_bytes"],
    }


def main():
    X, y = make_routing(500, random_state=0)
    print("| configuration | cell | parameters | fp32 bytes | int8 bytes | fp32 / int8 | int8 + 50% pruned bytes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    files = []
    for label, hidden in HIDDEN.items():
        for cell in CELLS:
            m = measure(cell, hidden, X, y)
            files.append((label, hidden, cell, m["file"]))
            print(
                f"| {label} ({hidden} hidden) | {cell} | {m['params']:,} | {m['fp32']:,} | {m['int8']:,} | "
                f"{m['ratio']:.2f}x | {m['pruned']:,} |"
            )
    print()
    print("| configuration | cell | int8 .safetensors file bytes (header + metadata included) |")
    print("|---|---|---:|")
    for label, hidden, cell, size in files:
        print(f"| {label} ({hidden} hidden) | {cell} | {size:,} |")


if __name__ == "__main__":
    main()
