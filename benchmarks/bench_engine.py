"""The training engine near the machine's limit (issue 16): FLOPs, malloc settings, memory, batch size.

Single-threaded, one process (subprocesses only for the ``MALLOC_TRIM_THRESHOLD_``
runs). Measured here:

1. samples/s of skfastgrnn on the three timed scenarios of ``bench_training.py`` (the
   same data and recipe: hidden 16, batch 128, 1 / 8 / 128 steps; 128 steps run as 32
   folded steps with ``fold="auto"``) and the fraction of this core's arithmetic limit it
   reaches: FLOPs per sample (forward + loss + backward + Adam, counted by
   :func:`flops_per_sample`) x samples/s over the float32 matrix-product GFLOP/s
   measured in the same run;
2. ``MALLOC_TRIM_THRESHOLD_=65536`` (what dask workers set) at 128 steps: the fit's
   time in a subprocess with the variable set over one without [target <= 1.15x];
3. training memory per row: the ``tracemalloc`` peak of ``fit`` on 200,000 and
   1,000,000 float32 rows of one step (5 features, batch 128, other settings default),
   per extra row, on top of the data [target <= 12 bytes];
4. the batch-size trade-off at one step (routing data, 100,000 rows, hidden 16,
   defaults otherwise, 10 epochs, 3 seeds): seconds per epoch and test accuracy for
   batch 32 (the default), 128, 256 and 512 -> the user guide's block.

Usage (from the repository root)::

    python benchmarks/bench_engine.py --readme README.md --guide docs/user_guide.md   # ~2 minutes
    python benchmarks/bench_engine.py --check README.md           # no run: README's engine block
    python benchmarks/bench_engine.py --check docs/user_guide.md  # no run: the guide's batch-size block
    python benchmarks/bench_engine.py --quick                     # smoke run (results not saved)

Results: ``benchmarks/results/engine.json``; README.md's block between
``<!-- engine:start -->`` and ``<!-- engine:end -->``, the user guide's between
``<!-- batchsize:start -->`` and ``<!-- batchsize:end -->``.
"""

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
# the default install's numpy engine, unless a row names the compiled one (``timed_fit``)
os.environ["SKFASTGRNN_ENGINE"] = "numpy"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))
sys.path.append(str(ROOT / "docs" / "tools"))

import _blocks  # noqa: E402
import bench_training  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "engine.json"
SCRIPT = "benchmarks/bench_engine.py"
ENGINE_BLOCK, BATCH_BLOCK = "engine", "batchsize"
MALLOC_VAR = "MALLOC_TRIM_THRESHOLD_"
MALLOC_LIMIT, BYTES_LIMIT = 1.15, 12.0
BATCH_SIZES = (32, 128, 256, 512)


# ----------------------------------------------------------------------------- FLOPs


