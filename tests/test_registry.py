"""ModelRegistry: versions, checksums, best/latest, and two processes registering at once."""

import json
import multiprocessing
import sys

import numpy as np
import pytest
from conftest import quiet_fit, tiny
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfastgrnn import FastGRNNRegressor, ModelFileError, ModelRegistry, _registry


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    clf = quiet_fit(tiny(), X, y)
    pipe = quiet_fit(make_pipeline(StandardScaler(), tiny(random_state=1)), X * 10 + 3, y)
    return X, clf, pipe


def test_register_list_load(tmp_path, fitted):
    X, clf, pipe = fitted
    registry = ModelRegistry(tmp_path / "reg")
    assert registry.list() == []
    with pytest.raises(LookupError, match="no model yet"):
        registry.load()
    e1 = registry.register(clf, test_accuracy=0.9)
    e2 = registry.register(pipe, test_accuracy=0.95, metrics={"note": "pipeline", "f1": 0.93})
    e3 = registry.register(clf)
    assert [e["version"] for e in registry.list()] == ["v1", "v2", "v3"]
    assert e1["model_path"] == "models/fastgrnn_v1.safetensors" and e2["kind"] == "Pipeline"
    assert e1["model_size_bytes"] == (tmp_path / "reg" / e1["model_path"]).stat().st_size == clf.size_bytes()
    assert set(e1["sha256"]) == {"model", "metrics"} and e1["timestamp"] <= e3["timestamp"]
    assert registry.entry("best")["version"] == "v2"
    assert registry.entry("latest")["version"] == "v3"
    np.testing.assert_array_equal(registry.load("v1").predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(registry.load("best").predict_proba(X * 10 + 3), pipe.predict_proba(X * 10 + 3))
    assert registry.metrics("v2") == {"note": "pipeline", "f1": 0.93}
    assert len(registry.metrics("v1")["history"]) == clf.n_iter_  # default: the training history
    with pytest.raises(LookupError, match="no version 'v9'.*v1, v2, v3"):
        registry.load("v9")
    with pytest.raises(ValueError, match="test_accuracy"):
        registry.register(clf, test_accuracy=1.5)
    with pytest.raises(TypeError, match="cannot register"):
        registry.register(StandardScaler())
    assert len(registry.list()) == 3


def test_best_needs_an_accuracy(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1])
    with pytest.raises(LookupError, match="no entry has a test_accuracy"):
        registry.entry("best")


def test_load_refuses_a_modified_file(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    entry = registry.register(fitted[1], test_accuracy=0.5)
    path = tmp_path / entry["model_path"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="fastgrnn_v1.safetensors: sha256 .* refusing"):
        registry.load("v1")
    (tmp_path / entry["metrics_path"]).write_text("{}")
    with pytest.raises(ModelFileError, match="metrics_v1.json: sha256"):
        registry.metrics("v1")


def test_bad_manifest(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1])
    manifest = tmp_path / "manifest.json"
    doc = json.loads(manifest.read_text())
    for bad, message in [
        ("{", "not JSON"),
        (json.dumps({"format": "x"}), "not a skfastgrnn registry"),
        (json.dumps({**doc, "format_version": 3}), "version 3.*upgrade"),
        (json.dumps({**doc, "entries": [{**doc["entries"][0], "model_path": "../../etc/passwd"}]}), "malformed"),
    ]:
        manifest.write_text(bad)
        with pytest.raises(ModelFileError, match=message):
            registry.list()


def _register_many(directory, clf, worker, n, barrier):
    registry = ModelRegistry(directory)
    barrier.wait()
    for i in range(n):
        registry.register(clf, test_accuracy=(worker * 100 + i) / 1000)


