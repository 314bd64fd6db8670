"""Peak memory of ``predict_proba`` / ``predict`` on 1,000,000 rows, against input and output.

``predict_logits`` (``skfastgrnn/_train.py``) runs the network over chunks of
``_CHUNK_ELEMENTS // (T * hidden * n_blocks)`` rows, so the activations of the
whole input (for T=8, hidden 16: about 7 GB in float64) never exist at once.
This script checks that claim on 1,000,000 rows in two shapes:

- ``T=8, D=8``: a digits-shaped model (10 classes), 8 timesteps of 8 features;
- ``T=1, D=5``: a routing-shaped model (2 classes), one step of 5 features.

Each measurement runs in a fresh subprocess, so that its numbers are its own:

- **tracemalloc peak**: the largest amount of memory numpy and Python held at
  once during the call, above what was held before it (numpy reports its
  buffers to tracemalloc); the returned output is part of it.
- **RSS growth**: the process's peak resident size after the call
  (``resource.getrusage(...).ru_maxrss``) minus its resident size just before
  it (``/proc/self/statm``); the input is built in place, so that the peak
  before the call is the current size and the growth is the call's own.

"working set" is the tracemalloc peak minus the output: what prediction needs
besides its result. For comparison the script also measures, on 50,000 rows,
the tracemalloc peak with chunking switched off (``_CHUNK_ELEMENTS`` made
huge) and scales it to 1,000,000 rows: what an unchunked forward pass would need.

Usage (from the repository root; about a minute, most of it building inputs)::

    python benchmarks/bench_predict_memory.py --doc docs/dask.md     # run, write the JSON and the block
    python benchmarks/bench_predict_memory.py --check docs/dask.md   # no run: the block is the JSON's
    python benchmarks/bench_predict_memory.py --rows 200000 --json /tmp/smoke.json

The results go to ``benchmarks/results/predict_memory.json``; the block of
docs/dask.md between ``<!-- predict-memory:start -->`` and
``<!-- predict-memory:end -->`` is rendered from it.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# measure the working tree's skfastgrnn
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "tools"))

import _blocks  # noqa: E402

import skfastgrnn._train as _train  # noqa: E402
from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn._cells import softmax  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences, make_routing  # noqa: E402

#: name -> (n_timesteps, features per step, hidden units, how to get training data)
SCENARIOS = {
    "T=8, D=8": (8, 8, 16, load_digits_sequences),
    "T=1, D=5": (1, 5, 16, lambda: make_routing(2000, random_state=0)),
}
MB = 1e6
BLOCK = "predict-memory"
RESULTS = ROOT / "benchmarks" / "results" / "predict_memory.json"
SCRIPT = "benchmarks/bench_predict_memory.py"


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _model(scenario, dtype):
    T, D, hidden, load = SCENARIOS[scenario]
    X, y = load()
    with warnings.catch_warnings():
        # two epochs are enough: memory does not depend on the weights' values
        warnings.simplefilter("ignore")
        return FastGRNNClassifier(hidden, n_timesteps=T, epochs=2, random_state=0).fit(X.astype(dtype), y)


def _input(n_rows, width, dtype, memmap_dir=None):
    # filled in place (or chunk by chunk into the file): no temporary, so the
    # process's peak RSS before the call is its current RSS and ru_maxrss
    # measures the call alone
    rng = np.random.default_rng(0)
    if memmap_dir is None:
        X = np.empty((n_rows, width), dtype=dtype)
        rng.standard_normal(out=X, dtype=X.dtype)
        return X
    path = Path(memmap_dir) / "X.dat"
    X = np.memmap(path, dtype=dtype, mode="w+", shape=(n_rows, width))
    for start in range(0, n_rows, 65536):
        rng.standard_normal(out=X[start : start + 65536], dtype=X.dtype)
    X.flush()
    del X
    return np.memmap(path, dtype=dtype, mode="r", shape=(n_rows, width))


def _traced_peak(call):
    """``(result, peak bytes held at once during call() above what was held before)``."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = call()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return result, peak


def child(scenario, method, n_rows, model_dtype, input_kind, unchunked):
    """Run one measurement; print a JSON line."""
    model = _model(scenario, model_dtype)
    with tempfile.TemporaryDirectory() as tmp:
        memmap_dir = tmp if input_kind == "memmap" else None
        input_dtype = model_dtype if input_kind == "memmap" else input_kind
        X = _input(n_rows, model.n_features_in_, input_dtype, memmap_dir)
        print(json.dumps(_measure_call(model, method, X, scenario, unchunked)))
        del X


