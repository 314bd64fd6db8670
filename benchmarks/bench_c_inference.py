"""Sizes and per-sample latency of the C code ``export_c`` writes, next to the Python model.

For three scenarios (a Pipeline of StandardScaler and FastGRNNClassifier each), and
four variants of each trained model (fp32; fp32 with 50 % of each W and U pruned;
int8; int8 pruned), it exports C with ``export_c`` (CSR where smaller), compiles it
with ``gcc -std=c99 -O2`` and a small harness, and measures on the held-out rows:

- agreement of the C predictions with the Python model's and the largest
  probability difference; test accuracy of the C model;
- bytes: the network's constants as written (``weight_bytes``), the same all
  dense / all CSR, the scaler's mean and scale, the stack state of one call, and
  ``.text`` / ``.rodata`` of the compiled object (x86-64 here: indicative only for
  a microcontroller);
- latency per sample: C ``<name>_predict_proba`` (mean over every test row,
  repeated), Python ``predict_proba`` on one row (the Pipeline, and the bare
  classifier on a standardized row), and onnxruntime on one row when installed.

Usage (from the repository root; about a minute)::

    python benchmarks/bench_c_inference.py --doc docs/export.md    # measure, write the JSON and the block
    python benchmarks/bench_c_inference.py --check docs/export.md  # no run: the block is the JSON's
    python benchmarks/bench_c_inference.py --quick                 # smoke run

The results go to ``benchmarks/results/c_inference.json``; the block of
docs/export.md between ``<!-- c-inference:start -->`` and ``<!-- c-inference:end -->``
is rendered from it, with a summary of the numbers the page's conclusions rest on.
"""

import os

# single-threaded, like the other benchmarks: must happen before numpy is imported
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse
import copy
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
# measure the working tree's skfastgrnn (this folder stays first on the path)
sys.path.insert(1, str(ROOT))
sys.path.append(str(ROOT / "docs" / "tools"))

# the C harness lives with the tests
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

import _blocks  # noqa: E402
from bench_training import make_har  # noqa: E402
from c_harness import harness_source  # noqa: E402

import skfastgrnn  # noqa: E402
from skfastgrnn import FastGRNNClassifier, export_c  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences, make_routing  # noqa: E402

BLOCK = "c-inference"
RESULTS = ROOT / "benchmarks" / "results" / "c_inference.json"
SCRIPT = "benchmarks/bench_c_inference.py"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
VARIANTS = ("fp32", "fp32 pruned 50%", "int8", "int8 pruned 50%")


#: the settings the published tables were measured with (the defaults before the time-series
#: benchmark changed them; rerunning at today's defaults is left for a quiet machine)
MEASURED_WITH = dict(validation_split=0.1, batch_size=32)


def scenarios(quick):
    """(name, X, y, classifier parameters) of each scenario."""
    X_r, y_r = make_routing(4000 if quick else 20000, random_state=0)
    X_d, y_d = load_digits_sequences()
    X_h, y_h = make_har(600 if quick else 3000, seed=0)
    epochs = 3 if quick else None
    return [
        ("routing T=1 D=5 h=16", X_r, y_r, dict(hidden_dim=16, epochs=epochs or 30)),
        ("digits T=8 D=8 h=32", X_d, y_d, dict(hidden_dim=32, n_timesteps=8, l2_reg=3e-3, epochs=epochs or 60)),
        ("HAR-like T=128 D=9 h=16", X_h, y_h, dict(hidden_dim=16, n_timesteps=128, epochs=epochs or 15)),
    ]


def variant(model, kind):
    model = copy.deepcopy(model)
    if "pruned" in kind:
        model[-1].prune(0.5)
    if kind.startswith("int8"):
        model[-1].quantize()
    return model


def compile_model(model, directory):
    report = export_c(model, directory, name="model")
    main = os.path.join(directory, "main.c")
    Path(main).write_text(harness_source("model"))
    exe = os.path.join(directory, "harness")
    subprocess.run(["gcc", *CFLAGS, "-o", exe, main, report["source"], "-lm"], check=True)
    obj = os.path.join(directory, "model.o")
    subprocess.run(["gcc", *CFLAGS, "-c", "-o", obj, report["source"]], check=True)
    return exe, report, section_sizes(obj)


