"""Time-series classification: skfastgrnn's defaults next to five peers on eight data sets.

The benchmark that decides the package's defaults for time series. Every system runs on
the official train/test split of each data set (digits: a stratified 70/30 split seeded
by the seed), over several seeds (a seed changes initialization and shuffling, and the
digits split), side by side in this one process, single-threaded:

- ``ours``: ``make_pipeline(SequenceScaler(channels_first=True), FastGRNNClassifier(random_state=seed))``
  fitted on aeon's data as loaded (digits: ``SequenceScaler()`` on ``(n, 8, 8)``), every
  setting at its default (read from ``get_params()``, never hard-coded); also the
  accuracy of the same model after ``quantize()`` (INT8);
- ``gru``: ``torch.nn.GRU`` + linear head, Adam 0.01, batch 32, ours' default hidden
  size and epochs, unequal lengths through ``pack_padded_sequence``;
- ``edgeml``: edgeml-pytorch 0.3.0's ``FastGRNNCell`` + linear head, same recipe, the
  state at each series' last valid step;
- ``minirocket``: aeon's MiniRocket transform, ``StandardScaler(with_mean=False)``,
  ``RidgeClassifierCV(np.logspace(-3, 3, 10))``;
- ``hgb`` / ``mlp``: ``HistGradientBoostingClassifier`` and ``MLPClassifier`` on the
  flattened series.

Raw results go to a JSON file (``--json``, default ``benchmarks/results/ucr.json``); the
markdown block between ``<!-- ucr:start -->`` and ``<!-- ucr:end -->`` is rendered from
that JSON alone (``--readme``, ``--render``, ``--check``). See benchmarks/README.md.

Usage (from the repository root)::

    python benchmarks/bench_ucr.py                                   # everything: tens of minutes (torch peers)
    python benchmarks/bench_ucr.py --systems ours --merge --readme README.md
    python benchmarks/bench_ucr.py --quick                           # smoke run, ~1 minute
    python benchmarks/bench_ucr.py --render --readme README.md       # re-render only, no training
    python benchmarks/bench_ucr.py --check README.md                 # exit 1 if the block is stale
"""

import os

if __name__ == "__main__":
    # Single-threaded everything, before numpy (and torch, numba) are imported. Only when
    # run as a script: the tests import this file for its rendering functions.
    os.environ.update(
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        NUMBA_NUM_THREADS="1",
    )

import argparse
import datetime
import difflib
import importlib.metadata
import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Benchmark the working tree's skfastgrnn (this file's folder stays first on the path;
# it is added when a test imports this file).
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))
sys.path.insert(2, str(ROOT / "docs" / "tools"))

import _ucr_data  # noqa: E402
from _blocks import replace_block  # noqa: E402

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
DEFAULT_JSON = HERE / "results" / "ucr.json"
START, END = "<!-- ucr:start -->", "<!-- ucr:end -->"
FORMAT = 1

#: system key -> label in the tables (in table order)
SYSTEMS = {
    "ours": "skfastgrnn",
    "ours_fold1": "skfastgrnn fold=1",
    "gru": "torch nn.GRU",
    "edgeml": "edgeml FastGRNN",
    "minirocket": "MiniRocket",
    "hgb": "HistGradientBoosting",
    "mlp": "MLPClassifier",
}
TORCH_BATCH = 32
TORCH_LR = 0.01
#: edgeml epochs capped on a data set where one full fit would take over ~3 minutes
#: (the cap is recorded in the JSON and printed under the tables; empty: no cap)
EDGEML_EPOCH_CAP: dict[str, int] = {}
MLP_MAX_ITER = 500
QUICK_DATASETS = ("ItalyPowerDemand", "Chinatown")
QUICK_EPOCHS = 3


def log(message):
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- systems
#
# A runner takes (data set, seed, config) and returns (record, params, notes): the
# record holds the seed's accuracy, fit seconds and stored bytes; params the settings
# used (recorded in the JSON so a stale row is visible); notes a list of sentences the
# README prints under the tables (padding, caps).


def ours_defaults():
    """``FastGRNNClassifier().get_params()``: the current defaults of the working tree."""
    from skfastgrnn import FastGRNNClassifier

    return FastGRNNClassifier().get_params()


def neural_budget(cfg):
    """Hidden size and epochs of the torch peers: ours' defaults (``--quick``: fewer epochs)."""
    defaults = ours_defaults()
    epochs = QUICK_EPOCHS if cfg["quick"] else defaults["epochs"]
    return defaults["hidden_dim"], epochs