def test_two_processes_register_at_once(tmp_path, fitted):
    X, clf, _ = fitted
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier = ctx.Barrier(2)
    n = 20
    workers = [ctx.Process(target=_register_many, args=(str(tmp_path), clf, w, n, barrier)) for w in (1, 2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=60)
        assert p.exitcode == 0
    registry = ModelRegistry(tmp_path)
    entries = registry.list()
    assert sorted(e["version"] for e in entries) == sorted(f"v{i}" for i in range(1, 2 * n + 1))
    # no entry lost: every (worker, i) registered exactly once
    assert sorted(e["test_accuracy"] for e in entries) == sorted((w * 100 + i) / 1000 for w in (1, 2) for i in range(n))
    for e in entries:
        np.testing.assert_array_equal(registry.load(e["version"]).predict(X), clf.predict(X))
    assert registry.entry("best")["test_accuracy"] == 0.219


def test_a_lost_manifest_never_overwrites_a_model_file(tmp_path, fitted):
    """Issue 14: with manifest.json deleted, the next register wrote "v1" over models/fastgrnn_v1.safetensors."""
    X, clf, pipe = fitted
    registry = ModelRegistry(tmp_path)
    registry.register(clf, test_accuracy=0.8)
    v1 = (tmp_path / "models" / "fastgrnn_v1.safetensors").read_bytes()
    (tmp_path / "manifest.json").unlink()
    entry = registry.register(pipe, test_accuracy=0.9)
    assert entry["version"] == "v2" and entry["model_path"] == "models/fastgrnn_v2.safetensors"
    assert (tmp_path / "models" / "fastgrnn_v1.safetensors").read_bytes() == v1
    assert [e["version"] for e in registry.list()] == ["v2"]
    np.testing.assert_array_equal(registry.load("v2").predict(X * 10 + 3), pipe.predict(X * 10 + 3))
    # a stray file of a later version (a failed registration, a copy) is skipped too
    (tmp_path / "models" / "metrics_v7.json").write_text("{}")
    assert registry.register(clf)["version"] == "v8"
    assert (tmp_path / "models" / "metrics_v7.json").read_text() == "{}"


def test_files_are_created_exclusively(tmp_path, fitted, monkeypatch):
    # a file that appears after the number was chosen (e.g. written by a process that does not lock)
    _, clf, _ = fitted
    registry = ModelRegistry(tmp_path)
    registry.register(clf)
    before = {p.name: p.read_bytes() for p in (tmp_path / "models").iterdir()}
    monkeypatch.setattr(_registry.os, "listdir", lambda path: [])  # the chosen number's files "appear"
    (tmp_path / "manifest.json").unlink()
    assert registry.register(clf)["version"] == "v2"
    monkeypatch.undo()
    for name, data in before.items():
        assert (tmp_path / "models" / name).read_bytes() == data
    # the metrics file of a version exists but not its model: neither is created for that number
    (tmp_path / "models" / "metrics_v3.json").write_text("mine")
    monkeypatch.setattr(_registry.os, "listdir", lambda path: [])
    (tmp_path / "manifest.json").unlink()
    assert registry.register(clf)["version"] == "v4"
    monkeypatch.undo()
    assert (tmp_path / "models" / "metrics_v3.json").read_text() == "mine"
    assert not (tmp_path / "models" / "fastgrnn_v3.safetensors").exists()


def test_registry_root_must_be_a_directory(tmp_path, fitted):
    with pytest.raises(ValueError, match="empty path"):
        ModelRegistry("")
    plain = tmp_path / "registry"
    plain.write_text("not a directory")
    with pytest.raises(NotADirectoryError, match="registry: exists and is not a directory"):
        ModelRegistry(plain)
    later = tmp_path / "later"
    registry = ModelRegistry(later)
    later.write_text("became a file")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        registry.register(fitted[1])
    with pytest.raises(NotADirectoryError, match="not a directory"):
        registry.list()
    assert later.read_text() == "became a file"


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "0.9", np.bool_(True), -0.1, 1.5])
def test_test_accuracy_must_be_a_finite_number_in_0_1(tmp_path, fitted, value):
    """Issue 14: test_accuracy=True was stored as an accuracy of 1."""
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ValueError, match="test_accuracy"):
        registry.register(fitted[1], test_accuracy=value)
    with pytest.raises(ValueError, match="test_score|test_accuracy"):
        registry.register(fitted[1], test_score=value)
    assert registry.list() == [] and not (tmp_path / "models").exists()


def test_numpy_scores_are_numbers(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    entry = registry.register(fitted[1], test_accuracy=np.float32(0.75))
    assert entry["test_accuracy"] == entry["test_score"] == 0.75 and entry["score"] == "accuracy"
    assert type(json.loads((tmp_path / "manifest.json").read_text())["entries"][0]["test_accuracy"]) is float


@pytest.fixture(scope="module")
def regressors():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6))
    y = 50 + 10 * X[:, :3].sum(axis=1)
    reg = quiet_fit(FastGRNNRegressor(hidden_dim=4, n_timesteps=3, epochs=20, random_state=0), X, y)
    pipe = quiet_fit(make_pipeline(StandardScaler(), FastGRNNRegressor(hidden_dim=4, epochs=5, random_state=1)), X, y)
    return X, y, reg, pipe


def test_register_regressors(tmp_path, regressors):
    """FastGRNNRegressor models (and pipelines) register like classifiers; their score is R² (test_score), any
    other named metrics go to the metrics file; "best" is the highest R²."""
    X, y, reg, pipe = regressors
    registry = ModelRegistry(tmp_path)
    e1 = registry.register(reg, test_score=reg.score(X, y), metrics={"rmse": 1.5, "mae": 1.1})
    e2 = registry.register(pipe, test_score=-0.25)
    e3 = registry.register(reg)  # no score; the training history as metrics
    assert (e1["kind"], e2["kind"]) == ("FastGRNNRegressor", "Pipeline")
    assert e1["score"] == "r2" and e1["test_accuracy"] is None and e1["test_score"] == pytest.approx(reg.score(X, y))
    assert e3["test_score"] is None
    np.testing.assert_array_equal(registry.load("v1").predict(X), reg.predict(X))
    np.testing.assert_array_equal(registry.load("v2").predict(X), pipe.predict(X))
    assert registry.entry("best")["version"] == "v1"
    assert registry.metrics("v1") == {"rmse": 1.5, "mae": 1.1}
    assert len(registry.metrics("v3")["history"]) == reg.n_iter_
    with pytest.raises(ValueError, match="has no accuracy; pass test_score"):
        registry.register(reg, test_accuracy=0.9)
    with pytest.raises(ValueError, match="at most 1"):
        registry.register(reg, test_score=1.5)
    assert len(registry.list()) == 3


def test_best_does_not_compare_accuracy_with_r2(tmp_path, fitted, regressors):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1], test_accuracy=0.9)
    registry.register(regressors[2], test_score=0.95)
    with pytest.raises(LookupError, match=r"scored by different measures \(accuracy, r2\)"):
        registry.entry("best")
    assert registry.load("v2").predict(regressors[0]).shape == (len(regressors[0]),)


def test_manifests_before_test_score_still_work(tmp_path, fitted):
    registry = ModelRegistry(tmp_path)
    registry.register(fitted[1], test_accuracy=0.6)
    registry.register(fitted[1], test_accuracy=0.7)
    manifest = tmp_path / "manifest.json"
    doc = json.loads(manifest.read_text())
    for e in doc["entries"]:  # what version 0.1.0 wrote
        del e["test_score"], e["score"]
    manifest.write_text(json.dumps(doc))
    assert registry.entry("best")["version"] == "v2"
    assert registry.register(fitted[1], test_score=0.8)["version"] == "v3"
    assert registry.entry("best")["version"] == "v3"
