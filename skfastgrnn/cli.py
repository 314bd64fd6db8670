"""The ``skfastgrnn`` command line: demo, train, predict, evaluate, compress, info.

Only the command line lives here: its options, commands that call the library
and print what it returns, and user mistakes turned into one-line messages
(``skfastgrnn: error: ...``, exit status 1; 2 for a wrong command line; 141,
silently, when the reader of the output went away, as in ``| head -1``). Data
files are read, checked and written in :mod:`skfastgrnn._datafiles` (the
formats are described there and in ``docs/cli.md``), their columns become
``X`` and ``y`` and the task is chosen in :mod:`skfastgrnn._datacolumns`, the
guide's settings and the latency timing live in :mod:`skfastgrnn._presets`,
the texts of the reports in :mod:`skfastgrnn._reports`; training, saving and
compression are the estimator's.

``train`` fits a :class:`~skfastgrnn.FastGRNNClassifier` or, for a numeric
target (``--task``, :func:`~skfastgrnn._datacolumns.choose_task`), a
:class:`~skfastgrnn.FastGRNNRegressor`, behind a
:class:`~skfastgrnn.SequenceScaler` (one mean and scale per feature, shared
by every timestep) for sequences (more than one timestep, or a 3-D ``X``)
and a ``StandardScaler`` for one-step rows. A model trained from a CSV
remembers its feature columns (as a model fitted on a pandas DataFrame
does): ``predict`` and ``evaluate`` pick those columns by name, in any order,
and ignore the others.

Examples
--------
>>> from skfastgrnn.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
skfastgrnn ...
0
"""

import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from ._cells import CELLS, NONLINEARITIES
from ._classifier import FastGRNNClassifier
from ._datacolumns import choose_task, final_estimator, model_input, training_data, true_targets
from ._datafiles import (
    check_model_writable,
    check_readable,
    check_writable,
    make_output_dir,
    metrics_path_for,
    one_line,
    read_data,
    write_csv,
    write_json,
)
from ._files import ModelFileError
from ._persist import load, save
from ._presets import deployment_report, guide_settings
from ._regressor import FastGRNNRegressor
from ._reports import (
    compression_summary,
    demo_lines,
    evaluation_lines,
    model_lines,
    model_score,
    predictions_table,
    save_learning_curve,
    text_table,
    training_lines,
    training_metrics_lines,
)
from ._scaler import SequenceScaler
from ._version import __version__

__all__ = ["CLIError", "EXIT_BROKEN_PIPE", "build_parser", "load_model", "main", "metrics_path_for"]

PROG = "skfastgrnn"
#: the exit status when the reader of the output went away (``| head -1``): 128 + SIGPIPE, what a
#: shell reports for the tools that SIGPIPE kills (cat, grep, git log ...)
EXIT_BROKEN_PIPE = 141
TASKS = ("auto", "classification", "regression")
#: the files of ``demo --out DIR``
DEMO_FILES = ("model.safetensors", "model.metrics.json", "report.json", "train.csv", "test.csv", "learning_curve.png")


class CLIError(Exception):
    """A user mistake: printed as one ``skfastgrnn: error: ...`` line, exit status 1."""


class _UsageError(Exception):
    """A wrong command line: printed as one line, exit status 2; ``prog`` names the command to ask --help."""

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits from deep inside parse_args; raising
    # lets main() print one line, and lets tests call main() without SystemExit
    def error(self, message):
        raise _UsageError(message, self.prog)


# ---------------------------------------------------------------- argument types


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _or_none(parse):
    """``parse``, or None for the word ``none`` (to switch a feature off)."""

    def parse_or_none(text):
        return None if text.strip().lower() == "none" else parse(text)

    parse_or_none.__name__ = parse.__name__
    return parse_or_none


def _fraction(text):
    value = _float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_or_auto(text):
    """An integer, or the word ``auto``."""
    return "auto" if text.strip().lower() == "auto" else _int(text)


def _seed(text):
    value = _int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"invalid value {text} (expected an integer from 0 to 2**32 - 1)")
    return value


def _demo_samples(text):
    value = _int(text)
    if value < 20:
        raise argparse.ArgumentTypeError(f"invalid value {text} (expected at least 20 samples)")
    return value