def run_ours(ds, seed, cfg, **params):
    """The recommended pipeline, every setting at its default (but ``params``); fp32 then INT8 accuracy."""
    from sklearn.pipeline import make_pipeline

    from skfastgrnn import FastGRNNClassifier, SequenceScaler

    clf = FastGRNNClassifier(random_state=seed, **params)
    if cfg["quick"]:
        clf.set_params(epochs=QUICK_EPOCHS)
    scaler = SequenceScaler(channels_first=True) if ds.channels_first else SequenceScaler()
    model = make_pipeline(scaler, clf)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # recorded per seed: they matter when retuning the defaults
        start = time.perf_counter()
        model.fit(ds.X_train, ds.y_train)
        seconds = time.perf_counter() - start
    accuracy = model.score(ds.X_test, ds.y_test)
    report = clf.size_report()
    clf.quantize()  # in place (returns self): the pipeline now predicts with the INT8 weights
    int8_report = clf.size_report()
    record = {
        "accuracy": float(accuracy),
        "seconds": seconds,
        "bytes_fp32": int(report["fp32_bytes"]),
        "bytes_int8": int(int8_report["int8_bytes"]),
        "int8_accuracy": float(model.score(ds.X_test, ds.y_test)),
        "n_parameters": int(report["n_parameters"]),
        "n_iter": int(clf.n_iter_),
        "best_epoch": int(clf.best_epoch_),
        # the fastest and the median epoch (history_): per-epoch cost with less of the machine's noise
        "epoch_seconds_min": min(h["seconds"] for h in clf.history_),
        "epoch_seconds_median": float(np.median([h["seconds"] for h in clf.history_])),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
    }
    params = {k: v for k, v in clf.get_params().items() if k != "random_state"}
    params["scaler"] = {k: v for k, v in scaler.get_params().items()}
    return record, _jsonable(params), []


def _standardized(ds):
    """Per-channel z-scored time-major train/test lists (statistics from training data)."""
    train = _ucr_data.time_major(ds.X_train, ds.channels_first)
    test = _ucr_data.time_major(ds.X_test, ds.channels_first)
    scaler = _ucr_data.ChannelStandardizer().fit(train)
    return scaler.transform(train), scaler.transform(test)


def _torch_peer(kind, ds, seed, cfg):
    import _peers

    hidden, epochs = neural_budget(cfg)
    notes = []
    cap = cfg["edgeml_cap"].get(ds.name) if kind == "edgeml" else None
    if cap is not None and cap < epochs:
        notes.append(f"epochs capped at {cap} (instead of {epochs}): one full fit takes over ~3 minutes")
        epochs = cap
    train, test = _standardized(ds)
    length = max(len(s) for s in train + test)  # the padding is never read: each batch is cut to its longest
    X_tr, len_tr = _ucr_data.pad(train, length)
    X_te, len_te = _ucr_data.pad(test, length)
    peer = _peers.PaddedSequencePeer(kind, hidden, TORCH_BATCH, epochs, TORCH_LR, seed)
    start = time.perf_counter()
    peer.fit(X_tr, len_tr, ds.y_train)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(peer.predict(X_te, len_te) == ds.y_test))
    record = {
        "accuracy": accuracy,
        "seconds": seconds,
        "bytes_fp32": 4 * peer.n_parameters(),
        "n_parameters": peer.n_parameters(),
        "n_iter": epochs,
    }
    params = {
        "hidden_dim": hidden,
        "epochs": epochs,
        "batch_size": TORCH_BATCH,
        "learning_rate": TORCH_LR,
        "optimizer": "Adam",
        "input": "per-channel z-score (training statistics)",
    }
    if cap is not None:
        params["epoch_cap"] = cap
    return record, params, notes


def run_gru(ds, seed, cfg):
    """``torch.nn.GRU`` + linear head; unequal lengths packed (the last valid state)."""
    return _torch_peer("gru", ds, seed, cfg)


def run_edgeml(ds, seed, cfg):
    """edgeml-pytorch ``FastGRNNCell`` + linear head; the state at each last valid step."""
    return _torch_peer("edgeml", ds, seed, cfg)


def _minirocket_input(ds):
    """aeon layout (channels first) and, for unequal or < 9 steps, how it is made equal."""
    X_tr = _ucr_data.channels_first_list(ds.X_train, ds.channels_first)
    X_te = _ucr_data.channels_first_list(ds.X_test, ds.channels_first)
    train_lengths = [x.shape[-1] for x in X_tr]
    test_lengths = [x.shape[-1] for x in X_te]
    equal = len(set(train_lengths) | set(test_lengths)) == 1
    return X_tr, X_te, equal, max(train_lengths), test_lengths


def array_bytes(obj, fp32=True):
    """Bytes of the numpy arrays among ``obj``'s attributes (also inside tuples and lists).

    With ``fp32``, floating-point arrays count 4 bytes per entry (as stored in float32);
    other arrays count their ``nbytes``.
    """
    total = 0
    stack = list(vars(obj).values())
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray):
            if fp32 and np.issubdtype(value.dtype, np.floating):
                total += 4 * value.size
            elif value.dtype != object:
                total += value.nbytes
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
    return int(total)


