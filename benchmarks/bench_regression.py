"""Sequence regression: FastGRNNRegressor next to a torch GRU, Ridge and MLPRegressor.

The measurements behind issue 12's regression targets. Every system runs on the same
train/test split of each data set, over several seeds (a seed changes initialization
and shuffling; the data are fixed), side by side in this one process, single-threaded:

- ``ours``: ``make_pipeline(SequenceScaler(channels_first=True), FastGRNNRegressor(random_state=seed))``
  on aeon's data as loaded (generated sets: ``SequenceScaler()`` on ``(n, T, D)``),
  every setting at its default (read from ``get_params()``, never hard-coded);
- ``ours_stacked``: the same pipeline with ``hidden_dim=(32, 16)`` (two stacked layers);
- ``gru``: ``torch.nn.GRU`` + linear head (``_peers.PaddedSequenceRegressorPeer``),
  Adam 0.01, batch 32, half the mean squared error on standardized targets, ours'
  default hidden size and epochs;
- ``ridge``: ``StandardScaler`` + ``RidgeCV(np.logspace(-3, 3, 13))`` on the flattened
  series (per-channel z-score first);
- ``mlp``: ``MLPRegressor(random_state=seed, max_iter=500)`` after a ``StandardScaler``,
  on the same flattened series, its targets standardized by a
  ``TransformedTargetRegressor`` (as ours and the GRU standardize theirs);
- ``speed``: training seconds per row and epoch of ``FastGRNNRegressor`` against
  ``FastGRNNClassifier`` on the same scaled rows (the classifier's labels: the target
  above its training median), both at the defaults with a fixed number of epochs,
  interleaved and repeated.

Data sets: two public regression sets that ship inside the aeon wheel (never
downloaded) and three generated tasks with known answers, all 50 steps long:

- ``Covid3Month`` (aeon ``load_covid_3month``): 140/61 series of 84 daily case counts;
  the target is a country's death rate;
- ``CardanoSentiment`` (aeon ``load_cardano_sentiment``): 74/33 series of 24 steps x 2
  channels; the target is a sentiment score;
- ``delayed_sum``: 50 steps of N(0, 1) noise; the target is the sum of the FIRST 5
  steps (linear, but only a cell that remembers over 45 steps learns it);
- ``product``: 50 steps of N(0, 1) noise; the target is ``x_1 * x_2``, the product of
  the first two steps (a nonlinear memory target: no linear model can fit it);
- ``adding``: the adding problem (Hochreiter & Schmidhuber 1997): 50 steps of two
  channels, a value U(0, 1) and a marker that is 1 at one step of each half; the
  target is the sum of the two marked values.

The generated sets have 1,000 training and 1,000 test rows, drawn once from a fixed
seed. Raw results go to a JSON file (``--json``, default
``benchmarks/results/regression.json``); the blocks ``<!-- regression:start -->`` (the
tables, in docs/user_guide.md) and ``<!-- regression-summary:start -->`` (one line, in
README.md) are rendered from that JSON alone (``--doc``, ``--render``, ``--check``).

Usage (from the repository root)::

    python benchmarks/bench_regression.py --doc docs/user_guide.md --doc README.md  # everything: 10-15 minutes
    python benchmarks/bench_regression.py --systems ours --merge --doc docs/user_guide.md --doc README.md
    python benchmarks/bench_regression.py --quick                    # smoke run: 2 small sets, 1 seed, 3 epochs
    python benchmarks/bench_regression.py --render --doc docs/user_guide.md --doc README.md  # re-render only
    python benchmarks/bench_regression.py --check docs/user_guide.md  # exit 1 if a block is stale
"""

import os

if __name__ == "__main__":
    # Single-threaded everything, before numpy (and torch) are imported. Only when run
    # as a script: the tests import this file for its rendering functions.
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")

import argparse
import datetime
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))
sys.path.insert(2, str(ROOT / "docs" / "tools"))

import _ucr_data  # noqa: E402
import bench_ucr  # noqa: E402  (environment, merge, JSON helpers: one implementation)
from _blocks import check_block, markers, replace_block  # noqa: E402

DEFAULT_JSON = HERE / "results" / "regression.json"
SCRIPT = "benchmarks/bench_regression.py"
BLOCK, SUMMARY = "regression", "regression-summary"
FORMAT = bench_ucr.FORMAT