def section_sizes(obj):
    """Bytes of ``.text`` and of every ``.rodata*`` section of an object file."""
    if shutil.which("size") is None:
        return None, None
    out = subprocess.run(["size", "-A", obj], check=True, capture_output=True, text=True).stdout
    text = rodata = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            if parts[0] == ".text":
                text += int(parts[1])
            elif parts[0].startswith(".rodata"):
                rodata += int(parts[1])
    return text, rodata


def run_c(exe, X, directory, repeats=None):
    rows = os.path.join(directory, "rows.f32")
    np.ascontiguousarray(X, dtype=np.float32).tofile(rows)
    args = [exe, rows] + ([str(repeats)] if repeats else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    if repeats:
        return float(out) / 1e3  # microseconds
    table = np.loadtxt(out.splitlines(), ndmin=2)
    return table[:, 0].astype(int), table[:, 1:]


def c_latency(exe, X, directory, budget):
    """Mean microseconds per predict_proba over all rows, repeated; best of 3."""
    probe = run_c(exe, X, directory, repeats=1)
    repeats = max(1, int(budget / max(probe * 1e-6 * len(X), 1e-9)))
    return min(run_c(exe, X, directory, repeats) for _ in range(3))


def per_row_latency(predict, rows, budget):
    """Mean microseconds of ``predict(row)`` over single rows, about ``budget`` seconds a run; best of 3."""
    for row in rows[:20]:  # warm-up, and a probe of the cost of one call
        start = time.perf_counter()
        predict(row)
        probe = time.perf_counter() - start
    n_calls = int(min(5000, max(20, budget / probe)))
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n_calls):
            predict(rows[i % len(rows)])
        best = min(best, (time.perf_counter() - start) / n_calls)
    return best * 1e6


def onnx_session(model):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    proto = skfastgrnn.to_onnx(model)
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def measure(name, model, kind, X_test, y_test, budget):
    directory = tempfile.mkdtemp(prefix="bench_c_")
    try:
        exe, report, (text, rodata) = compile_model(model, directory)
        index, proba = run_c(exe, X_test, directory)
        labels = model[-1].classes_[index]
        py_pred = model.predict(X_test)
        row = {
            "scenario": name,
            "variant": kind,
            "accuracy": float(np.mean(labels == y_test)),
            "py_accuracy": float(np.mean(py_pred == y_test)),
            "agree": float(np.mean(labels == py_pred)),
            "max_dp": float(np.abs(proba - model.predict_proba(X_test)).max()),
            "text": text,
            "rodata": rodata,
            **{
                k: report[k]
                for k in ("weight_bytes", "dense_weight_bytes", "csr_weight_bytes", "scaler_bytes", "state_bytes")
            },
        }
        row["c_us"] = c_latency(exe, X_test, directory, budget)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    rows = [np.ascontiguousarray(X_test[i : i + 1]) for i in range(min(len(X_test), 200))]
    row["py_us"] = per_row_latency(model.predict_proba, rows, budget)
    scaled = [np.ascontiguousarray(model[:-1].transform(r)) for r in rows]
    row["py_clf_us"] = per_row_latency(model[-1].predict_proba, scaled, budget)
    session = onnx_session(model)
    if session is not None:
        rows32 = [r.astype(np.float32) for r in rows]
        row["onnx_us"] = per_row_latency(lambda r: session.run(["probabilities"], {"input": r}), rows32, budget)
    return row


def environment():
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    cpu = platform.processor() or platform.machine()
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        import onnxruntime

        ort = f"onnxruntime {onnxruntime.__version__}"
    except ImportError:
        ort = "onnxruntime not installed"
    load = os.getloadavg()[0]
    return (
        f"{cpu}, {os.cpu_count()} cpus (load average {load:.1f} at the end); python {platform.python_version()}, "
        f"numpy {np.__version__}, skfastgrnn {skfastgrnn.__version__}, {ort}; {gcc}, flags {' '.join(CFLAGS)}; "
        "single-threaded"
    )


def fmt(value, spec="d"):
    return "—" if value is None else format(value, spec)


