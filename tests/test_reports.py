"""skfastgrnn._reports: the plain-text reports of fitted models, checked without the command line."""

import os
import sys
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier, FastGRNNRegressor, SequenceScaler
from skfastgrnn._reports import (
    compression_summary,
    demo_lines,
    describe_scaler,
    evaluation_lines,
    file_metadata,
    format_label,
    labels_text,
    metrics_lines,
    model_lines,
    model_score,
    predictions_table,
    save_learning_curve,
    size_lines,
    text_table,
    training_lines,
    training_metrics_lines,
)
from skfastgrnn.datasets import make_routing


@pytest.fixture(scope="module")
def fitted():
    X, y = make_routing(200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FastGRNNClassifier(hidden_dim=4, epochs=3, validation_split=0.2, random_state=0)
        model = make_pipeline(StandardScaler(), clf).fit(X, y)
    return model


def test_format_label_and_labels_text():
    assert format_label(np.int64(3)) == "3" and format_label(np.float64(0.5)) == "0.5"
    assert format_label(np.str_("yes")) == "yes" and format_label("no") == "no"
    assert labels_text(np.array(["b", "a"])) == "b, a"
    assert labels_text(np.arange(30), limit=2) == "0, 1, ... (30 in all)"


def test_text_table_aligns_columns():
    lines = text_table([("", "before", "after"), ("file bytes", "1,234", "56"), ("stored as", "float64", "int8")])
    assert lines == [
        "             before  after",
        "file bytes    1,234     56",
        "stored as   float64   int8",
    ]
    assert text_table([("a", "bb"), ("ccc", "")], align=["<", "<"]) == ["a    bb", "ccc"]  # no trailing spaces


def test_describe_scaler():
    assert describe_scaler(StandardScaler()) == "StandardScaler (z-score per input column)"
    assert describe_scaler(MinMaxScaler()) == "MinMaxScaler"
    steps = SequenceScaler(n_timesteps=2).fit(np.ones((4, 6)))
    assert "3 features; 3-D input read as (n_samples, n_timesteps, n_features)" in describe_scaler(steps)
    channels = SequenceScaler(channels_first=True).fit(np.ones((4, 5, 7)))
    assert "5 features; 3-D input read as (n_samples, n_features, n_timesteps)" in describe_scaler(channels)


def test_compression_summary_and_size_lines(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skfastgrnn.save(fitted, path)
    clf = skfastgrnn.load(path)[-1]
    r = clf.size_report()
    summary = compression_summary(clf, path)
    assert list(summary) == [
        "file bytes",
        "non-zero parameters",
        "fp32 weights",
        "int8 weights",
        "sparse int8 weights",
        "stored as",
    ]
    assert summary["file bytes"] == f"{path.stat().st_size:,}" and summary["fp32 weights"] == f"{r['fp32_bytes']:,} B"
    assert summary["stored as"] == str(clf.weights_["W_out"].dtype)
    lines = size_lines(clf)
    assert lines[0] == f"size: float ({clf.weights_['W_out'].dtype})"
    assert len(lines) == 1 + 1 + len(r["tensors"]) + 1 + 1  # state, header, tensors, total, sparse storage
    assert lines[-2].split() == ["total", f"{r['n_nonzero']:,}/{r['n_parameters']:,}", f"{r['fp32_bytes']:,}",
                                 f"{r['int8_bytes']:,}"]  # fmt: skip
    assert lines[-1].startswith("  sparse storage: fp32 ")
    clf.prune(0.5)
    clf.quantize()
    assert size_lines(clf)[0] == "size: quantized (int8), pruned"
    assert compression_summary(clf, path)["stored as"] == "int8"


def test_metrics_lines(fitted):
    clf = fitted[-1]
    lines = metrics_lines(clf, "m.metrics.json")
    assert lines[0].startswith(f"metrics (m.metrics.json): {len(clf.history_)} epochs, ")
    assert lines[1].startswith(f"  epoch {clf.best_epoch_} (kept): train_loss ") and "val_accuracy" in lines[1]
    assert lines[2] == f"  last epoch {clf.history_[-1]['epoch']}: learning_rate 0.01"


def test_file_metadata(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skfastgrnn.save(fitted, path)
    meta = file_metadata(str(path))
    assert meta["package_version"] == skfastgrnn.__version__ and "format_version" in meta
    (tmp_path / "text.safetensors").write_text("not a model")
    assert file_metadata(str(tmp_path / "text.safetensors")) == {}
    assert file_metadata(str(tmp_path / "missing.safetensors")) == {}


def test_save_learning_curve_writes_a_png(fitted, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curve.png"
    assert save_learning_curve(fitted[-1], str(path)) is True
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_learning_curve_without_matplotlib(fitted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # the import fails
    assert save_learning_curve(fitted[-1], str(tmp_path / "curve.png")) is False
    assert not (tmp_path / "curve.png").exists()


# --------------------------------------------------------------------- the command line's reports


@pytest.fixture(scope="module")
def regression():
    """A fitted Pipeline(StandardScaler, FastGRNNRegressor) on y = 3 x0 - x1 + 20, and its data."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = 3 * X[:, 0] - X[:, 1] + 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = FastGRNNRegressor(hidden_dim=4, epochs=20, validation_split=0.2, random_state=0)
        model = make_pipeline(StandardScaler(), reg).fit(X, y)
    return model, X, y


def test_metrics_lines_of_a_regressor_have_no_accuracy(regression):
    lines = metrics_lines(regression[0][-1], "r.metrics.json")
    assert "train_loss" in lines[1] and "val_loss" in lines[1] and "accuracy" not in lines[1]
    assert lines[-1] == "  (losses: half the mean squared error of the standardized target; 0.5 = predicting the mean)"


def test_training_lines(fitted, regression):
    model, X, y = regression
    lines = training_lines(model, "r.csv", X, y, 1.25)
    assert lines[0].startswith("trained on r.csv: 200 rows, 3 features (1 timestep x 3), target mean 20")
    assert lines[1] == "normalization: StandardScaler (z-score per input column)"
    assert lines[2].startswith(f"20 epochs in 1.2 s; kept epoch {model[-1].best_epoch_}: validation loss ")
    assert "0.5 = predicting the mean" in lines[2]
    Xc, yc = make_routing(200, random_state=0)
    lines = training_lines(fitted, "c.csv", Xc, yc, 0.5)
    assert lines[0].endswith("classes 0, 1") and "validation accuracy" in lines[2]


def test_training_lines_report_the_lengths_of_padded_sequences():
    X = np.arange(24.0).reshape(4, 6)
    X[0, 4:] = np.nan  # 2 of 3 steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(
            SequenceScaler(n_timesteps=3), FastGRNNRegressor(hidden_dim=2, n_timesteps=3, epochs=1, random_state=0)
        ).fit(X, [1.0, 2.0, 3.0, 4.0])
    line = training_lines(model, "s.csv", X, np.array([1.0, 2.0, 3.0, 4.0]), 0.1)[0]
    assert "(3 timesteps x 2; sequences of 2 to 3 timesteps, NaN padded)" in line
    assert training_lines(model, "s.csv", X, np.ones(4), 0.1)[2].startswith("1 epoch in ")


def test_model_lines_of_a_classifier_and_a_regressor(fitted, regression, tmp_path):
    path = str(tmp_path / "c.safetensors")
    skfastgrnn.save(fitted, path)
    lines = model_lines(skfastgrnn.load(path), path)
    assert lines[1] == "  kind: Pipeline(StandardScaler, FastGRNNClassifier)" and "  classes (2): 0, 1" in lines
    path = str(tmp_path / "r.safetensors")
    skfastgrnn.save(regression[0], path)
    lines = model_lines(skfastgrnn.load(path), path)
    assert lines[1] == "  kind: Pipeline(StandardScaler, FastGRNNRegressor)"
    assert not any("classes" in line for line in lines)
    (outputs,) = [line for line in lines if line.startswith("  outputs: ")]
    assert outputs.startswith(
        "  outputs: 1 (regression; predictions in the target's units; the training target had mean"
    )
    assert any(line.startswith("size: ") for line in lines)


def test_training_metrics_lines(regression, tmp_path):
    model = regression[0]
    path = str(tmp_path / "r.safetensors")
    assert training_metrics_lines(model[-1], path) == [
        "metrics: none (no readable r.metrics.json next to the model; give one with --metrics FILE)"
    ]
    model[-1].save_metrics(str(tmp_path / "r.metrics.json"))
    assert training_metrics_lines(model[-1], path)[0].startswith("metrics (")
    (tmp_path / "bad.safetensors").write_text("x")
    (tmp_path / "bad.metrics.json").write_text("not json")
    with pytest.warns(UserWarning, match="ignoring .*bad.metrics.json"):
        assert training_metrics_lines(model[-1], str(tmp_path / "bad.safetensors"))[0].startswith("metrics: none")
    with pytest.raises(ValueError, match="bad.metrics.json"):  # named with --metrics: an error
        training_metrics_lines(model[-1], path, str(tmp_path / "bad.metrics.json"))


def test_predictions_table(fitted, regression):
    model, X, y = regression
    header, rows = predictions_table(model, X[:5])
    rows = list(rows)
    assert header == ["prediction"] and [float(r[0]) for r in rows] == model.predict(X[:5]).tolist()  # exact
    Xc, _ = make_routing(5, random_state=1)
    header, rows = predictions_table(fitted, Xc)
    assert header == ["prediction", "proba_0", "proba_1"] and len(list(rows)) == 5
    rng = np.random.RandomState(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = FastGRNNRegressor(hidden_dim=2, epochs=1, random_state=0).fit(X, rng.normal(size=(200, 2)))
    header, rows = predictions_table(two, X[:3])
    assert header == ["prediction_1", "prediction_2"] and all(len(r) == 2 for r in rows)


def test_model_score_and_evaluation_lines(fitted, regression):
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    model, X, y = regression
    name, value = model_score(model, X, y)
    assert name == "R^2" and value == pytest.approx(r2_score(y, model.predict(X)))
    predicted = model.predict(X)
    assert evaluation_lines(model, X, y) == [
        f"R^2: {r2_score(y, predicted):.4f}",
        f"MAE: {mean_absolute_error(y, predicted):.4f}",
        f"RMSE: {root_mean_squared_error(y, predicted):.4f}",
    ]
    Xc, yc = make_routing(100, random_state=2)
    assert model_score(fitted, Xc, yc) == ("accuracy", pytest.approx(np.mean(fitted.predict(Xc) == yc)))
    lines = evaluation_lines(fitted, Xc, yc)
    assert lines[0].startswith("accuracy: ") and lines[1].startswith("log loss: ") and lines[2].startswith("confusion")
    assert sum(int(v) for line in lines[-2:] for v in line.split()[1:]) == 100


def test_demo_lines():
    report = dict(
        epochs_run=3, best_epoch=2, training_seconds=0.5, test_accuracy=0.9, test_accuracy_int8=0.875,
        fp32_bytes=2000, int8_bytes=600, n_parameters=500, file_bytes=5000, latency_us_1_row=80.0,
        latency_us_1_row_network_only=20.0, latency_us_per_row_batch_32=3.0, data={"n_test": 20},
    )  # fmt: skip
    lines = demo_lines(report, "out", ["model.safetensors", "report.json"])
    assert lines[0] == "trained 3 epochs in 0.5 s; kept the weights of epoch 2"
    assert "87.50%" in lines[4] and "in a batch of 20" in lines[7]
    assert lines[8] == f"wrote out{os.sep}: model.safetensors, report.json" and lines[9] == "next:"
