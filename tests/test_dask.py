"""Training and tuning on a real dask.distributed cluster (optional extra ``dask``).

One ``LocalCluster`` of two worker processes on loopback serves the whole
module; its teardown checks that no worker process and no listening port
outlives it. Skipped as a whole when dask is not installed, so that the core
suite runs without the extra.
"""

import os
import re
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skfastgrnn import FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences, make_routing  # noqa: E402


def _children():
    return {p.pid: p for p in psutil.Process().children(recursive=True)}


def _listening_sockets():
    """(ip, port) of every TCP socket listening in this process or its children."""
    sockets = set()
    for proc in [psutil.Process(), *_children().values()]:
        try:
            sockets |= {c.laddr[:2] for c in proc.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        except psutil.NoSuchProcess:  # a helper that exited meanwhile
            pass
    return sockets


def _new_children(before):
    """Children of this process not in ``before``, but multiprocessing's resource tracker.

    The tracker is a per-interpreter singleton that exits with the test
    process: the one child a closed cluster may leave.
    """
    left = []
    for pid, proc in _children().items():
        if pid in before:
            continue
        try:
            if "resource_tracker" in " ".join(proc.cmdline()):
                continue
        except psutil.NoSuchProcess:  # exited (or a zombie) meanwhile: not running
            continue
        left.append(pid)
    return left


def _accepts(ip, port):
    with socket.socket() as s:
        return s.connect_ex((ip, port)) == 0


@pytest.fixture(scope="module")
def client():
    children_before, sockets_before = set(_children()), _listening_sockets()
    environ = dict(os.environ)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    client = distributed.Client(cluster)
    try:
        # the nannies wrote their workers' variables (OMP_NUM_THREADS=1,
        # MALLOC_TRIM_THRESHOLD_=65536, ...) into this process's os.environ,
        # which every later test's subprocess would inherit: undo that
        os.environ.clear()
        os.environ.update(environ)
        # scheduler, its HTTP endpoint, nannies, workers and theirs: all on loopback
        sockets = _listening_sockets() - sockets_before
        assert sockets and {ip for ip, _ in sockets} == {"127.0.0.1"}, sockets
        yield client
    finally:
        client.close()
        cluster.close()
    deadline = time.monotonic() + 10  # worker processes may take a moment to exit
    while (left := _new_children(children_before)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"worker processes left running: {left}"
    assert not [s for s in sockets if _accepts(*s)], "ports still listening after the cluster closed"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_sequences()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


#: the README's digits configuration; n_timesteps=8 reads a row as 8 steps of 8 pixels
DIGITS_PARAMS = dict(hidden_dim=32, n_timesteps=8, l2_reg=3e-3, random_state=0)
#: rows per dask chunk: a multiple of batch_size (32), so that no chunk but the
#: last ends in a tiny, noisy batch
CHUNK = 128


def test_incremental_reaches_in_memory_accuracy(client, digits):
    X_train, X_test, y_train, y_test = digits
    classes = np.unique(y_train)
    passes = 20
    X_dask = da.from_array(X_train, chunks=(CHUNK, -1))
    y_dask = da.from_array(y_train, chunks=CHUNK)
    assert X_dask.numblocks[0] == 10

    inc = wrappers.Incremental(FastGRNNClassifier(**DIGITS_PARAMS), random_state=0)
    for _ in range(passes):
        inc.partial_fit(X_dask, y_dask, classes=classes)
    # every chunk was one partial_fit call (one "epoch" over that chunk) on a worker
    assert inc.estimator_.n_iter_ == passes * X_dask.numblocks[0]

    in_memory = FastGRNNClassifier(**DIGITS_PARAMS)
    for _ in range(passes):
        in_memory.partial_fit(X_train, y_train, classes=classes)
    fitted = FastGRNNClassifier(epochs=passes, validation_split=0.0, early_stopping_patience=None, **DIGITS_PARAMS).fit(
        X_train, y_train
    )

    acc_dask = inc.estimator_.score(X_test, y_test)
    acc_memory = in_memory.score(X_test, y_test)
    acc_fit = fitted.score(X_test, y_test)
    # benchmarks/bench_dask_incremental.py, random_state 0..5: the largest gaps
    # were 1.9 points to the in-memory partial_fit passes and 1.1 points to fit
    assert acc_dask > 0.93
    assert abs(acc_dask - acc_memory) <= 0.02, (acc_dask, acc_memory)
    assert abs(acc_dask - acc_fit) <= 0.02, (acc_dask, acc_fit)

    # prediction on a dask array runs blockwise on the workers and agrees with
    # the in-memory model
    X_test_dask = da.from_array(X_test, chunks=(100, -1))
    proba = inc.predict_proba(X_test_dask)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), inc.estimator_.predict_proba(X_test), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(inc.predict(X_test_dask).compute(), inc.estimator_.predict(X_test))
    assert inc.score(X_test_dask, y_test) == pytest.approx(acc_dask)


def test_incremental_is_partial_fit_over_the_chunks(client, digits):
    # without block shuffling, Incremental is exactly partial_fit on each chunk
    # in order: the same weights as the same loop in memory
    X_train, _, y_train, _ = digits
    classes = np.unique(y_train)
    X_dask = da.from_array(X_train, chunks=(CHUNK, -1))
    y_dask = da.from_array(y_train, chunks=CHUNK)
    inc = wrappers.Incremental(FastGRNNClassifier(**DIGITS_PARAMS), shuffle_blocks=False)
    loop = FastGRNNClassifier(**DIGITS_PARAMS)
    for _ in range(2):
        inc.partial_fit(X_dask, y_dask, classes=classes)
        for start in range(0, len(X_train), CHUNK):
            loop.partial_fit(X_train[start : start + CHUNK], y_train[start : start + CHUNK], classes=classes)
    assert inc.estimator_.n_iter_ == loop.n_iter_
    for name, w in loop.weights_.items():
        np.testing.assert_allclose(inc.estimator_.weights_[name], w, rtol=1e-9, atol=1e-12, err_msg=name)


def test_incremental_regressor_is_partial_fit_over_the_chunks(client):
    """Issue 12: the regressor works under dask-ml's Incremental exactly as its partial_fit loop in memory."""
    from skfastgrnn import FastGRNNRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 8))
    y = 10 + 3 * X[:, :2].sum(axis=1)
    params = dict(n_timesteps=8, hidden_dim=8, random_state=0)
    inc = wrappers.Incremental(FastGRNNRegressor(**params), shuffle_blocks=False)
    loop = FastGRNNRegressor(**params)
    for _ in range(3):
        inc.partial_fit(da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200))
        for start in range(0, len(X), 200):
            loop.partial_fit(X[start : start + 200], y[start : start + 200])
    np.testing.assert_allclose(inc.estimator_.network_.parameters, loop.network_.parameters, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(inc.predict(da.from_array(X, chunks=(200, -1))).compute(), loop.predict(X), rtol=1e-9)


@pytest.fixture(scope="module")
def routing():
    return make_routing(600, random_state=0)


def _routing_search():
    model = make_pipeline(StandardScaler(), FastGRNNClassifier(epochs=10, random_state=0))
    grid = {"fastgrnnclassifier__hidden_dim": [4, 8], "fastgrnnclassifier__learning_rate": [0.01, 0.03]}
    return model, GridSearchCV(model, grid, cv=3)


def _on_cluster(client, fit):
    """Run ``fit()`` under joblib's dask backend; return its result and the workers used."""
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        result = fit()
    return result, {t["worker"] for t in tasks.data}


def test_grid_search_on_dask_equals_default_backend(client, routing):
    X, y = routing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
        _, local = _routing_search()
        local.fit(X, y)
        _, remote = _routing_search()
        _, workers = _on_cluster(client, lambda: remote.fit(X, y))
    # the fits really ran on the cluster's worker processes
    assert workers and workers <= set(client.scheduler_info()["workers"])
    n_candidates = len(local.cv_results_["params"])
    for split in range(3):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key], err_msg=key)
    np.testing.assert_array_equal(remote.cv_results_["rank_test_score"], local.cv_results_["rank_test_score"])
    assert len(remote.cv_results_["params"]) == n_candidates
    assert remote.best_params_ == local.best_params_
    assert remote.best_score_ == local.best_score_
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=1e-12, atol=1e-15)


