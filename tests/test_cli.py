"""The ``skfastgrnn`` command line: every subcommand, and one-line errors for user mistakes."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import skfastgrnn
from skfastgrnn.cli import guide_settings, main, metrics_path_for
from skfastgrnn.datasets import ROUTING_FEATURES, make_routing

FAST = ["--epochs", "3", "--quiet"]

# a model trained from a CSV knows its column names, like one fitted on a
# DataFrame; these tests call it with plain arrays
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def write_csv(path, X, y, header=(*ROUTING_FEATURES, "label")):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row, label in zip(X, y, strict=True):
            writer.writerow([*(f"{v:.6f}" for v in row), label])
    return str(path)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def run(capsys, *argv):
    """main(argv) -> (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A routing CSV, a trained model (with its metrics) and an .npz of sequences."""
    d = tmp_path_factory.mktemp("cli")
    X, y = make_routing(300, random_state=0)
    data = write_csv(d / "routing.csv", X, y)
    model = str(d / "router.safetensors")
    assert main(["train", data, "--target", "label", "--out", model, "--hidden-dim", "8", *FAST]) == 0
    rng = np.random.RandomState(0)
    seq = rng.normal(size=(120, 4, 3))
    labels = (seq[:, :, 0].sum(axis=1) > 0).astype(int)
    npz = str(d / "seq.npz")
    np.savez(npz, X=seq, y=labels)
    return {"dir": d, "X": X, "y": y, "csv": data, "model": model, "npz": npz}


# --------------------------------------------------------------------- commands


def test_demo_writes_its_artifacts_and_reports(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    status, out, err = run(capsys, "demo", "--out", out_dir, "--n-samples", 300, "--epochs", 4)
    assert status == 0
    assert "epoch 1/4" in err and "epoch 4/4" in err  # progress per epoch on stderr
    assert "small datasets" in out  # 240 training rows: the guide's small-data settings
    for needle in ("test accuracy", "int8", "prediction latency", "skfastgrnn evaluate"):
        assert needle in out
    report = json.loads((out_dir / "report.json").read_text())
    assert report["settings"]["learning_rate"] == 0.01 and report["settings"]["epochs"] == 4
    assert 0.5 < report["test_accuracy"] <= 1 and report["int8_bytes"] < report["fp32_bytes"]
    model = skfastgrnn.load(out_dir / "model.safetensors")
    header, rows = read_csv(out_dir / "test.csv")
    assert header == [*ROUTING_FEATURES, "label"] and len(rows) == 60
    X = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(r[-1]) for r in rows])
    assert np.mean(model.predict(X) == y) == pytest.approx(report["test_accuracy"], abs=0.02)  # 6-digit CSV
    model[-1].load_metrics(out_dir / "model.metrics.json")
    assert len(model[-1].history_) == 4
    pytest.importorskip("matplotlib")
    assert (out_dir / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_quiet_prints_no_progress(tmp_path, capsys):
    status, out, err = run(capsys, "demo", "--out", tmp_path, "--n-samples", 100, "--epochs", 2, "--quiet")
    assert status == 0 and "epoch 1/" not in err and "test accuracy" in out


def test_guide_settings_follow_the_dataset_size():
    assert guide_settings(999)[1]["batch_size"] == 16
    assert guide_settings(1000)[1]["learning_rate"] == 0.005
    assert guide_settings(50_000)[1]["early_stopping_patience"] == 3


def test_train_csv_saves_pipeline_metrics_and_feature_names(files, capsys):
    model = skfastgrnn.load(files["model"])
    assert [type(s).__name__ for _, s in model.steps] == ["StandardScaler", "FastGRNNClassifier"]
    assert list(model.feature_names_in_) == list(ROUTING_FEATURES)
    assert model[-1].hidden_dim == 8 and model[-1].n_iter_ == 3 and model[-1].random_state == 0
    model[-1].load_metrics(metrics_path_for(files["model"]))  # the metrics file sits next to it
    assert os.path.basename(metrics_path_for(files["model"])) == "router.metrics.json"


def test_train_passes_every_option_to_the_estimator(files, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    options = [
        *("--hidden-dim", 6, "--cell", "guide", "--rank", 2, "--u-rank", "none", "--epochs", 2),
        *("--learning-rate", 0.02, "--batch-size", 8, "--validation-split", 0.25, "--patience", "none"),
        *("--lr-decay", 0.9, "--lr-decay-step", 3, "--grad-clip", "none", "--grad-clip-mode", "norm"),
        *("--l2-reg", 0.0, "--gate-nonlinearity", "quantSigm", "--update-nonlinearity", "quantTanh"),
        *("--w-sparsity", 0.0, "--u-sparsity", 0.0, "--seed", 7),
    ]
    status, stdout, err = run(capsys, "train", files["csv"], "--target", "label", "--out", out, "--quiet", *options)
    assert status == 0, err
    params = skfastgrnn.load(out)[-1].get_params()
    expected = dict(hidden_dim=6, cell="guide", rank=2, u_rank=None, epochs=2, learning_rate=0.02, batch_size=8)
    expected.update(validation_split=0.25, early_stopping_patience=None, lr_decay=0.9, lr_decay_step=3)
    expected.update(grad_clip=None, grad_clip_mode="norm", l2_reg=0.0, gate_nonlinearity="quantSigm")
    expected.update(update_nonlinearity="quantTanh", random_state=7)
    assert {k: params[k] for k in expected} == expected
    assert "trained on" in stdout and "2 epochs" in stdout


def test_train_is_reproducible_with_the_default_seed(files, tmp_path, capsys):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for out in (a, b):
        assert run(capsys, "train", files["csv"], "--target", "label", "--out", out, "--hidden-dim", 4, *FAST)[0] == 0
    Xs = files["X"][:20]
    assert np.array_equal(skfastgrnn.load(a).predict_proba(Xs), skfastgrnn.load(b).predict_proba(Xs))


def test_predict_matches_the_library_and_picks_columns_by_name(files, tmp_path, capsys):
    # columns shuffled, an extra id column, no label: selected by name
    X = files["X"][:50]
    order = [4, 2, 0, 1, 3]
    path = tmp_path / "new.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id"] + [ROUTING_FEATURES[i] for i in order])
        for k, row in enumerate(X):
            writer.writerow([f"r{k}"] + [f"{row[i]:.6f}" for i in order])
    out = tmp_path / "pred.csv"
    status, stdout, _ = run(capsys, "predict", files["model"], path, "--out", out)
    assert status == 0 and "wrote 50 predictions" in stdout
    header, rows = read_csv(out)
    assert header == ["prediction", "proba_0", "proba_1"]
    model = skfastgrnn.load(files["model"])
    X6 = np.round(X, 6)
    assert [int(r[0]) for r in rows] == model.predict(X6).tolist()
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(proba, model.predict_proba(X6), rtol=1e-5)


def test_predict_to_stdout(files, capsys):
    status, out, _ = run(capsys, "predict", files["model"], files["csv"], "--out", "-")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "prediction,proba_0,proba_1" and len(lines) == 301


def test_evaluate_reports_accuracy_log_loss_and_confusion_matrix(files, capsys):
    status, out, _ = run(capsys, "evaluate", files["model"], files["csv"], "--target", "label")
    assert status == 0
    model = skfastgrnn.load(files["model"])
    X = np.round(files["X"], 6)
    assert f"accuracy: {model.score(X, files['y']):.4f}" in out
    assert "log loss:" in out and "confusion matrix" in out
    counts = [int(v) for line in out.splitlines()[-2:] for v in line.split()[1:]]
    assert sum(counts) == 300


def test_npz_sequences_train_predict_evaluate(files, tmp_path, capsys):
    out = tmp_path / "seq.safetensors"
    status, stdout, err = run(capsys, "train", files["npz"], "--out", out, "--hidden-dim", 8, *FAST)
    assert status == 0, err
    model = skfastgrnn.load(out)
    assert model[-1].n_timesteps_ == 4 and model[-1].n_step_features_ == 3  # T taken from the 3-D X
    assert run(capsys, "evaluate", out, files["npz"])[1].startswith(f"{out} on {files['npz']}: 120 rows")
    assert run(capsys, "predict", out, files["npz"], "--out", tmp_path / "p.csv")[0] == 0
    assert len(read_csv(tmp_path / "p.csv")[1]) == 120


def test_string_labels_round_trip(files, tmp_path, capsys):
    labels = np.where(files["y"] == 1, "light", "heavy")
    data = write_csv(tmp_path / "s.csv", files["X"], labels)
    out = tmp_path / "s.safetensors"
    assert run(capsys, "train", data, "--target", "label", "--out", out, *FAST)[0] == 0
    status, stdout, _ = run(capsys, "evaluate", out, data, "--target", "label")
    assert status == 0 and "heavy" in stdout and "light" in stdout
    assert run(capsys, "predict", out, data, "--out", tmp_path / "p.csv")[0] == 0
    header, rows = read_csv(tmp_path / "p.csv")
    assert header == ["prediction", "proba_heavy", "proba_light"] and {r[0] for r in rows} <= {"heavy", "light"}


def test_compress_prunes_quantizes_and_keeps_metrics(files, tmp_path, capsys):
    out = tmp_path / "small.safetensors"
    status, stdout, err = run(
        capsys, "compress", files["model"], "--prune", 0.5, "--quantize", "--out", out, "--data", files["csv"],
        "--target", "label",
    )  # fmt: skip
    assert status == 0, err
    report = skfastgrnn.load(out)[-1].size_report()
    assert report["quantized"] and report["pruned"] and report["n_nonzero"] < report["n_parameters"]
    assert "prune(0.5) then quantize()" in stdout and "accuracy on routing.csv" in stdout
    assert os.path.isfile(metrics_path_for(str(out)))


def test_info_shows_configuration_sizes_and_metrics(files, capsys):
    status, out, _ = run(capsys, "info", files["model"])
    assert status == 0
    for needle in ("Pipeline(StandardScaler, FastGRNNClassifier)", "hidden_dim 8", "classes (2): 0, 1", "W_out"):
        assert needle in out
    assert "similarity, recency" in out and "total" in out
    assert "metrics (" in out and "epoch" in out and "(kept)" in out


def test_info_without_metrics_file(files, tmp_path, capsys):
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(open(files["model"], "rb").read())
    status, out, _ = run(capsys, "info", bare)
    assert status == 0 and "metrics: none" in out
    status, out, _ = run(capsys, "info", bare, "--metrics", metrics_path_for(files["model"]))
    assert status == 0 and "(kept)" in out


def test_help_and_version(capsys):
    assert run(capsys, "--help")[0] == 0
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"skfastgrnn {skfastgrnn.__version__}"
    for command in ("demo", "train", "predict", "evaluate", "compress", "info"):
        status, out, _ = run(capsys, command, "--help")
        assert status == 0 and "usage: skfastgrnn " + command in out


# ------------------------------------------------------------------ user mistakes


@pytest.fixture(scope="module")
def bad_files(files):
    d = files["dir"]
    paths = {}

    def text(name, content, mode="w"):
        p = d / name
        with open(p, mode) as f:
            f.write(content)
        paths[name] = str(p)

    text("nonnumeric.csv", "a,b,label\n1,2,0\n3,abc,1\n")
    text("missing.csv", "a,b,label\n1,2,0\n3,,1\n")
    text("nan.csv", "a,b,label\n1,2,0\n3,nan,1\n")
    text("ragged.csv", "a,b,label\n1,2,0\n3,1\n")
    text("empty.csv", "")
    text("header.csv", "a,b,label\n")
    text("dup.csv", "a,a,label\n1,2,0\n")
    text("one_class.csv", "a,b,label\n1,2,0\n3,4,0\n")
    text("binary.csv", b"\xff\xfe\x00\x81garbage", mode="wb")
    text("narrow.csv", "similarity,recency\n0.1,0.2\n")
    text("not_a_model.safetensors", "hello, I am not a model")
    text("not_zip.npz", "plain text")
    np.savez(d / "noX.npz", Z=np.zeros((3, 2)))
    paths["noX.npz"] = str(d / "noX.npz")
    np.savez(d / "wide.npz", X=np.zeros((3, 7)), y=np.array([0, 1, 0]))
    paths["wide.npz"] = str(d / "wide.npz")
    X, y = files["X"][:10], files["y"][:10].copy()
    y[0] = 5
    paths["unknown_label.csv"] = write_csv(d / "unknown_label.csv", X, y)
    # a model that does not know its column names: trained from an .npz
    np.savez(d / "plain.npz", X=files["X"], y=files["y"])
    paths["plain.safetensors"] = str(d / "plain.safetensors")
    assert main(["train", str(d / "plain.npz"), "--out", paths["plain.safetensors"], *FAST]) == 0
    paths["afile"] = str(d / "routing.csv")
    return paths


MISTAKES = {
    # name: (argv template, expected fragment of the message, exit status)
    "missing data file": (["train", "nope.csv", "--target", "label", "--out", "{tmp}/m"], "no such file", 1),
    "missing model file": (["info", "nope.safetensors"], "no such file", 1),
    "missing model for predict": (["predict", "nope.safetensors", "{csv}", "--out", "{tmp}/p.csv"], "no such", 1),
    "unknown target column": (["train", "{csv}", "--target", "lbl", "--out", "{tmp}/m"], "no column 'lbl'", 1),
    "target required": (["train", "{csv}", "--out", "{tmp}/m"], "--target COLUMN is required", 1),
    "unknown column for evaluate": (["evaluate", "{model}", "{csv}", "--target", "nope"], "no column 'nope'", 1),
    "missing feature column": (["predict", "{model}", "{narrow.csv}", "--out", "{tmp}/p"], "no column 'popularity'", 1),
    "wrong width, csv": (["predict", "{plain.safetensors}", "{csv}", "--out", "{tmp}/p"], "the model expects 5", 1),
    "wrong width, npz": (["predict", "{model}", "{wide.npz}", "--out", "{tmp}/p"], "the model expects 5", 1),
    "non-numeric cell": (["train", "{nonnumeric.csv}", "--target", "label", "--out", "{tmp}/m"], "line 3", 1),
    "empty cell": (["train", "{missing.csv}", "--target", "label", "--out", "{tmp}/m"], "is empty", 1),
    "nan cell": (["train", "{nan.csv}", "--target", "label", "--out", "{tmp}/m"], "must be finite", 1),
    "ragged row": (["train", "{ragged.csv}", "--target", "label", "--out", "{tmp}/m"], "2 fields", 1),
    "empty csv": (["train", "{empty.csv}", "--target", "label", "--out", "{tmp}/m"], "empty file", 1),
    "header only": (["train", "{header.csv}", "--target", "label", "--out", "{tmp}/m"], "no data rows", 1),
    "duplicate columns": (["train", "{dup.csv}", "--target", "label", "--out", "{tmp}/m"], "duplicate column", 1),
    "one class": (["train", "{one_class.csv}", "--target", "label", "--out", "{tmp}/m"], "single class", 1),
    "binary csv": (["train", "{binary.csv}", "--target", "label", "--out", "{tmp}/m"], "not a UTF-8", 1),
    "npz without X": (["train", "{noX.npz}", "--out", "{tmp}/m"], "no array 'X'", 1),
    "not an npz": (["train", "{not_zip.npz}", "--out", "{tmp}/m"], "not a valid .npz", 1),
    "not a model": (["info", "{not_a_model.safetensors}"], "not_a_model.safetensors", 1),
    "unknown label": (["evaluate", "{model}", "{unknown_label.csv}", "--target", "label"], "label '5'", 1),
    "timesteps do not divide": (
        ["train", "{csv}", "--target", "label", "--timesteps", "2", "--out", "{tmp}/m"],
        "--timesteps 2",
        1,
    ),  # noqa: E501
    "output directory missing": (["train", "{csv}", "--target", "label", "--out", "{tmp}/no/m"], "does not exist", 1),
    "output is a directory": (["predict", "{model}", "{csv}", "--out", "{tmp}"], "is a directory", 1),
    "output under a file": (["compress", "{model}", "--quantize", "--out", "{afile}/m"], "does not exist", 1),
    "demo out is a file": (["demo", "--out", "{afile}"], "not a directory", 1),
    "metrics file is not metrics": (["info", "{model}", "--metrics", "{csv}"], "not a metrics file", 1),
    "compress without action": (["compress", "{model}", "--out", "{tmp}/m"], "needs --quantize", 1),
    "hidden-dim zero": (
        ["train", "{csv}", "--target", "label", "--hidden-dim", "0", "--out", "{tmp}/m"],
        "--hidden-dim",
        2,
    ),  # noqa: E501
    "hidden-dim text": (["train", "{csv}", "--target", "label", "--hidden-dim", "x", "--out", "{tmp}/m"], "integer", 2),
    "negative learning rate": (
        ["train", "{csv}", "--target", "label", "--learning-rate", "-1", "--out", "{tmp}/m"],
        "--learning-rate",
        2,
    ),  # noqa: E501
    "validation split too big": (
        ["train", "{csv}", "--target", "label", "--validation-split", "1.5", "--out", "{tmp}/m"],
        "--validation-split",
        2,
    ),  # noqa: E501
    "nan option": (["train", "{csv}", "--target", "label", "--l2-reg", "nan", "--out", "{tmp}/m"], "finite", 2),
    "bad cell": (["train", "{csv}", "--target", "label", "--cell", "lstm", "--out", "{tmp}/m"], "invalid choice", 2),
    "prune out of range": (["compress", "{model}", "--prune", "1.5", "--out", "{tmp}/m"], "fraction", 2),
    "demo too small": (["demo", "--n-samples", "3", "--out", "{tmp}/d"], "at least 20", 1),
    "unknown command": (["fit"], "invalid choice", 2),
    "no command": ([], "required", 2),
    "missing --out": (["predict", "{model}", "{csv}"], "--out", 2),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_user_mistakes_give_one_line_and_nonzero_exit(name, files, bad_files, tmp_path, capsys):
    template, fragment, expected_status = MISTAKES[name]
    values = {"tmp": tmp_path, "csv": files["csv"], "model": files["model"], **bad_files}
    argv = []
    for arg in template:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", str(value))
        argv.append(arg)
    status, out, err = run(capsys, *argv)
    assert status == expected_status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skfastgrnn: error: "), err
    assert fragment in lines[0]
    assert "Traceback" not in err + out
    assert not os.path.exists(tmp_path / "m")  # nothing written on failure


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory(files, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        status, _, err = run(capsys, "train", files["csv"], "--target", "label", "--out", locked / "m", *FAST)
    finally:
        locked.chmod(0o700)
    assert status == 1 and "not writable" in err and len(err.strip().splitlines()) == 1


def test_diverging_training_is_one_line(files, tmp_path, capsys, monkeypatch):
    # divergence is hard to provoke on purpose (Adam's steps are bounded); the
    # estimator's error is what the command must turn into one line
    def diverge(self, X, y, sample_weight=None):
        raise skfastgrnn.TrainingDivergedError("Training diverged in epoch 2: the loss is NaN (learning_rate=1).")

    monkeypatch.setattr(skfastgrnn.FastGRNNClassifier, "fit", diverge)
    status, _, err = run(capsys, "train", files["csv"], "--target", "label", "--out", tmp_path / "m", *FAST)
    assert status == 1
    assert err == "skfastgrnn: error: Training diverged in epoch 2: the loss is NaN (learning_rate=1).\n"


# ------------------------------------------------------------- the installed script


def _script():
    candidate = os.path.join(os.path.dirname(sys.executable), "skfastgrnn")
    if os.path.exists(candidate):
        return [candidate]
    import shutil

    found = shutil.which("skfastgrnn")
    assert found, "the skfastgrnn script is not installed: pip install -e ."
    return [found]


def test_installed_script_runs_and_fails_cleanly(files, tmp_path):
    ok = subprocess.run([*_script(), "info", files["model"]], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "FastGRNNClassifier" in ok.stdout
    bad = subprocess.run(
        [*_script(), "evaluate", files["model"], "nothere.csv", "--target", "label"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert bad.stderr == "skfastgrnn: error: nothere.csv: no such file\n"
