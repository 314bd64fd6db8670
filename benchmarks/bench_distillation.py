"""Knowledge distillation: does a teacher make a tiny FastGRNN student better?

For every dataset and seed the rows are split 70/30 (stratified,
``random_state`` = seed) and standardized with a StandardScaler fitted on the
training rows. Then, on the same split:

- two teachers are trained on the training rows:
  ``HistGradientBoostingClassifier(random_state=seed)`` and a hidden-64
  ``FastGRNNClassifier`` (package defaults otherwise; ``l2_reg=3e-3`` on digits,
  the README's digits setting);
- students of hidden size 8 and 16 (``FastGRNNClassifier`` with the package
  defaults, ``random_state`` = seed) are trained from scratch on the hard labels;
- the same students are distilled from each teacher with
  ``DistilledFastGRNN(FrozenEstimator(teacher), student)`` at the defaults
  ``temperature=3.0``, ``alpha=0.7`` (the frozen teacher is the one measured in
  the teacher column, not refitted): in-sample soft targets, the teacher
  scoring the rows it was trained on;
- the same students are distilled with out-of-fold soft targets,
  ``DistilledFastGRNN(teacher, student, cv=5)`` with the unfitted teacher:
  every training row is scored by a clone of the teacher trained on the other
  four stratified folds (the teacher fitted on all rows is the same as the
  frozen one above, so the rows differ only in the soft targets).

Scratch and distilled students differ only in the loss: same rows, same
initialization, same validation split and early stopping (on the hard
labels). Accuracy is on the held-out 30 %. "gain" is distilled minus scratch in
points, paired by seed; "wins" counts the seeds where the distilled student is
strictly better; "OOF - in-sample" is the out-of-fold row minus the in-sample
row of the same teacher and student, paired by seed, with its wins. Sizes: parameters of the student, its float32 bytes
(``size_report()["fp32_bytes"]``) and the bytes of its safetensors file as
trained in float64 (``size_bytes()``); the teacher's size is its parameter count
(FastGRNN) or its pickled size (gradient boosting, which has no parameters to
count).

A second table sweeps the temperature (1, 3, 6) on digits for the hidden-16
student with both teachers, to show how much the default T = 3 matters.

A third table is the transfer-set case: ``make_routing(4000)`` rows are split
(permutation seeded by the seed) into 2,000 rows that train a frozen
HistGradientBoosting teacher, 40 labelled rows for the hidden-8 student, 1,000
unlabelled rows passed as ``X_unlabeled`` and 960 test rows.

Datasets: sklearn digits read as 8 timesteps of 8 pixels (1,797 images, 10
classes); ``skfastgrnn.datasets.make_routing(4000)`` (5 features, 2 classes, 5 %
label noise); sklearn breast_cancer (569 rows, 30 features, 2 classes, one
timestep).

Usage (from the repository root)::

    python benchmarks/bench_distillation.py --doc docs/distillation.md    # 10 seeds, 2 processes, 4+ minutes
    python benchmarks/bench_distillation.py --check docs/distillation.md  # no run: the block is the JSON's
    python benchmarks/bench_distillation.py --seeds 5 --jobs 1
    python benchmarks/bench_distillation.py --quick            # 2 seeds, digits only
    python benchmarks/bench_distillation.py --markdown out.md  # also write the table

The results (means and standard deviations over the seeds, and the per-seed
accuracies) go to ``benchmarks/results/distillation.json``; the block of
docs/distillation.md between ``<!-- distillation:start -->`` and
``<!-- distillation:end -->`` is rendered from it.
"""

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the working tree's skfastgrnn
sys.path.insert(0, str(ROOT / "docs" / "tools"))

import _blocks  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skfastgrnn  # noqa: E402
from skfastgrnn import DistilledFastGRNN, FastGRNNClassifier  # noqa: E402
from skfastgrnn.datasets import load_digits_sequences, make_routing  # noqa: E402