#: (flag, estimator parameter, type, help): ranges are checked by the
#: estimator's own parameter constraints, reported under the flag's name
_MODEL_OPTIONS = (
    ("--hidden-dim", "hidden_dim", _int, "hidden units"),
    ("--cell", "cell", sorted(CELLS), "recurrent cell"),
    ("--rank", "rank", _or_none(_int), "rank of the input matrix, W = W1 W2 ('none': full)"),
    ("--u-rank", "u_rank", _or_none(_int), "rank of the recurrent matrix, U = U1 U2 ('none': full)"),
    ("--fold", "fold", _int_or_auto, "timesteps read as one step of the cell ('auto': fold long series only)"),
    ("--gate-nonlinearity", "gate_nonlinearity", sorted(NONLINEARITIES), "nonlinearity of the gate"),
    ("--update-nonlinearity", "update_nonlinearity", sorted(NONLINEARITIES), "nonlinearity of the update"),
    ("--epochs", "epochs", _int, "maximum number of epochs"),
    ("--learning-rate", "learning_rate", _float, "initial Adam step size"),
    ("--batch-size", "batch_size", _int_or_auto, "mini-batch size ('auto': 8 to 32 by the number of rows)"),
    ("--validation-split", "validation_split", _float, "fraction held out for validation and early stopping"),
    ("--patience", "early_stopping_patience", _or_none(_int), "early-stopping patience in epochs ('none': off)"),
    ("--lr-decay", "lr_decay", _float, "learning-rate decay factor"),
    ("--lr-decay-step", "lr_decay_step", _int, "epochs between two decays"),
    ("--grad-clip", "grad_clip", _or_none(_float), "gradient clipping threshold ('none': off)"),
    ("--grad-clip-mode", "grad_clip_mode", ["norm", "value"], "clip each entry ('value') or the global norm"),
    ("--l2-reg", "l2_reg", _float, "L2 penalty on the weight matrices"),
    ("--w-sparsity", "w_sparsity", _float, "fraction of each input matrix removed by sparse training"),
    ("--u-sparsity", "u_sparsity", _float, "fraction of each recurrent matrix removed by sparse training"),
)
#: the train option that sets each estimator parameter
_FLAG_OF = {p: flag for flag, p, _, _ in _MODEL_OPTIONS} | {"random_state": "--seed", "n_timesteps": "--timesteps"}
_UNSET = object()


def _train_params(args):
    """The estimator parameters of ``train``'s options, checked before any data is read.

    The options are added one at a time, each checked by the estimator's own
    parameter constraints (the classifier's and the regressor's are the
    same), so that a value it rejects is reported under its flag, with the
    value given: a _UsageError (exit status 2), whatever the estimator's
    wording.
    """
    chosen = {"random_state": args.seed}
    chosen.update((p, getattr(args, p)) for _, p, _, _ in _MODEL_OPTIONS if getattr(args, p) is not _UNSET)
    if args.timesteps is not None:
        chosen["n_timesteps"] = args.timesteps
    params = {"verbose": _progress(args)}
    kind = FastGRNNRegressor if args.task == "regression" else FastGRNNClassifier
    for param, value in chosen.items():
        params[param] = value
        estimator = kind(**params)
        try:
            estimator._validate_params()  # fail on a bad option value before reading the data
        except InvalidParameterError as exc:
            raise _UsageError(
                f"argument {_FLAG_OF[param]}: invalid value {'none' if value is None else value} ({one_line(exc)})"
            ) from None
    return params


# ------------------------------------------------------------------ models and output


def load_model(path):
    """The model saved at ``path`` (``skfastgrnn.load``), after checking that the file exists."""
    check_readable(path)
    return load(path)  # ModelFileError and OSError are reported by main


def _progress(args):
    return 0 if args.quiet else 1


def _out(text=""):
    print(text, flush=True)


def _note(text):
    try:
        print(text, file=sys.stderr, flush=True)
    except BrokenPipeError:  # nobody reads stderr: the exit status still tells
        _silence_broken_pipes()


def _out_lines(lines, indent=""):
    for line in lines:
        _out(indent + line)