def _measure_call(model, method, X, scenario, unchunked):
    if unchunked:
        _train._CHUNK_ELEMENTS = 2**62
    predict = getattr(model, method)
    predict(X[:10])  # import-time and first-call allocations out of the way

    rss_before, maxrss_before = _rss_bytes(), _maxrss_bytes()
    start = time.perf_counter()
    out = predict(X)
    seconds = time.perf_counter() - start
    rss_growth = _maxrss_bytes() - rss_before
    del out
    out, peak = _traced_peak(lambda: predict(X))

    T, _, hidden, _ = SCENARIOS[scenario]
    n_blocks = model.network_.layout.cell.n_blocks
    result = {
        "input_bytes": X.nbytes,
        "output_bytes": out.nbytes,
        "tracemalloc_peak": peak,
        "rss_growth": rss_growth,
        # ru_maxrss cannot see below an earlier peak: then the growth is a lower bound
        "rss_lower_bound": maxrss_before > rss_before,
        "seconds": seconds,
        "chunk_rows": max(1, _train._CHUNK_ELEMENTS // (T * hidden * n_blocks)),
    }
    if method == "predict_proba" and not unchunked:
        # where the working set goes: predict_proba's steps one at a time
        # (skfastgrnn/_estimator.py: _is_clean_array, _logits, then softmax)
        result["finite_check"] = _traced_peak(lambda: model._is_clean_array(X, model.n_timesteps_))[1]
        logits, logits_peak = _traced_peak(lambda: model._logits(X))
        result["logits_bytes"] = logits.nbytes
        result["chunk_working_set"] = logits_peak - logits.nbytes
        # in place, as predict_proba does: only row-sized temporaries remain
        result["softmax_peak"] = _traced_peak(lambda: softmax(logits, out=logits))[1]
    return result


def measure(scenario, method, n_rows, model_dtype="float64", input_kind="float64", unchunked=False):
    """Run :func:`child` in a fresh interpreter and return its numbers.

    ``input_kind``: the dtype of an in-memory input, or ``"memmap"`` for a
    read-only ``np.memmap`` of the model's dtype in a temporary file.
    """
    cmd = [sys.executable, __file__, "--child", scenario, method, str(n_rows), model_dtype, input_kind]
    if unchunked:
        cmd.append("--unchunked")
    # one BLAS thread: the numbers then do not depend on the machine's cores
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--unchunked", action="store_true", help=argparse.SUPPRESS)
    _blocks.add_block_arguments(parser, RESULTS)
    args = parser.parse_args(argv)
    status = _blocks.render_or_check(args, BLOCK, render, SCRIPT)
    if status is not None:
        return status
    if args.child:
        scenario, method, n_rows, model_dtype, input_kind = args.child
        child(scenario, method, int(n_rows), model_dtype, input_kind, args.unchunked)
        return

    small = 50_000
    cases = [(s, m, "float64") for s in SCENARIOS for m in ("predict_proba", "predict")]
    # a float32 input to a float64 model: validate_data converts all of it
    cases.append(("T=8, D=8", "predict_proba", "float32"))
    # an input on disk, larger than one wants to load: read chunk by chunk
    cases.append(("T=8, D=8", "predict_proba", "memmap"))
    rows = []
    for scenario, method, input_kind in cases:
        r = measure(scenario, method, args.rows, input_kind=input_kind)
        u = measure(scenario, method, small, input_kind=input_kind, unchunked=True)
        label = scenario if input_kind == "float64" else f"{scenario}, {input_kind} input"
        unchunked = (u["tracemalloc_peak"] - u["output_bytes"]) * args.rows / small
        rows.append({"input": label, "call": method, **r, "unchunked_scaled_bytes": unchunked})
        print(f"  measured {label} / {method}", file=sys.stderr, flush=True)
    doc = {
        "command": f"python {SCRIPT} --doc docs/dask.md",
        "environment": f"numpy {np.__version__}, {args.rows:,} rows, hidden 16, float64 model, 1 BLAS thread",
        "rows": rows,
    }
    _blocks.finish_run(args, BLOCK, render, doc)
    return 0


def render(doc):
    lines = [
        f"<!-- generated by `python {SCRIPT} --doc docs/dask.md` from "
        f"benchmarks/results/{RESULTS.name}: do not edit by hand -->",
        "",
        doc["environment"],
        "",
        "| input | call | input MB | output MB | tracemalloc peak MB | working set MB (peak - output) "
        "| RSS growth MB | seconds | rows per chunk | unchunked working set, scaled MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        rss = f"{'>= ' if r['rss_lower_bound'] else ''}{r['rss_growth'] / MB:.0f}"
        lines.append(
            f"| {r['input']} | {r['call']} | {r['input_bytes'] / MB:.0f} | {r['output_bytes'] / MB:.0f} "
            f"| {r['tracemalloc_peak'] / MB:.0f} | {(r['tracemalloc_peak'] - r['output_bytes']) / MB:.0f} "
            f"| {rss} | {r['seconds']:.2f} | {r['chunk_rows']:,} | {r['unchunked_scaled_bytes'] / MB:,.0f} |"
        )
    lines += [
        "",
        "Where predict_proba's memory goes, step by step (tracemalloc peak of each step alone, MB):",
        "",
        "| input | `_is_clean_array` (finiteness check) | `_logits`: logits (kept) "
        "| `_logits`: the rest (input conversion, if any, + one chunk's activations) "
        "| `softmax` of the logits, in place (row temporaries) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        if "finite_check" in r:
            lines.append(
                f"| {r['input']} | {r['finite_check'] / MB:.1f} | {r['logits_bytes'] / MB:.1f} "
                f"| {r['chunk_working_set'] / MB:.1f} | {r['softmax_peak'] / MB:.1f} |"
            )
    working = [(r["tracemalloc_peak"] - r["output_bytes"]) / MB for r in doc["rows"] if r["input"].endswith("D=5")]
    working += [
        (r["tracemalloc_peak"] - r["output_bytes"]) / MB
        for r in doc["rows"]
        if r["input"] in ("T=8, D=8", "T=8, D=8, memmap input")
    ]
    unchunked = {r["input"]: r["unchunked_scaled_bytes"] / 1e9 for r in doc["rows"] if r["call"] == "predict_proba"}
    lines += [
        "",
        f"- Working set with the model's dtype: {min(working):.0f}-{max(working):.0f} MB; an unchunked forward "
        f"pass: {unchunked['T=8, D=8']:.1f} GB (T=8), {unchunked['T=1, D=5']:.1f} GB (T=1).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