def run_minirocket(ds, seed, cfg):
    """aeon MiniRocket + StandardScaler(with_mean=False) + RidgeClassifierCV, on the raw series."""
    from aeon.transformations.collection.convolution_based import MiniRocket
    from aeon.transformations.collection.unequal_length import Padder, Truncator
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, equal, train_max, test_lengths = _minirocket_input(ds)
    steps, notes = [], []
    if not equal or train_max < 9:
        # MiniRocket needs equal lengths of at least 9 (its kernels span 9 steps): zero-pad
        # at the end (aeon's Padder) to the longest training series (at least 9), and cut
        # longer test series to that length (aeon's Truncator)
        length = max(9, train_max)
        steps += [Padder(padded_length=length, fill_value=0, error_on_long=False), Truncator(truncated_length=length)]
        cut = sum(n > length for n in test_lengths)
        note = f"series zero-padded at the end to {length} steps (aeon Padder)"
        if cut:
            note += f"; {cut} of {len(test_lengths)} test series longer than that cut to {length} (aeon Truncator)"
        notes.append(note)
    transform = MiniRocket(random_state=seed)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    model = make_pipeline(*steps, transform, StandardScaler(with_mean=False), ridge)
    start = time.perf_counter()
    model.fit(X_tr, ds.y_train)
    seconds = time.perf_counter() - start
    accuracy = float(model.score(X_te, ds.y_test))
    kept = ridge.coef_.size + np.size(ridge.intercept_)
    record = {
        "accuracy": accuracy,
        "seconds": seconds,
        # the transform's fitted arrays (dilations, channel indices, biases, ...) and the
        # ridge's coef_ and intercept_; floats counted as float32; the scaler's scale_
        # folds into coef_ and is not counted
        "bytes_fp32": array_bytes(transform) + 4 * kept,
        "bytes_nbytes": array_bytes(transform, fp32=False) + ridge.coef_.nbytes + np.asarray(ridge.intercept_).nbytes,
        "n_features": int(ridge.coef_.shape[-1]),
        "ridge_alpha": float(ridge.alpha_),
    }
    params = {
        "transform": _jsonable(transform.get_params()),
        "scaler": "StandardScaler(with_mean=False)",
        "ridge_alphas": "np.logspace(-3, 3, 10)",
        "input": "raw series" + ("" if equal and train_max >= 9 else f", padded/cut to {max(9, train_max)} steps"),
    }
    return record, params, notes


def _flat(ds, fill, standardize):
    """Time-major rows ``[x_1, ..., x_L]`` flattened; padded with ``fill`` or cut to the longest training series."""
    if standardize:
        train, test = _standardized(ds)
    else:
        train = _ucr_data.time_major(ds.X_train, ds.channels_first)
        test = _ucr_data.time_major(ds.X_test, ds.channels_first)
    length = max(len(s) for s in train)
    X_tr, _ = _ucr_data.pad(train, length, fill=fill, dtype=np.float64)
    X_te, _ = _ucr_data.pad(test, length, fill=fill, dtype=np.float64)
    notes = []
    lengths = {len(s) for s in train + test}
    if len(lengths) > 1:
        what = "NaN-padded" if np.isnan(fill) else "zero-padded (after the per-channel z-score)"
        note = f"{what} at the end to {length} steps"
        cut = sum(len(s) > length for s in test)
        if cut:
            note += f"; {cut} of {len(test)} test series cut to {length}"
        notes.append(note)
    return X_tr.reshape(len(X_tr), -1), X_te.reshape(len(X_te), -1), notes