@contextlib.contextmanager
def _named_columns_checked():
    # the CLI matched the columns by name itself and passes plain arrays: the
    # warning that the array has no column names would only be noise
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


# ------------------------------------------------------------------ subcommands


def cmd_demo(args):
    """Train on built-in routing data with the guide's settings and report."""
    from .datasets import ROUTING_FEATURES, make_routing

    make_output_dir(args.out)
    for name in DEMO_FILES:  # before training: a directory in the way fails at once
        check_writable(os.path.join(args.out, name), "demo output", replaced=name.startswith("model"))
    X, y = make_routing(args.n_samples, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)

    setting, params = guide_settings(len(y_train))
    if args.epochs is not None:
        params["epochs"] = args.epochs
    _out(
        f"skfastgrnn demo: {len(y):,} routing logs from skfastgrnn.datasets.make_routing "
        f"({len(y_train):,} to train, {len(y_test):,} to test); label 1 = the lightweight model sufficed"
    )
    _out(f"settings: the guide's recommended settings for {setting}, hidden_dim=16:")
    _out("  " + ", ".join(f"{k}={v}" for k, v in params.items()))
    clf = FastGRNNClassifier(hidden_dim=16, random_state=args.seed, verbose=_progress(args), **params)
    model = make_pipeline(StandardScaler(), clf)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    scores = deployment_report(model, X_test, y_test)

    model_path = os.path.join(args.out, "model.safetensors")
    model[0].feature_names_in_ = np.asarray(ROUTING_FEATURES, dtype=object)  # see cmd_train
    save(model, model_path)
    clf.save_metrics(metrics_path_for(model_path))
    written = ["model.safetensors", os.path.basename(metrics_path_for(model_path)), "report.json"]
    for name, rows, labels in (("train.csv", X_train, y_train), ("test.csv", X_test, y_test)):
        write_csv(
            os.path.join(args.out, name),
            [*ROUTING_FEATURES, "label"],
            [[f"{v:.6f}" for v in row] + [int(label)] for row, label in zip(rows, labels, strict=True)],
        )
        written.append(name)
    if save_learning_curve(clf, os.path.join(args.out, "learning_curve.png")):
        written.append("learning_curve.png")
    else:
        _note(f"{PROG}: note: matplotlib is not installed, so no learning_curve.png (pip install 'skfastgrnn[plot]')")
    report = {
        "data": {"n_train": len(y_train), "n_test": len(y_test), "generator": "make_routing", "seed": args.seed},
        "settings": {"name": setting, "hidden_dim": 16, **params},
        "epochs_run": clf.n_iter_,
        "best_epoch": clf.best_epoch_,
        "training_seconds": seconds,
        **{k: scores[k] for k in ("test_accuracy", "test_accuracy_int8", "n_parameters", "fp32_bytes", "int8_bytes")},
        "file_bytes": os.path.getsize(model_path),
        **{k: v for k, v in scores.items() if k.startswith("latency")},
        "package_version": __version__,
    }
    write_json(os.path.join(args.out, "report.json"), report)

    _out_lines(demo_lines(report, args.out, written))
    return 0


def cmd_train(args):
    """Train Pipeline(StandardScaler or SequenceScaler, FastGRNNClassifier or FastGRNNRegressor) and save it."""
    params = _train_params(args)
    check_model_writable(args.out)  # the model and the metrics next to it
    metrics_path = metrics_path_for(args.out)

    data = read_data(args.data, channels_first=args.channels_first)
    X, y, feature_names, (T, D) = training_data(data, args.target, args.timesteps, args.step_features)
    y, task, reason = choose_task(data, args.target, y, args.task)
    _out(f"task: {task} ({reason})")
    estimator = (FastGRNNRegressor if task == "regression" else FastGRNNClassifier)(**{**params, "n_timesteps": T})
    # sequences (several timesteps, or a 3-D X) get one mean and scale per
    # feature shared by all timesteps; one-step rows a plain StandardScaler
    model = make_pipeline(SequenceScaler(n_timesteps=T) if T > 1 or data.is_3d else StandardScaler(), estimator)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    if feature_names is not None:
        # what fitting on a pandas DataFrame would have set, without requiring
        # pandas: the file then remembers the columns, and predict/evaluate
        # pick them by name
        model[0].feature_names_in_ = np.asarray(feature_names, dtype=object)
    save(model, args.out)
    estimator.save_metrics(metrics_path)
    _out_lines(training_lines(model, data.path, X, y, seconds))
    _out(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes) and {metrics_path}")
    return 0