def tables(results):
    lines = [
        "| scenario | variant | test acc. C (Python) | C = Python | max abs. prob. diff | weights B | "
        "all dense B | all CSR B | scaler B | stack B | .text B | .rodata B |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['variant']} | {r['accuracy']:.4f} ({r['py_accuracy']:.4f}) | "
            f"{100 * r['agree']:.1f}% | {r['max_dp']:.1e} | {r['weight_bytes']} | {r['dense_weight_bytes']} | "
            f"{r['csr_weight_bytes']} | {r['scaler_bytes']} | {r['state_bytes']} | {fmt(r['text'])} | "
            f"{fmt(r['rodata'])} |"
        )
    lines += [
        "",
        "| scenario | variant | C µs/row | Python Pipeline µs/row | Python classifier µs/row | "
        "onnxruntime µs/row | Pipeline / C |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['variant']} | {r['c_us']:.2f} | {r['py_us']:.1f} | {r['py_clf_us']:.1f} | "
            f"{fmt(r.get('onnx_us'), '.1f')} | {r['py_us'] / r['c_us']:.0f}x |"
        )
    return lines


def summary(results):
    """The numbers docs/export.md draws its conclusions from, one bullet each."""
    by_scenario = {}
    for r in results:
        by_scenario.setdefault(r["scenario"], {})[r["variant"]] = r
    agree = min(r["agree"] for r in results)
    worst = max(results, key=lambda r: r["max_dp"])
    cuts = {name: v["fp32"]["weight_bytes"] / v["int8"]["weight_bytes"] for name, v in by_scenario.items()}
    low, high = min(cuts, key=cuts.get), max(cuts, key=cuts.get)
    widest = max(by_scenario, key=lambda name: by_scenario[name]["fp32"]["scaler_bytes"])
    scaler = by_scenario[widest]["fp32"]["scaler_bytes"]
    over = [scaler / r["weight_bytes"] for r in by_scenario[widest].values()]
    fast, slow = min(results, key=lambda r: r["c_us"]), max(results, key=lambda r: r["c_us"])
    speedups = [r["py_us"] / r["c_us"] for r in results]
    return [
        f"- C and Python predict the same class on at least {100 * agree:.1f}% of the test rows in every variant; "
        f"largest probability difference {worst['max_dp']:.1e} ({worst['scenario']}, {worst['variant']}).",
        f"- int8 / fp32 weights: {cuts[low]:.1f}x smaller ({low}) to {cuts[high]:.1f}x ({high}).",
        f"- Scaler of {widest}: {scaler:,} B, {min(over):.0f}-{max(over):.0f}x the network's weights.",
        f"- C per row: {fast['c_us']:.2f} µs ({fast['scenario']}, {fast['variant']}) to {slow['c_us']:.2f} µs "
        f"({slow['scenario']}, {slow['variant']}); the Python Pipeline takes {min(speedups):.0f}-"
        f"{max(speedups):.0f}x longer per row.",
    ]


def render(doc):
    lines = [
        f"<!-- generated by `python {SCRIPT} --doc docs/export.md` from "
        f"benchmarks/results/{RESULTS.name}: do not edit by hand -->",
        "",
        f"Machine: {doc['environment']}." + (" Quick run (small data, 3 epochs)." if doc["quick"] else ""),
        "",
        *tables(doc["rows"]),
        "",
        *summary(doc["rows"]),
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, 3 epochs, short timings (JSON with --json)")
    _blocks.add_block_arguments(parser, RESULTS)
    args = parser.parse_args(argv)
    status = _blocks.render_or_check(args, BLOCK, render, SCRIPT)
    if status is not None:
        return status
    if shutil.which("gcc") is None:
        sys.exit("bench_c_inference.py needs gcc on PATH")
    if args.quick and args.json == RESULTS:
        args.json = Path(tempfile.mkdtemp()) / RESULTS.name  # a smoke run never replaces the committed results
    budget = 0.05 if args.quick else 0.4  # seconds per timing run
    results = []
    for name, X, y, params in scenarios(args.quick):
        X = X.astype(np.float32).astype(np.float64)  # the C model reads float32
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_pipeline(
                StandardScaler(), FastGRNNClassifier(random_state=0, **{**MEASURED_WITH, **params})
            ).fit(X_tr, y_tr)
        for kind in VARIANTS:
            results.append(measure(name, variant(model, kind), kind, X_te, y_te, budget))
            print(f"  measured {name} / {kind}", file=sys.stderr, flush=True)
    doc = {
        "command": f"python {SCRIPT} --doc docs/export.md",
        "environment": environment(),
        "measured_with": MEASURED_WITH,
        "quick": args.quick,
        "rows": results,
    }
    _blocks.finish_run(args, BLOCK, render, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
