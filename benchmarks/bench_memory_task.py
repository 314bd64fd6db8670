"""First-of-30-steps memory task with the classifier's defaults, over 5 seeds.

The label is the sign of the FIRST of 30 steps of Gaussian noise: only a cell
whose gradient flows back through all 29 later steps learns it. Each seed draws
its own training (2,000 rows) and test (1,000 rows) sets and seeds the model;
the model is ``FastGRNNClassifier(n_timesteps=30, random_state=seed)`` with
every other parameter at its default (read from the class, never repeated
here). Target: test accuracy >= 0.95 on 5 of 5 seeds.

Run from the repository root::

    python benchmarks/bench_memory_task.py                 # prints the table
    python benchmarks/bench_memory_task.py --readme README.md
    python benchmarks/bench_memory_task.py --check README.md   # fast: re-renders from the JSON

The results go to ``benchmarks/results/memory_task.json``; ``--readme`` renders
the block between ``<!-- memory:start -->`` and ``<!-- memory:end -->`` from
that file, and ``--check`` fails when the block differs from it.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "tools"))

from _blocks import replace_block  # noqa: E402

START, END = "<!-- memory:start -->", "<!-- memory:end -->"
RESULTS = ROOT / "benchmarks" / "results" / "memory_task.json"
T, N_TRAIN, N_TEST = 30, 2000, 1000


def first_step_task(n, seed):
    """``(X, y)``: ``n`` rows of ``T`` noise steps, label = sign of the first step."""
    X = np.random.RandomState(seed).standard_normal((n, T))
    return X, (X[:, 0] > 0).astype(int)


def run(seeds):
    from skfastgrnn import FastGRNNClassifier

    rows = []
    for seed in range(seeds):
        X, y = first_step_task(N_TRAIN, 2 * seed)
        X_test, y_test = first_step_task(N_TEST, 2 * seed + 1)
        model = FastGRNNClassifier(n_timesteps=T, random_state=seed)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "seed": seed,
                "accuracy": float(model.score(X_test, y_test)),
                "epochs_run": int(model.n_iter_),
                "best_epoch": int(model.best_epoch_),
                "seconds": round(seconds, 2),
                "warnings": sorted({type(w.message).__name__ for w in caught}),
            }
        )
        print(f"seed {seed}: {rows[-1]}", file=sys.stderr, flush=True)
    params = FastGRNNClassifier(n_timesteps=T).get_params()
    return {"task": f"first of {T} steps, {N_TRAIN} training rows", "params": params, "seeds": rows}


def render(results):
    lines = [
        f"First-of-{T}-steps memory task (label = sign of the first of {T} noise steps; {N_TRAIN} training and "
        f"{N_TEST} test rows per seed), `FastGRNNClassifier(n_timesteps={T}, random_state=seed)` with every other "
        "parameter at its default:",
        "",
        "| seed | test accuracy | epochs run | best epoch | warnings |",
        "|---:|---:|---:|---:|---|",
    ]
    for r in results["seeds"]:
        lines.append(
            f"| {r['seed']} | {r['accuracy']:.4f} | {r['epochs_run']} | {r['best_epoch']} | "
            f"{', '.join(r['warnings']) or 'none'} |"
        )
    accs = [r["accuracy"] for r in results["seeds"]]
    passed = sum(a >= 0.95 for a in accs)
    verdict = "PASS" if passed == len(accs) else "MISS"
    lines += ["", f"- {verdict}: accuracy >= 0.95 on {passed} of {len(accs)} seeds (min {min(accs):.4f})"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=RESULTS, help="results file (written by a run, read by --check)")
    parser.add_argument("--readme", type=Path, help="run, then rewrite the marked block of this file")
    parser.add_argument("--check", type=Path, help="no training: fail if this file's block differs from the JSON")
    args = parser.parse_args(argv)
    if args.check:
        results = json.loads(args.json.read_text())
        text = args.check.read_text()
        expected = replace_block(text, START, END, render(results), where=str(args.check))
        if expected != text:
            print(f"{args.check}: the memory-task block differs from {args.json}; rerun with --readme", file=sys.stderr)
            return 1
        return 0
    results = run(args.seeds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(render(results))
    if args.readme:
        args.readme.write_text(
            replace_block(args.readme.read_text(), START, END, render(results), where=str(args.readme))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