def cmd_predict(args):
    """Write predicted labels and class probabilities, or predicted values, as CSV."""
    check_writable(args.out, "predictions")
    model = load_model(args.model)
    data = read_data(args.data, channels_first=args.channels_first)
    X = model_input(data, model, args.target)
    with _named_columns_checked():
        header, rows = predictions_table(model, X)
    write_csv(args.out, header, rows)
    if args.out != "-":
        _out(f"wrote {len(X):,} predictions to {args.out} (columns: {', '.join(header)})")
    return 0


def cmd_evaluate(args):
    """Accuracy, log loss and confusion matrix (classifier), or R^2, MAE and RMSE (regressor), on labelled data."""
    model = load_model(args.model)
    data = read_data(args.data, channels_first=args.channels_first)
    X = model_input(data, model, args.target)
    y = true_targets(data, args.target, model)
    with _named_columns_checked():
        lines = evaluation_lines(model, X, y)
    _out(f"{args.model} on {data.path}: {len(y):,} rows")
    _out_lines(lines)
    return 0


def cmd_compress(args):
    """Prune and/or quantize a saved model into a new file."""
    if not args.quantize and args.prune is None:
        raise _UsageError("compress needs --quantize, --prune FRACTION or both")
    if args.data is None and (args.target is not None or args.channels_first):
        raise _UsageError(f"{'--target' if args.target is not None else '--channels-first'} is only used with --data")
    check_writable(args.out, "model", replaced=True)
    sidecar = metrics_path_for(args.model)
    if os.path.isfile(sidecar):
        check_writable(metrics_path_for(args.out), "metrics", replaced=True)
    model = load_model(args.model)
    clf = final_estimator(model)
    evaluation = None
    if args.data is not None:
        data = read_data(args.data, channels_first=args.channels_first)
        evaluation = (model_input(data, model, args.target), true_targets(data, args.target, model))

    def score():
        with _named_columns_checked():
            return model_score(model, *evaluation)

    before = compression_summary(clf, args.model)
    before_score = score() if evaluation else None
    if args.prune is not None:
        clf.prune(args.prune)
    if args.quantize:
        clf.quantize()
    save(model, args.out)
    after = compression_summary(clf, args.out)
    steps = ([f"prune({args.prune:g})"] if args.prune is not None else []) + (["quantize()"] if args.quantize else [])
    _out(f"{args.model} -> {args.out}: {' then '.join(steps)}")
    rows = [("", "before", "after")] + [(k, before[k], after[k]) for k in before]
    if evaluation:
        name, value = before_score
        rows.append((f"{name} on {os.path.basename(args.data)}", f"{value:.4f}", f"{score()[1]:.4f}"))
    _out_lines(text_table(rows), "  ")
    if os.path.isfile(sidecar):  # the training history is unchanged: keep it next to the new file
        try:
            clf.load_metrics(sidecar)
            clf.save_metrics(metrics_path_for(args.out))
        except (ModelFileError, OSError) as exc:
            _note(f"{PROG}: warning: the training metrics were not copied: {_error_message(exc)}")
        else:
            _out(f"copied the training metrics to {metrics_path_for(args.out)}")
    return 0


def cmd_info(args):
    """Configuration, classes or outputs, sizes and training metrics of a saved model."""
    model = load_model(args.model)
    metrics = training_metrics_lines(final_estimator(model), args.model, args.metrics)  # a bad --metrics fails here
    _out_lines(model_lines(model, args.model) + metrics)
    return 0


# ------------------------------------------------------------------ parser and main

_X_HELP = "X (n_samples, width) or (n_samples, n_timesteps, n_features)"
_LABELLED_HELP = f"CSV with a header line, or .npz with arrays {_X_HELP} and y"
_CHANNELS_FIRST_HELP = (
    "the .npz X is 3-D channels first, (n_samples, n_features, n_timesteps) as aeon and sktime give it, "
    "instead of (n_samples, n_timesteps, n_features)"
)