#: system key -> label in the tables (in table order); "speed" is the timing comparison
SYSTEMS = {
    "ours": "skfastgrnn",
    "ours_stacked": "skfastgrnn (32, 16)",
    "gru": "torch nn.GRU",
    "ridge": "Ridge",
    "mlp": "MLPRegressor",
}
ALL_SYSTEMS = (*SYSTEMS, "speed")
STACKED = (32, 16)
TORCH_BATCH = 32
TORCH_LR = 0.01
RIDGE_ALPHAS = "np.logspace(-3, 3, 13)"
MLP_MAX_ITER = 500
#: the timing comparison: epochs per fit (fixed: early stopping off) and interleaved repeats
SPEED_EPOCHS = 10
SPEED_REPEATS = 5
#: generated tasks: steps, rows, the seed of the one draw of the data
GEN_STEPS, GEN_TRAIN, GEN_TEST, GEN_SEED = 50, 1000, 1000, 0
QUICK_DATASETS = ("CardanoSentiment", "delayed_sum")
QUICK_EPOCHS = 3
QUICK_ROWS = 200


def log(message):
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data

AEON_SETS = {"Covid3Month": "load_covid_3month", "CardanoSentiment": "load_cardano_sentiment"}
GENERATED = {
    "delayed_sum": "sum of the first 5 of 50 steps of N(0, 1) noise",
    "product": "x_1 * x_2, the product of the first two of 50 steps of N(0, 1) noise",
    "adding": "adding problem: sum of the 2 marked values (one per half) of 50 steps x (value U(0, 1), marker)",
}
DATASETS = (*AEON_SETS, *GENERATED)


def canonical_name(name):
    """The benchmark's spelling of a data set name (case-insensitive)."""
    for known in DATASETS:
        if known.lower() == name.strip().lower():
            return known
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")


def generate(name, n_train=GEN_TRAIN, n_test=GEN_TEST, steps=GEN_STEPS, seed=GEN_SEED):
    """``(X_train, y_train, X_test, y_test)`` of a generated task, ``X`` of shape ``(n, steps, channels)``."""
    rng = np.random.RandomState(seed)
    n = n_train + n_test
    if name == "delayed_sum":
        X = rng.standard_normal((n, steps, 1))
        y = X[:, :5, 0].sum(axis=1)
    elif name == "product":
        X = rng.standard_normal((n, steps, 1))
        y = X[:, 0, 0] * X[:, 1, 0]
    elif name == "adding":
        values = rng.uniform(size=(n, steps))
        marks = np.zeros((n, steps))
        half = steps // 2
        rows = np.arange(n)
        marks[rows, rng.randint(0, half, size=n)] = 1.0
        marks[rows, rng.randint(half, steps, size=n)] = 1.0
        X = np.stack([values, marks], axis=-1)
        y = (values * marks).sum(axis=1)
    else:
        raise ValueError(f"no generated task {name!r}")
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def load(name, quick=False):
    """The data set ``name`` as a :class:`_ucr_data.Dataset` (aeon sets: channels first)."""
    name = canonical_name(name)
    if name in AEON_SETS:
        import aeon.datasets

        folder = _ucr_data.aeon_data_dir()
        for split in ("TRAIN", "TEST"):
            path = os.path.join(folder, name, f"{name}_{split}.ts")
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path} is missing: this aeon does not ship {name}; we never download")
        loader = getattr(aeon.datasets, AEON_SETS[name])
        X_train, y_train = loader(split="train")
        X_test, y_test = loader(split="test")
        ds = _ucr_data.Dataset(
            name,
            X_train,
            np.asarray(y_train, dtype=np.float64),
            X_test,
            np.asarray(y_test, dtype=np.float64),
            channels_first=True,
            source=f"aeon {AEON_SETS[name]}",
        )
    else:
        sizes = dict(n_train=QUICK_ROWS, n_test=QUICK_ROWS) if quick else {}
        X_train, y_train, X_test, y_test = generate(name, **sizes)
        ds = _ucr_data.Dataset(
            name, X_train, y_train, X_test, y_test, channels_first=False, source=f"generated: {GENERATED[name]}"
        )
    ds.info = describe(ds)
    return ds


def describe(ds):
    """Sizes of a data set and its target (plain JSON types)."""
    X = np.asarray(ds.X_train)
    length, channels = (X.shape[2], X.shape[1]) if ds.channels_first else (X.shape[1], X.shape[2])
    return {
        "n_train": len(ds.y_train),
        "n_test": len(ds.y_test),
        "length": int(length),
        "channels": int(channels),
        "target_train_mean": float(np.mean(ds.y_train)),
        "target_train_std": float(np.std(ds.y_train)),
        "target_test_mean": float(np.mean(ds.y_test)),
        "source": ds.source,
    }