def matmul_gflops(dtype, n=1024, repeats=5):
    """Best GFLOP/s of an ``n x n`` matrix product in ``dtype`` (this core's practical arithmetic limit)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    np.matmul(a, b, out=out)
    best = min(_seconds(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2.0 * n**3 / best / 1e9


def _seconds(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def flops_per_sample(n_steps, n_inputs, hidden, n_outputs, n_parameters, batch_size):
    """Floating-point operations of one sample's training step in the FastGRNN cell.

    Matrix products count ``2 m n k``: the input projection and its weight
    gradient (``4 T D H``), the recurrent product, the state gradient through U
    and U's gradient (``6 (T - 1) H^2``: h_0 = 0 needs none), the head forward and
    its two gradients (``6 H K``). Elementwise work counts 30 operations per hidden
    unit and step (bias adds, gate and candidate nonlinearities, the state update
    and their derivatives; a tanh counts 1) and 10 per class for the loss. Adam
    costs 12 operations per parameter and batch.
    """
    T, D, H, K = n_steps, n_inputs, hidden, n_outputs
    products = 4 * T * D * H + 6 * (T - 1) * H * H + 6 * H * K
    return products + 30 * T * H + 10 * K + 12 * n_parameters / batch_size


def engine_rows(quick):
    """samples/s, FLOPs per sample and the fraction of the float32 limit, per bench_training scenario and engine.

    Each scenario runs on the default install's numpy path and, when numba
    is installed, on the compiled engine (``bench_training.OURS_KERNEL``).
    """
    peak = {"float32": matmul_gflops(np.float32), "float64": matmul_gflops(np.float64)}
    print(f"matrix product: float32 {peak['float32']:.1f} GFLOP/s, float64 {peak['float64']:.1f} GFLOP/s", flush=True)
    systems = [s for s in (bench_training.OURS, bench_training.OURS_KERNEL) if s in bench_training.SYSTEMS]
    rows = []
    for sc in bench_training.build_scenarios(quick)[:3]:
        for system in systems:
            bench_training.timed_fit(system, replace(sc, X_train=sc.X_train[:512], y_train=sc.y_train[:512]))
        best = dict.fromkeys(systems, np.inf)
        for _ in range(sc.repeats):  # interleaved: load changes hit both engines alike
            for system in systems:
                best[system] = min(best[system], bench_training.timed_fit(system, sc)[1])
        model = bench_training.timed_fit(bench_training.OURS, replace(sc, epochs=1))[0]
        net = model.network_
        steps = sc.n_timesteps // model.fold_ + (sc.n_timesteps % model.fold_ > 0)
        inputs = net.n_step_features * model.fold_  # a folded step reads fold steps' features
        flops = flops_per_sample(
            steps, inputs, sc.hidden, len(model.classes_), net.parameters.size, bench_training.BATCH_SIZE
        )
        for system in systems:
            speed = len(sc.y_train) * sc.epochs / best[system]
            gflops = flops * speed / 1e9
            rows.append(
                {
                    "scenario": sc.name,
                    "engine": "numba" if system == bench_training.OURS_KERNEL else "numpy",
                    "steps": steps,
                    "inputs_per_step": int(inputs),
                    "samples_per_second": speed,
                    "flops_per_sample": flops,
                    "gflops": gflops,
                    "fraction_of_limit": gflops / peak["float32"],
                }
            )
            print(f"... {sc.name} ({rows[-1]['engine']}): {speed:,.0f} samples/s, {gflops:.2f} GFLOP/s", flush=True)
    return peak, rows


# ----------------------------------------------------------------------------- malloc


def _child_fit(quick):
    """In a subprocess: best fit seconds of the 128-step scenario and the page faults of one fit."""
    import resource

    sc = bench_training.build_scenarios(quick)[2]
    bench_training.timed_fit(bench_training.OURS, replace(sc, X_train=sc.X_train[:256], y_train=sc.y_train[:256]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    seconds = [bench_training.timed_fit(bench_training.OURS, sc)[1]]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    seconds += [bench_training.timed_fit(bench_training.OURS, sc)[1] for _ in range(2)]
    return {"seconds": min(seconds), "page_faults": faults}


def malloc_comparison(quick, rounds=5):
    """Fit seconds (and page faults) of the 128-step scenario without and with ``MALLOC_TRIM_THRESHOLD_=65536``.

    Each setting runs in its own subprocesses, alternating, ``rounds`` times;
    the best time of each counts.
    """
    runs = {"default": [], "trim": []}
    for _ in range(rounds):
        for key in runs:
            env = {k: v for k, v in os.environ.items() if k != MALLOC_VAR}
            if key == "trim":
                env[MALLOC_VAR] = "65536"
            cmd = [sys.executable, __file__, "--child-malloc"] + (["--quick"] if quick else [])
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            runs[key].append(json.loads(out.strip().splitlines()[-1]))
    default, trim = (min(r["seconds"] for r in runs[key]) for key in ("default", "trim"))
    return {
        "default_seconds": default,
        "trim_seconds": trim,
        "ratio": trim / default,
        "default_page_faults": min(r["page_faults"] for r in runs["default"]),
        "trim_page_faults": min(r["page_faults"] for r in runs["trim"]),
    }


# ----------------------------------------------------------------------------- memory


def training_bytes_per_row(sizes=(200_000, 1_000_000)):
    """Peak bytes allocated (tracemalloc) per extra row of one step, on top of the data.

    Two peaks per size: of the training loop (``TrainingLoop.run``: from its
    start, what the target is about) and of the whole ``fit`` (also the label
    encoding and the input checks before the loop).
    """
    from skfastgrnn import FastGRNNClassifier, _train

    run = _train.TrainingLoop.run
    loop_peaks, fit_peaks, before_loop = [], [], []

    def measured_run(self, *args, **kwargs):
        before_loop.append(tracemalloc.get_traced_memory()[1])  # the fit's peak so far
        tracemalloc.reset_peak()
        result = run(self, *args, **kwargs)
        loop_peaks.append(tracemalloc.get_traced_memory()[1])
        return result

    _train.TrainingLoop.run = measured_run
    try:
        for n in sizes:
            X, y = bench_training.make_routing(n, bench_training.SEED)
            model = FastGRNNClassifier(hidden_dim=16, epochs=1, batch_size=128, random_state=0)
            tracemalloc.start()
            model.fit(X, y)
            fit_peaks.append(max(before_loop[-1], tracemalloc.get_traced_memory()[1]))
            tracemalloc.stop()
            del X, y
    finally:
        _train.TrainingLoop.run = run
    extra = sizes[1] - sizes[0]
    return {
        "rows": list(sizes),
        "bytes_per_row": (loop_peaks[1] - loop_peaks[0]) / extra,
        "fit_bytes_per_row": (fit_peaks[1] - fit_peaks[0]) / extra,
        "data_bytes_per_row": 5 * 4,  # the rows themselves: 5 float32 features
    }


# ----------------------------------------------------------------------------- batch size


def batch_size_study(quick):
    """Seconds per epoch and test accuracy per batch size at one step (routing data, 3 seeds)."""
    from skfastgrnn import FastGRNNClassifier

    n = 20_000 if quick else 100_000
    epochs, seeds = (2, (0,)) if quick else (10, (0, 1, 2))
    X, y = bench_training.make_routing(n + n // 5, bench_training.SEED)
    X_tr, y_tr, X_te, y_te = X[:n], y[:n], X[n:], y[n:]
    results = []
    for batch in BATCH_SIZES:
        seconds, accuracies = [], []
        for seed in seeds:
            model = FastGRNNClassifier(hidden_dim=16, batch_size=batch, epochs=epochs, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seconds.append(_seconds(lambda model=model: model.fit(X_tr, y_tr)) / epochs)
            accuracies.append(model.score(X_te, y_te))
        results.append(
            {
                "batch_size": batch,
                "epoch_seconds": float(np.median(seconds)),
                "accuracy_mean": float(np.mean(accuracies)),
                "accuracy_min": float(np.min(accuracies)),
                "accuracy_max": float(np.max(accuracies)),
            }
        )
        print(f"... batch {batch}: {results[-1]['epoch_seconds']:.3f} s/epoch, accuracy {np.mean(accuracies):.4f}")
    return {"rows": n, "epochs": epochs, "seeds": len(seeds), "results": results}


# ----------------------------------------------------------------------------- report


def render_engine(doc):
    """README's engine block: FLOP fraction per scenario, the malloc ratio, bytes per row, the targets."""
    mode = "quick (reduced sizes; indicative only)" if doc["quick"] else "full"
    peak = doc["matmul_gflops"]
    lines = [
        f"#### Training engine ({mode}; `python {SCRIPT} --readme README.md`)",
        "",
        f"Arithmetic limit of this core (one thread, n = 1024 matrix product): float32 {peak['float32']:.1f} GFLOP/s,"
        f" float64 {peak['float64']:.1f} GFLOP/s. FLOPs per sample count forward, loss, backward and Adam"
        " (`flops_per_sample` in the script).",
        "",
        "| scenario | engine | steps x inputs | samples/s | FLOPs/sample | GFLOP/s | of the float32 limit |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in doc["scenarios"]:
        engine = {"numpy": "numpy (default)", "numba": "numba (`[fast]`)"}[r.get("engine", "numpy")]
        lines.append(
            f"| {r['scenario']} | {engine} | {r['steps']} x {r['inputs_per_step']} | {r['samples_per_second']:,.0f} "
            f"| {r['flops_per_sample']:,.0f} | {r['gflops']:.2f} | 1/{1 / r['fraction_of_limit']:.0f} |"
        )
    m, b = doc["malloc"], doc["memory"]
    lines += [
        "",
        f"- `{MALLOC_VAR}=65536` at 128 steps: {m['trim_seconds']:.3f} s vs {m['default_seconds']:.3f} s"
        f" without, {m['ratio']:.2f}x ({'PASS' if m['ratio'] <= MALLOC_LIMIT else 'MISS'}: <= {MALLOC_LIMIT}x);"
        f" page faults of one fit {m['trim_page_faults']:,} vs {m['default_page_faults']:,}",
        f"- training memory beyond the data ({b['data_bytes_per_row']} bytes a row), one step, "
        f"{b['rows'][0]:,} -> {b['rows'][1]:,} rows: {b['bytes_per_row']:.1f} bytes per row while the loop runs "
        f"({'PASS' if b['bytes_per_row'] <= BYTES_LIMIT else 'MISS'}: <= {BYTES_LIMIT:g}); "
        f"{b['fit_bytes_per_row']:.1f} over the whole fit (label encoding and input checks included)",
    ]
    return "\n".join(lines)


def render_batch(doc):
    """The user guide's batch-size block."""
    s = doc["batch_size"]
    base = next(r for r in s["results"] if r["batch_size"] == 128)
    lines = [
        f"| batch_size | seconds per epoch | faster than 128 | test accuracy (mean of {s['seeds']}) | min | max |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in s["results"]:
        lines.append(
            f"| {r['batch_size']} | {r['epoch_seconds']:.3f} | {base['epoch_seconds'] / r['epoch_seconds']:.2f}x "
            f"| {r['accuracy_mean']:.4f} | {r['accuracy_min']:.4f} | {r['accuracy_max']:.4f} |"
        )
    mode = "quick, indicative only" if doc["quick"] else "full"
    lines += [
        "",
        f"Routing data, one step, {s['rows']:,} training rows, hidden 16, {s['epochs']} epochs, defaults otherwise"
        f" ({mode} run of `python {SCRIPT} --guide docs/user_guide.md`).",
    ]
    return "\n".join(lines)


def _block_of_page(path):
    """The block this script writes in ``path`` and its renderer."""
    text = Path(path).read_text()
    if _blocks.markers(BATCH_BLOCK)[0] in text:
        return BATCH_BLOCK, render_batch
    return ENGINE_BLOCK, render_engine


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run (results not saved)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS.name})")
    parser.add_argument("--readme", type=Path, metavar="PATH", help="run, then rewrite PATH's engine block")
    parser.add_argument("--guide", type=Path, metavar="PATH", help="run, then rewrite PATH's batch-size block")
    parser.add_argument("--check", type=Path, metavar="PATH", help="no run: exit 1 if PATH's block differs")
    parser.add_argument("--render", action="store_true", help="no run: rewrite --readme / --guide from the JSON")
    parser.add_argument("--child-malloc", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the measurements (or only render / check a block)."""
    args = parse_args(argv)
    if args.child_malloc:
        print(json.dumps(_child_fit(args.quick)))
        return 0
    if args.check:
        name, render = _block_of_page(args.check)
        refresh = f"python {SCRIPT} --render --{'guide' if name == BATCH_BLOCK else 'readme'} {args.check}"
        return _blocks.check_block(args.check, name, render(_blocks.load_results(args.json)), refresh)
    if args.render:
        doc = _blocks.load_results(args.json)
    else:
        if args.quick and args.json == RESULTS:
            args.json = Path(tempfile.mkdtemp()) / RESULTS.name  # a smoke run never replaces the results
        peak, scenarios = engine_rows(args.quick)
        doc = {
            "command": f"python {SCRIPT} --readme README.md --guide docs/user_guide.md",
            "quick": args.quick,
            "environment": bench_training.environment_lines(),
            "matmul_gflops": peak,
            "scenarios": scenarios,
            "malloc": malloc_comparison(args.quick),
            "memory": training_bytes_per_row((20_000, 100_000) if args.quick else (200_000, 1_000_000)),
            "batch_size": batch_size_study(args.quick),
        }
        _blocks.save_results(args.json, doc)
        doc = _blocks.load_results(args.json)
        print(render_engine(doc) + "\n\n" + render_batch(doc))
    if args.readme:
        _blocks.write_block(args.readme, ENGINE_BLOCK, render_engine(doc))
    if args.guide:
        _blocks.write_block(args.guide, BATCH_BLOCK, render_batch(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