def build_parser():
    """The argparse parser of the ``skfastgrnn`` command."""
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate, compress and inspect FastGRNN classifiers and regressors (skfastgrnn).",
        epilog=f"'{PROG} COMMAND --help' describes a command. Exit status: 0 success, 1 error, 2 wrong command line, "
        f"{EXIT_BROKEN_PIPE} output pipe closed early (| head).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, func, help_text, description):
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.set_defaults(func=func)
        return sub

    demo = command(
        "demo",
        cmd_demo,
        "train on built-in routing data and report",
        "Train a FastGRNN router on built-in routing logs (skfastgrnn.datasets.make_routing) with the Tiny Dancer "
        "guide's recommended settings; report test accuracy, sizes (fp32, int8) and prediction latency; write the "
        "model (normalization included), its metrics, a report, the data and a learning-curve PNG into a directory.",
    )
    demo.add_argument("--out", default="skfastgrnn-demo", metavar="DIR", help="output directory (default: %(default)s)")
    demo.add_argument(
        "--n-samples", type=_demo_samples, default=10_000, help="routing logs to generate, >= 20 (default: %(default)s)"
    )
    demo.add_argument("--epochs", type=_positive_int, help="override the settings' maximum number of epochs")
    demo.add_argument("--seed", type=_seed, default=0, help="seed of the data, split and model (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")

    defaults = FastGRNNClassifier().get_params()
    train = command(
        "train",
        cmd_train,
        "train a model on a CSV or .npz file",
        "Train Pipeline(scaler, FastGRNNClassifier or FastGRNNRegressor) on DATA and save it (one safetensors file, "
        "normalization included) with its training metrics next to it (MODEL's name with .metrics.json). --task auto "
        "trains a regressor when the target has non-integer values or more than 20 distinct whole numbers, a "
        "classifier for text labels or at most 20 whole numbers. The scaler is "
        "SequenceScaler (one mean and scale per feature, shared by every timestep) for sequences (--timesteps T > 1, "
        "or a 3-D X), StandardScaler for one-step rows. Sequences: a 3-D X is (n_samples, n_timesteps, n_features); "
        "a row of T*D values is laid out [x_1, ..., x_T], each x_t of D features; empty or nan values after a "
        "sequence's end pad shorter sequences.",
    )
    train.add_argument("data", metavar="DATA", help=_LABELLED_HELP)
    train.add_argument("--target", metavar="COLUMN", help="label column of the CSV; label array of an .npz (default y)")
    train.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.safetensors)")
    train.add_argument(
        "--task",
        choices=TASKS,
        default="auto",
        help="classification (FastGRNNClassifier) or regression (FastGRNNRegressor); auto: by the target's values "
        "(default: %(default)s)",
    )
    train.add_argument(
        "--timesteps", metavar="T", type=_positive_int, help="split each row into T steps (n_timesteps; default 1)"
    )
    train.add_argument(
        "--step-features",
        metavar="D",
        type=_positive_int,
        help="values per timestep: a row of T*D values is T steps of D features (with --timesteps, T*D must be the "
        "number of feature columns)",
    )
    train.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)
    group = train.add_argument_group("model and training options (defaults: the estimator's)")
    for flag, param, kind, help_text in _MODEL_OPTIONS:
        choices = kind if isinstance(kind, list) else None
        group.add_argument(
            flag,
            dest=param,
            type=None if choices else kind,
            choices=choices,
            default=_UNSET,
            metavar=None if choices else flag[2:].upper().replace("-", "_"),
            help=f"{help_text} (default: {defaults[param]})",
        )
    group.add_argument("--seed", type=_seed, default=0, help="random_state: same seed, same model (default: 0)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")

    predict = command(
        "predict",
        cmd_predict,
        "write predictions (and class probabilities) as CSV",
        "Predict every row of DATA; write a CSV, in the order of the rows, with the columns prediction and "
        "proba_<class> (classifier) or prediction (regressor: the predicted value).",
    )
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("data", metavar="DATA", help=f"CSV with a header line, or .npz with array {_X_HELP}")
    predict.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)
    predict.add_argument("--out", required=True, metavar="FILE", help="CSV to write ('-': standard output)")
    predict.add_argument(
        "--target", metavar="COLUMN", help="a label column to leave out (models that do not know their columns)"
    )

    evaluate = command(
        "evaluate",
        cmd_evaluate,
        "accuracy, log loss, confusion matrix; R^2, MAE, RMSE",
        "Score MODEL on labelled DATA: accuracy, log loss and confusion matrix for a classifier; R^2, mean absolute "
        "error and root mean squared error for a regressor.",
    )
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA", help=_LABELLED_HELP)
    evaluate.add_argument("--target", metavar="COLUMN", help="label column of the CSV (required); .npz: default y")
    evaluate.add_argument("--channels-first", action="store_true", help=_CHANNELS_FIRST_HELP)

    compress = command(
        "compress",
        cmd_compress,
        "prune and/or quantize a model",
        "Prune (zero the smallest weights of each W and U matrix) and/or quantize (int8) MODEL into a new file; "
        "with --data, report the accuracy (a regressor: R^2) before and after.",
    )
    compress.add_argument("model", metavar="MODEL")
    compress.add_argument("--quantize", action="store_true", help="int8 weight matrices")
    compress.add_argument(
        "--prune", type=_fraction, metavar="FRACTION", help="fraction of each W and U matrix removed, e.g. 0.3"
    )
    compress.add_argument("--out", required=True, metavar="MODEL2", help="model file to write")
    compress.add_argument("--data", metavar="DATA", help="labelled data to score the model on before and after")
    compress.add_argument("--target", metavar="COLUMN", help="label column of --data")
    compress.add_argument("--channels-first", action="store_true", help="--data's 3-D X is channels first (as train)")

    info = command(
        "info",
        cmd_info,
        "describe a saved model",
        "Print the configuration, classes (a regressor: its outputs), sizes and, when the metrics file sits next to "
        "MODEL or is given, "
        "a summary of the training metrics.",
    )
    info.add_argument("model", metavar="MODEL")
    info.add_argument("--metrics", metavar="FILE", help="metrics JSON (default: MODEL's name with .metrics.json)")
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr, flush=True)


