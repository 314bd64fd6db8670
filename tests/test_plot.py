"""plot_history: what it draws, what it accepts, and its message without matplotlib."""

import json
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skfastgrnn
from skfastgrnn import FastGRNNClassifier, plot_history

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    return make_pipeline(StandardScaler(), FastGRNNClassifier(4, epochs=6, validation_split=0.1, random_state=0)).fit(
        X, y
    )


def labels(ax):
    return [line.get_label() for line in ax.get_lines() + ax.right_ax.get_lines()]


def test_draws_losses_accuracies_and_best_epoch(fitted):
    ax = plot_history(fitted, ax=Figure().subplots())
    clf = fitted[-1]
    assert labels(ax) == [
        "train loss",
        "validation loss",
        f"best epoch ({clf.best_epoch_})",
        "train accuracy",
        "validation accuracy",
    ]
    train_loss = ax.get_lines()[0]
    assert list(train_loss.get_xdata()) == [e["epoch"] for e in clf.history_]
    assert list(train_loss.get_ydata()) == [e["train_loss"] for e in clf.history_]
    assert ax.get_xlabel() == "epoch" and ax.right_ax.get_ylabel() == "accuracy"


def test_accepts_a_history_list_and_a_metrics_document(fitted, tmp_path):
    clf = fitted[-1]
    from_list = plot_history(clf.history_, ax=Figure().subplots())
    assert "validation loss" in labels(from_list) and not any(s.startswith("best") for s in labels(from_list))
    clf.save_metrics(tmp_path / "m.json")
    document = json.loads((tmp_path / "m.json").read_text())
    assert f"best epoch ({clf.best_epoch_})" in labels(plot_history(document, ax=Figure().subplots()))


def test_without_validation_draws_training_curves_only():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    clf = FastGRNNClassifier(3, epochs=3, validation_split=0.0, random_state=0).fit(X, y)
    assert labels(plot_history(clf, ax=Figure().subplots()))[0::2] == ["train loss", "train accuracy"]


def test_creates_a_figure_when_no_axes_are_given(fitted):
    import matplotlib.pyplot as plt

    ax = plot_history(fitted)
    assert ax.figure is not None
    plt.close(ax.figure)


def test_empty_history_explains_load_metrics(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    skfastgrnn.save(fitted, path)
    with pytest.raises(ValueError, match="load_metrics"):
        plot_history(skfastgrnn.load(path))
    with pytest.raises(ValueError, match="epoch records"):
        plot_history([{"loss": 1.0}])


def test_missing_matplotlib_names_the_extra(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"pip install 'skfastgrnn\[plot\]'"):
        plot_history(fitted)