BLOCK = "distillation"
RESULTS = ROOT / "benchmarks" / "results" / "distillation.json"
SCRIPT = "benchmarks/bench_distillation.py"
STUDENT_SIZES = (8, 16)
TEACHER_HIDDEN = 64
#: the temperature sweep (second table): digits, hidden-16 student, alpha 0.7
SWEEP_TEMPERATURES = (1.0, 3.0, 6.0)
SWEEP_HIDDEN = 16
#: the transfer-set table: rows of make_routing(4000) for the teacher, labelled, unlabelled, test
TRANSFER_SPLIT = (2000, 40, 1000, 960)
#: folds of the out-of-fold soft targets
OOF_CV = 5
#: the soft-target variants of the first table: in-sample (frozen teacher) and out-of-fold
TARGETS = ("in-sample", f"out-of-fold (cv={OOF_CV})")


#: the settings the published tables were measured with (the defaults before the time-series
#: benchmark changed them; rerunning at today's defaults is left for a quiet machine)
MEASURED_WITH = dict(validation_split=0.1, batch_size=32)


def datasets(quick):
    X, y = load_digits_sequences()
    yield "digits", X, y, dict(n_timesteps=8), dict(l2_reg=3e-3)
    if quick:
        return
    X, y = make_routing(4000, random_state=0)
    yield "routing", X, y, dict(n_timesteps=1), {}
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", X, y, dict(n_timesteps=1), {}


def teachers(seed, shape, teacher_extra):
    yield "HistGradientBoosting", HistGradientBoostingClassifier(random_state=seed)
    yield (
        f"FastGRNN h{TEACHER_HIDDEN}",
        FastGRNNClassifier(TEACHER_HIDDEN, random_state=seed, **MEASURED_WITH, **shape, **teacher_extra),
    )


def teacher_size(teacher):
    if isinstance(teacher, FastGRNNClassifier):
        return f"{teacher.size_report()['n_parameters']:,} params"
    return f"{len(pickle.dumps(teacher)) / 1024:,.0f} KiB pickled"


def run_seed(X, y, shape, teacher_extra, seed, sweep=False):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    results = {}  # (teacher, hidden) -> dict; teacher None = from scratch
    sizes = {}
    for hidden in STUDENT_SIZES:
        student = FastGRNNClassifier(hidden, random_state=seed, **MEASURED_WITH, **shape).fit(X_tr, y_tr)
        report = student.size_report()
        sizes[hidden] = (report["n_parameters"], report["fp32_bytes"], student.size_bytes())
        results[(None, hidden)] = student.score(X_te, y_te)
    teacher_rows = {}
    for name, teacher in teachers(seed, shape, teacher_extra):
        teacher.fit(X_tr, y_tr)
        teacher_rows[name] = (teacher.score(X_te, y_te), teacher_size(teacher))
        for hidden in STUDENT_SIZES:
            student = FastGRNNClassifier(hidden, random_state=seed, **MEASURED_WITH, **shape)
            model = DistilledFastGRNN(FrozenEstimator(teacher), student).fit(X_tr, y_tr)
            results[(name, hidden, TARGETS[0])] = model.score(X_te, y_te)
            # clone: the unfitted teacher, which DistilledFastGRNN fits per fold and on all rows
            model = DistilledFastGRNN(clone(teacher), student, cv=OOF_CV).fit(X_tr, y_tr)
            results[(name, hidden, TARGETS[1])] = model.score(X_te, y_te)
        if sweep:
            student = FastGRNNClassifier(SWEEP_HIDDEN, random_state=seed, **MEASURED_WITH, **shape)
            for T in SWEEP_TEMPERATURES:
                model = DistilledFastGRNN(FrozenEstimator(teacher), student, temperature=T).fit(X_tr, y_tr)
                results[(name, SWEEP_HIDDEN, T)] = model.score(X_te, y_te)
    return results, teacher_rows, sizes


def run_seed_quietly(*args, **kwargs):
    """run_seed without warnings, in whichever process joblib runs it."""
    with warnings.catch_warnings():
        # the package defaults sometimes end with a ConvergenceWarning on the small sets
        warnings.simplefilter("ignore")
        return run_seed(*args, **kwargs)