# ----------------------------------------------------------------------------- systems
#
# A runner takes (data set, seed, config) and returns (record, params, notes), as in
# bench_ucr.py: the record holds the seed's R^2 and fit seconds.


def ours_defaults():
    """``FastGRNNRegressor().get_params()``: the current defaults of the working tree."""
    from skfastgrnn import FastGRNNRegressor

    return FastGRNNRegressor().get_params()


def neural_budget(cfg):
    """Hidden size and epochs of the GRU: ours' defaults (``--quick``: fewer epochs)."""
    defaults = ours_defaults()
    return defaults["hidden_dim"], QUICK_EPOCHS if cfg["quick"] else defaults["epochs"]


def _scaler(ds):
    from skfastgrnn import SequenceScaler

    return SequenceScaler(channels_first=True) if ds.channels_first else SequenceScaler()


def _r2(y, pred):
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


def run_ours(ds, seed, cfg, **params):
    """The recommended pipeline, every setting at its default (but ``params``)."""
    from sklearn.pipeline import make_pipeline

    from skfastgrnn import FastGRNNRegressor

    reg = FastGRNNRegressor(random_state=seed, **params)
    if cfg["quick"]:
        reg.set_params(epochs=QUICK_EPOCHS)
    scaler = _scaler(ds)
    model = make_pipeline(scaler, reg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(ds.X_train, ds.y_train)
        seconds = time.perf_counter() - start
    report = reg.size_report()
    record = {
        "r2": _r2(ds.y_test, model.predict(ds.X_test)),
        "train_r2": _r2(ds.y_train, model.predict(ds.X_train)),
        "seconds": seconds,
        "n_parameters": int(report["n_parameters"]),
        "bytes_fp32": int(report["fp32_bytes"]),
        "n_iter": int(reg.n_iter_),
        "best_epoch": int(reg.best_epoch_),
        "fold": int(reg.fold_),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
    }
    params = {k: v for k, v in reg.get_params().items() if k != "random_state"}
    params["scaler"] = scaler.get_params()
    return record, bench_ucr._jsonable(params), []


def run_ours_stacked(ds, seed, cfg):
    """Ours with two stacked layers, ``hidden_dim=(32, 16)``."""
    return run_ours(ds, seed, cfg, hidden_dim=STACKED)


def _standardized(ds):
    """Per-channel z-scored time-major train/test lists (statistics from training data)."""
    return bench_ucr._standardized(ds)


def run_gru(ds, seed, cfg):
    """``torch.nn.GRU`` + linear head, squared error on standardized targets."""
    import _peers

    hidden, epochs = neural_budget(cfg)
    train, test = _standardized(ds)
    length = max(len(s) for s in train + test)
    X_tr, len_tr = _ucr_data.pad(train, length)
    X_te, len_te = _ucr_data.pad(test, length)
    peer = _peers.PaddedSequenceRegressorPeer("gru", hidden, TORCH_BATCH, epochs, TORCH_LR, seed)
    start = time.perf_counter()
    peer.fit(X_tr, len_tr, ds.y_train)
    seconds = time.perf_counter() - start
    record = {
        "r2": _r2(ds.y_test, peer.predict(X_te, len_te)),
        "train_r2": _r2(ds.y_train, peer.predict(X_tr, len_tr)),
        "seconds": seconds,
        "n_parameters": peer.n_parameters(),
        "bytes_fp32": 4 * peer.n_parameters(),
        "n_iter": epochs,
    }
    params = {
        "hidden_dim": hidden,
        "epochs": epochs,
        "batch_size": TORCH_BATCH,
        "learning_rate": TORCH_LR,
        "optimizer": "Adam",
        "loss": "0.5 * MSE on standardized targets",
        "input": "per-channel z-score (training statistics)",
    }
    return record, params, []


def _flat(ds):
    """Per-channel z-scored series flattened time-major, float64 (every set here has equal lengths)."""
    train, test = _standardized(ds)
    length = max(len(s) for s in train)
    X_tr, _ = _ucr_data.pad(train, length, dtype=np.float64)
    X_te, _ = _ucr_data.pad(test, length, dtype=np.float64)
    return X_tr.reshape(len(X_tr), -1), X_te.reshape(len(X_te), -1)


def run_ridge(ds, seed, cfg):
    """StandardScaler + RidgeCV on the flattened series (deterministic: the same for every seed)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te = _flat(ds)
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
    model = make_pipeline(StandardScaler(), ridge)
    start = time.perf_counter()
    model.fit(X_tr, ds.y_train)
    seconds = time.perf_counter() - start
    record = {
        "r2": _r2(ds.y_test, model.predict(X_te)),
        "train_r2": _r2(ds.y_train, model.predict(X_tr)),
        "seconds": seconds,
        "n_parameters": int(ridge.coef_.size + 1),
        "alpha": float(ridge.alpha_),
    }
    params = {
        "alphas": RIDGE_ALPHAS,
        "input": "per-channel z-score, flattened, StandardScaler",
    }
    return record, params, []


def run_mlp(ds, seed, cfg):
    """MLPRegressor on the flattened series, targets standardized by TransformedTargetRegressor."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te = _flat(ds)
    max_iter = QUICK_EPOCHS if cfg["quick"] else MLP_MAX_ITER
    mlp = MLPRegressor(random_state=seed, max_iter=max_iter)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp), transformer=StandardScaler())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_tr, ds.y_train)
        seconds = time.perf_counter() - start
    fitted = model.regressor_[-1]
    n_weights = sum(w.size for w in fitted.coefs_) + sum(b.size for b in fitted.intercepts_)
    record = {
        "r2": _r2(ds.y_test, model.predict(X_te)),
        "train_r2": _r2(ds.y_train, model.predict(X_tr)),
        "seconds": seconds,
        "n_parameters": int(n_weights),
        "bytes_fp32": int(4 * n_weights),
        "n_iter": int(fitted.n_iter_),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught if w.category is ConvergenceWarning}),
    }
    params = {k: v for k, v in mlp.get_params().items() if k != "random_state"}
    params["input"] = "per-channel z-score, flattened, StandardScaler"
    params["targets"] = "TransformedTargetRegressor(transformer=StandardScaler())"
    return record, bench_ucr._jsonable(params), []


