"""The ``skfastgrnn`` command line: every subcommand, and one-line errors for user mistakes."""

import csv
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn._presets import guide_settings
from skfastgrnn.cli import main, metrics_path_for
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
        *("--w-sparsity", 0.0, "--u-sparsity", 0.0, "--seed", 7, "--fold", 2),
    ]
    status, stdout, err = run(capsys, "train", files["csv"], "--target", "label", "--out", out, "--quiet", *options)
    assert status == 0, err
    params = skfastgrnn.load(out)[-1].get_params()
    expected = dict(hidden_dim=6, cell="guide", rank=2, u_rank=None, epochs=2, learning_rate=0.02, batch_size=8)
    expected.update(validation_split=0.25, early_stopping_patience=None, lr_decay=0.9, lr_decay_step=3)
    expected.update(grad_clip=None, grad_clip_mode="norm", l2_reg=0.0, gate_nonlinearity="quantSigm")
    expected.update(update_nonlinearity="quantTanh", random_state=7, fold=2)
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
    assert isinstance(model[0], skfastgrnn.SequenceScaler)  # sequences: one mean and scale per feature
    assert run(capsys, "evaluate", out, files["npz"])[1].startswith(f"{out} on {files['npz']}: 120 rows")
    assert run(capsys, "predict", out, files["npz"], "--out", tmp_path / "p.csv")[0] == 0
    assert len(read_csv(tmp_path / "p.csv")[1]) == 120


# --------------------------------------------------------------------- sequences

T_SEQ, D_SEQ = 4, 3


@pytest.fixture(scope="module")
def seq_files(tmp_path_factory):
    """NaN-padded sequences of 1-4 steps of 3 features: a CSV (empty and nan padding), npz steps / channels first."""
    d = tmp_path_factory.mktemp("seq")
    rng = np.random.RandomState(1)
    n = 60
    X3 = rng.normal(size=(n, T_SEQ, D_SEQ)) * [1.0, 5.0, 20.0] + [0.0, 3.0, -40.0]
    lengths = rng.randint(1, T_SEQ + 1, size=n)
    lengths[:2] = T_SEQ
    for i, k in enumerate(lengths):
        X3[i, k:] = np.nan
    y = (np.nansum(X3[:, :, 0], axis=1) > 0).astype(int)
    X3 = np.round(X3, 6)  # what the CSV holds
    header = [f"t{t}_{c}" for t in range(T_SEQ) for c in ("a", "b", "c")]
    path = d / "seq.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *header, "label"])
        for i, (row, label) in enumerate(zip(X3.reshape(n, -1), y, strict=True)):
            # padding as empty cells on even rows, as "nan" on odd rows
            cells = [f"{v:.6f}" if np.isfinite(v) else ("" if i % 2 == 0 else "nan") for v in row]
            writer.writerow([f"s{i}", *cells, label])
    with open(path, newline="") as f, open(d / "train.csv", "w", newline="") as g:
        csv.writer(g).writerows(row[1:] for row in csv.reader(f))  # without the id column
    np.savez(d / "seq3d.npz", X=X3, y=y)
    np.savez(d / "seq_cf.npz", X=np.swapaxes(X3, 1, 2), y=y)
    longer = np.concatenate([np.nan_to_num(X3), np.nan_to_num(X3[:, :2])], axis=1)  # 6 steps
    np.savez(d / "seq6.npz", X=longer, y=y)
    np.savez(d / "seq6_cf.npz", X=np.swapaxes(longer, 1, 2), y=y)
    return {
        "dir": d,
        "csv": str(path),
        "train_csv": str(d / "train.csv"),
        "X3": X3,
        "y": y,
        "header": header,
        "longer": longer,
    } | {name: str(d / f"{name}.npz") for name in ("seq3d", "seq_cf", "seq6", "seq6_cf")}


SEQ_FAST = ["--hidden-dim", 4, *FAST]


def _proba(path):
    header, rows = read_csv(path)
    return np.array([[float(v) for v in r[1:]] for r in rows])