def run_transfer(seed):
    """Few labelled rows plus a transfer set the teacher labels (routing, hidden-8 student)."""
    X, y = make_routing(4000, random_state=0)
    order = np.random.RandomState(seed).permutation(len(y))
    parts = np.split(order, np.cumsum(TRANSFER_SPLIT)[:-1])
    teacher_rows, labelled, unlabelled, test = parts
    scaler = StandardScaler().fit(X[teacher_rows])
    X = scaler.transform(X)
    teacher = HistGradientBoostingClassifier(random_state=seed).fit(X[teacher_rows], y[teacher_rows])
    frozen = FrozenEstimator(teacher)
    student = FastGRNNClassifier(8, random_state=seed, **MEASURED_WITH)
    X_l, y_l, X_te, y_te = X[labelled], y[labelled], X[test], y[test]
    return {
        "teacher": teacher.score(X_te, y_te),
        "scratch": clone(student).fit(X_l, y_l).score(X_te, y_te),
        "distilled": DistilledFastGRNN(frozen, student).fit(X_l, y_l).score(X_te, y_te),
        "transfer": DistilledFastGRNN(frozen, student).fit(X_l, y_l, X_unlabeled=X[unlabelled]).score(X_te, y_te),
    }


def stats(values, scale=100.0):
    """Mean and standard deviation of ``values`` in percent (points)."""
    values = scale * np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std())}


def mean_std(s):
    return f"{s['mean']:.2f} ± {s['std']:.2f}"


def run(seeds, jobs, quick=False):
    """Every dataset, teacher, student and seed; the results document (summaries over seeds)."""
    rows, sweep, start = [], None, time.perf_counter()
    for data_name, X, y, shape, teacher_extra in datasets(quick):
        is_sweep = data_name == "digits"
        # each seed is independent and single-threaded: the processes do not share cores' BLAS threads
        per_seed = Parallel(n_jobs=jobs)(
            delayed(run_seed_quietly)(X, y, shape, teacher_extra, seed, is_sweep) for seed in seeds
        )
        if is_sweep:
            scratch = np.array([s[0][(None, SWEEP_HIDDEN)] for s in per_seed])
            sweep = {"hidden": SWEEP_HIDDEN, "temperatures": list(SWEEP_TEMPERATURES), "rows": []}
            for name in per_seed[0][1]:
                cells = []
                for T in SWEEP_TEMPERATURES:
                    distilled = np.array([s[0][(name, SWEEP_HIDDEN, T)] for s in per_seed])
                    cells.append({"distilled": stats(distilled), "gain": stats(distilled - scratch)})
                sweep["rows"].append({"teacher": name, "cells": cells})
        sizes = per_seed[0][2]
        for name in per_seed[0][1]:
            teacher_acc = [s[1][name][0] for s in per_seed]
            for hidden in STUDENT_SIZES:
                scratch = np.array([s[0][(None, hidden)] for s in per_seed])
                in_sample = np.array([s[0][(name, hidden, TARGETS[0])] for s in per_seed])
                params, fp32, stored = sizes[hidden]
                for targets in TARGETS:
                    distilled = np.array([s[0][(name, hidden, targets)] for s in per_seed])
                    versus = None
                    if targets != TARGETS[0]:
                        versus = {**stats(distilled - in_sample), "wins": int((distilled > in_sample).sum())}
                    rows.append(
                        {
                            "dataset": data_name,
                            "teacher": name,
                            "teacher_accuracy": stats(teacher_acc),
                            "teacher_size": per_seed[0][1][name][1],
                            "student_hidden": hidden,
                            "student_parameters": int(params),
                            "student_fp32_bytes": int(fp32),
                            "student_file_bytes": int(stored),
                            "scratch": stats(scratch),
                            "targets": targets,
                            "distilled": stats(distilled),
                            "gain": stats(distilled - scratch),
                            "wins": int((distilled > scratch).sum()),
                            "oof_minus_in_sample": versus,
                            "accuracies": {"scratch": scratch.tolist(), "distilled": distilled.tolist()},
                        }
                    )
        print(f"{data_name}: {time.perf_counter() - start:.0f} s so far", file=sys.stderr, flush=True)
    transfer = None
    if not quick:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 40 rows: too few for a validation split, it says so
            per_seed = [run_transfer(seed) for seed in seeds]
        scratch = np.array([r["scratch"] for r in per_seed])
        t_rows, n_labelled, n_unlabelled, n_test = TRANSFER_SPLIT
        transfer = {
            "split": {"teacher": t_rows, "labelled": n_labelled, "unlabelled": n_unlabelled, "test": n_test},
            **{key: stats([r[key] for r in per_seed]) for key in ("teacher", "scratch", "distilled", "transfer")},
            "gain": stats(np.array([r["transfer"] for r in per_seed]) - scratch),
        }
    return {
        "command": f"python {SCRIPT} --doc docs/distillation.md",
        "environment": (
            f"skfastgrnn {skfastgrnn.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
            f"Python {platform.python_version()}, OMP/OPENBLAS/MKL threads 1"
        ),
        "seeds": list(seeds),
        "jobs": jobs,
        "measured_with": MEASURED_WITH,
        "rows": rows,
        "sweep": sweep,
        "transfer": transfer,
        "seconds": round(time.perf_counter() - start),
    }