def _timed_fit(estimator, X, y):
    """Fit; return (wall seconds of fit, the seconds of every epoch from ``history_``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        estimator.fit(X, y)
        wall = time.perf_counter() - start
    return wall, [float(h["seconds"]) for h in estimator.history_]


def run_speed(ds, seed, cfg):
    """Seconds per row and epoch: FastGRNNRegressor against FastGRNNClassifier on the same scaled rows.

    Both at their defaults but ``epochs=SPEED_EPOCHS`` and ``early_stopping_patience=None``
    (so both run exactly that many epochs); the classifier's labels are the target above
    its training median. The fits alternate (regressor, classifier, ...) ``SPEED_REPEATS``
    times. The time of each is its FASTEST epoch over all its fits: on a shared machine
    the other jobs only ever add time, so the fastest epoch is the one closest to the
    estimator's own cost (a slow epoch of one fit made a single-fit ratio swing from
    0.6x to 1.5x between data sets). The record keeps every epoch's seconds and the
    ratio of the fastest whole fits too.
    """
    from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor

    epochs = QUICK_EPOCHS if cfg["quick"] else SPEED_EPOCHS
    X = _scaler(ds).fit_transform(ds.X_train)
    y = np.asarray(ds.y_train)
    labels = (y > np.median(y)).astype(int)
    common = dict(epochs=epochs, early_stopping_patience=None, random_state=seed)
    fits = {"regressor": [], "classifier": []}
    for _ in range(1 if cfg["quick"] else SPEED_REPEATS):
        fits["regressor"].append(_timed_fit(FastGRNNRegressor(**common), X, y))
        fits["classifier"].append(_timed_fit(FastGRNNClassifier(**common), X, labels))
    record = {"seconds": float(sum(w for runs in fits.values() for w, _ in runs)), "rows": int(len(y))}
    for kind, runs in fits.items():
        record[f"{kind}_fit_seconds"] = [w for w, _ in runs]
        record[f"{kind}_epoch_seconds"] = [e for _, epoch in runs for e in epoch]
        record[f"{kind}_us_per_row_epoch"] = 1e6 * min(record[f"{kind}_epoch_seconds"]) / len(y)
    record["ratio"] = record["regressor_us_per_row_epoch"] / record["classifier_us_per_row_epoch"]
    record["fit_ratio"] = min(record["regressor_fit_seconds"]) / min(record["classifier_fit_seconds"])
    record["epochs"] = int(epochs)
    params = {
        "epochs": epochs,
        "early_stopping_patience": None,
        "repeats": len(fits["regressor"]),
        "labels": "target above its training median (2 classes)",
        "input": "the SequenceScaler's output, fitted outside the timing",
        "timing": "fastest epoch (history_ seconds) over all fits of each, alternating; / rows",
    }
    return record, params, []


RUNNERS = {
    "ours": run_ours,
    "ours_stacked": run_ours_stacked,
    "gru": run_gru,
    "ridge": run_ridge,
    "mlp": run_mlp,
    "speed": run_speed,
}


def warm_up(system, ds, cfg):
    """Untimed fit of the torch peer on a few rows (torch's first calls are slow)."""
    if system != "gru":
        return
    small = _ucr_data.Dataset(
        ds.name, ds.X_train[:16], ds.y_train[:16], ds.X_test[:4], ds.y_test[:4], ds.channels_first, ds.source
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RUNNERS[system](small, 0, dict(cfg, quick=True))


# ----------------------------------------------------------------------------- running


def run(datasets, systems, seeds, cfg, on_entry=None):
    """Every (data set, system, seed); returns ``{dataset: {"info", "systems": {system: entry}}}``."""
    results = {}
    t0 = time.perf_counter()
    for name in datasets:
        ds = load(name, quick=cfg["quick"])
        results[name] = {"info": ds.info, "systems": {}}
        for system in systems:
            entry_start = time.perf_counter()
            warm_up(system, ds, cfg)
            runs, params, notes = [], None, []
            for seed in seeds[:1] if system in ("ridge", "speed") else seeds:
                record, params, notes = RUNNERS[system](ds, seed, cfg)
                record["seed"] = seed
                record["seconds"] = round(record["seconds"], 4)
                runs.append(record)
                what = f"ratio {record['ratio']:.2f}" if system == "speed" else f"R^2 {record['r2']:.4f}"
                log(
                    f"[{time.perf_counter() - t0:7.1f} s] {name:<17} {system:<12} seed {seed}: "
                    f"{what}  fit {record['seconds']:.2f} s"
                )
            wall = time.perf_counter() - entry_start
            results[name]["systems"][system] = {
                "params": params,
                "notes": notes,
                "quick": bool(cfg["quick"]),
                "seeds": runs,
                "wall_seconds": round(wall, 2),
            }
            if on_entry is not None:
                on_entry(results)
    return results


# ----------------------------------------------------------------------------- rendering
#
# Everything below reads the JSON document only (no torch, aeon or training).


def _datasets_in(doc):
    order = {name: i for i, name in enumerate(DATASETS)}
    return sorted(doc["results"], key=lambda n: (order.get(n, len(order)), n))


def _systems_in(doc):
    present = {s for b in doc["results"].values() for s in b["systems"]}
    return [s for s in SYSTEMS if s in present]


def _values(entry, key):
    return [r[key] for r in entry["seeds"] if r.get(key) is not None]


def _mean(entry, key="r2"):
    values = _values(entry, key) if entry else []
    return float(np.mean(values)) if values else None


def _std(entry, key="r2"):
    values = _values(entry, key) if entry else []
    return float(np.std(values)) if values else None


def _entry(doc, name, system):
    return doc["results"][name]["systems"].get(system)


def _seeds_text(doc):
    seeds = sorted(
        {
            r["seed"]
            for b in doc["results"].values()
            for s, e in b["systems"].items()
            if s in SYSTEMS
            for r in e["seeds"]
        }
    )
    return ", ".join(map(str, seeds))


def _r2_cell(entry):
    if entry is None:
        return "—"
    if entry["params"] and "alphas" in entry["params"]:  # Ridge: deterministic, one fit
        return f"{_mean(entry):.3f}"
    return f"{_mean(entry):.3f} ± {_std(entry):.3f}"


def render(doc):
    """The markdown of the ``regression`` block (tables, settings, notes, PASS/MISS)."""
    datasets, systems = _datasets_in(doc), _systems_in(doc)
    if not datasets or not systems:
        return f"No results yet: run `python {SCRIPT}`."
    res = doc["results"]
    out = [f"<!-- generated by `python {SCRIPT} --doc docs/user_guide.md`: do not edit by hand -->", ""]
    out.append(
        f"Test R^2, mean ± standard deviation over seeds {_seeds_text(doc)} (Ridge is deterministic: one fit); "
        "the aeon sets' official train/test splits, the generated sets one fixed draw."
    )
    out.append("")
    out.append("| data set | train/test | length x channels | " + " | ".join(SYSTEMS[s] for s in systems) + " |")
    out.append("|---|---|---|" + "---:|" * len(systems))
    for name in datasets:
        info = res[name]["info"]
        row = [name, f"{info['n_train']}/{info['n_test']}", f"{info['length']} x {info['channels']}"]
        row += [_r2_cell(_entry(doc, name, s)) for s in systems]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append(
        "| data set | system | test R^2 mean | std | min | train R^2 mean | fit seconds (mean) | epochs (mean) "
        "| parameters |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in datasets:
        for s in systems:
            entry = _entry(doc, name, s)
            if entry is None:
                continue
            epochs = _mean(entry, "n_iter")
            out.append(
                "| "
                + " | ".join(
                    [
                        name,
                        SYSTEMS[s],
                        f"{_mean(entry):.4f}",
                        f"{_std(entry):.4f}",
                        f"{min(_values(entry, 'r2')):.4f}",
                        f"{_mean(entry, 'train_r2'):.4f}",
                        f"{_mean(entry, 'seconds'):.2f}",
                        "—" if epochs is None else f"{epochs:.1f}",
                        f"{_mean(entry, 'n_parameters'):,.0f}",
                    ]
                )
                + " |"
            )
    speed = [n for n in datasets if _entry(doc, n, "speed")]
    if speed:
        out.append("")
        first = _entry(doc, speed[0], "speed")["params"]
        out.append(
            f"Training time per row and epoch, `FastGRNNRegressor` against `FastGRNNClassifier` on the same scaled "
            f"rows (defaults, {first['epochs']} epochs without early stopping, the classifier's labels the target "
            f"above its median; {first['repeats']} alternating fits of each, the fastest epoch of each estimator; "
            "the last column compares the fastest whole fits):"
        )
        out.append("")
        out.append(
            "| data set | rows | regressor µs / row / epoch | classifier µs / row / epoch | ratio "
            "| ratio of whole fits |"
        )
        out.append("|---|---:|---:|---:|---:|---:|")
        for name in speed:
            r = _entry(doc, name, "speed")["seeds"][0]
            out.append(
                f"| {name} | {r['rows']:,} | {r['regressor_us_per_row_epoch']:.1f} | "
                f"{r['classifier_us_per_row_epoch']:.1f} | {r['ratio']:.2f}x | {r['fit_ratio']:.2f}x |"
            )
    out.append("")
    out += _settings_lines(doc, datasets, systems)
    out.append("")
    out += ["Targets (issue 12):", *target_lines(doc)]
    out.append("")
    out += ["Runs:", *_run_lines(doc)]
    return "\n".join(out)


def _run_lines(doc):
    """One line per run: the systems it measured, versions, machine, threads."""
    lines = []
    for run_id, info in sorted(doc["runs"].items()):
        env = info["environment"]
        used = sorted(
            {s for b in doc["results"].values() for s, e in b["systems"].items() if e["run"] == run_id},
            key=list(ALL_SYSTEMS).index,
        )
        versions = ", ".join(
            f"{k} {env[k]}" for k in ("python", "numpy", "scikit-learn", "skfastgrnn", "torch", "aeon") if k in env
        )
        threads = ", ".join(f"{k}={v}" for k, v in env["threads"].items())
        lines.append(
            f"- {run_id} ({', '.join(used)}): {versions}; {env['machine']}, {env['cpus']} cpus; threads {threads}"
        )
    return lines


def _settings_lines(doc, datasets, systems):
    lines = ["Settings and notes:"]
    ours = {n: _entry(doc, n, "ours") for n in datasets if _entry(doc, n, "ours")}
    if ours:
        params = next(iter(ours.values()))["params"]
        shown = {k: v for k, v in params.items() if k != "scaler"}
        lines.append(
            f"- {SYSTEMS['ours']}: `SequenceScaler(channels_first=True)` (generated sets: `SequenceScaler()`) + "
            f"`FastGRNNRegressor` at its defaults: {bench_ucr._settings_text(shown)}"
        )
        stale = [n for n, e in ours.items() if {k: v for k, v in e["params"].items() if k != "scaler"} != shown]
        if stale:
            lines.append(f"- STALE: {SYSTEMS['ours']} ran with other settings on {', '.join(stale)}")
        folds = sorted({(n, r["fold"]) for n, e in ours.items() for r in e["seeds"] if r.get("fold", 1) > 1})
        for name, fold in folds:
            lines.append(f'- {name}: `fold="auto"` read {fold} steps as one (ours, both depths)')
    if "ours_stacked" in systems:
        lines.append(f"- {SYSTEMS['ours_stacked']}: the same pipeline with `hidden_dim=(32, 16)`")
    gru = [e for n in datasets if (e := _entry(doc, n, "gru"))]
    if gru:
        budgets = sorted({(e["params"]["hidden_dim"], e["params"]["epochs"]) for e in gru})
        text = "; ".join(f"hidden {h}, {ep} epochs" for h, ep in budgets)
        lines.append(
            f"- {SYSTEMS['gru']}: {text}, batch {TORCH_BATCH}, Adam {TORCH_LR}, half the MSE on standardized "
            "targets, per-channel z-score"
        )
        if ours:
            any_ours = next(iter(ours.values()))["params"]
            if any(
                (e["params"]["hidden_dim"], e["params"]["epochs"]) != (any_ours["hidden_dim"], any_ours["epochs"])
                for e in gru
            ):
                lines.append(f"- STALE: {SYSTEMS['gru']} ran at another hidden size or epoch count than ours")
    if "ridge" in systems:
        lines.append(
            f"- {SYSTEMS['ridge']}: `StandardScaler` + `RidgeCV(alphas={RIDGE_ALPHAS})` on the flattened "
            "per-channel z-scored series"
        )
    if "mlp" in systems:
        lines.append(
            f"- {SYSTEMS['mlp']}: `TransformedTargetRegressor(make_pipeline(StandardScaler(), "
            f"MLPRegressor(max_iter={MLP_MAX_ITER})), transformer=StandardScaler())` on the same flattened series"
        )
    quick = []
    for name in datasets:
        for s in (*systems, "speed"):
            entry = _entry(doc, name, s)
            if entry is None:
                continue
            lines += [f"- {name}, {SYSTEMS.get(s, s)}: {w}" for w in bench_ucr._warning_notes(entry)]
            if entry.get("quick"):
                quick.append(f"{name} {SYSTEMS.get(s, s)}")
    if quick:
        lines.append(f"- QUICK smoke-run numbers (few epochs, few rows, 1 seed), not for decisions: {', '.join(quick)}")
    return lines


def target_lines(doc):
    """PASS / MISS / n/a lines of issue 12's regression targets, from the results alone."""
    lines = []

    def line(ok, text):
        lines.append(f"- {'PASS' if ok else 'MISS'}: {text}")

    for peer in ("gru", "ridge", "mlp"):
        for name in _datasets_in(doc):
            ours, other = _mean(_entry(doc, name, "ours")), _mean(_entry(doc, name, peer))
            if ours is None or other is None:
                lines.append(f"- n/a: {name}: ours R^2 >= {SYSTEMS[peer]} (no results)")
            else:
                line(ours >= other, f"{name}: ours R^2 {ours:.4f} >= {SYSTEMS[peer]} {other:.4f}")
    for name in _datasets_in(doc):
        entry = _entry(doc, name, "speed")
        if entry is not None:
            r = entry["seeds"][0]
            line(
                r["ratio"] <= 1.2,
                f"{name}: regressor training time per row {r['ratio']:.2f}x the classifier's (<= 1.2x)",
            )
    return lines


def summary(doc):
    """The one-paragraph ``regression-summary`` block for README.md."""
    datasets = _datasets_in(doc)
    if not datasets:
        return f"No regression results yet: run `python {SCRIPT}`."
    parts = []
    for name in datasets:
        cells = [f"{SYSTEMS[s]} {_mean(e):.3f}" for s in ("ours", "gru", "ridge", "mlp") if (e := _entry(doc, name, s))]
        parts.append(f"{name}: " + ", ".join(cells))
    counts = []
    for peer in ("gru", "ridge", "mlp"):
        pairs = [(_mean(_entry(doc, n, "ours")), _mean(_entry(doc, n, peer))) for n in datasets]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        if pairs:
            counts.append(f">= {SYSTEMS[peer]} on {sum(a >= b for a, b in pairs)} of {len(pairs)}")
    ratios = [e["seeds"][0]["ratio"] for n in datasets if (e := _entry(doc, n, "speed"))]
    speed = ""
    if ratios:
        within = sum(r <= 1.2 for r in ratios)
        speed = f"; training time per row within 1.2x of the classifier's on {within} of {len(ratios)}"
    return (
        f"<!-- generated by `python {SCRIPT} --doc README.md`: do not edit by hand -->\n"
        f"Regression (`{SCRIPT}`, test R^2, mean over seeds {_seeds_text(doc)}): " + "; ".join(parts) + ". "
        f"Issue 12's targets, per data set: ours' R^2 {', '.join(counts)}{speed}. Tables, "
        "settings and every target: [docs/user_guide.md#regression-benchmark](docs/user_guide.md#regression-benchmark)."
    )


BLOCKS = {BLOCK: render, SUMMARY: summary}


def _blocks_in(text):
    return [name for name in BLOCKS if markers(name)[0] in text]


def write_doc(path, doc):
    """Rewrite every block of ours that ``path`` has (SystemExit when it has none)."""
    path = Path(path)
    text = path.read_text()
    names = _blocks_in(text)
    if not names:
        raise SystemExit(f"{path} has none of the blocks {', '.join(markers(n)[0] for n in BLOCKS)}")
    for name in names:
        start, end = markers(name)
        text = replace_block(text, start, end, BLOCKS[name](doc), where=str(path))
    path.write_text(text)


def check(path, json_path):
    """0 if every block of ours in ``path`` is the rendering of ``json_path``; else a diff and 1."""
    path, json_path = Path(path), Path(json_path)
    if not json_path.exists():
        print(f"{json_path}: missing; run python {SCRIPT} first", file=sys.stderr)
        return 1
    names = _blocks_in(path.read_text())
    if not names:
        print(f"{path} has none of the blocks {', '.join(BLOCKS)}", file=sys.stderr)
        return 1
    doc = json.loads(json_path.read_text())
    refresh = f"python {SCRIPT} --render --doc {path} --json {json_path}"
    return max(check_block(path, name, BLOCKS[name](doc), refresh) for name in names)


# ----------------------------------------------------------------------------- main


def _csv(choices, canonical=None):
    return bench_ucr._csv(choices, canonical)


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        type=_csv(DATASETS, canonical_name),
        default=None,
        help=f"comma-separated subset of {','.join(DATASETS)} (default: all; --quick: {','.join(QUICK_DATASETS)})",
    )
    parser.add_argument(
        "--systems",
        type=_csv(ALL_SYSTEMS),
        default=list(ALL_SYSTEMS),
        help=f"comma-separated subset of {','.join(ALL_SYSTEMS)} (default: all)",
    )
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default 3; 1 with --quick)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {', '.join(QUICK_DATASETS)}, {QUICK_ROWS} generated rows, 1 seed, {QUICK_EPOCHS} epochs; "
        "writes JSON only with --json",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})"
    )
    parser.add_argument("--merge", action="store_true", help="replace only this run's (data set, system) entries")
    parser.add_argument(
        "--doc",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="rewrite PATH's regression blocks after the run (or with --render); repeatable",
    )
    parser.add_argument("--render", action="store_true", help="no run: rewrite the --doc pages' blocks from the JSON")
    parser.add_argument(
        "--check", type=Path, metavar="PATH", help="no run: exit 1 if PATH's blocks differ from the JSON"
    )
    args = parser.parse_args(argv)
    if args.render and not args.doc:
        parser.error("--render needs --doc PATH")
    if args.datasets is None:
        args.datasets = list(QUICK_DATASETS if args.quick else DATASETS)
    if args.seeds is None:
        args.seeds = 1 if args.quick else 3
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    return args