def test_csv_sequences_with_nan_padding(seq_files, tmp_path, capsys):
    out = tmp_path / "seq.safetensors"
    status, stdout, err = run(
        capsys, "train", seq_files["csv"], "--target", "label", "--timesteps", T_SEQ, "--step-features", D_SEQ,
        "--out", out, *SEQ_FAST,
    )  # fmt: skip
    assert status == 1 and "13 feature columns, but --timesteps 4 x --step-features 3 = 12" in err  # the id column
    status, stdout, err = run(
        capsys, "train", seq_files["train_csv"], "--target", "label", "--timesteps", T_SEQ, "--step-features", D_SEQ,
        "--out", out, *SEQ_FAST,
    )  # fmt: skip
    assert status == 0, err
    assert "(4 timesteps x 3; sequences of 1 to 4 timesteps, NaN padded)" in stdout
    assert "normalization: SequenceScaler" in stdout
    model = skfastgrnn.load(out)
    assert [type(s) for _, s in model.steps] == [skfastgrnn.SequenceScaler, skfastgrnn.FastGRNNClassifier]
    assert model[0].n_timesteps == T_SEQ and model[0].n_channels_ == D_SEQ
    assert model[-1].n_timesteps_ == T_SEQ and model[-1].n_step_features_ == D_SEQ
    assert list(model.feature_names_in_) == seq_files["header"]
    # predict picks the columns by name (the id column is ignored) and equals the library on the padded rows
    rows = seq_files["X3"].reshape(len(seq_files["y"]), -1)
    assert run(capsys, "predict", out, seq_files["csv"], "--out", tmp_path / "p.csv")[0] == 0
    np.testing.assert_allclose(_proba(tmp_path / "p.csv"), model.predict_proba(rows), rtol=1e-5)
    status, stdout, _ = run(capsys, "evaluate", out, seq_files["csv"], "--target", "label")
    assert status == 0 and f"accuracy: {model.score(rows, seq_files['y']):.4f}" in stdout
    # the 3-D npz of the same sequences gives the same predictions
    assert run(capsys, "predict", out, seq_files["seq3d"], "--out", tmp_path / "p3.csv")[0] == 0
    np.testing.assert_allclose(_proba(tmp_path / "p3.csv"), _proba(tmp_path / "p.csv"), rtol=1e-5)