def test_cross_val_score_on_dask_equals_default_backend(client, routing):
    X, y = routing
    model, _ = _routing_search()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = cross_val_score(model, X, y, cv=3)
        remote, workers = _on_cluster(client, lambda: cross_val_score(model, X, y, cv=3))
    assert workers and workers <= set(client.scheduler_info()["workers"])
    np.testing.assert_array_equal(remote, local)
    assert local.mean() > 0.8


#: docs/dask.md's Python blocks, as pasted into a script (the test runs them on a small sample of the digits)
DASK_DOC = Path(__file__).resolve().parents[1] / "docs" / "dask.md"
DOC_BLOCKS = re.findall(r"^```python\n(.*?)^```", DASK_DOC.read_text(), flags=re.S | re.M)
#: put before a block: load_digits_sequences returns 128 rows (every class; one chunk), so that a block runs in seconds
#: (in the main process only: the workers, which import the script too, need not import scikit-learn for it)
_SMALL_DIGITS = """\
if __name__ == "__main__":
    import skfastgrnn.datasets as _datasets

    _load_all = _datasets.load_digits_sequences
    _datasets.load_digits_sequences = lambda: tuple(a[:128] for a in _load_all())

"""


def test_doc_has_python_blocks_that_start_clusters_under_the_main_guard():
    assert len(DOC_BLOCKS) >= 3
    for block in DOC_BLOCKS:
        if "LocalCluster(" in block:
            guard = block.index('if __name__ == "__main__":')
            assert guard < block.index("LocalCluster(n_workers"), block


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_doc_block_runs_as_a_script(index, tmp_path):
    """Each Python block of docs/dask.md, pasted into a file and run: worker processes are spawned and
    re-import that file, which fails without ``if __name__ == "__main__":``."""
    script = tmp_path / f"dask_block_{index}.py"
    script.write_text(_SMALL_DIGITS + DOC_BLOCKS[index])
    result = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