def main(argv=None):
    """Run the benchmark (or only render / check the blocks)."""
    args = parse_args(argv)
    json_path = args.json or DEFAULT_JSON
    if args.check:
        return check(args.check, json_path)
    if args.render:
        doc = json.loads(json_path.read_text())
        for page in args.doc:
            write_doc(page, doc)
            print(f"updated {page} from {json_path}")
        return 0
    cfg = {"quick": args.quick}
    if "gru" in args.systems:
        import _peers

        _peers.configure_torch(0)
    seeds = list(range(args.seeds))
    run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_info = {
        "environment": bench_ucr.environment(args.systems),
        "command": f"python {SCRIPT} " + " ".join(sys.argv[1:] if argv is None else argv),
        "seeds": seeds,
    }
    env = run_info["environment"]
    log(", ".join(f"{k} {v}" for k, v in env.items() if k != "threads") + f"; threads {env['threads']}")
    write = not (args.quick and args.json is None)
    old = json.loads(json_path.read_text()) if write and args.merge and json_path.exists() else None

    def save(partial):
        doc = bench_ucr.merge(old, partial, run_id, run_info, replace=not args.merge)
        if write:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = json_path.with_name(json_path.name + ".tmp")
            tmp.write_text(bench_ucr.dump_json(doc))
            os.replace(tmp, json_path)
        return doc

    start = time.perf_counter()
    results = run(args.datasets, args.systems, seeds, cfg, on_entry=save)
    log(f"total {time.perf_counter() - start:.1f} s")
    doc = save(results)
    doc = json.loads(bench_ucr.dump_json(doc))  # render exactly what --check will read
    log(f"wrote {json_path}" if write else "--quick: results not written (pass --json PATH to keep them)")
    print(render(doc))
    for page in args.doc:
        write_doc(page, doc)
        print(f"updated {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