def run_hgb(ds, seed, cfg):
    """HistGradientBoostingClassifier on flattened raw series (NaN-padded when unequal)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X_tr, X_te, notes = _flat(ds, np.nan, standardize=False)  # trees: scaling does not matter
    model = HistGradientBoostingClassifier(random_state=seed)
    start = time.perf_counter()
    model.fit(X_tr, ds.y_train)
    seconds = time.perf_counter() - start
    nodes = sum(p.nodes.nbytes for iteration in model._predictors for p in iteration)
    record = {
        "accuracy": float(model.score(X_te, ds.y_test)),
        "seconds": seconds,
        "bytes_fp32": int(nodes),  # the node records of every tree (their numpy nbytes)
        "n_iter": int(model.n_iter_),
        "n_trees": int(sum(len(iteration) for iteration in model._predictors)),
    }
    params = {k: v for k, v in model.get_params().items() if k != "random_state"}
    params["input"] = "raw series flattened, NaN after the end"
    return record, _jsonable(params), notes


def run_mlp(ds, seed, cfg):
    """MLPClassifier on flattened per-channel z-scored series, zero-padded, then StandardScaler."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, notes = _flat(ds, 0.0, standardize=True)
    max_iter = QUICK_EPOCHS if cfg["quick"] else MLP_MAX_ITER
    mlp = MLPClassifier(random_state=seed, max_iter=max_iter)
    model = make_pipeline(StandardScaler(), mlp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_tr, ds.y_train)
        seconds = time.perf_counter() - start
    n_weights = sum(w.size for w in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
    record = {
        "accuracy": float(model.score(X_te, ds.y_test)),
        "seconds": seconds,
        "bytes_fp32": int(4 * n_weights),
        "n_parameters": int(n_weights),
        "n_iter": int(mlp.n_iter_),
    }
    params = {k: v for k, v in mlp.get_params().items() if k != "random_state"}
    params["input"] = "per-channel z-score, flattened, zero-padded, StandardScaler"
    return record, _jsonable(params), notes


def run_ours_fold1(ds, seed, cfg):
    """Ours without folding (``fold=1``): the evidence for ``fold="auto"`` on long series (run it on those)."""
    return run_ours(ds, seed, cfg, fold=1)


RUNNERS = {
    "ours": run_ours,
    "ours_fold1": run_ours_fold1,
    "gru": run_gru,
    "edgeml": run_edgeml,
    "minirocket": run_minirocket,
    "hgb": run_hgb,
    "mlp": run_mlp,
}


def _jsonable(value):
    """``value`` with tuples as lists and numpy scalars as Python numbers (for JSON)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def warm_up(system, ds, cfg):
    """Untimed fit on a few training series (numba compilation, torch's first calls)."""
    if system not in ("minirocket", "gru", "edgeml"):
        return
    y = np.asarray(ds.y_train)
    idx = np.concatenate([np.flatnonzero(y == c)[:2] for c in np.unique(y)])
    small = _ucr_data.Dataset(
        ds.name,
        [ds.X_train[i] for i in idx] if isinstance(ds.X_train, list) else ds.X_train[idx],
        y[idx],
        [ds.X_train[i] for i in idx[:4]] if isinstance(ds.X_train, list) else ds.X_train[idx[:4]],
        y[idx[:4]],
        ds.channels_first,
        ds.source,
    )
    quick_cfg = dict(cfg, quick=True, edgeml_cap={ds.name: 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RUNNERS[system](small, 0, quick_cfg)


# ----------------------------------------------------------------------------- environment


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git_commit():
    """Short commit of the working tree, '+dirty' when skfastgrnn/ has local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skfastgrnn"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def environment(systems):
    """Versions, machine and thread settings of this run (plain JSON types)."""
    import skfastgrnn

    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "scikit-learn": _version("scikit-learn"),
        "skfastgrnn": f"{getattr(skfastgrnn, '__version__', 'unknown')} @ {_git_commit()}",
        "threads": {v: os.environ.get(v) for v in THREAD_VARS},
    }
    if {"gru", "edgeml"} & set(systems):
        import torch

        env["torch"] = torch.__version__
        env["threads"]["torch"] = torch.get_num_threads()
    if "edgeml" in systems:
        env["edgeml-pytorch"] = _version("edgeml-pytorch")
    env["aeon"] = _version("aeon")  # the data sets' loader, whatever the systems
    if "minirocket" in systems:
        import numba

        env["numba"] = numba.__version__
        env["threads"]["numba"] = numba.get_num_threads()
    return env


# ----------------------------------------------------------------------------- running


def run(datasets, systems, seeds, cfg, on_entry=None):
    """Every (data set, system, seed); returns ``{dataset: {"info", "systems": {system: entry}}}``.

    ``on_entry(results)`` is called after every finished (data set, system) entry, so a
    long run saves what it has measured as it goes.
    """
    results = {}
    t0 = time.perf_counter()
    for name in datasets:
        data = {seed: None for seed in seeds}
        base = _ucr_data.load(name, seeds[0])
        results[name] = {"info": base.info, "systems": {}}
        for system in systems:
            entry_start = time.perf_counter()
            warm_up(system, base, cfg)
            runs, params, notes = [], None, []
            for seed in seeds:
                if data[seed] is None:
                    data[seed] = base if not base.seed_dependent or seed == seeds[0] else _ucr_data.load(name, seed)
                record, params, notes = RUNNERS[system](data[seed], seed, cfg)
                record["seed"] = seed
                record["seconds"] = round(record["seconds"], 4)
                runs.append(record)
                log(
                    f"[{time.perf_counter() - t0:7.1f} s] {name:<22} {system:<10} seed {seed}: "
                    f"accuracy {record['accuracy']:.4f}  fit {record['seconds']:.2f} s"
                )
            wall = time.perf_counter() - entry_start
            results[name]["systems"][system] = {
                "params": params,
                "notes": notes,
                "quick": bool(cfg["quick"]),
                "seeds": runs,
                "wall_seconds": round(wall, 2),
            }
            log(f"           {name:<22} {system:<10} total {wall:.1f} s (warm-up, fits and predictions)")
            if on_entry is not None:
                on_entry(results)
    return results


def merge(old, new, run_id, run_info, replace):
    """The JSON document after this run: ``new`` entries over ``old`` (or alone if ``replace``)."""
    doc = {"format": FORMAT, "results": {}, "runs": {}} if replace or not old else json.loads(json.dumps(old))
    if doc.get("format") != FORMAT:
        raise SystemExit(f"the existing results have format {doc.get('format')!r}, not {FORMAT}: rerun without --merge")
    for name, block in new.items():
        target = doc["results"].setdefault(name, {"info": block["info"], "systems": {}})
        target["info"] = block["info"]
        for system, entry in block["systems"].items():
            target["systems"][system] = dict(entry, run=run_id)
    doc["runs"][run_id] = run_info
    used = {e["run"] for b in doc["results"].values() for e in b["systems"].values()}
    doc["runs"] = {k: v for k, v in doc["runs"].items() if k in used}
    return doc


def dump_json(doc):
    """Commit-friendly JSON text: sorted keys, indented, a final newline."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


# ----------------------------------------------------------------------------- rendering
#
# Everything below reads the JSON document only (no torch, aeon or training), so that
# --check re-renders the committed block in well under a second.


def _systems_in(doc):
    present = {s for b in doc["results"].values() for s in b["systems"]}
    return [s for s in SYSTEMS if s in present]


def _datasets_in(doc):
    order = {name: i for i, name in enumerate(_ucr_data.DATASETS)}
    return sorted(doc["results"], key=lambda n: (order.get(n, len(order)), n))


def _stat(entry, key, how):
    values = [r[key] for r in entry["seeds"] if r.get(key) is not None]
    if not values:
        return None
    return {"mean": float(np.mean(values)), "min": float(np.min(values))}[how]


def _shape_text(info):
    length = (
        str(info["max_length"])
        if info["min_length"] == info["max_length"]
        else f"{info['min_length']}-{info['max_length']}"
    )
    return f"{length} x {info['channels']}"


def _bytes_text(value):
    if value is None:
        return "—"
    return f"{value:,.0f}"


def _fmt(value, spec, empty="—"):
    return empty if value is None else format(value, spec)


def _settings_text(params, skip=("scaler",)):
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip)


def render(doc):
    """The markdown block (tables, settings, notes, PASS/MISS) for a results document."""
    datasets, systems = _datasets_in(doc), _systems_in(doc)
    if not datasets or not systems:
        return "No results yet: run `python benchmarks/bench_ucr.py`."
    res = doc["results"]
    seeds = sorted({r["seed"] for b in res.values() for e in b["systems"].values() for r in e["seeds"]})
    out = ["#### Measured", ""]
    out.append(
        f"Test accuracy, mean over seeds {', '.join(map(str, seeds))} (min in brackets); "
        "official train/test splits, digits a stratified 70/30 split per seed."
    )
    out.append("")
    # --- accuracy overview
    header = ["data set", "train/test", "length x channels", "classes"]
    cols = []
    for s in systems:
        cols.append((s, "accuracy"))
        if s == "ours":
            cols.append((s, "int8_accuracy"))
    header += [SYSTEMS[s] + (" int8" if key == "int8_accuracy" else "") for s, key in cols]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * 4 + "---:|" * len(cols))
    means = {c: [] for c in cols}
    for name in datasets:
        info = res[name]["info"]
        row = [name, f"{info['n_train']}/{info['n_test']}", _shape_text(info), str(info["classes"])]
        for s, key in cols:
            entry = res[name]["systems"].get(s)
            mean = _stat(entry, key, "mean") if entry else None
            if mean is None:
                row.append("—")
                continue
            means[(s, key)].append(mean)
            row.append(f"{mean:.3f} ({_stat(entry, key, 'min'):.3f})")
        out.append("| " + " | ".join(row) + " |")
    row = ["mean over data sets", "", "", ""]
    for c in cols:
        vals = means[c]
        text = _fmt(np.mean(vals) if vals else None, ".3f")
        if vals and len(vals) < len(datasets):
            text += f" ({len(vals)} of {len(datasets)} sets)"
        row.append(text)
    out.append("| " + " | ".join(row) + " |")
    out.append("")
    # --- details
    out.append(
        "| data set | system | accuracy mean | min | fit seconds (mean) | epochs (mean) | fp32 bytes | int8 bytes "
        "| int8 accuracy |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in datasets:
        for s in systems:
            entry = res[name]["systems"].get(s)
            if entry is None:
                continue
            epochs = _stat(entry, "n_iter", "mean") if s in ("ours", "ours_fold1", "gru", "edgeml", "mlp") else None
            cells = [
                name,
                SYSTEMS[s],
                f"{_stat(entry, 'accuracy', 'mean'):.4f}",
                f"{_stat(entry, 'accuracy', 'min'):.4f}",
                f"{_stat(entry, 'seconds', 'mean'):.2f}",
                _fmt(epochs, ".1f"),
                _bytes_text(_stat(entry, "bytes_fp32", "mean")),
                _bytes_text(_stat(entry, "bytes_int8", "mean")),
                _fmt(_stat(entry, "int8_accuracy", "mean"), ".4f"),
            ]
            out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out += _settings_lines(doc, datasets, systems)
    out.append("")
    out += ["Targets:", *_target_lines(doc, datasets)]
    out.append("")
    out += ["Runs:", *_run_lines(doc)]
    return "\n".join(out)


def _entries(doc, system):
    return {name: b["systems"][system] for name, b in doc["results"].items() if system in b["systems"]}


def _without(params, key="scaler"):
    return {k: v for k, v in params.items() if k != key}


def _settings_lines(doc, datasets, systems):
    lines = ["Settings and notes:"]
    ours = _entries(doc, "ours")
    if ours:
        first = ours[next(n for n in datasets if n in ours)]["params"]
        lines.append(
            f"- {SYSTEMS['ours']}: `SequenceScaler(channels_first=True)` (digits: `SequenceScaler()`) + "
            f"`FastGRNNClassifier` at its defaults: {_settings_text(first)}"
        )
        stale = [n for n in datasets if n in ours and _without(ours[n]["params"]) != _without(first)]
        if stale:
            lines.append(
                f"- STALE: {SYSTEMS['ours']} ran with other settings on {', '.join(stale)}: rerun "
                "`--systems ours --merge`"
            )
    for s in ("gru", "edgeml"):
        entries = _entries(doc, s)
        if not entries:
            continue
        budgets = sorted({(e["params"]["hidden_dim"], e["params"]["epochs"]) for e in entries.values()})
        text = "; ".join(f"hidden {h}, {ep} epochs" for h, ep in budgets)
        lines.append(f"- {SYSTEMS[s]}: {text}, batch {TORCH_BATCH}, Adam {TORCH_LR}, per-channel z-score")
        if ours:
            any_ours = next(iter(ours.values()))["params"]
            for name, e in entries.items():
                p = e["params"]
                epochs = any_ours.get("epochs")
                if "epoch_cap" in p:
                    epochs = min(epochs, p["epoch_cap"])
                if (p["hidden_dim"], p["epochs"]) != (any_ours.get("hidden_dim"), epochs):
                    lines.append(
                        f"- STALE: {SYSTEMS[s]} on {name} ran at hidden {p['hidden_dim']}, {p['epochs']} epochs; "
                        f"ours' defaults are hidden {any_ours.get('hidden_dim')}, {any_ours.get('epochs')} epochs"
                    )
    quick = []
    for name in datasets:
        for s in systems:
            entry = doc["results"][name]["systems"].get(s)
            if entry is None:
                continue
            for note in entry.get("notes", []):
                lines.append(f"- {name}, {SYSTEMS[s]}: {note}")
            lines += [f"- {name}, {SYSTEMS[s]}: {w}" for w in _warning_notes(entry)]
            if entry.get("quick"):
                quick.append(f"{name} {SYSTEMS[s]}")
    if quick:
        lines.append(f"- QUICK smoke-run numbers (few epochs, 1 seed), not for decisions: {', '.join(quick)}")
    return lines


def _warning_notes(entry):
    """'ConvergenceWarning in 2 of 3 seeds (...)' lines from the per-seed warnings of an entry."""
    by_category = {}
    for record in entry["seeds"]:
        for text in record.get("warnings", []):
            category, _, message = text.partition(": ")
            by_category.setdefault(category, []).append((record["seed"], message))
    lines = []
    for category, found in sorted(by_category.items()):
        seeds = sorted({seed for seed, _ in found})
        message = found[0][1].split(";")[0].split(". ")[0].strip().rstrip(".")
        lines.append(f'{category} in {len(seeds)} of {len(entry["seeds"])} seeds (e.g. "{message}")')
    return lines


def _target_lines(doc, datasets):
    res = doc["results"]
    lines = []

    def mean_of(name, system, key="accuracy"):
        entry = res[name]["systems"].get(system)
        return None if entry is None else _stat(entry, key, "mean")

    def line(ok, text):
        lines.append(f"- {'PASS' if ok else 'MISS'}: {text}")

    for name in datasets:
        ours, gru = mean_of(name, "ours"), mean_of(name, "gru")
        if ours is None or gru is None:
            lines.append(f"- n/a: {name}: ours >= torch GRU (no {'ours' if ours is None else 'GRU'} results)")
        else:
            line(ours >= gru, f"{name}: ours {ours:.4f} >= torch GRU {gru:.4f}")
    pairs = [(mean_of(n, "ours"), mean_of(n, "minirocket")) for n in datasets]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if pairs:
        o, m = np.mean([a for a, _ in pairs]), np.mean([b for _, b in pairs])
        sets = f"{len(pairs)} data set{'s' if len(pairs) != 1 else ''}"
        line(o >= m - 0.02, f"mean over {sets}: ours {o:.4f} within 2 points of MiniRocket {m:.4f}")
    else:
        lines.append("- n/a: mean over data sets: ours within 2 points of MiniRocket (no results for both)")
    for name in datasets:
        ours_b, mr_b = mean_of(name, "ours", "bytes_fp32"), mean_of(name, "minirocket", "bytes_fp32")
        if ours_b is None or mr_b is None:
            lines.append(f"- n/a: {name}: ours fp32 bytes <= MiniRocket bytes / 20")
        else:
            line(ours_b <= mr_b / 20, f"{name}: ours {ours_b:,.0f} fp32 bytes <= MiniRocket {mr_b:,.0f} / 20")
    for name in datasets:
        fp32, int8 = mean_of(name, "ours"), mean_of(name, "ours", "int8_accuracy")
        if fp32 is None or int8 is None:
            lines.append(f"- n/a: {name}: ours int8 within 1 point of fp32")
        else:
            line(int8 >= fp32 - 0.01, f"{name}: ours int8 {int8:.4f} within 1 point of fp32 {fp32:.4f}")
    return lines


def _run_lines(doc):
    lines = []
    for run_id, info in sorted(doc["runs"].items()):
        env = info["environment"]
        used = sorted(
            {s for b in doc["results"].values() for s, e in b["systems"].items() if e["run"] == run_id},
            key=list(SYSTEMS).index,
        )
        versions = ", ".join(
            f"{k} {env[k]}"
            for k in ("python", "numpy", "scikit-learn", "skfastgrnn", "torch", "edgeml-pytorch", "aeon", "numba")
            if k in env
        )
        threads = ", ".join(f"{k}={v}" for k, v in env["threads"].items())
        lines.append(
            f"- {run_id} ({', '.join(used)}): {versions}; {env['machine']}, {env['cpus']} cpus; threads {threads}"
        )
    return lines


def stale_against(doc, defaults):
    """Sentences naming every data set where ours ran with settings other than ``defaults``.

    ``defaults`` is ``FastGRNNClassifier().get_params()`` of the code at hand (the
    rendering itself never imports the package: the block must follow from the JSON).
    """
    current = _jsonable({k: v for k, v in defaults.items() if k != "random_state"})
    out = []
    for name, entry in sorted(_entries(doc, "ours").items()):
        recorded = _without(entry["params"])
        changed = sorted(k for k in set(current) | set(recorded) if recorded.get(k, "?") != current.get(k, "?"))
        if changed:
            diffs = ", ".join(f"{k}: {recorded.get(k, '(none)')!r} -> {current.get(k, '(none)')!r}" for k in changed)
            out.append(f"{name}: ours ran with other settings than today's defaults ({diffs})")
    return out


def block_of(text, where):
    """What lies between the markers of ``text`` (ValueError when they are missing)."""
    before, found, rest = text.partition(START)
    body, found_end, _ = rest.partition(END)
    if not (found and found_end):
        raise ValueError(f"{where} has no {START} ... {END} block")
    return body.strip("\n")


def write_block(path, doc):
    """Replace the block of ``path`` with the rendering of ``doc`` (SystemExit without markers)."""
    path = Path(path)
    try:
        text = replace_block(path.read_text(), START, END, render(doc), where=str(path))
    except ValueError as exc:
        raise SystemExit(f"{exc}: add the two marker lines where the tables belong") from None
    path.write_text(text)


def check(path, json_path):
    """0 if the block of ``path`` equals the rendering of ``json_path``; else print a diff and return 1."""
    path, json_path = Path(path), Path(json_path)
    if not json_path.exists():
        print(f"{json_path}: missing; run python benchmarks/bench_ucr.py first", file=sys.stderr)
        return 1
    try:
        current = block_of(path.read_text(), str(path))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    expected = render(json.loads(json_path.read_text()))
    if current == expected:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(), expected.splitlines(), f"{path} (ucr block)", f"rendered from {json_path}", lineterm=""
    )
    print(
        f"{path}: the {START} block differs from the rendering of {json_path}; update it with\n"
        f"    python benchmarks/bench_ucr.py --render --readme {path} --json {json_path}\n",
        file=sys.stderr,
    )
    print("\n".join(list(diff)[:60]), file=sys.stderr)
    return 1


# ----------------------------------------------------------------------------- main


def _csv(choices, canonical=None):
    def parse(text):
        items = [x.strip() for x in text.split(",") if x.strip()]
        if canonical is not None:
            try:
                return [canonical(x) for x in items]
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        bad = [x for x in items if x not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(bad)}; choose from {', '.join(choices)}")
        return items

    return parse


def _cap(text):
    name, _, epochs = text.partition("=")
    try:
        return _ucr_data.canonical_name(name), int(epochs)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected NAME=EPOCHS, got {text!r} ({exc})") from None


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        type=_csv(_ucr_data.DATASETS, _ucr_data.canonical_name),
        default=None,
        help=f"comma-separated subset of {','.join(_ucr_data.DATASETS)} "
        f"(default: all; --quick: {','.join(QUICK_DATASETS)})",
    )
    parser.add_argument(
        "--systems",
        type=_csv(tuple(SYSTEMS)),
        default=list(SYSTEMS),
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: all)",
    )
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default 3; 1 with --quick)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {', '.join(QUICK_DATASETS)}, 1 seed, {QUICK_EPOCHS} epochs; writes JSON only with --json",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--merge", action="store_true", help="merge this run's (data set, system) entries into the existing JSON"
    )
    parser.add_argument("--readme", type=Path, help=f"replace the {START} ... {END} block of this file")
    parser.add_argument("--render", action="store_true", help="no training: only re-render --readme from the JSON")
    parser.add_argument(
        "--check",
        type=Path,
        metavar="PATH",
        help="no training: exit 1 if PATH's block differs from the JSON's rendering",
    )
    parser.add_argument(
        "--edgeml-epoch-cap",
        type=_cap,
        action="append",
        default=[],
        metavar="NAME=EPOCHS",
        help="cap edgeml's epochs on one data set (repeatable; recorded and printed in the tables)",
    )
    args = parser.parse_args(argv)
    if args.render and not args.readme:
        parser.error("--render needs --readme PATH")
    if args.datasets is None:
        args.datasets = list(QUICK_DATASETS if args.quick else _ucr_data.DATASETS)
    if args.seeds is None:
        args.seeds = 1 if args.quick else 3
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    return args


