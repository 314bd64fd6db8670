"""Speed-up of a grid search on a dask cluster: 2 workers against 1.

A ``GridSearchCV`` over a ``Pipeline(StandardScaler, FastGRNNClassifier)`` on
the digits read as 8 timesteps of 8 pixels (6 candidates x 3 folds = 18 fits,
then one refit in the calling process) runs in these setups:

- ``sequential``: scikit-learn's default joblib backend, ``n_jobs=None``: the
  fits one after another in this process;
- ``loky``: the default backend with ``n_jobs=2`` (joblib's own two worker
  processes, no dask): what two processes get on this machine without dask;
- ``dask 1 worker`` / ``dask 2 workers``: under ``joblib.parallel_backend("dask")``
  on a ``dask.distributed.LocalCluster`` of that many worker processes, one
  thread each, on loopback, with dask's default configuration. With one thread
  in the whole cluster joblib sees ``n_jobs=1`` and runs the fits in the calling
  process, not on the worker (the "workers busy" column shows it);
- ``dask 2 workers, malloc trim unset``: the same, created under
  ``dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})``.
  By default dask's nanny starts every worker with
  ``MALLOC_TRIM_THRESHOLD_=65536``, so that glibc returns freed memory to the
  system at once; a fit allocates and frees its per-batch arrays thousands of
  times, and each allocation then faults its pages in again: measured, a fit
  takes about twice as long in such a worker.

Every setup runs single-threaded BLAS (``OMP/OPENBLAS/MKL_NUM_THREADS=1``, which
dask's nanny also sets in its workers), so that a worker is one core. The time
is the wall clock of ``search.fit`` (the clusters' start excluded), best of
``--repeat`` runs, the setups interleaved in every repetition so that a change
of load on a shared machine hits them alike. The script checks that every setup
gives the same cross-validation scores and best parameters as the sequential
one, and renders a markdown table with the machine's load average.

Usage (from the repository root; about a minute and a half, on an otherwise idle machine)::

    python benchmarks/bench_dask_grid.py --doc docs/dask.md     # run, write the JSON and the block
    python benchmarks/bench_dask_grid.py --check docs/dask.md   # no run: the block is the JSON's
    python benchmarks/bench_dask_grid.py --epochs 10 --repeat 1 --json /tmp/smoke.json   # smoke run

The results go to ``benchmarks/results/dask_grid.json``; the block of docs/dask.md
between ``<!-- dask-grid:start -->`` and ``<!-- dask-grid:end -->`` is rendered from it.
"""

import os

# before numpy is imported: one BLAS thread, so that one process is one core
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
# the default install's numpy engine (workers inherit it), also where numba is installed
os.environ["SKFASTGRNN_ENGINE"] = "numpy"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the working tree's skfastgrnn
sys.path.insert(0, str(ROOT / "docs" / "tools"))

import _blocks  # noqa: E402
import dask  # noqa: E402
import dask_ml  # noqa: E402
import distributed  # noqa: E402
import joblib  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from dask.distributed import Client, LocalCluster, get_task_stream  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences  # noqa: E402

BLOCK = "dask-grid"
RESULTS = ROOT / "benchmarks" / "results" / "dask_grid.json"
SCRIPT = "benchmarks/bench_dask_grid.py"
GRID = {
    "fastgrnnclassifier__hidden_dim": [16, 32],
    "fastgrnnclassifier__learning_rate": [0.005, 0.01, 0.03],
}
CV = 3
#: the dask config key that unsets the variable in the workers (None removes it)
NO_MALLOC_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def make_search(epochs):
    """The search every setup runs (random_state everywhere: identical results)."""
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(n_timesteps=8, epochs=epochs, random_state=0))
    return GridSearchCV(model, GRID, cv=CV)


def fit_once(epochs, X, y, n_jobs=None, client=None):
    """Time one ``search.fit``, on ``client``'s cluster when given.

    Returns
    -------
    seconds : float
        Wall clock of the fit.
    search : GridSearchCV
    worker_seconds : float or None
        Seconds the dask workers spent computing (None without dask): tells
        idle workers from slow fits.
    """
    search = make_search(epochs).set_params(n_jobs=n_jobs)
    worker_seconds = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
        start = time.perf_counter()
        if client is None:
            search.fit(X, y)
        else:
            with get_task_stream(client) as tasks, joblib.parallel_backend("dask", client=client):
                search.fit(X, y)
            worker_seconds = sum(
                s["stop"] - s["start"] for t in tasks.data for s in t["startstops"] if s["action"] == "compute"
            )
        return time.perf_counter() - start, search, worker_seconds


def _scores(search):
    return np.array([search.cv_results_[f"split{i}_test_score"] for i in range(CV)])


