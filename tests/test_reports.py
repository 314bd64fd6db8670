"""skfastgrnn._reports: the plain-text reports of fitted models, checked without the command line."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier, SequenceScaler
from skfastgrnn._reports import (
    compression_summary,
    describe_scaler,
    file_metadata,
    format_label,
    labels_text,
    metrics_lines,
    save_learning_curve,
    size_lines,
    text_table,
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