def main(argv=None):
    """Run the benchmark (or only render / check the markdown block)."""
    args = parse_args(argv)
    json_path = args.json or DEFAULT_JSON
    if args.check:
        return check(args.check, json_path)
    if args.render:
        doc = json.loads(json_path.read_text())
        for line in stale_against(doc, ours_defaults()):
            log(f"warning: {line}; rerun --systems ours --merge")
        write_block(args.readme, doc)
        print(f"updated {args.readme} from {json_path}")
        return 0
    if "ours" in args.systems:
        try:
            from skfastgrnn import SequenceScaler  # noqa: F401
        except ImportError:
            raise SystemExit("skfastgrnn has no SequenceScaler yet: run without 'ours' (--systems ...)") from None
    cfg = {"quick": args.quick, "edgeml_cap": {**EDGEML_EPOCH_CAP, **dict(args.edgeml_epoch_cap)}}
    if {"gru", "edgeml"} & set(args.systems):
        import _peers

        _peers.configure_torch(0)  # one thread, before any timing
    seeds = list(range(args.seeds))
    run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_info = {
        "environment": environment(args.systems),
        "command": "python benchmarks/bench_ucr.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "seeds": seeds,
    }
    env = run_info["environment"]
    log(", ".join(f"{k} {v}" for k, v in env.items() if k != "threads") + f"; threads {env['threads']}")
    write = not (args.quick and args.json is None)
    old = json.loads(json_path.read_text()) if write and args.merge and json_path.exists() else None

    def save(partial):  # after every entry: an interrupted run keeps what it measured
        doc = merge(old, partial, run_id, run_info, replace=not args.merge)
        if write:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = json_path.with_name(json_path.name + ".tmp")
            tmp.write_text(dump_json(doc))
            os.replace(tmp, json_path)
        return doc

    start = time.perf_counter()
    results = run(args.datasets, args.systems, seeds, cfg, on_entry=save)
    log(f"total {time.perf_counter() - start:.1f} s")
    doc = save(results)
    log(f"wrote {json_path}" if write else "--quick: results not written (pass --json PATH to keep them)")
    print(render(doc))
    if args.readme:
        write_block(args.readme, doc)
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