def _cluster(stack, n_workers, config):
    """A LocalCluster and its Client, closed with ``stack``; and the seconds it took to start."""
    start = time.perf_counter()
    environ = dict(os.environ)
    # the nanny reads pre-spawn-environ when it is created: the config must be set then
    with dask.config.set(config):
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
            )
        )
    # a LocalCluster's nannies write pre-spawn-environ into THIS process's
    # os.environ (distributed 2026.8), where every process started later (the
    # next cluster's workers, loky's workers) would inherit it: undo that
    os.environ.clear()
    os.environ.update(environ)
    client = stack.enter_context(Client(cluster, set_as_default=False))
    return client, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    _blocks.add_block_arguments(parser, RESULTS)
    args = parser.parse_args(argv)
    status = _blocks.render_or_check(args, BLOCK, render, SCRIPT)
    if status is not None:
        return status

    X, y = load_digits_sequences()
    n_fits = len(GRID["fastgrnnclassifier__hidden_dim"]) * len(GRID["fastgrnnclassifier__learning_rate"]) * CV
    versions = (
        f"scikit-learn {sklearn.__version__}, dask {dask.__version__}, distributed {distributed.__version__}, "
        f"dask-ml {dask_ml.__version__}, joblib {joblib.__version__}"
    )

    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        # label -> (workers, keyword arguments of fit_once)
        setups = {
            "sequential (default joblib backend, n_jobs=None)": ("-", {}),
            "loky (default joblib backend, n_jobs=2), no dask": ("-", {"n_jobs": 2}),
        }
        for n_workers, config, name in (
            (1, {}, "dask 1 worker (joblib runs the fits in the calling process)"),
            (2, {}, "dask 2 workers"),
            (2, NO_MALLOC_TRIM, "dask 2 workers, MALLOC_TRIM_THRESHOLD_ unset"),
        ):
            client, startup = _cluster(stack, n_workers, config)
            setups[f"{name} (start {startup:.1f} s, not counted)"] = (n_workers, {"client": client})

        seconds = {label: [] for label in setups}
        searches, busy = {}, {}
        for _ in range(args.repeat):
            for label, (_, kwargs) in setups.items():
                took, searches[label], worker_seconds = fit_once(args.epochs, X, y, **kwargs)
                if not seconds[label] or took < min(seconds[label]):
                    busy[label] = worker_seconds  # of the best run, reported with it
                seconds[label].append(took)
    load_after = os.getloadavg()[0]

    best = {label: min(times) for label, times in seconds.items()}
    reference = searches[next(iter(setups))]
    one_worker = best[next(label for label in setups if label.startswith("dask 1 worker"))]
    rows = []
    for label, (workers, _) in setups.items():
        s = searches[label]
        rows.append(
            {
                "setup": label,
                "workers": workers,
                "best_seconds": best[label],
                "runs": seconds[label],
                "speedup": one_worker / best[label],
                "seconds_per_fit_on_workers": None if busy[label] is None else busy[label] / n_fits,
                "workers_busy": None if busy[label] is None else busy[label] / (workers * best[label]),
                "same_results": bool(
                    np.array_equal(_scores(s), _scores(reference)) and s.best_params_ == reference.best_params_
                ),
            }
        )
    doc = {
        "command": f"python {SCRIPT} --doc docs/dask.md",
        "versions": versions,
        "cpus": os.cpu_count(),
        "n_fits": n_fits,
        "cv": CV,
        "epochs": args.epochs,
        "repeat": args.repeat,
        "setups": rows,
        "load_average": [load_before, load_after],
        "best_params": reference.best_params_,
        "best_score": float(reference.best_score_),
    }
    _blocks.finish_run(args, BLOCK, render, doc)
    if not all(r["same_results"] for r in rows):
        sys.exit("a setup gave different results from the sequential one")
    return 0


def render(doc):
    n_fits, cv = doc["n_fits"], doc["cv"]
    lines = [
        f"<!-- generated by `python {SCRIPT} --doc docs/dask.md` from "
        f"benchmarks/results/{RESULTS.name}: do not edit by hand -->",
        "",
        f"{doc['versions']}; {doc['cpus']} CPUs on this machine",
        f"GridSearchCV: {n_fits} fits ({n_fits // cv} candidates x {cv} folds) + 1 refit, digits 1797 x "
        f"(8 steps x 8), {doc['epochs']} epochs each; best of {doc['repeat']}",
        "",
        "| setup | workers | best seconds | all runs, seconds | speed-up vs dask 1 worker "
        "| seconds per fit on the workers | workers busy | same cv scores and best params |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in doc["setups"]:
        runs = ", ".join(f"{t:.2f}" for t in r["runs"])
        per_fit = occupancy = "-"
        if r["seconds_per_fit_on_workers"] is not None:
            per_fit = f"{r['seconds_per_fit_on_workers']:.2f}"
            occupancy = f"{100 * r['workers_busy']:.0f} %"
        lines.append(
            f"| {r['setup']} | {r['workers']} | {r['best_seconds']:.2f} | {runs} | {r['speedup']:.2f}x "
            f"| {per_fit} | {occupancy} | {'yes' if r['same_results'] else 'NO'} |"
        )
    before, after = doc["load_average"]
    lines += [
        "",
        f"load average (1 min) before / after: {before:.2f} / {after:.2f} on {doc['cpus']} CPUs",
        f"best params: {doc['best_params']}, best cv accuracy {doc['best_score']:.4f}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