def _error_message(exc):
    """One line for an exception caused by the user's input."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return one_line(exc)


def main(argv=None):
    """Run the ``skfastgrnn`` command; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 for an error in the data, the files or the values,
        2 for a wrong command line (unknown option, bad option value), 130
        when interrupted, 141 (:data:`EXIT_BROKEN_PIPE`) without a message
        when the reader of the output went away (``skfastgrnn info m |
        head -1``), as for the tools that SIGPIPE kills. Errors are one
        ``skfastgrnn: error: ...`` line on stderr; set
        ``SKFASTGRNN_TRACEBACK=1`` to see the traceback.
    """
    try:
        return _run(argv)
    except BrokenPipeError:
        _silence_broken_pipes()
        return EXIT_BROKEN_PIPE


def _silence_broken_pipes():
    """Point each standard stream whose pipe broke at os.devnull, so that the flush at exit is quiet too."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # its reader is gone and the unwritten text is still in its buffer
            with contextlib.suppress(OSError, ValueError, AttributeError):  # not a file: nothing to redirect
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, stream.fileno())
                finally:
                    os.close(devnull)


def _run(argv):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _note(f"{PROG}: error: {one_line(exc)} (see '{exc.prog or PROG} --help')")
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except KeyboardInterrupt:
            _note(f"{PROG}: interrupted")
            return 130
        except (_UsageError, InvalidParameterError) as exc:  # a bad option value, caught by the estimator's constraints
            _note(f"{PROG}: error: {one_line(exc)} (see '{PROG} {args.command} --help')")
            return 2
        except BrokenPipeError:
            raise  # an OSError, but no error: main() stops quietly
        except (CLIError, ModelFileError, ValueError, OSError) as exc:
            # ValueError covers the data files' checks (DataFileError) and the
            # estimator's (labels, divergence); anything else is a bug and
            # keeps its traceback
            if os.environ.get("SKFASTGRNN_TRACEBACK"):
                raise
            _note(f"{PROG}: error: {_error_message(exc)}")
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