def test_step_features_alone_gives_the_timesteps(seq_files, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    argv = ["train", seq_files["train_csv"], "--target", "label", "--out", out, "--step-features", D_SEQ, *SEQ_FAST]
    assert run(capsys, *argv)[0] == 0
    model = skfastgrnn.load(out)
    assert model[-1].n_timesteps_ == T_SEQ and model[0].n_timesteps == T_SEQ


def test_npz_3d_uses_sequence_scaler_and_reads_any_length(seq_files, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    status, stdout, err = run(capsys, "train", seq_files["seq3d"], "--out", out, *SEQ_FAST)
    assert status == 0, err
    model = skfastgrnn.load(out)
    assert isinstance(model[0], skfastgrnn.SequenceScaler) and model[-1].n_timesteps_ == T_SEQ
    # 6 timesteps at predict: the model reads any length
    assert run(capsys, "predict", out, seq_files["seq6"], "--out", tmp_path / "p.csv")[0] == 0
    np.testing.assert_allclose(_proba(tmp_path / "p.csv"), model.predict_proba(seq_files["longer"]), rtol=1e-5)
    status, stdout, _ = run(capsys, "evaluate", out, seq_files["seq6"])
    assert status == 0 and "60 rows" in stdout
    status, stdout, _ = run(capsys, "info", out)
    assert status == 0 and "normalization: SequenceScaler" in stdout and "any number of timesteps" in stdout
    assert "format version 2" in stdout and "fold 1 (fold='auto')" in stdout


def test_channels_first_npz(seq_files, tmp_path, capsys):
    steps_first, channels_first = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert run(capsys, "train", seq_files["seq3d"], "--out", steps_first, *SEQ_FAST)[0] == 0
    status, _, err = run(capsys, "train", seq_files["seq_cf"], "--channels-first", "--out", channels_first, *SEQ_FAST)
    assert status == 0, err
    a, b = skfastgrnn.load(steps_first), skfastgrnn.load(channels_first)
    rows = seq_files["X3"].reshape(len(seq_files["y"]), -1)
    np.testing.assert_array_equal(a.predict_proba(rows), b.predict_proba(rows))  # the same model
    assert b[0].channels_first is False  # the command transposes; the model reads (n, T, D)
    for data, name in ((seq_files["seq_cf"], "p.csv"), (seq_files["seq6_cf"], "p6.csv")):
        status, _, err = run(capsys, "predict", channels_first, data, "--channels-first", "--out", tmp_path / name)
        assert status == 0, err
    np.testing.assert_allclose(_proba(tmp_path / "p.csv"), b.predict_proba(rows), rtol=1e-5)
    np.testing.assert_allclose(_proba(tmp_path / "p6.csv"), b.predict_proba(seq_files["longer"]), rtol=1e-5)
    status, stdout, _ = run(capsys, "evaluate", channels_first, seq_files["seq_cf"], "--channels-first")
    assert status == 0 and f"accuracy: {b.score(rows, seq_files['y']):.4f}" in stdout
    status, stdout, err = run(
        capsys, "compress", channels_first, "--quantize", "--out", tmp_path / "q.safetensors",
        "--data", seq_files["seq_cf"], "--channels-first",
    )  # fmt: skip
    assert status == 0 and "accuracy on seq_cf.npz" in stdout, err


def test_model_with_a_channels_first_sequence_scaler(seq_files, tmp_path, capsys):
    """A model trained in Python on aeon's layout gets 3-D input in its own layout from the command."""
    X_cf = np.swapaxes(seq_files["X3"], 1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(
            skfastgrnn.SequenceScaler(channels_first=True),
            skfastgrnn.FastGRNNClassifier(hidden_dim=4, epochs=2, random_state=0),
        ).fit(X_cf, seq_files["y"])
    path = tmp_path / "py.safetensors"
    skfastgrnn.save(model, path)
    for data, flag, X in (
        (seq_files["seq_cf"], ["--channels-first"], X_cf),
        (seq_files["seq6"], [], np.swapaxes(seq_files["longer"], 1, 2)),
        (seq_files["seq6_cf"], ["--channels-first"], np.swapaxes(seq_files["longer"], 1, 2)),
    ):
        status, _, err = run(capsys, "predict", path, data, *flag, "--out", tmp_path / "p.csv")
        assert status == 0, err
        np.testing.assert_allclose(_proba(tmp_path / "p.csv"), model.predict_proba(X), rtol=1e-5)
    status, stdout, _ = run(capsys, "info", path)
    assert "(n_samples, n_features, n_timesteps)" in stdout


def test_channels_first_warning_for_short_wide_arrays(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", X=np.random.RandomState(0).normal(size=(30, 2, 5)), y=np.arange(30) % 2)
    status, _, err = run(capsys, "train", tmp_path / "w.npz", "--out", tmp_path / "m.safetensors", *SEQ_FAST)
    assert status == 0
    assert "skfastgrnn: warning: " in err and "pass --channels-first" in err


def test_info_names_the_standard_scaler(files, capsys):
    status, out, _ = run(capsys, "info", files["model"])
    assert status == 0 and "normalization: StandardScaler" in out and "SequenceScaler" not in out


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
    # sequences: padding in the wrong place, NaN where it is not padding, layouts that do not fit
    text("inner_pad.csv", "a0,b0,a1,b1,label\n1,2,,,0\n,,3,4,1\n")
    text("partial.csv", "a0,b0,a1,b1,label\n1,2,,,0\n1,,3,4,1\n")
    text("all_empty.csv", "a0,b0,a1,b1,label\n1,2,,,0\nnan,,nan,,1\n")
    text("padded.csv", "a0,b0,a1,b1,label\n1,2,,,0\n1,2,3,4,1\n")
    nan3d = np.ones((4, 2, 2))
    nan3d[1, 0, 0] = np.nan
    arrays = {
        "nan3d": dict(X=nan3d, y=np.arange(4) % 2),
        "inf": dict(X=np.array([[1.0, np.inf], [1.0, 2.0]]), y=np.array([0, 1])),
        "nan2d": dict(X=np.array([[1.0, 2.0], [np.nan, 2.0]]), y=np.array([0, 1])),
        "cf": dict(X=np.ones((6, 3, 4)), y=np.arange(6) % 2),  # (n, D=3, T=4) of the sequence model
        "long": dict(X=np.ones((6, 6, 3)), y=np.arange(6) % 2),  # 6 timesteps of 3 features
    }
    for name, content in arrays.items():
        np.savez(d / f"{name}.npz", **content)
        paths[f"{name}.npz"] = str(d / f"{name}.npz")
    paths["seq.npz"] = files["npz"]
    paths["seq.safetensors"] = str(d / "seq.safetensors")
    assert main(["train", files["npz"], "--out", paths["seq.safetensors"], "--hidden-dim", "4", *FAST]) == 0
    # a sequence model with a StandardScaler (as the command trained them before SequenceScaler)
    seq = np.load(files["npz"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        std_model = make_pipeline(
            StandardScaler(), skfastgrnn.FastGRNNClassifier(hidden_dim=4, n_timesteps=4, epochs=2, random_state=0)
        ).fit(seq["X"].reshape(len(seq["X"]), -1), seq["y"])
    paths["std_seq.safetensors"] = str(d / "std_seq.safetensors")
    skfastgrnn.save(std_model, paths["std_seq.safetensors"])
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
    "compress without action": (["compress", "{model}", "--out", "{tmp}/m"], "needs --quantize", 2),
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
    "demo too small": (["demo", "--n-samples", "3", "--out", "{tmp}/d"], "argument --n-samples: invalid value 3", 2),
    "timesteps x step-features != width": (
        ["train", "{csv}", "--target", "label", "--timesteps", "2", "--step-features", "2", "--out", "{tmp}/m"],
        "5 feature columns, but --timesteps 2 x --step-features 2 = 4",
        1,
    ),
    "step-features do not divide": (
        ["train", "{csv}", "--target", "label", "--step-features", "2", "--out", "{tmp}/m"],
        "cannot be split into steps of --step-features 2",
        1,
    ),
    "step-features zero": (
        ["train", "{csv}", "--target", "label", "--step-features", "0", "--out", "{tmp}/m"],
        "positive integer",
        2,
    ),
    "3-D X and --timesteps disagree": (
        ["train", "{seq.npz}", "--timesteps", "3", "--out", "{tmp}/m"],
        "read as (n_samples, n_timesteps, n_features): 4 timesteps, but --timesteps is 3",
        1,
    ),
    "3-D X and --step-features disagree": (
        ["train", "{seq.npz}", "--step-features", "2", "--out", "{tmp}/m"],
        "3 features per timestep, but --step-features is 2",
        1,
    ),
    "channels-first csv": (
        ["train", "{csv}", "--target", "label", "--channels-first", "--out", "{tmp}/m"],
        "--channels-first applies to a 3-D X in an .npz",
        1,
    ),
    "channels-first 2-D npz": (
        ["predict", "{plain.safetensors}", "{wide.npz}", "--channels-first", "--out", "{tmp}/m"],
        "--channels-first applies to a 3-D X",
        1,
    ),
    "channels-first without --data": (
        ["compress", "{model}", "--quantize", "--channels-first", "--out", "{tmp}/m"],
        "--channels-first is only used with --data",
        2,
    ),
    "padding before observed steps": (
        ["train", "{inner_pad.csv}", "--target", "label", "--timesteps", "2", "--out", "{tmp}/m"],
        "line 3: step 2 (a1, b1) follows an empty (padding) step",
        1,
    ),
    "partly empty step": (
        ["train", "{partial.csv}", "--target", "label", "--timesteps", "2", "--out", "{tmp}/m"],
        "line 3: step 1 (a0, b0) is missing only some of its 2 values",
        1,
    ),
    "all steps empty": (
        ["train", "{all_empty.csv}", "--target", "label", "--timesteps", "2", "--out", "{tmp}/m"],
        "line 3: every step is empty",
        1,
    ),
    "padding without --timesteps": (
        ["train", "{padded.csv}", "--target", "label", "--out", "{tmp}/m"],
        "column 'a1' is empty (missing values are not supported",
        1,
    ),
    "NaN inside a step of a 3-D npz": (
        ["train", "{nan3d.npz}", "--out", "{tmp}/m"],
        "X[1]: step 1 is missing only some of its 2 values",
        1,
    ),
    "infinity in npz": (["train", "{inf.npz}", "--out", "{tmp}/m"], "X[0] contains infinity", 1),
    "NaN in one-step npz rows": (["train", "{nan2d.npz}", "--out", "{tmp}/m"], "X[1] contains NaN", 1),
    "channels-first data without the flag": (
        ["predict", "{seq.safetensors}", "{cf.npz}", "--out", "{tmp}/m"],
        "4 features per timestep, but the model was trained on 3; if the file is (n_samples, n_features, "
        "n_timesteps), pass --channels-first",
        1,
    ),
    "other length for a StandardScaler model": (
        ["evaluate", "{std_seq.safetensors}", "{long.npz}"],
        "X has 6 timesteps, the model was trained on 4; its StandardScaler needs exactly 12 values per row",
        1,
    ),
    "fold text": (["train", "{csv}", "--target", "label", "--fold", "many", "--out", "{tmp}/m"], "integer", 2),
    "fold zero": (["train", "{csv}", "--target", "label", "--fold", "0", "--out", "{tmp}/m"], "argument --fold", 2),
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


@pytest.mark.parametrize(
    "option, value, shown",
    [("--hidden-dim", "0", "0"), ("--seed", "-1", "-1"), ("--grad-clip", "-1", "-1.0"), ("--rank", "0", "0")],
)
def test_bad_option_value_names_the_flag_and_the_value(files, tmp_path, capsys, option, value, shown):
    # the estimator's constraints reject the value; the message names the flag, not the parameter
    status, _, err = run(capsys, "train", files["csv"], "--target", "label", "--out", tmp_path / "m", option, value)
    assert status == 2
    assert err.startswith(f"skfastgrnn: error: argument {option}: invalid value {shown} (")
    assert err.endswith(" (see 'skfastgrnn train --help')\n") and len(err.splitlines()) == 1


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


# ------------------------------------------------- issue 14: pipes, outputs checked first, exit status 2


def _closed_pipe():
    """The write end of a pipe whose reader is already gone: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_closed_output_pipe_exits_quietly_with_141(files, tmp_path):
    # `skfastgrnn info m.safetensors | head -1` used to print "[Errno 32] Broken pipe" and exit 1
    write_end = _closed_pipe()
    try:
        result = subprocess.run(
            [*_script(), "info", files["model"]],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_predict_into_a_pipe_closed_after_one_line(files, tmp_path):
    # the `| head -1` case: a reader that takes the first line and goes away while predict still writes
    X = np.tile(files["X"], (70, 1))  # 21,000 rows: far more output than a pipe buffers
    data = write_csv(tmp_path / "many.csv", X, np.zeros(len(X), dtype=int))
    proc = subprocess.Popen(
        [*_script(), "predict", files["model"], data, "--out", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout.readline() == b"prediction,proba_0,proba_1\n"
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141
    finally:
        proc.kill()
        proc.wait()
    assert err == b""


def test_broken_pipe_in_process(files, capsys, monkeypatch):
    class Gone:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Gone())
    assert main(["info", files["model"]]) == skfastgrnn.cli.EXIT_BROKEN_PIPE == 141
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


def test_a_closed_stderr_keeps_the_error_status(files, capsys, monkeypatch):
    class Gone:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stderr", Gone())
    assert main(["evaluate", files["model"], "nothere.csv", "--target", "label"]) == 1


@pytest.fixture
def no_training(monkeypatch):
    """Make any fit fail the test: the command must stop before training."""

    def fit(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(skfastgrnn.FastGRNNClassifier, "fit", fit)
    monkeypatch.setattr(skfastgrnn.FastGRNNRegressor, "fit", fit)


def _outputs_that_cannot_be_written(tmp_path):
    """(name, argv tail, fragment) of outputs that fail, each checked before the work starts."""
    os.mkdir(tmp_path / "m.metrics.json")  # the metrics file next to m.safetensors is a directory
    cases = [
        ("metrics file is a directory", ["--out", tmp_path / "m.safetensors"], "m.metrics.json: is a directory"),
    ]
    if os.path.isdir("/proc/self"):  # root may "write" to /proc by os.access; creating a file there fails
        cases.append(("/proc", ["--out", "/proc/x.safetensors"], "/proc/x.safetensors: cannot write the model"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.safetensors")
        cases.append(("a pipe", ["--out", tmp_path / "fifo.safetensors"], "not a regular file"))
    return cases


def test_train_checks_every_output_before_training(files, tmp_path, capsys, no_training):
    for name, tail, fragment in _outputs_that_cannot_be_written(tmp_path):
        status, out, err = run(capsys, "train", files["csv"], "--target", "label", *tail, *FAST)
        assert status == 1 and fragment in err, name
        assert out == "" and len(err.splitlines()) == 1, name  # not even the task line: nothing was read


def test_compress_checks_its_outputs_before_loading(files, tmp_path, capsys):
    os.mkdir(tmp_path / "small.metrics.json")
    status, _, err = run(capsys, "compress", files["model"], "--quantize", "--out", tmp_path / "small.safetensors")
    assert status == 1 and "small.metrics.json: is a directory; give the metrics file's name" in err
    assert not (tmp_path / "small.safetensors").exists()


def test_demo_checks_every_file_it_writes_before_training(tmp_path, capsys, no_training):
    for name in ("model.safetensors", "report.json", "test.csv", "learning_curve.png"):
        out = tmp_path / name.replace(".", "_")
        os.makedirs(out / name)
        status, _, err = run(capsys, "demo", "--out", out, "--n-samples", 100, "--epochs", 1, "--quiet")
        assert status == 1 and f"{name}: is a directory" in err, name


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["demo", "--n-samples", "5"], "argument --n-samples: invalid value 5 (expected at least 20 samples)"),
        (["demo", "--n-samples", "many"], "argument --n-samples: expected an integer, got 'many'"),
        (["demo", "--seed", "-1"], "argument --seed: invalid value -1 (expected an integer from 0 to 2**32 - 1)"),
        (["demo", "--epochs", "0"], "argument --epochs: expected a positive integer"),
        (["train", "{csv}", "--target", "label", "--seed", "-1", "--out", "{tmp}/m"], "argument --seed: invalid"),
        (["train", "{csv}", "--target", "label", "--task", "guess", "--out", "{tmp}/m"], "argument --task"),
        (["train", "{csv}", "--target", "label", "--batch-size", "0", "--out", "{tmp}/m"], "argument --batch-size"),
        (["train", "{csv}", "--target", "label", "--batch-size", "big", "--out", "{tmp}/m"], "argument --batch-size"),
        (["train", "{csv}", "--target", "label", "--timesteps", "0", "--out", "{tmp}/m"], "argument --timesteps"),
        (["train", "{csv}", "--target", "label", "--w-sparsity", "1", "--out", "{tmp}/m"], "argument --w-sparsity"),
        (["train", "{csv}", "--target", "label", "--lr-decay", "0", "--out", "{tmp}/m"], "argument --lr-decay"),
        (["compress", "{model}", "--prune", "1", "--out", "{tmp}/m"], "argument --prune"),
        (["compress", "{model}", "--out", "{tmp}/m"], "compress needs --quantize, --prune FRACTION or both"),
        (["compress", "{model}", "--quantize", "--target", "y", "--out", "{tmp}/m"], "--target is only used with"),
        (["predict", "{model}", "{csv}"], "the following arguments are required: --out"),
    ],
)
def test_every_bad_option_value_exits_2_naming_the_option(files, tmp_path, capsys, no_training, argv, fragment):
    argv = [a.format(csv=files["csv"], model=files["model"], tmp=tmp_path) for a in argv]
    status, out, err = run(capsys, *argv)
    assert status == 2, err
    assert err.startswith("skfastgrnn: error: ") and fragment in err and len(err.splitlines()) == 1
    assert err.endswith(f"(see 'skfastgrnn {argv[0]} --help')\n")  # the command's own help
    assert out == "" and not os.listdir(tmp_path)


def test_batch_size_auto_is_accepted(files, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert run(capsys, "train", files["csv"], "--target", "label", "--batch-size", "auto", "--out", out, *FAST)[0] == 0
    assert skfastgrnn.load(out)[-1].batch_size == "auto"
