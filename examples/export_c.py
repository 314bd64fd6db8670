"""Train a router, quantize it and export it as C99 for a microcontroller.

Trains a Pipeline(StandardScaler, FastGRNNClassifier) on the built-in routing
logs, quantizes the weights to int8, writes ``router.h`` / ``router.c`` with
``skfastgrnn.export_c`` and prints the size report. If a C compiler is found it
then builds a tiny ``main.c`` (the kind of code that would run on the device:
raw sensor floats in, a class index out), runs it on a few test rows and checks
them against the Python model.

Run: python examples/export_c.py [--out DIRECTORY]   (a few seconds)
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNClassifier, export_c
from skfastgrnn.datasets import make_routing

MAIN_C = """#include <stdio.h>
#include "router.h"

/* a few rows as the device would read them: raw scores, no normalization */
static const float rows[][ROUTER_N_FEATURES] = {
%s
};

int main(void)
{
    float proba[ROUTER_N_CLASSES];
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; ++i) {
        int k = router_predict(rows[i]);
        router_predict_proba(rows[i], proba);
        printf("%%s %%.6f\\n", router_class_labels[k], (double)proba[k]);
    }
    return 0;
}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="directory for router.h / router.c (default: a temporary one)")
    args = parser.parse_args(argv)
    out = args.out or tempfile.mkdtemp(prefix="skfastgrnn_c_")

    X, y = make_routing(5000, random_state=0)
    X = X.astype(np.float32).astype(np.float64)  # the device reads float32
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short budget
        model = make_pipeline(StandardScaler(), FastGRNNClassifier(hidden_dim=16, epochs=30, random_state=0))
        model.fit(X_train, y_train)
    print(f"test accuracy fp32: {model.score(X_test, y_test):.4f}")
    model[-1].quantize()  # int8 weight matrices, one float scale each
    print(f"test accuracy int8: {model.score(X_test, y_test):.4f}")

    report = export_c(model, out, name="router")
    print(f"\nwrote {report['header']} and {report['source']}")
    print(
        f"weights {report['weight_bytes']} B (all dense {report['dense_weight_bytes']} B, "
        f"all CSR {report['csr_weight_bytes']} B), scaler {report['scaler_bytes']} B, "
        f"stack state {report['state_bytes']} B"
    )
    for row in report["matrices"]:
        print(f"  {row['name']:6s} {str(row['shape']):9s} {row['dtype']:8s} nnz {row['nnz']:4d} -> {row['format']}")
    for note in report["omitted"]:
        print(f"  not exported: {note}")

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        print("\nno C compiler found: compile router.c into your firmware yourself")
        return
    rows = X_test[:5]
    body = ",\n".join("    {" + ", ".join(f"{v!r}f" for v in row.astype(np.float32).tolist()) + "}" for row in rows)
    main_c = os.path.join(out, "main.c")
    with open(main_c, "w") as f:
        f.write(MAIN_C % body)
    exe = os.path.join(out, "router_demo")
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
    subprocess.run([cc, *flags, "-o", exe, main_c, report["source"], "-lm"], check=True)
    c_lines = subprocess.run([exe], check=True, capture_output=True, text=True).stdout.split("\n")
    print(f"\n{cc} {' '.join(flags)} main.c router.c -lm; ./router_demo:")
    proba = model.predict_proba(rows)
    for line, label, p in zip(c_lines, model.predict(rows), proba.max(axis=1), strict=False):
        print(f"  C: {line:22s} Python: {label} {p:.6f}")


if __name__ == "__main__":
    main()