def render(doc):
    n = len(doc["seeds"])
    lines = [
        f"<!-- generated by `python {SCRIPT} --doc docs/distillation.md` from "
        f"benchmarks/results/{RESULTS.name}: do not edit by hand -->",
        "",
        f"{doc['environment']}, seeds {doc['seeds']}, {doc['jobs']} process(es)",
        "",
        "Test accuracy in % (mean ± std over seeds); gain = distilled - scratch in points, paired by seed; "
        "OOF - in-sample = out-of-fold row - in-sample row, paired by seed.",
        "",
        "| dataset | teacher | teacher acc | teacher size | student | student params / fp32 B / file B "
        "| scratch acc | soft targets | distilled acc | gain | wins | OOF - in-sample |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        versus = r["oof_minus_in_sample"]
        versus = "—" if versus is None else f"{mean_std(versus)} ({versus['wins']}/{n} wins)"
        lines.append(
            f"| {r['dataset']} | {r['teacher']} | {mean_std(r['teacher_accuracy'])} | {r['teacher_size']} "
            f"| h{r['student_hidden']} | {r['student_parameters']:,} / {r['student_fp32_bytes']:,} / "
            f"{r['student_file_bytes']:,} | {mean_std(r['scratch'])} | {r['targets']} "
            f"| {mean_std(r['distilled'])} | {mean_std(r['gain'])} | {r['wins']}/{n} | {versus} |"
        )
    sweep = doc["sweep"]
    if sweep is not None:
        lines += [
            "",
            f"Temperature sweep, digits, hidden-{sweep['hidden']} student, alpha 0.7: distilled accuracy in % "
            "(mean ± std) and gain over scratch in points.",
            "",
            "| teacher | " + " | ".join(f"T = {T:g}" for T in sweep["temperatures"]) + " |",
            "|---|" + "---|" * len(sweep["temperatures"]),
        ]
        for r in sweep["rows"]:
            cells = [f"{mean_std(c['distilled'])} ({mean_std(c['gain'])})" for c in r["cells"]]
            lines.append(f"| {r['teacher']} | " + " | ".join(cells) + " |")
    transfer = doc["transfer"]
    if transfer is not None:
        split = transfer["split"]
        lines += [
            "",
            f"Transfer set, routing, hidden-8 student: the HistGradientBoosting teacher is trained on "
            f"{split['teacher']:,} labelled rows and frozen; the student gets {split['labelled']} labelled rows, "
            f"and optionally {split['unlabelled']:,} unlabelled rows (X_unlabeled) that the teacher labels; test on "
            f"{split['test']} other rows.",
            "",
            f"| teacher acc | student from scratch ({split['labelled']} rows) | distilled ({split['labelled']} rows) "
            f"| distilled + {split['unlabelled']:,} unlabelled | gain of the transfer set over scratch |",
            "|---|---|---|---|---|",
            f"| {mean_std(transfer['teacher'])} | {mean_std(transfer['scratch'])} | {mean_std(transfer['distilled'])} "
            f"| {mean_std(transfer['transfer'])} | {mean_std(transfer['gain'])} |",
        ]
    lines += ["", f"Total time: {doc['seconds']} s."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 seeds, digits only (JSON only with --json)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--jobs", type=int, default=2, help="processes running seeds in parallel (default 2)")
    _blocks.add_block_arguments(parser, RESULTS)
    args = parser.parse_args(argv)
    status = _blocks.render_or_check(args, BLOCK, render, SCRIPT)
    if status is not None:
        return status
    if args.quick and args.json == RESULTS:
        args.json = Path(tempfile.mkdtemp()) / RESULTS.name  # a smoke run never replaces the committed results
    doc = run(range(2 if args.quick else args.seeds), args.jobs, quick=args.quick)
    _blocks.finish_run(args, BLOCK, render, doc)
    if args.markdown:
        args.markdown.write_text(render(doc) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
